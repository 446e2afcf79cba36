"""Turn one RFC 822 message (bytes) into a Mail, degrading on missing headers."""

from __future__ import annotations

import dataclasses
import email
import email.utils
import hashlib
import re
from email.message import Message
from functools import lru_cache

from reviewbot.series.model import Mail, Person
from reviewbot.series.subject import parse_subject

_MSGID = re.compile(r"<([^<>\s]{1,995})>")
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# a header line as the feed parser reads it (its headerRE), with a non-empty name
_HEADER_NAME = re.compile(r"^[\041-\071\073-\176]+:")


def clean_header(value: object) -> str:
    """A header value as one line: folded whitespace, no control characters."""
    text = str(value) if value is not None else ""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _CTRL.sub("", " ".join(text.split()))


def _msgids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(_MSGID.findall(value))


def _people(msg: Message, name: str) -> tuple[Person, ...]:
    return _addresses(tuple(clean_header(v) for v in msg.get_all(name, [])))


@lru_cache(maxsize=256)
def _addresses(values: tuple[str, ...]) -> tuple[Person, ...]:
    """The people of address header values (kept: a batch repeats its From/To/Cc)."""
    out: list[Person] = []
    try:
        pairs = email.utils.getaddresses(list(values))
    except (RecursionError, ValueError, IndexError):  # "From: ((((..." recurses per "("
        return ()
    for display, addr in pairs:
        if addr and "@" in addr:
            out.append(Person(clean_header(_decode_header(display)), clean_header(addr)))
    return tuple(out)


def _decode_part(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, ValueError):  # an unknown or malformed ("utf\0-8") charset name
        return payload.decode("utf-8", errors="replace")


def _body(msg: Message) -> str:
    """The text that carries the patch: the plain-text body or a patch attachment."""
    if not msg.is_multipart():
        return _decode_part(msg)
    texts: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if (ctype.startswith("text/") and ctype != "text/html") or filename.endswith(
            (".patch", ".diff")
        ) or (ctype in ("application/x-patch", "application/octet-stream") and filename):
            texts.append(_decode_part(part))
    return "\n".join(texts)


def _header_lines(raw: bytes) -> int:
    """How many lines the header block of ``raw`` takes (before the blank line)."""
    for sep in (b"\n\n", b"\r\n\r\n"):
        pos = raw.find(sep)
        if pos >= 0:
            return raw.count(b"\n", 0, pos) + 1
    return 0


HEAD_BYTES = 64 * 1024  # of an oversized message, only this much is read for its headers


def parse_mail(raw: bytes, max_bytes: int | None = None) -> Mail:
    """Parse one message. Never raises for bad input: the problem goes to ``Mail.error``.

    A message longer than ``max_bytes`` is not parsed: its headers are read from the
    first ``HEAD_BYTES`` and ``error`` says why the body was left out (a patch mail is
    then skipped with that reason)."""
    if max_bytes is not None and len(raw) > max_bytes:
        return _headers_only(raw, f"message is {len(raw)} bytes, over the limit of "
                                  f"{max_bytes} (--limit message-bytes=N)")
    if _too_many_multiparts(raw):
        return _headers_only(raw, f"the MIME structure has more than {MAX_MULTIPARTS} "
                                  "multipart parts: not read")
    try:
        return _parse(raw)
    except RecursionError:  # MIME parts nested ~1000 deep: the parser recurses per level
        return _headers_only(raw, "the MIME structure is nested too deeply to be read")


MAX_MULTIPARTS = 100  # a patch mail has a few (text, attachment, signature)
_MULTIPART = re.compile(rb"multipart/", re.IGNORECASE)


def _too_many_multiparts(raw: bytes) -> bool:
    """More multipart parts than a mail needs: the email package's parser takes time
    quadratic in their nesting depth (3 s for 1,000 levels) and recurses per level."""
    if raw.count(b"/") <= MAX_MULTIPARTS:
        return False
    return any(n > MAX_MULTIPARTS for n, _ in enumerate(_MULTIPART.finditer(raw), 1))


def _headers_only(raw: bytes, error: str) -> Mail:
    """The mail as its header block says it, without a body, and why."""
    head = raw[:HEAD_BYTES].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    mail = _parse(head + b"\n\n")
    return dataclasses.replace(mail, raw=raw, error=error)


def _parse(raw: bytes) -> Mail:
    msg = _message(raw)
    error: str | None = None
    subject = parse_subject(clean_header(_decode_header(msg.get("Subject", ""))))
    authors = _people(msg, "From")
    date = clean_header(msg.get("Date")) or None
    timestamp: float | None = None
    if date:
        try:
            parsed = email.utils.parsedate_to_datetime(date)
            timestamp = parsed.timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            timestamp = None
    ids = _msgids(clean_header(msg.get("Message-ID", "")))
    msgid = ids[0] if ids else _local_msgid(raw)
    try:
        body = _body(msg)
    except (LookupError, ValueError, AssertionError, TypeError) as exc:
        body, error = "", f"cannot decode the body: {exc}"
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    header_lines = _header_lines(raw)
    return Mail(
        msgid=msgid,
        subject=subject,
        author=authors[0] if authors else None,
        date=date,
        timestamp=timestamp,
        to=_people(msg, "To"),
        cc=_people(msg, "Cc"),
        in_reply_to=(_msgids(clean_header(msg.get("In-Reply-To", ""))) or (None,))[0],
        references=_msgids(clean_header(msg.get("References", ""))),
        body=body,
        body_line_offset=header_lines + 2 if header_lines else 1,
        raw=raw,
        error=error,
    )


def _message(raw: bytes) -> Message:
    """``email.message_from_bytes(raw)`` (the definition), without the feed parser's
    line-by-line walk over the body of a single-part message.

    Only the header block (up to the first empty line) is parsed: by ``_plain_headers``
    when it is plain, else by the email parser. For a type whose body the parser keeps
    as one string (not multipart, not message/*), that string is the rest of ``raw`` as
    the parser decodes it. Anything else (no empty line, the parser leaving part of the
    header block for the body) is parsed whole.
    """
    # the default policy is compat32; importing email.policy would cost ~10 ms at start-up
    cut = raw.find(b"\n\n") + 2
    if cut < 2:
        return email.message_from_bytes(raw)
    msg = _plain_headers(raw[:cut - 1].decode("ascii", "surrogateescape"))
    if msg is None:
        msg = email.message_from_bytes(raw[:cut])
        if msg.get_payload() != "":  # the parser put part of the header block in the body
            return email.message_from_bytes(raw)
    if msg.get_content_maintype() in ("multipart", "message"):
        return email.message_from_bytes(raw)
    msg.set_payload(raw[cut:].decode("ascii", "surrogateescape"))
    return msg


def _plain_headers(head: str) -> Message | None:
    """The message the feed parser makes of the header block ``head`` (lines ending in
    a newline, the empty line left out) when each line is a ``Name: value`` header or
    the continuation of one; None for anything else (CR line ends, a first line that is
    a continuation or a ``From `` line, a line without a header name): the parser reads
    those its own way."""
    if "\r" in head or head[:1] in (" ", "\t"):
        return None
    msg = Message()
    policy = msg.policy
    source: list[str] = []
    for line in head.split("\n")[:-1]:  # head ends with its last line's newline
        if line[:1] in (" ", "\t"):
            source.append(line + "\n")
            continue
        if not _HEADER_NAME.match(line):
            return None
        if source:
            msg.set_raw(*policy.header_source_parse(source))
        source = [line + "\n"]
    if source:
        msg.set_raw(*policy.header_source_parse(source))
    return msg


def _local_msgid(raw: bytes) -> str:
    """A stable id for a message without a Message-ID."""
    return "reviewbot-" + hashlib.sha1(raw).hexdigest()[:16] + "@local"


def _decode_header(value: object) -> str:
    """RFC 2047 decoding of an encoded-word header; falls back to the raw text."""
    from email.header import decode_header, make_header

    text = str(value)
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except (UnicodeDecodeError, LookupError, ValueError, email.errors.HeaderParseError):
        return text
