"""The private cache files of one user: read only when safe, written whole or not at all.

Shared by the rule cache (``engine/rulecache.py``) and the compiled-dataclass cache
(``codecache.py``). A cache file is read only when it and its directory belong to the
user and are writable by no one else (another user's file could feed the loader rules or
code), when it is not too big, and when it starts with the header its writer expects.
Writing goes to a temporary file in the same directory, renamed over the old one. Both
directions ignore every failure: a cache is only ever a shortcut.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def cache_path(name: str, env: Mapping[str, str] | None = None) -> Path | None:
    """``$XDG_CACHE_HOME/reviewbot/NAME`` (default ``~/.cache``); None when there is
    no home directory to put it in."""
    from reviewbot.xdg import xdg_dir

    try:
        return xdg_dir("XDG_CACHE_HOME", ".cache", env) / "reviewbot" / name
    except (RuntimeError, KeyError, OSError):  # Path.home() without HOME or passwd entry
        return None


def private(st: os.stat_result) -> bool:
    """The user's own file or directory, writable by nobody else."""
    getuid = getattr(os, "getuid", None)
    return (getuid is None or st.st_uid == getuid()) and not st.st_mode & 0o022


def read_private(path: Path, header: bytes, max_bytes: int) -> bytes | None:
    """What follows ``header`` in the file at ``path``, when the file is safe to read
    (see the module docstring) and at most ``max_bytes`` long; else None."""
    try:
        if not private(os.stat(path.parent)):
            return None
        with path.open("rb") as fh:
            if not private(os.fstat(fh.fileno())):
                return None
            data = fh.read(max_bytes + 1)
    except OSError:
        return None
    if len(data) > max_bytes or not data.startswith(header):
        return None
    return data[len(header):]


def write_atomic(path: Path, data: bytes, prefix: str) -> bool:
    """Replace the file at ``path`` with ``data`` (its directory made private if it is
    new); False when that failed, and nothing half-written is left."""
    import contextlib
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True
