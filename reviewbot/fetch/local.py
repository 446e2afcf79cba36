"""Read local input into raw RFC 822 messages: mbox, Maildir, patch files, stdin."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reviewbot.errors import InputError, LimitError
from reviewbot.limits import DEFAULT_MAX_INPUT

# Compressed input (an mbox.gz from an archive, a patch.xz): decompressed in memory, never
# past the input limit, so a small bomb cannot fill the memory.
_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"BZh": "bz2"}
PATCH_SUFFIXES = (".patch", ".eml", ".diff", ".mbox", ".txt")

_FROM_LINE = re.compile(rb"^From [^\n]*\n", re.MULTILINE)
_MBOXRD_ESCAPE = re.compile(rb"^>(>*From )", re.MULTILINE)
_STRICT_FROM = re.compile(rb"From \S+ +\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r?\n")
_HEADER = re.compile(rb"^[A-Za-z0-9-]{1,76}:")


@dataclass(frozen=True)
class RawMessage:
    """One message as bytes, with where it came from (for error messages)."""

    data: bytes
    origin: str


def split_mbox(data: bytes, origin: str) -> list[RawMessage]:
    """Split an mbox (mboxo or mboxrd) into messages, undoing ``>From`` escaping."""
    starts = [p for p in _from_line_starts(data)
              if p == 0 or data[p - 2:p] == b"\n\n" or _STRICT_FROM.match(data, p)]
    if not starts:
        return [RawMessage(data, origin)]
    out: list[RawMessage] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        chunk = data[start:end]
        nl = chunk.find(b"\n")
        body = chunk[nl + 1:] if nl >= 0 else b""
        if body.startswith(b">") or b"\n>" in body:  # where an escape can be
            body = _MBOXRD_ESCAPE.sub(rb"\1", body)
        if body.strip():
            out.append(RawMessage(body, f"{origin} (message {i + 1})"))
    return out


def _from_line_starts(data: bytes) -> Iterator[int]:
    """Where ``_FROM_LINE`` matches (the definition): the start of each line that begins
    with ``From `` and ends with a newline, found with ``bytes.find``."""
    if data.startswith(b"From ") and b"\n" in data:
        yield 0
    i = data.find(b"\nFrom ")
    while i >= 0:
        start = i + 1
        if data.find(b"\n", start) < 0:  # the last line, without a newline
            return
        yield start
        i = data.find(b"\nFrom ", start)


def looks_like_mail(data: bytes) -> bool:
    """True when ``data`` starts like an RFC 822 message or an mbox."""
    head = data.lstrip(b"\r\n")[:1000]
    return head.startswith(b"From ") or bool(_HEADER.match(head))


def diff_as_mail(data: bytes, name: str) -> bytes:
    """Wrap a bare diff (no headers) into a minimal message so the pipeline can take it."""
    subject = f"[PATCH] {name}".encode("utf-8", "replace")
    return b"Subject: " + subject + b"\n\n" + data


def _too_big(origin: str, max_bytes: int, what: str = "input") -> LimitError:
    return LimitError(f"{origin}: {what} larger than the limit of {max_bytes} bytes "
                      "(--limit input-bytes=N)")


def decompress(data: bytes, origin: str, max_bytes: int) -> bytes:
    """``data`` itself, or its gzip/xz/bzip2 content (at most ``max_bytes``)."""
    kind = next((k for magic, k in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        return data
    import io

    def open_stream(raw: io.BytesIO) -> io.BufferedIOBase:
        if kind == "gzip":
            import gzip

            return gzip.GzipFile(fileobj=raw)
        if kind == "xz":
            import lzma

            return lzma.LZMAFile(raw)
        import bz2

        return bz2.BZ2File(raw)

    try:
        with open_stream(io.BytesIO(data)) as stream:
            out = stream.read(max_bytes + 1)
    except (OSError, EOFError, ValueError) as exc:  # corrupt or truncated archive
        # (lzma.LZMAError and gzip.BadGzipFile are OSError subclasses)
        raise InputError(f"{origin}: cannot decompress ({kind}): {exc}") from exc
    if len(out) > max_bytes:
        raise _too_big(origin, max_bytes, f"decompressed {kind} input")
    return out


def _read_limited(path: Path, budget: list[int], max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > budget[0]:
            raise _too_big(str(path), max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    data = decompress(data, str(path), budget[0])
    budget[0] -= len(data)
    return data


def read_bytes(data: bytes, origin: str, name: str,
               max_bytes: int = DEFAULT_MAX_INPUT) -> list[RawMessage]:
    """Messages in ``data`` (an mbox, one message, a bare diff; possibly compressed)."""
    if len(data) > max_bytes:
        raise _too_big(origin, max_bytes)
    return _from_bytes(decompress(data, origin, max_bytes), origin, name)


def _from_bytes(data: bytes, origin: str, name: str) -> list[RawMessage]:
    if b"\x00" in data[:4096] and not looks_like_mail(data):
        raise InputError(f"{origin}: binary data, not an email or a patch")
    if not data.strip():
        return []
    if looks_like_mail(data):
        return split_mbox(data, origin)
    if b"\n+++ " in data or data.startswith(b"diff --git"):
        return [RawMessage(diff_as_mail(data, name), origin)]
    raise InputError(f"{origin}: not an email, an mbox or a diff")


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def read_source(source: str, max_bytes: int = DEFAULT_MAX_INPUT) -> list[RawMessage]:
    """Read every message of a local source: ``-``, a file, a Maildir or a directory."""
    budget = [max_bytes]
    if source == "-":
        messages = read_bytes(sys.stdin.buffer.read(max_bytes + 1), "stdin", "stdin",
                              max_bytes)
    else:
        path = Path(source)
        if not path.exists():
            raise InputError(f"{source}: no such file or directory")
        if path.is_dir():
            messages = []
            if _is_maildir(path):
                files = sorted(p for sub in ("cur", "new") for p in (path / sub).iterdir()
                               if p.is_file() and not p.name.startswith("."))
            else:
                files = sorted(p for p in path.iterdir()
                               if p.is_file() and p.suffix.lower() in PATCH_SUFFIXES)
            for file in files:
                messages.extend(_from_bytes(_read_limited(file, budget, max_bytes),
                                            str(file), file.stem))
        else:
            messages = _from_bytes(_read_limited(path, budget, max_bytes), source,
                                   path.stem)
    if not messages:
        raise InputError(f"{'stdin' if source == '-' else source}: empty input, no message found")
    return messages
