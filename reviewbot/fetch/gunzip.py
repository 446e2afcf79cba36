"""Gunzip with a cap on the output: a decompression bomb stops at the cap, not at OOM."""

from __future__ import annotations

import zlib

from reviewbot.errors import FetchError, LimitError

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # decompressed bytes produced per step


class TruncatedError(FetchError):
    """The gzip stream ends before its end marker."""


class CorruptError(FetchError):
    """The data is not a valid gzip stream."""


def gunzip_limited(data: bytes, max_out: int, what: str) -> bytes:
    """Decompress ``data`` (one or more gzip members) into at most ``max_out`` bytes.

    Memory stays below ``max_out`` plus one step, whatever the compression ratio. Raises
    :class:`LimitError` past the cap, :class:`TruncatedError` when the stream stops
    early (a cut download), :class:`CorruptError` for anything else that is wrong
    (bad header, bad CRC, trailing garbage).
    """
    if not data.startswith(GZIP_MAGIC):
        raise CorruptError(f"{what}: not gzip data")
    out: list[bytes] = []
    size = 0
    rest = data
    while rest:
        dec = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while pending and not dec.eof:
                chunk = dec.decompress(pending, _CHUNK)
                pending = dec.unconsumed_tail
                size += len(chunk)
                if size > max_out:
                    raise LimitError(f"{what}: more than {max_out} bytes once decompressed")
                out.append(chunk)
            while not dec.eof:  # input used up: flush what zlib still holds, bounded
                chunk = dec.decompress(b"", _CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_out:
                    raise LimitError(f"{what}: more than {max_out} bytes once decompressed")
                out.append(chunk)
        except zlib.error as exc:
            raise CorruptError(f"{what}: corrupt gzip data ({exc})") from exc
        if not dec.eof:
            raise TruncatedError(f"{what}: truncated (the gzip stream ends early)")
        rest = dec.unused_data
        if rest and not rest.startswith(GZIP_MAGIC):
            if rest.strip(b"\x00"):
                raise CorruptError(f"{what}: corrupt gzip data (garbage after the end)")
            rest = b""  # zero padding after the last member, as gzip(1) accepts
    return b"".join(out)
