"""Where replies go: drafts into an outbox Maildir (the default), or out through SMTP.

Drafts are written the Maildir way (``tmp/`` → fsync → rename into ``new/``) under a name
fixed before anything is written, so writing the same draft twice is a no-op: after a
crash the watcher checks whether the name is already in ``new/`` or ``cur/``.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from pathlib import Path

from reviewbot.errors import ReviewbotError

_SAFE_HOST = re.compile(r"[^A-Za-z0-9.-]")


class OutboxError(ReviewbotError):
    """The outbox Maildir cannot be created or written."""


def draft_name(msgid: str, now: float) -> str:
    """A unique Maildir file name for the reply ``msgid`` (deterministic per reply)."""
    digest = hashlib.sha1(msgid.encode("utf-8", "replace")).hexdigest()[:20]
    host = _SAFE_HOST.sub("_", socket.gethostname() or "localhost")[:64]
    return f"{int(now)}.R{digest}.{host}"


class Outbox:
    """A Maildir for reply drafts (created when missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            for sub in ("tmp", "new", "cur"):
                (path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutboxError(f"cannot create the outbox Maildir {path}: "
                              f"{exc.strerror or exc}") from exc

    def contains(self, name: str) -> bool:
        """The draft ``name`` is in the outbox (in ``new/``, or read and moved to ``cur/``)."""
        if (self.path / "new" / name).exists():
            return True
        try:
            return any(entry.name == name or entry.name.startswith(name + ":")
                       for entry in os.scandir(self.path / "cur"))
        except OSError:
            return False

    def write(self, name: str, data: bytes, sync: bool = True) -> bool:
        """Write the draft ``name`` once; False when it was already there.

        With ``sync=False`` the caller calls ``sync()`` before relying on it (the file
        itself is always fsynced before the rename).
        """
        if "/" in name or name.startswith(".") or not name:
            raise OutboxError(f"bad draft name {name!r}")
        if self.contains(name):
            return False
        tmp = self.path / "tmp" / name
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp, self.path / "new" / name)
        except OSError as exc:
            raise OutboxError(f"cannot write a draft into {self.path}: "
                              f"{exc.strerror or exc}") from exc
        if sync:
            self.sync()
        return True

    def sync(self) -> None:
        """Make the renames into ``new/`` durable."""
        try:
            dir_fd = os.open(self.path / "new", os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise OutboxError(f"cannot sync the outbox {self.path}: "
                              f"{exc.strerror or exc}") from exc


def _split_head(data: bytes) -> tuple[list[bytes], bytes, bytes]:
    """Header lines (continuations joined to their field), the separator, the body."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        pos = data.find(sep)
        if pos >= 0:
            head, body = data[:pos], data[pos + len(sep):]
            eol = sep[: len(sep) // 2]
            break
    else:
        return [], b"\n\n", data
    fields: list[bytes] = []
    for line in head.split(eol):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += eol + line
        else:
            fields.append(line)
    return fields, eol + eol, body


def set_headers(data: bytes, replace: dict[str, str | None],
                add: dict[str, str] | None = None) -> bytes:
    """``data`` with the header fields in ``replace`` replaced (None: removed) and ``add``
    appended; the body is kept byte for byte."""
    fields, sep, body = _split_head(data)
    eol = sep[: len(sep) // 2]
    names = {k.lower() for k in replace}
    kept = [f for f in fields if f.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
            not in names]
    extra = {**{k: v for k, v in replace.items() if v is not None}, **(add or {})}
    kept.extend(f"{k}: {v}".encode() for k, v in extra.items())
    return eol.join(kept) + sep + body


def header_value(data: bytes, name: str) -> str | None:
    fields, _, _ = _split_head(data)
    for f in fields:
        key, _, value = f.partition(b":")
        if key.strip().lower() == name.lower().encode():
            return " ".join(value.decode("utf-8", "replace").split())
    return None
