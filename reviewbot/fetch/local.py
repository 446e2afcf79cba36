"""Read local input into raw RFC 822 messages: mbox, Maildir, patch files, stdin.

Every source (a file of any kind: regular, FIFO, ``<(...)``, a device; standard input;
each file of a directory or Maildir) is read through one bounded reader, ``_chunks``:
the bytes read, before and after decompression, count against the input limit whatever
the file's size says, and it stops at the limit. What is read goes, message by message,
into a :class:`MessageStore` (memory up to a few MiB, then an anonymous temporary file),
so reading a large mbox keeps one message in memory at a time.

What a file is, from its first bytes: one that starts with a ``From `` line is an mbox
(mboxo or mboxrd), split at its ``From `` separators; one that starts with a header line
is one message, whatever its body holds (a ``git format-patch`` quoted in it, with its
own ``From <sha> ...`` line, stays in the body); a bare diff is wrapped into a message.
"""

from __future__ import annotations

import io
import os
import re
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast, overload

from reviewbot.errors import InputError, LimitError
from reviewbot.limits import DEFAULT_MAX_INPUT

# Compressed input (an mbox.gz from an archive, a patch.xz): decompressed as it is read,
# never past the input limit, so a small bomb cannot fill the memory.
_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"BZh": "bz2"}
PATCH_SUFFIXES = (".patch", ".eml", ".diff", ".mbox", ".txt")

_MBOXRD_ESCAPE = re.compile(rb"^>(>*From )", re.MULTILINE)
_STRICT_FROM = re.compile(rb"From \S+ +\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r?\n")
_HEADER = re.compile(rb"^[A-Za-z0-9-]{1,76}:")
CHUNK = 1 << 20  # bytes read at a time
HEAD = 4096  # bytes looked at to tell what a file is
SPOOL_MEMORY = 8 << 20  # messages kept in memory before the store moves to a file


@dataclass(frozen=True)
class RawMessage:
    """One message as bytes, with where it came from (for error messages)."""

    data: bytes
    origin: str


class MessageStore(Sequence[RawMessage]):
    """The messages of one input, in order: a sequence of :class:`RawMessage` whose
    bytes are read back from a spool when asked for (in memory up to ``memory`` bytes,
    then an anonymous temporary file, read with ``pread`` so that forked workers can
    read it too). Memory then does not grow with the input: only the offsets are kept.
    """

    def __init__(self, memory: int | None = None) -> None:
        self._memory = SPOOL_MEMORY if memory is None else memory
        self._buf: bytearray | None = bytearray()
        self._file: BinaryIO | None = None
        self._size = 0
        self._offsets = array("q")
        self._lengths = array("q")
        self._origin_ids = array("l")
        self._numbers = array("l")  # message number in its source, 0: a file of its own
        self._origins: list[str] = []

    def add(self, data: bytes, origin: str, number: int = 0) -> None:
        """Keep one message; ``number`` > 0 makes its origin ``origin (message N)``."""
        if not self._origins or self._origins[-1] != origin:
            self._origins.append(origin)
        self._write(data)
        self._offsets.append(self._size)
        self._lengths.append(len(data))
        self._origin_ids.append(len(self._origins) - 1)
        self._numbers.append(number)
        self._size += len(data)

    def _write(self, data: bytes) -> None:
        if self._buf is not None and len(self._buf) + len(data) > self._memory:
            import tempfile

            try:
                spool = tempfile.TemporaryFile()  # noqa: SIM115 (open as long as the store)
                spool.write(self._buf)
            except OSError:  # no writable temporary directory: keep it in memory
                self._memory = sys.maxsize
            else:
                self._file, self._buf = spool, None
        if self._buf is not None:
            self._buf += data
            return
        assert self._file is not None
        try:
            self._file.write(data)
            self._file.flush()
        except OSError as exc:
            raise InputError(f"cannot keep the input in a temporary file: "
                             f"{exc.strerror or exc}") from exc

    def data(self, index: int) -> bytes:
        offset, length = self._offsets[index], self._lengths[index]
        if self._buf is not None:
            return bytes(self._buf[offset:offset + length])
        assert self._file is not None
        parts: list[bytes] = []
        fd = self._file.fileno()
        while length > 0:
            part = os.pread(fd, length, offset)
            if not part:
                raise InputError("the temporary copy of the input was cut short")
            parts.append(part)
            offset += len(part)
            length -= len(part)
        return b"".join(parts)

    def origin(self, index: int) -> str:
        origin = self._origins[self._origin_ids[index]]
        number = self._numbers[index]
        return f"{origin} (message {number})" if number else origin

    def size(self, index: int) -> int:
        """The length of message ``index`` in bytes (without reading it)."""
        return self._lengths[index]

    def __len__(self) -> int:
        return len(self._offsets)

    @overload
    def __getitem__(self, index: int) -> RawMessage: ...

    @overload
    def __getitem__(self, index: slice) -> list[RawMessage]: ...

    def __getitem__(self, index: int | slice) -> RawMessage | list[RawMessage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("message index out of range")
        return RawMessage(self.data(index), self.origin(index))

    def __iter__(self) -> Iterator[RawMessage]:
        return (self[i] for i in range(len(self)))


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


class _Budget:
    """The bytes one source may still give (a directory's files share it)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.left = max_bytes


class _Counted(io.RawIOBase):
    """``head`` then the rest of ``stream``, refusing to give more than ``limit`` bytes."""

    def __init__(self, head: bytes, stream: BinaryIO, limit: int,
                 over: Callable[[], LimitError]) -> None:
        self._head, self._stream, self._limit, self._over = head, stream, limit, over
        self._count = len(head)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(min(len(buffer), self._limit - self._count + 1))
        self._count += len(data)
        if self._count > self._limit:
            raise self._over()
        buffer[:len(data)] = data
        return len(data)


def _read_head(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes (fewer only at the end: a pipe gives what it has)."""
    parts: list[bytes] = []
    got = 0
    while got < size:
        part = stream.read(size - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _decompressor(kind: str, raw: BinaryIO) -> io.BufferedIOBase:
    if kind == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=raw)
    if kind == "xz":
        import lzma

        return lzma.LZMAFile(raw)
    import bz2

    return bz2.BZ2File(raw)


def _chunks(stream: BinaryIO, origin: str, budget: _Budget) -> Iterator[bytes]:
    """The bytes of ``stream``, decompressed when they are gzip/xz/bzip2, in chunks; a
    LimitError as soon as the raw or the decompressed bytes pass what ``budget`` allows.
    This is the one reader every local source goes through."""
    head = _read_head(stream, 8)
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), None)
    raw = _Counted(head, stream, budget.left, lambda: _too_big(origin, budget.max_bytes))
    data: io.RawIOBase | io.BufferedIOBase = (
        _decompressor(kind, cast(BinaryIO, raw)) if kind else raw)
    while True:
        try:
            chunk = data.read(CHUNK) or b""
        except (EOFError, ValueError) as exc:  # corrupt or truncated archive
            raise InputError(f"{origin}: cannot decompress ({kind}): {exc}") from exc
        except OSError as exc:  # (lzma.LZMAError and gzip.BadGzipFile are OSErrors)
            if kind is None:
                raise InputError(f"cannot read {origin}: {exc.strerror or exc}") from exc
            raise InputError(f"{origin}: cannot decompress ({kind}): {exc}") from exc
        if not chunk:
            return
        if len(chunk) > budget.left:
            what = f"decompressed {kind} input" if kind else "input"
            raise _too_big(origin, budget.max_bytes, what)
        budget.left -= len(chunk)
        yield chunk


def take_mbox(first: bytes, rest: Iterator[bytes], origin: str,
               store: MessageStore) -> None:
    """Split an mbox (mboxo or mboxrd) into ``store``, undoing ``>From`` escaping.

    A line that starts with ``From `` (and ends with a newline) separates messages when
    it starts the input, follows an empty line, or is a strict ``From addr date`` line.
    Text before the first separator is not a message; when there is no separator at
    all, the whole input is one message. Only the message being read is in memory.
    """
    buf = bytearray(first)
    base = 0  # input offset of buf[0]
    sep: int | None = None  # buf index of the current message's From line
    body = 0  # buf index where the current message's body starts
    scan = 0  # buf index of the next line start to consider
    number = 0

    def more() -> bool:
        """Read on; what is no longer needed is dropped from buf first."""
        nonlocal base, sep, body, scan
        chunk = next(rest, None)
        if chunk is None:
            return False
        lo = sep or 0  # before the first separator all is kept: it may be the message
        if lo > 0:  # (at most once per chunk: the copy stays linear)
            del buf[:lo]
            base += lo
            scan -= lo
            body -= lo
            if sep is not None:
                sep -= lo
        buf.extend(chunk)
        return True

    def emit(end: int) -> None:
        chunk = bytes(buf[body:end])
        if chunk.startswith(b">") or b"\n>" in chunk:  # where an escape can be
            chunk = _MBOXRD_ESCAPE.sub(rb"\1", chunk)
        if chunk.strip():
            store.add(chunk, origin, number)

    while True:
        if base + scan == 0 and buf.startswith(b"From "):
            start = 0
        else:
            i = buf.find(b"\nFrom ", max(scan - 1, 0))
            if i < 0:
                scan = max(scan, len(buf) - 4)  # a "\nFrom " cut by the chunk's end
                if more():
                    continue
                break
            start = i + 1
        nl = buf.find(b"\n", start)
        while nl < 0:  # the line goes on in the next chunk
            searched = len(buf) - start
            scan = start  # (more() moves scan with what it drops)
            if not more():
                break
            start = scan
            nl = buf.find(b"\n", start + searched)
        if nl < 0:  # the last line, without a newline: not a separator
            break
        scan = nl + 1
        at = base + start
        if not (at == 0 or (at >= 2 and buf[start - 2:start] == b"\n\n")
                or _STRICT_FROM.match(buf, start)):
            continue
        if sep is not None:
            emit(start)
        number += 1
        sep, body = start, nl + 1
    if sep is None:  # no separator: the whole input is one message
        buf.extend(b"".join(rest))
        store.add(bytes(buf), origin)
        return
    emit(len(buf))


def _take(data: Iterable[bytes], origin: str, name: str, store: MessageStore) -> None:
    """The messages of one source's bytes into ``store`` (see the module docstring)."""
    chunks = iter(data)
    parts: list[bytes] = []
    got = 0
    for chunk in chunks:  # enough to tell what it is (line ends first do not count)
        parts.append(chunk)
        got = got + len(chunk) if got or chunk.strip(b"\r\n") else 0
        if got >= HEAD:
            break
    first = b"".join(parts)
    if b"\x00" in first[:HEAD] and not looks_like_mail(first):
        raise InputError(f"{origin}: binary data, not an email or a patch")
    if first.lstrip(b"\r\n").startswith(b"From "):
        take_mbox(first, chunks, origin, store)
        return
    whole = first + b"".join(chunks)
    if not whole.strip():
        return
    if looks_like_mail(whole):
        store.add(whole, origin)
    elif b"\n+++ " in whole or whole.startswith(b"diff --git"):
        store.add(diff_as_mail(whole, name), origin)
    else:
        raise InputError(f"{origin}: not an email, an mbox or a diff")


def split_mbox(data: bytes, origin: str) -> list[RawMessage]:
    """Split an mbox (mboxo or mboxrd) held in memory into messages."""
    store = MessageStore(memory=sys.maxsize)
    take_mbox(data, iter(()), origin, store)
    return list(store)


def read_bytes(data: bytes, origin: str, name: str,
               max_bytes: int = DEFAULT_MAX_INPUT) -> MessageStore:
    """Messages in ``data`` (an mbox, one message, a bare diff; possibly compressed)."""
    store = MessageStore()
    _take(_chunks(io.BytesIO(data), origin, _Budget(max_bytes)), origin, name, store)
    return store


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _read_file(path: Path, origin: str, budget: _Budget, store: MessageStore) -> None:
    try:
        with path.open("rb") as stream:
            _take(_chunks(stream, origin, budget), origin, path.stem, store)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_source(source: str, max_bytes: int = DEFAULT_MAX_INPUT) -> MessageStore:
    """Read every message of a local source: ``-``, a file (of any kind: a FIFO and a
    device are read like a file, up to the limit), a Maildir or a directory."""
    budget = _Budget(max_bytes)
    store = MessageStore()
    if source == "-":
        _take(_chunks(sys.stdin.buffer, "stdin", budget), "stdin", "stdin", store)
    else:
        path = Path(source)
        if not path.exists():
            raise InputError(f"{source}: no such file or directory")
        if path.is_dir():
            try:
                if _is_maildir(path):
                    files = sorted(p for sub in ("cur", "new") for p in (path / sub).iterdir()
                                   if p.is_file() and not p.name.startswith("."))
                else:
                    files = sorted(p for p in path.iterdir()
                                   if p.is_file() and p.suffix.lower() in PATCH_SUFFIXES)
            except OSError as exc:
                raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
            for file in files:
                _read_file(file, str(file), budget, store)
        else:
            _read_file(path, source, budget, store)
    if not len(store):
        raise InputError(f"{'stdin' if source == '-' else source}: empty input, no message found")
    return store
