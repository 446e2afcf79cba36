"""How a call by name reaches definitions (shared by the build and the lookups; no
imports beyond the standard library, so a lookup stays cheap to import)."""

from __future__ import annotations

FUNC_BITS = 16  # function ids: file id << FUNC_BITS | index in the file
GUARDED, LOCAL = 1, 2  # call flags: under a context test; the caller's file defines it
STATIC, INLINE = 1, 2  # function flags


def visible(path: str, kind: str, flags: int) -> bool:
    """Whether a definition is visible outside its file: anything a header defines
    (static inline functions, function-like macros), and non-static functions."""
    return path.endswith(".h") or (kind == "function" and not flags & STATIC)


def pick(defs: list[tuple[int, bool, tuple[str, ...]]], file: int, here: tuple[str, ...],
         local: bool) -> list[int]:
    """The definitions (function id, visible tree-wide, directory) a call from ``file``
    (in directory ``here``) reaches. ``local``: the caller's file defines the name, and
    the call reaches those definitions (one file's static ``foo_probe`` is not
    another's). Otherwise the visible ones; of several (the same name in two drivers,
    or per architecture) those sharing the longest directory prefix with the caller."""
    if local:
        return [f for f, _, _ in defs if f >> FUNC_BITS == file]
    seen = [(f, d) for f, v, d in defs if v]
    if len(seen) <= 1:
        return [f for f, _ in seen]
    shared = [(_common(here, d), f) for f, d in seen]
    best = max(n for n, _ in shared)
    return [f for n, f in shared if n == best]


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
