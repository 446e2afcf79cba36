"""A cache of parsed rule files, so a run does not import tomllib and parse TOML.

Parsing the bundled rule files is most of the cost of loading them (about 20 ms, more
than a patch's review). The cache holds what ``tomllib`` returned for each file, keyed
by the file's absolute path, size, inode and modification and change times; the loader
validates the cached data exactly as it validates freshly parsed data, so a rule's
problems are reported the same whether it came from the cache or not. Only files that
parsed are cached (a broken file is parsed, and its error reported, every time), and only
plain data (``marshal`` gives it back unchanged: no dates). Patterns that passed the
regular-expression checks are remembered too, under a key naming the code that checked
them.

The cache is one file, ``$XDG_CACHE_HOME/reviewbot/rules.bin``: a header naming the
format, reviewbot and the Python build, then ``marshal`` data (no ``json`` import:
~2 ms), written to a temporary file and renamed. It is ignored when it cannot be read,
is not valid, was written by another reviewbot or Python, or when it or its directory is
not the user's own or is writable by others (another user's file could feed the loader
rules); a failure to write it is ignored as well.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reviewbot import __version__
from reviewbot.cachefile import cache_path, read_private, write_atomic

MAX_BYTES = 16 * 1024 * 1024  # a bigger cache file is ignored (and rewritten)
MAX_FILES = 512  # entries kept; the oldest go first
MAX_PATTERNS = 2048


def default_cache_path(env: Mapping[str, str] | None = None) -> Path | None:
    """Where the cache is; None when there is no home directory to put it in."""
    return cache_path("rules.bin", env)


def _header() -> bytes:
    return f"reviewbot-rules 1 {__version__} {sys.version}\n".encode()


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def _checker_key() -> str:
    """What the remembered patterns were checked by: this reviewbot, this Python, and
    the checking code itself (a source checkout changes it without a new version)."""
    here = Path(__file__).resolve().parent
    stamps = []
    for name in ("loader.py", "regexcheck.py"):
        try:
            stamps.append(_stamp((here / name).stat()))
        except OSError:
            stamps.append([])
    return repr([__version__, sys.version, stamps])


class RuleCache:
    """Parsed rule files and checked patterns for one load; ``save`` writes changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._files: dict[str, dict[str, Any]] = {}
        self._patterns: set[str] = set()
        self._checker = ""
        self._key: str | None = None
        self._used: dict[str, dict[str, Any]] = {}
        self._new_patterns: set[str] = set()
        self._dirty = False
        if path is not None:
            self._read(path)

    def _read(self, path: Path) -> None:
        raw = read_private(path, _header(), MAX_BYTES)
        if raw is None:
            return
        try:
            doc = marshal.loads(raw)
        except (EOFError, ValueError, TypeError):
            return
        if not isinstance(doc, dict):
            return
        files, patterns = doc.get("files"), doc.get("patterns")
        if isinstance(files, dict):
            self._files = {k: v for k, v in files.items() if isinstance(v, dict)}
        if isinstance(patterns, dict) and isinstance(patterns.get("checker"), str) \
                and isinstance(patterns.get("ok"), list):
            self._checker = patterns["checker"]
            self._patterns = {p for p in patterns["ok"] if isinstance(p, str)}

    def parsed(self, path: Path, st: os.stat_result) -> dict[str, Any] | None:
        """The data parsed from ``path`` when it is unchanged since it was cached."""
        key = str(path.absolute())
        entry = self._files.get(key)
        if entry is None or entry.get("stamp") != _stamp(st):
            return None
        data = entry.get("data")
        if not isinstance(data, dict):
            return None
        self._used[key] = entry
        return data

    def store(self, path: Path, st: os.stat_result, data: dict[str, Any]) -> None:
        """Remember what ``path`` (with stat ``st``, taken before reading) parsed to."""
        if self.path is None:
            return
        try:
            same = marshal.loads(marshal.dumps(data)) == data  # dates, NaN: not cached
        except (TypeError, ValueError, EOFError):
            same = False
        if same:
            self._used[str(path.absolute())] = {"stamp": _stamp(st), "data": data}
            self._dirty = True

    def _checker_now(self) -> str:
        if self._key is None:
            self._key = _checker_key()
        return self._key

    def pattern_ok(self, pattern: str) -> bool:
        """Did ``pattern`` pass the regular-expression checks of this very code?"""
        if not self._patterns:
            return False
        if self._checker != self._checker_now():  # after a miss none are left
            self._patterns = set()
            return False
        return pattern in self._patterns

    def add_pattern(self, pattern: str) -> None:
        self._new_patterns.add(pattern)
        self._dirty = True

    def save(self) -> None:
        """Write the cache when this load added to it; any failure is ignored."""
        if self.path is None or not self._dirty:
            return
        files = dict(self._used)
        for key, entry in self._files.items():
            if len(files) >= MAX_FILES:
                break
            files.setdefault(key, entry)
        checker = self._checker_now()
        kept = self._patterns if self._checker == checker else set()
        patterns = sorted(self._new_patterns) + sorted(kept - self._new_patterns)
        doc = {"files": files, "patterns": {"checker": checker, "ok": patterns[:MAX_PATTERNS]}}
        try:
            data = _header() + marshal.dumps(doc)
        except ValueError:
            return
        write_atomic(self.path, data, ".rules-")
