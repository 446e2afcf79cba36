"""On-disk cache of fetched threads: one file per (server, Message-ID), atomic writes.

A file is ``reviewbot-thread 1 <json>\\n`` followed by the thread as an mbox; the JSON
records the server, the Message-ID, when it was fetched, the date of the newest message
and the mbox's size (a file cut short is a miss, never a short thread). An entry is
fresh for :data:`YOUNG_TTL` while the thread's newest message is less than
:data:`YOUNG_AGE` old (the thread may still grow), for :data:`OLD_TTL` after that.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reviewbot.config import xdg_dir

MAGIC = b"reviewbot-thread 1 "
YOUNG_AGE = 2 * 86400.0  # a thread with a message younger than this is still growing
YOUNG_TTL = 10 * 60.0
OLD_TTL = 7 * 86400.0


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    return xdg_dir("XDG_CACHE_HOME", ".cache", env) / "reviewbot" / "lore"


@dataclass(frozen=True)
class CacheEntry:
    url: str
    msgid: str
    fetched: float  # seconds since the epoch
    newest: float | None  # Date of the newest message in the thread, if any parses
    data: bytes

    def ttl(self) -> float:
        young = self.newest is None or self.newest > self.fetched - YOUNG_AGE
        return YOUNG_TTL if young else OLD_TTL

    def fresh(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return self.fetched <= now + 60 and now - self.fetched < self.ttl()


@dataclass(frozen=True)
class ThreadCache:
    root: Path

    def path(self, url: str, msgid: str) -> Path:
        key = hashlib.sha256(f"{url}\0{msgid}".encode()).hexdigest()
        return self.root / f"{key}.mbox"

    def get(self, url: str, msgid: str) -> CacheEntry | None:
        """The entry for ``msgid`` at ``url``, fresh or not; None if absent or damaged."""
        try:
            with self.path(url, msgid).open("rb") as fh:
                head = fh.readline(4096)
                if not head.startswith(MAGIC) or not head.endswith(b"\n"):
                    return None
                meta = json.loads(head[len(MAGIC):])
                data = fh.read(int(meta["size"]) + 1)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        try:
            entry = CacheEntry(str(meta["url"]), str(meta["msgid"]), float(meta["fetched"]),
                               None if meta["newest"] is None else float(meta["newest"]),
                               data)
        except (KeyError, TypeError, ValueError):
            return None
        if len(data) != int(meta["size"]) or (entry.url, entry.msgid) != (url, msgid):
            return None
        return entry

    def put(self, entry: CacheEntry) -> None:
        """Write atomically (temp file + rename); a failure leaves the old entry intact."""
        meta = {"url": entry.url, "msgid": entry.msgid, "fetched": entry.fetched,
                "newest": entry.newest, "size": len(entry.data)}
        target = self.path(entry.url, entry.msgid)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".mbox")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(MAGIC + json.dumps(meta, sort_keys=True).encode() + b"\n")
                fh.write(entry.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
