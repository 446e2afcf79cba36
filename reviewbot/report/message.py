"""Build a reply as an RFC 822 message: safe headers, threading, encoding, Message-ID.

Nothing taken from the original email reaches a header unchecked: values lose CR, LF
and every other control character, addresses must be plain ASCII ``local@domain``
(others are dropped), names are RFC 2047-encoded when they are not ASCII (by
``email.headerregistry``), and Message-IDs must look like one. An address header is
read back before it is used: where the email package's folding loses an address, it is
written one address per line. A header is folded the way mail clients fold it: never
right after its name (the email package moves a value that does not fit to a line of
its own, ``Subject:\n Re: ...``). A reply is Cc'd to at most :data:`MAX_CC` addresses.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
from base64 import b64encode
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from email import quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from typing import TypeVar

from reviewbot.errors import ConfigError
from reviewbot.series.model import Person

T = TypeVar("T")
POLICY = email.policy.default.clone(linesep="\n", max_line_length=78)
MAX_REFERENCES = 30
# Addresses a reply is Cc'd to: a reply needs the author and the lists, not the 100,000
# addresses a hostile mail can carry (the email package's address parser is quadratic
# in the length of a list); real patches go to up to about 150.
MAX_CC = 256
_CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# A plain address: the local part a dot-atom (RFC 5322: atoms joined by single dots, no
# dot first or last; the email package's own parser fails on a list holding a local
# part that starts with a dot), at most 64 characters.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ADDR = re.compile(rf"^(?=[^@]{{1,64}}@){_ATEXT}+(?:\.{_ATEXT}+)*@[A-Za-z0-9]"
                   r"(?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_MSGID = re.compile(r"^[\x21-\x3b\x3d\x3f-\x7e]{1,250}$")  # printable ASCII, no < > or space
# (one \s* on each side of the optional "[2]": two adjacent ones backtrack quadratically)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw)\s*(?:\[\d+\]\s*)?:\s*)+",
                           re.IGNORECASE)


def clean(text: str | None, limit: int = 900) -> str:
    """One line: control characters (CR, LF, ...) gone, whitespace folded, bounded."""
    if not text:
        return ""
    return " ".join(_CTRL.sub(" ", text).split())[:limit]


def valid_address(addr: str) -> bool:
    return bool(_ADDR.match(addr)) and ".." not in addr


def valid_msgid(msgid: str) -> bool:
    return bool(_MSGID.match(msgid))


def clean_person(p: Person) -> Person | None:
    """``p`` with a safe name, or None when its address is not a plain address."""
    addr = clean(p.email, 254).strip("<>")
    if not valid_address(addr):
        return None
    return Person(clean(p.name, 200), addr)


def recipients(people: Iterable[Person | None],
               exclude: Iterable[str] = ()) -> tuple[Person, ...]:
    """Cleaned, de-duplicated (by address, case-insensitively), ``exclude`` removed."""
    seen = {e.lower() for e in exclude}
    out: list[Person] = []
    for p in people:
        c = clean_person(p) if p is not None else None
        if c is None or c.email.lower() in seen:
            continue
        seen.add(c.email.lower())
        out.append(c)
    return tuple(out)


def keep_first(items: tuple[T, ...], limit: int, first: Callable[[T], bool]) -> tuple[T, ...]:
    """At most ``limit`` of ``items`` (people, addresses), in their order: those
    ``first`` picks are kept before the others."""
    if len(items) <= limit:
        return items
    chosen = [i for i, item in enumerate(items) if first(item)][:limit]
    picked = set(chosen)
    rest = [i for i in range(len(items)) if i not in picked][:limit - len(chosen)]
    return tuple(items[i] for i in sorted([*chosen, *rest]))


def reply_subject(original: str) -> str:
    """``Re: <original>``, never ``Re: Re:`` (also drops ``AW:``, ``SV:``, ``Re[2]:``)."""
    rest = _REPLY_PREFIX.sub("", clean(original))
    return f"Re: {rest}" if rest else "Re: your patch"


def references(refs: Sequence[str], msgid: str) -> tuple[str, ...]:
    """The References of a reply: the original's, then its Message-ID; valid, unique,
    at most MAX_REFERENCES (the thread root and the newest ones are kept)."""
    ids = [r for r in dict.fromkeys([*refs, msgid]) if valid_msgid(r)]
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1):]]
    return tuple(ids)


def make_msgid(identity: Person, *parts: str) -> str:
    """A Message-ID (without <>) derived from the identity and the input: stable."""
    digest = hashlib.sha256("\0".join([identity.formatted(), *parts]).encode(
        "utf-8", "surrogatepass")).hexdigest()[:32]
    domain = identity.email.rsplit("@", 1)[-1].lower()
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?", domain):
        domain = "reviewbot.invalid"
    return f"reviewbot.{digest}@{domain}"


def _address(p: Person) -> Address:
    local, domain = p.email.rsplit("@", 1)
    return Address(display_name=p.name, username=local, domain=domain)


@lru_cache(maxsize=4096)
def _header(name: str, value: str | tuple[Person, ...]) -> bytes:
    """One header line as ``EmailMessage`` stores it and its generator writes it (parsed
    by the policy's header registry, folded, encoded). A header's form depends on its
    name and value alone, and replies of one run share most of them (From, To, Cc,
    Date): the email package's parse is most of a reply's cost, so it is done once per
    distinct header.

    An address header must read back as the same addresses: the email package's
    folding can swallow a separating comma into an encoded word (a long non-ASCII name
    at the fold), and its parser fails on some lists; then ``_address_lines`` writes it."""
    if isinstance(value, str):
        _, stored = POLICY.header_store_parse(name, value)
        data = POLICY.fold_binary(name, stored)
        return data if name in _ID_HEADERS else client_fold(data)
    try:
        _, stored = POLICY.header_store_parse(name, [_address(p) for p in value])
        data = client_fold(POLICY.fold_binary(name, stored))
    except Exception:  # the email package's own parser can fail on valid addresses
        return _address_lines(name, value)
    return data if _reads_back(name, data, value) else _address_lines(name, value)


def client_fold(data: bytes, width: int = 78) -> bytes:
    """A header the email package folded right after its name (``Subject:\n Re: ...``,
    ``From:\n "Long, Name" <a@b>``) folded as mail clients fold: the value starts on
    the name's line, with as many words as fit in ``width`` columns (at least one), and
    the rest of that continuation line follows on the next; later lines are unchanged.
    Words are split at spaces outside quoted strings; unfolding gives the same value."""
    name, _, rest = data.partition(b"\n")
    if not rest.startswith(b" ") or not name.endswith(b":") or b" " in name:
        return data
    line, _, later = rest.partition(b"\n")
    spaces = _fold_points(line)
    fits = [i for i in spaces if len(name) + i <= width]
    cut = fits[-1] if fits else spaces[0] if spaces else len(line)
    head = name + line[:cut] + b"\n"
    return head + (line[cut:] + b"\n" if cut < len(line) else b"") + later


def _fold_points(line: bytes) -> list[int]:
    """Offsets of the spaces of a header line (not the first character) outside quoted
    strings: where the line may be folded."""
    points: list[int] = []
    quoted = escaped = False
    for i, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == 0x5C and quoted:  # backslash
            escaped = True
        elif char == 0x22:  # double quote
            quoted = not quoted
        elif char == 0x20 and not quoted and i > 0:
            points.append(i)
    return points


def _reads_back(name: str, data: bytes, people: tuple[Person, ...]) -> bool:
    """Whether header ``data`` parses back, without defects, into the addresses of
    ``people`` (names are not compared: the email package's reader keeps the folding
    space between two encoded words of one name, which RFC 2047 drops)."""
    from email.parser import BytesHeaderParser

    try:
        header = BytesHeaderParser(policy=POLICY).parsebytes(data + b"\n")[name]
        got = [a.addr_spec for a in header.addresses]
    except Exception:  # a header the parser cannot take does not read back
        return False
    return not header.defects and got == [p.email for p in people]


def _address_lines(name: str, people: tuple[Person, ...]) -> bytes:
    """An address header with one address per line, each name quoted (ASCII) or in
    RFC 2047 encoded words of its own; bare addresses if even that does not read back."""
    from email.utils import formataddr

    def one(p: Person) -> str:
        if p.name.isascii():
            return formataddr((p.name, p.email))
        return f"{_encoded_words(p.name)} <{p.email}>"

    data = (f"{name}: " + ",\n ".join(map(one, people)) + "\n").encode("ascii")
    if _reads_back(name, data, people):
        return data
    return (f"{name}: " + ",\n ".join(p.email for p in people) + "\n").encode("ascii")


def _encoded_words(text: str) -> str:
    """``text`` as base64 UTF-8 encoded words of at most 45 bytes (72 characters) each,
    one per line. Written here, not by ``email.utils.formataddr``: that one follows the
    process-wide charset registry, and b4 (imported to fetch from lore) registers UTF-8
    with no header encoding at all."""
    words: list[str] = []
    chunk = b""
    for char in text:
        data = char.encode("utf-8", "surrogatepass")
        if len(chunk) + len(data) > 45:
            words.append(b64encode(chunk).decode())
            chunk = b""
        chunk += data
    if chunk:
        words.append(b64encode(chunk).decode())
    return "\n ".join(f"=?utf-8?b?{w}?=" for w in words)


@lru_cache(maxsize=4)
def _mime_head(cte: str) -> bytes:
    """The MIME headers ``set_content`` adds for a UTF-8 text body with ``cte``, and
    the blank line after them."""
    content = EmailMessage(policy=POLICY)
    content.set_content("x\n", charset="utf-8", cte=cte)
    return content.as_bytes().partition(b"\n\n")[0] + b"\n\n"


def _content(text: str) -> bytes:
    """The MIME headers and the body, as ``EmailMessage.set_content`` and its generator
    write them: a 7bit or 8bit body is the text's lines (split where ``bytes.splitlines``
    splits) each ending in LF; quoted-printable goes through the email package."""
    cte = _transfer_encoding(text)
    if cte in ("7bit", "8bit"):
        return _mime_head(cte) + b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    content = EmailMessage(policy=POLICY)
    content.set_content(text, charset="utf-8", cte=cte)
    return content.as_bytes()


def _transfer_encoding(body: str) -> str:
    raw = body.encode("utf-8")
    if any(len(line) > 998 for line in raw.split(b"\n")):
        return "quoted-printable"
    return "7bit" if raw.isascii() else "8bit"


def build_message(*, identity: Person, to: Sequence[Person], cc: Sequence[Person],
                  subject: str, in_reply_to: str | None, refs: Sequence[str], msgid: str,
                  date: datetime, body: str) -> bytes:
    """The complete message (LF line ends, as in an mbox or a .eml file).

    Every value is cleaned here again (the builder trusts no caller): names and the
    subject lose control characters, invalid addresses and Message-IDs are dropped.
    """
    me = clean_person(identity)
    if me is None:
        raise ConfigError(f"the reviewer address {identity.email!r} is not a mail address")
    to = recipients(to)
    cc = recipients(cc, exclude=[p.email for p in to])
    headers: list[tuple[str, str | tuple[Person, ...]]] = [("From", (me,))]
    if to:
        headers.append(("To", to))
    if cc:
        headers.append(("Cc", cc))
    headers.append(("Subject", clean(subject)))
    headers.append(("Date", format_datetime(date if date.tzinfo
                                            else date.replace(tzinfo=UTC))))
    headers.append(("Message-ID", f"<{msgid}>"))
    if in_reply_to and valid_msgid(in_reply_to):
        headers.append(("In-Reply-To", f"<{in_reply_to}>"))
    refs = [r for r in refs if valid_msgid(r)]
    if refs:
        headers.append(("References", " ".join(f"<{r}>" for r in refs)))
    headers.append(("User-Agent", "reviewbot"))
    text = body if body.endswith("\n") else body + "\n"
    data = b"".join(_header(name, value) for name, value in headers) + _content(text)
    head, sep, rest = data.partition(b"\n\n")
    # one Message-ID per line even when long: folding before the first id is legal
    # but trips simple parsers (git send-email reads "In-Reply-To: (.*)" unfolded only)
    head = _FOLDED_ID.sub(rb"\1: <", head)
    return head + sep + rest


_ID_HEADERS = ("Message-ID", "In-Reply-To", "References")  # folded by _FOLDED_ID below
_FOLDED_ID = re.compile(rb"^(Message-ID|In-Reply-To|References):\n <", re.MULTILINE)
_FROM_START = re.compile(rb"^>*From [^\n]*", re.MULTILINE)


def header_value(data: bytes, name: str) -> str | None:
    """The (unfolded) value of header ``name`` in a message we built."""
    head = data.partition(b"\n\n")[0].decode("ascii", "replace")
    m = re.search(rf"^{re.escape(name)}:(.*(?:\n[ \t].*)*)", head, re.MULTILINE | re.IGNORECASE)
    return " ".join(m.group(1).split()) if m else None


def drop_header(data: bytes, name: str) -> bytes:
    """``data`` without header ``name`` (and its continuation lines)."""
    head, sep, body = data.partition(b"\n\n")
    pattern = re.compile(rb"^" + re.escape(name.encode()) + rb":[^\n]*\n?(?:[ \t][^\n]*\n?)*",
                         re.MULTILINE | re.IGNORECASE)
    head = pattern.sub(b"", head + b"\n").rstrip(b"\n")
    return head + sep + body


def _escape_from_lines(encoded: bytes) -> bytes:
    def fix(m: re.Match[bytes]) -> bytes:
        line = m.group(0)
        return (b"=3E" if line.startswith(b">") else b"=46") + line[1:]

    return _FROM_START.sub(fix, encoded)


def as_quoted_printable(data: bytes) -> bytes:
    """The same message with its body quoted-printable and the first character of
    every ``>*From `` line encoded (``=46rom``): the decoded text is unchanged, and no
    mbox reader can mistake or ``>``-escape such a line."""
    head, _sep, body = data.partition(b"\n\n")
    cte = (header_value(data, "Content-Transfer-Encoding") or "7bit").lower()
    if cte != "quoted-printable":
        text = body.decode("utf-8", "surrogateescape")
        body = quoprimime.body_encode(text, maxlinelen=76, eol="\n").encode(
            "utf-8", "surrogateescape")
        head = drop_header(head + b"\n\n", "Content-Transfer-Encoding").rstrip(b"\n")
        head += b"\nContent-Transfer-Encoding: quoted-printable"
    if not body.endswith(b"\n"):
        body += b"\n"
    return head + b"\n\n" + _escape_from_lines(body)


def has_from_line(data: bytes) -> bool:
    return bool(_FROM_START.search(data.partition(b"\n\n")[2]))
