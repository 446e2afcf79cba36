"""Indexes over one FileMap, built once and kept with it (``FileMap.index``).

Checks ask a file map the same questions thousands of times (the function holding a
line, the declaration of a name, the rows of some lines): in tree mode the map holds
every function and declaration of a whole file, so a linear scan per question costs
more than the rest of the review. The answers are exactly those of the scans they
replace (same objects, same tie-breaking); only the work differs.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from itertools import compress, islice, repeat
from operator import is_not, lt
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.cmap.access import Access
    from reviewbot.cmap.filemap import FileMap, MappedFragment
    from reviewbot.cmap.model import Decl, FunctionSpan, LockRegion

Rows = tuple[tuple[int, int], ...]  # merged, sorted 0-based (first, last) row ranges
Extra = tuple[tuple["LockRegion", ...], tuple["Decl", ...]]


def _by_name(decls: Iterable[Decl]) -> dict[str, list[Decl]]:
    out: dict[str, list[Decl]] = {}
    for d in decls:
        out.setdefault(d.name, []).append(d)
    return out


def merge(ranges: Iterable[tuple[int, int]]) -> Rows:
    """Sorted, merged (first, last) ranges; adjacent ones are joined."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def runs(rows: list[int]) -> Rows:
    """``merge((r, r) for r in rows)`` for increasing ``rows``: the runs of consecutive
    rows, in one pass (no sort)."""
    out: list[tuple[int, int]] = []
    if not rows:
        return ()
    lo = hi = rows[0]
    for r in rows:
        if r > hi + 1:
            out.append((lo, hi))
            lo = r
        hi = r
    out.append((lo, hi))
    return tuple(out)


def subtract(rows: Rows, other: Rows) -> Rows:
    """The rows of ``rows`` that are not in ``other`` (both sorted and disjoint)."""
    out: list[tuple[int, int]] = []
    k = 0
    for lo, hi in rows:
        while k < len(other) and other[k][1] < lo:
            k += 1
        m = k
        while lo <= hi:
            if m >= len(other) or other[m][0] > hi:
                out.append((lo, hi))
                break
            o_lo, o_hi = other[m]
            if o_lo > lo:
                out.append((lo, o_lo - 1))
            lo = max(lo, o_hi + 1)
            m += 1
    return tuple(out)


def intersect(a: Rows, b: Rows) -> Rows:
    """The rows in both ``a`` and ``b`` (each sorted and merged), merged."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return merge(out)


def in_rows(rows: Rows) -> Callable[[int, int], bool]:
    """Whether a (first, last) row span overlaps ``rows`` (sorted, disjoint)."""
    starts = [lo for lo, _ in rows]

    def overlaps(first: int, last: int) -> bool:
        i = bisect.bisect_right(starts, last) - 1
        return i >= 0 and rows[i][1] >= first

    return overlaps


def _every_node(node: Node) -> bool:
    return True


def covers(rows: Rows, root: Node) -> bool:
    """``rows`` holds every row with text under ``root`` (a tree ends at column 0 of the
    row after its last line: that row holds nothing a walk could be looking for)."""
    end_row, end_column = root.end_point
    last = end_row if end_column else end_row - 1
    return len(rows) == 1 and rows[0][0] <= root.start_point[0] and rows[0][1] >= last


def row_filter(rows: Rows | None, root: Node) -> Callable[[int, int], bool] | None:
    """``in_rows(rows)`` for a walk under ``root``; None (no filter) when ``rows`` is None
    or holds every row of ``root`` (``covers``)."""
    if rows is None or covers(rows, root):
        return None
    return in_rows(rows)


class _FragmentRows:
    """Row <-> line lookups for one fragment (rows map to increasing line numbers)."""

    def __init__(self, mf: MappedFragment) -> None:
        rows = mf.fragment.rows
        numbered = list(map(is_not, rows, repeat(None)))
        self.lines = cast("list[int]", list(compress(rows, numbered)))
        self.rows = list(compress(range(len(rows)), numbered))
        self.monotonic = all(map(lt, self.lines, islice(self.lines, 1, None)))

    def rows_of_span(self, first: int, last: int) -> tuple[int, int] | None:
        """The row range holding every row whose line is in first..last (None: none)."""
        if self.monotonic:
            lo = bisect.bisect_left(self.lines, first)
            hi = bisect.bisect_right(self.lines, last) - 1
            return (self.rows[lo], self.rows[hi]) if lo <= hi else None
        inside = [r for n, r in zip(self.lines, self.rows, strict=True) if first <= n <= last]
        return (min(inside), max(inside)) if inside else None

    def rows_of_lines(self, lines: Iterable[int]) -> Rows:
        wanted = lines if isinstance(lines, (set, frozenset)) else set(lines)
        if not wanted:
            return ()
        return runs([r for n, r in zip(self.lines, self.rows, strict=True) if n in wanted])

    def row_of(self, line: int) -> int | None:
        """The first row numbered ``line``."""
        if self.monotonic:
            i = bisect.bisect_left(self.lines, line)
            return self.rows[i] if i < len(self.lines) and self.lines[i] == line else None
        return next((r for n, r in zip(self.lines, self.rows, strict=True) if n == line), None)


class FileIndex:
    """Function, declaration and row lookups of one FileMap (see the module docstring)."""

    def __init__(self, fmap: FileMap) -> None:
        self._fmap = fmap
        self._first = 0
        self._innermost: list[FunctionSpan | None] | None = None
        self._extra: dict[FunctionSpan, Extra] = {}
        self._extra_decls: dict[FunctionSpan, dict[str, list[Decl]]] = {}
        self._decls = _by_name(fmap.decls)
        self._globals = _by_name(fmap.globals)
        self._adds: dict[FunctionSpan, bool] = {}
        self._held: dict[int, tuple[LockRegion, ...]] | None = None
        self._starts: tuple[list[int], list[LockRegion]] | None = None
        self._decl_lines: dict[str, tuple[list[int], list[Decl]]] = {}
        self._frag_rows: dict[int, _FragmentRows] = {}
        self._added_rows: dict[int, Rows] = {}
        self._spelled: dict[tuple[int, str], list[Node]] = {}
        self._accesses: dict[tuple[int, Rows | None, frozenset[str], frozenset[str]],
                             list[Access]] = {}
        self._locations: dict[tuple[int, Rows | None], list[Node]] = {}
        self._access_of: dict[tuple[int, int, frozenset[str], frozenset[str]],
                              Access | None] = {}

    # functions
    def _build_innermost(self) -> list[FunctionSpan | None]:
        fns = self._fmap.functions
        if not fns:
            return []
        first = min(fn.start for fn in fns)
        last = max(fn.end for fn in fns)
        best: list[FunctionSpan | None] = [None] * max(0, last - first + 1)
        # the first of the narrowest spans holding a line wins (a scan in order keeps
        # the first strictly narrower one): paint the widest first, later ones of a
        # width before earlier ones
        order = sorted(range(len(fns)), key=lambda i: (fns[i].end - fns[i].start, i),
                       reverse=True)
        for i in order:
            fn = fns[i]
            if fn.end >= fn.start:
                best[fn.start - first:fn.end - first + 1] = [fn] * (fn.end - fn.start + 1)
        self._first = first
        return best

    def function_at(self, line: int) -> FunctionSpan | None:
        """The innermost function whose span holds ``line``."""
        if self._innermost is None:
            self._innermost = self._build_innermost()
        i = line - self._first
        return self._innermost[i] if 0 <= i < len(self._innermost) else None

    def adds(self, fn: FunctionSpan) -> bool:
        """True when the patch adds ``fn``: the line naming it in its header is added."""
        found = self._adds.get(fn)
        if found is None:
            found = self._adds[fn] = self._scan_adds(fn)
        return found

    def _scan_adds(self, fn: FunctionSpan) -> bool:
        text, name = self._fmap.text, None
        for n in range(fn.start, min(fn.end, fn.start + 3) + 1):
            if n in text and fn.name in text[n]:
                name = name or re.compile(rf"\b{re.escape(fn.name)}\s*\(")
                if name.search(text[n]):
                    return n in self._fmap.added
        return False

    # lock regions
    def locks_at(self, line: int) -> tuple[LockRegion, ...]:
        """The file's own lock regions (``FileMap.locks``) that hold at ``line``: inside
        them, or on the acquire line of one whose acquire is not visible."""
        if self._held is None:
            self._held = self._paint_locks()
        if self._held:
            found = self._held.get(line)
            return found if found is not None else ()
        return tuple(r for r in self._fmap.locks if r.holds(line))

    def locks_starting(self, first: int, last: int) -> list[LockRegion]:
        """The file's own lock regions acquired on lines ``first``..``last``, in order."""
        if self._starts is None:
            order = sorted(range(len(self._fmap.locks)),
                           key=lambda i: (self._fmap.locks[i].start, i))
            self._starts = ([self._fmap.locks[i].start for i in order],
                            [self._fmap.locks[i] for i in order])
        starts, regions = self._starts
        lo, hi = bisect.bisect_left(starts, first), bisect.bisect_right(starts, last)
        return regions[lo:hi]

    def _paint_locks(self) -> dict[int, tuple[LockRegion, ...]]:
        """Line -> the regions holding there, in ``FileMap.locks`` order; empty (scan
        instead) when that would take more cells than the lines warrant."""
        regions = self._fmap.locks
        budget = 8 * (len(self._fmap.text) + len(regions)) + 4096
        cells = sum(max(0, r.end - r.start + 1) for r in regions)
        if not regions or cells > budget:
            return {}
        held: dict[int, list[LockRegion]] = {}
        for r in regions:
            for n in r.held_lines():
                held.setdefault(n, []).append(r)
        return {n: tuple(rs) for n, rs in held.items()}

    # tree mode: what a function the patch does not touch holds
    def extra(self, fn: FunctionSpan | None) -> Extra:
        if self._fmap.expand is None or fn is None:
            return (), ()
        found = self._extra.get(fn)
        if found is None:
            found = self._extra[fn] = self._fmap.expand(fn)
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
        if fn.start <= 0:  # not a real span: the plain rule, line by line
            best: Decl | None = None
            for d in decls:
                if d.line <= line and (not d.line or fn.start <= d.line <= fn.end):
                    best = d if best is None or d.line >= best.line else best
            return best
        k = bisect.bisect_right(lines, min(line, fn.end)) - 1
        if k >= 0 and lines[k] >= fn.start:
            return decls[k]
        k = bisect.bisect_right(lines, 0) - 1
        return decls[k] if k >= 0 and lines[k] == 0 and line >= 0 else None

    def _extra_decl_candidates(self, name: str, fn: FunctionSpan | None) -> list[Decl]:
        """Tree mode: the declarations of ``name`` in an untouched function ``fn``."""
        if self._fmap.expand is None or fn is None:
            return []
        extra = self._extra_decls.get(fn)
        if extra is None:
            extra = self._extra_decls[fn] = _by_name(self.extra(fn)[1])
        return extra.get(name, [])

    # rows of fragments
    def _rows(self, mf: MappedFragment) -> _FragmentRows:
        found = self._frag_rows.get(id(mf))
        if found is None:
            found = self._frag_rows[id(mf)] = _FragmentRows(mf)
        return found

    def added_rows(self, mf: MappedFragment) -> Rows:
        """The rows of ``mf`` holding added lines."""
        found = self._added_rows.get(id(mf))
        if found is None:
            found = self._added_rows[id(mf)] = self._rows(mf).rows_of_lines(self._fmap.added)
        return found

    def rows_of_lines(self, mf: MappedFragment, lines: Iterable[int]) -> Rows:
        """The rows of ``mf`` holding the given lines."""
        return self._rows(mf).rows_of_lines(lines)

    def rows_of_spans(self, mf: MappedFragment, spans: Iterable[tuple[int, int]]) -> Rows:
        """The rows of ``mf`` whose lines are in the (first, last) line spans."""
        rows = self._rows(mf)
        return merge(r for first, last in spans
                     if (r := rows.rows_of_span(first, last)) is not None)

    def row_of(self, mf: MappedFragment, line: int) -> int | None:
        return self._rows(mf).row_of(line)

    def lines_increase(self, mf: MappedFragment) -> bool:
        """Each numbered row of ``mf`` has a greater line than the rows before it."""
        return self._rows(mf).monotonic

    def accesses(self, mf: MappedFragment, marked_reads: frozenset[str],
                 marked_writes: frozenset[str], rows: Rows | None = None) -> list[Access]:
        """``access.accesses`` for ``mf``, once per set of rows and marks."""
        if rows is not None and covers(rows, mf.root):
            rows = None
        key = (id(mf), rows, marked_reads, marked_writes)
        found = self._accesses.get(key)
        if found is None:
            found = self._accesses[key] = self.accesses_where(
                mf, marked_reads, marked_writes, rows, _every_node)
        return found

    def accesses_where(self, mf: MappedFragment, marked_reads: frozenset[str],
                       marked_writes: frozenset[str], rows: Rows | None,
                       keep: Callable[[Node], bool]) -> list[Access]:
        """The accesses of ``accesses`` made by the location expressions ``keep``
        accepts, in the same order (nothing is worked out for the others): the nodes
        of ``location_nodes``, each node's access worked out once whatever rows it is
        asked for."""
        from reviewbot.cmap.access import location_nodes

        if rows is not None and covers(rows, mf.root):
            rows = None
        key = (id(mf), rows)
        nodes = self._locations.get(key)
        if nodes is None:
            nodes = self._locations[key] = location_nodes(mf, rows)
        return [a for node in nodes if keep(node)
                and (a := self.access_of(mf, node, marked_reads, marked_writes)) is not None]

    def access_of(self, mf: MappedFragment, node: Node, marked_reads: frozenset[str],
                  marked_writes: frozenset[str]) -> Access | None:
        """``access.make_access`` for a location node of ``mf``, worked out once."""
        akey = (id(mf), node.id, marked_reads, marked_writes)
        if akey in self._access_of:
            return self._access_of[akey]
        from reviewbot.cmap.access import make_access

        found = self._access_of[akey] = make_access(self._fmap, mf, node, marked_reads,
                                                    marked_writes)
        return found

    def locations_spelling(self, mf: MappedFragment, word: str) -> list[Node]:
        """``access.locations_spelling`` for ``mf``, once per word."""
        from reviewbot.cmap.access import locations_spelling

        key = (id(mf), word)
        found = self._spelled.get(key)
        if found is None:
            root = mf.root
            found = self._spelled[key] = locations_spelling(root, root.text or b"",
                                                            root.start_byte, word)
        return found
