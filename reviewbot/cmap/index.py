"""Lookups over one file's map, built when first asked (``FileMap.index``).

Checks ask a file map the same questions thousands of times (the function holding a
line, the lock regions held there, the declaration of a name): in tree mode the map
holds every function and declaration of a whole file, and a patch can add thousands of
functions, so each answer is a table lookup or a binary search, never a scan.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Mapping

from reviewbot.cmap.model import Decl, FunctionSpan, LockRegion

# what a function the patch does not touch holds (tree mode): its regions, declarations
Extra = tuple[tuple[LockRegion, ...], tuple[Decl, ...]]
Expand = Callable[[FunctionSpan], Extra]


def by_name(decls: Iterable[Decl]) -> dict[str, list[Decl]]:
    out: dict[str, list[Decl]] = {}
    for d in decls:
        out.setdefault(d.name, []).append(d)
    return out


class FileIndex:
    """Function, lock region and declaration lookups of one file's map."""

    def __init__(self, functions: tuple[FunctionSpan, ...], locks: tuple[LockRegion, ...],
                 decls: tuple[Decl, ...], globals_: tuple[Decl, ...],
                 text: Mapping[int, str], added: frozenset[int],
                 expand: Expand | None) -> None:
        self._functions, self._locks, self._text, self._added = functions, locks, text, added
        self._expand = expand
        self._first = 0
        self._innermost: list[FunctionSpan | None] | None = None
        self._extra: dict[FunctionSpan, Extra] = {}
        self._extra_decls: dict[FunctionSpan, dict[str, list[Decl]]] = {}
        self._decls = by_name(decls)
        self._globals = by_name(globals_)
        self._adds: dict[FunctionSpan, bool] = {}
        self._held: tuple[list[int], list[tuple[LockRegion, ...]]] | None = None
        self._starts: tuple[list[int], list[LockRegion]] | None = None
        self._decl_lines: dict[str, tuple[list[int], list[Decl]]] = {}

    # functions
    def _build_innermost(self) -> list[FunctionSpan | None]:
        fns = self._functions
        if not fns:
            return []
        first = min(fn.start for fn in fns)
        last = max(fn.end for fn in fns)
        best: list[FunctionSpan | None] = [None] * max(0, last - first + 1)
        # the first of the narrowest spans holding a line wins: paint the widest first,
        # later ones of a width before earlier ones
        order = sorted(range(len(fns)), key=lambda i: (fns[i].end - fns[i].start, i),
                       reverse=True)
        for i in order:
            fn = fns[i]
            if fn.end >= fn.start:
                best[fn.start - first:fn.end - first + 1] = [fn] * (fn.end - fn.start + 1)
        self._first = first
        return best

    def function_at(self, line: int) -> FunctionSpan | None:
        """The innermost function whose span holds ``line`` (of two alike, the first)."""
        if self._innermost is None:
            self._innermost = self._build_innermost()
        i = line - self._first
        return self._innermost[i] if 0 <= i < len(self._innermost) else None

    def adds(self, fn: FunctionSpan) -> bool:
        """True when the patch adds ``fn``: the line naming it in its header is added."""
        found = self._adds.get(fn)
        if found is None:
            found = self._adds[fn] = self._names_added(fn)
        return found

    def _names_added(self, fn: FunctionSpan) -> bool:
        text, name = self._text, None
        for n in range(fn.start, min(fn.end, fn.start + 3) + 1):
            if n in text and fn.name in text[n]:
                name = name or re.compile(rf"\b{re.escape(fn.name)}\s*\(")
                if name.search(text[n]):
                    return n in self._added
        return False

    # lock regions
    def locks_at(self, line: int) -> tuple[LockRegion, ...]:
        """The file's own lock regions that hold at ``line`` (``LockRegion.holds``), in
        their order: the regions held over each stretch of lines between two region
        boundaries are listed once, and the stretch of a line found by bisection."""
        if self._held is None:
            self._held = self._stretches()
        starts, held = self._held
        k = bisect.bisect_right(starts, line) - 1
        return held[k] if k >= 0 else ()

    def _stretches(self) -> tuple[list[int], list[tuple[LockRegion, ...]]]:
        """(first line of each stretch, the regions held over it)."""
        spans = [(r.held_lines(), i) for i, r in enumerate(self._locks)]
        spans = [(s, i) for s, i in spans if len(s)]
        bounds = sorted({b for s, _ in spans for b in (s.start, s.stop)})
        opening: dict[int, list[int]] = {}
        closing: dict[int, list[int]] = {}
        for s, i in spans:
            opening.setdefault(s.start, []).append(i)
            closing.setdefault(s.stop, []).append(i)
        active: set[int] = set()
        held: list[tuple[LockRegion, ...]] = []
        for b in bounds:
            active.difference_update(closing.get(b, ()))
            active.update(opening.get(b, ()))
            held.append(tuple(self._locks[i] for i in sorted(active)))
        return bounds, held

    def locks_starting(self, first: int, last: int) -> list[LockRegion]:
        """The file's own lock regions acquired on lines ``first``..``last``, in order."""
        if self._starts is None:
            order = sorted(range(len(self._locks)), key=lambda i: (self._locks[i].start, i))
            self._starts = ([self._locks[i].start for i in order],
                            [self._locks[i] for i in order])
        starts, regions = self._starts
        lo, hi = bisect.bisect_left(starts, first), bisect.bisect_right(starts, last)
        return regions[lo:hi]

    # tree mode: what a function the patch does not touch holds
    def extra(self, fn: FunctionSpan | None) -> Extra:
        if self._expand is None or fn is None:
            return (), ()
        found = self._extra.get(fn)
        if found is None:
            found = self._extra[fn] = self._expand(fn)
        return found

    def decl(self, name: str, line: int) -> Decl | None:
        """The declaration of ``name`` in scope at ``line``, nearest first."""
        fn = self.function_at(line)
        best = self._own_decl(name, line, fn)
        for d in self._extra_decl_candidates(name, fn):
            if d.line > line:
                continue
            if fn is not None and d.line and not fn.start <= d.line <= fn.end:
                continue
            if best is None or d.line >= best.line:
                best = d
        if best is None:  # tree mode: a file-scope declaration made before the line
            for d in self._globals.get(name, ()):
                if d.line <= line and (best is None or best.line < d.line):
                    best = d
        return best

    def _own_decl(self, name: str, line: int, fn: FunctionSpan | None) -> Decl | None:
        """Of the map's declarations of ``name`` made by ``line`` (in ``fn``, or at line
        0: parameters of an unknown line), the last one of the greatest line."""
        found = self._decl_lines.get(name)
        if found is None:
            mine = self._decls.get(name, [])
            order = sorted(range(len(mine)), key=lambda i: (mine[i].line, i))
            found = self._decl_lines[name] = ([mine[i].line for i in order],
                                              [mine[i] for i in order])
        lines, decls = found
        if fn is None:
            k = bisect.bisect_right(lines, line) - 1
            return decls[k] if k >= 0 else None
        k = bisect.bisect_right(lines, min(line, fn.end)) - 1
        if k >= 0 and lines[k] >= fn.start:
            return decls[k]
        k = bisect.bisect_right(lines, 0) - 1
        return decls[k] if k >= 0 and lines[k] == 0 and line >= 0 else None

    def _extra_decl_candidates(self, name: str, fn: FunctionSpan | None) -> list[Decl]:
        """Tree mode: the declarations of ``name`` in an untouched function ``fn``."""
        if self._expand is None or fn is None:
            return []
        extra = self._extra_decls.get(fn)
        if extra is None:
            extra = self._extra_decls[fn] = by_name(self.extra(fn)[1])
        return extra.get(name, [])
