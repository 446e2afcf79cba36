"""Compiled dataclass methods kept on disk, as ``.pyc`` files keep a module's code.

``@dataclass`` writes the source of each class's ``__init__``, ``__repr__``, ``__eq__``,
``__hash__``, ``__setattr__`` and ``__delattr__`` and compiles it with ``exec`` every
time the class is created, that is at every start: for reviewbot's ~50 frozen
dataclasses on the way to a review, ~40 ms of a ~300 ms run (Python 3.11), more than a
patch's review. :func:`install` gives the ``dataclasses`` module an ``exec`` that
compiles each distinct source text once and keeps the code object, the same one
``exec`` would have compiled (same text, file name ``<string>``, no inherited
``__future__`` flags), so the classes and their methods are exactly what they were. The
code objects are written to ``$XDG_CACHE_HOME/reviewbot/dataclass-code-<tag>.bin``
(``marshal``, written to a temporary file and renamed) by :meth:`CodeCache.save`.

Loading code from a file is what importing a ``.pyc`` does, and it is as safe as the
file: the cache is read only when the file and its directory are the user's own and
writable by no one else, when its header names this very Python build, and when it
holds nothing but source texts and code objects; otherwise it is ignored (and
rewritten). It is only a cache: any problem reading or writing it is ignored.
"""

from __future__ import annotations

import builtins
import marshal
import sys
from collections.abc import Mapping
from pathlib import Path
from types import CodeType
from typing import Any

from reviewbot.cachefile import cache_path, read_private, write_atomic

MAX_BYTES = 8 * 1024 * 1024  # a bigger file is ignored
MAX_ENTRIES = 1024  # kept on save, those used by this process first (~1 MB, ~1 ms to read)


def _header() -> bytes:
    impl = sys.implementation.cache_tag or sys.implementation.name
    return f"reviewbot-dataclass-code 1 {impl} -O{sys.flags.optimize} {sys.version}\n".encode()


def default_cache_path(env: Mapping[str, str] | None = None) -> Path | None:
    """Where the cache is; None when there is no home directory to put it in."""
    tag = sys.implementation.cache_tag or sys.implementation.name
    if sys.flags.optimize:
        tag += f"-O{sys.flags.optimize}"
    return cache_path(f"dataclass-code-{tag}.bin", env)


def _read(path: Path) -> dict[str, CodeType]:
    data = read_private(path, _header(), MAX_BYTES)
    if data is None:
        return {}
    try:
        entries = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(entries, dict) or not all(
            type(k) is str and type(v) is CodeType for k, v in entries.items()):
        return {}
    return entries


class CodeCache:
    """The ``exec`` given to ``dataclasses``: source text -> code object, compiled once."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: kept in memory only
        self.entries = _read(path) if path is not None else {}
        self.used: set[str] = set()
        self.added = 0

    def __call__(self, source: Any, globals: Any = None, locals: Any = None, /,
                 **kwargs: Any) -> None:
        if type(source) is not str or globals is None or kwargs:
            # not the call dataclasses makes: exactly what exec would do for its caller
            frame = sys._getframe(1)
            if globals is None:
                globals = frame.f_globals
                locals = frame.f_locals if locals is None else locals
            builtins.exec(source, globals, locals, **kwargs)
            return
        code = self.entries.get(source)
        if code is None:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            self.entries[source] = code
            self.added += 1
        self.used.add(source)
        builtins.exec(code, globals, locals)

    def save(self) -> None:
        """Write the cache when this process compiled something new; errors ignored."""
        if not self.added or self.path is None:
            return
        keep = [k for k in self.entries if k in self.used]
        keep += [k for k in self.entries if k not in self.used][:max(0, MAX_ENTRIES - len(keep))]
        try:
            data = _header() + marshal.dumps({k: self.entries[k] for k in keep})
        except ValueError:
            return
        if len(data) <= MAX_BYTES and write_atomic(self.path, data, ".dataclass-code-"):
            self.added = 0


def install(path: Path | None = None) -> CodeCache:
    """Make ``dataclasses`` compile through a :class:`CodeCache` (once per process)."""
    import dataclasses

    current = getattr(dataclasses, "exec", None)
    if isinstance(current, CodeCache):
        return current
    cache = CodeCache(path if path is not None else default_cache_path())
    setattr(dataclasses, "exec", cache)  # noqa: B010 -- a module global, shadows the builtin
    return cache
