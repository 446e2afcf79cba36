"""The C mapping of one file of a patch: its parsed fragments and what they hold.

``map_file`` (``cmap/build.py``) makes a ``FileMap``: from the patch's hunks alone
(``cmap/hunks.py``: one fragment per hunk) or, in tree mode, from the whole post-image
file (``cmap/whole.py``: one fragment, the hunks as its ``focus``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reviewbot.cmap.fragment import Fragment
from reviewbot.cmap.index import Expand, FileIndex
from reviewbot.cmap.model import Decl, FunctionSpan, LockRegion, Unmapped
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.rows import Rows, merge, row_filter

if TYPE_CHECKING:
    from tree_sitter import Node, Tree


class MappedFragment:
    """A parsed fragment: the hunk's (or the whole file's) post-image and its tree.

    Rows are the fragment text's 0-based lines; each has the post-image line number it
    shows (None for the synthetic rows that make a hunk parseable), and those numbers
    increase from row to row.
    """

    def __init__(self, fragment: Fragment, tree: Tree, error_lines: frozenset[int],
                 hunk_index: int | None, parser: CParser, added: frozenset[int],
                 focus: Rows | None = None,
                 batch: Mapping[tuple[str, ...], list[Node]] | None = None) -> None:
        self.fragment = fragment
        self.tree = tree
        self.error_lines = error_lines
        self.hunk_index = hunk_index
        self.parser = parser
        # 0-based row ranges worth looking at (the hunks, in a whole-file fragment);
        # None: every row (a hunk's fragment)
        self.focus = focus
        # a hunk's fragment: the nodes of each group of kinds the checks declared, found
        # by one search when it was mapped (``nodes``)
        self.batch: Mapping[tuple[str, ...], list[Node]] = batch or {}
        numbered = [(n, r) for r, n in enumerate(fragment.rows) if n is not None]
        self._lines = [n for n, _ in numbered]  # increasing
        self._rows = [r for _, r in numbered]
        self.added_rows: Rows = self.rows_of_lines(added)

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def nodes(self, kinds: tuple[str, ...], rows: Rows | None = None) -> list[Node]:
        """Every node of one of ``kinds``, in document order (outer before inner); with
        ``rows`` only those overlapping them. A hunk's fragment was searched for every
        kind a check declares when it was mapped; a whole file (tree mode) is searched on
        the rows asked for."""
        found = self.batch.get(kinds)
        if found is None:
            return self.parser.find(self.root, kinds, rows)
        overlaps = row_filter(rows, self.root)
        if overlaps is None:
            return found
        return [n for n in found if overlaps(n.start_point[0], n.end_point[0])]

    def line_of(self, row: int) -> int | None:
        rows = self.fragment.rows
        return rows[row] if 0 <= row < len(rows) else None

    def rows_of_lines(self, lines: Iterable[int]) -> Rows:
        """The rows showing the given post-image lines."""
        wanted = lines if isinstance(lines, (set, frozenset)) else set(lines)
        if not wanted:
            return ()
        return merge((r, r) for n, r in zip(self._lines, self._rows, strict=True)
                     if n in wanted)

    def rows_of_spans(self, spans: Iterable[tuple[int, int]]) -> Rows:
        """The rows showing a line of one of the (first, last) post-image line spans."""
        out = []
        for first, last in spans:
            lo = bisect.bisect_left(self._lines, first)
            hi = bisect.bisect_right(self._lines, last) - 1
            if lo <= hi:
                out.append((self._rows[lo], self._rows[hi]))
        return merge(out)


@dataclass(frozen=True)
class FileMap:
    """What the C mapping knows about one file of a patch."""

    path: str
    fragments: tuple[MappedFragment, ...]
    functions: tuple[FunctionSpan, ...]
    locks: tuple[LockRegion, ...]
    decls: tuple[Decl, ...]
    text: dict[int, str] = field(repr=False)  # visible post-image lines by number
    added: frozenset[int]
    unmapped: tuple[Unmapped, ...]
    parser: CParser = field(repr=False, compare=False)
    index: FileIndex = field(repr=False, compare=False)  # the lookups behind the methods
    full_file: bool = False  # tree mode: the whole post-image file is mapped
    globals: tuple[Decl, ...] = ()  # file-scope declarations (tree mode)
    # tree mode: lock regions and declarations of a function the patch does not touch
    # (``locks`` and ``decls`` hold the touched ones), worked out when asked
    expand: Expand | None = field(default=None, repr=False, compare=False)

    def function_at(self, line: int) -> FunctionSpan | None:
        """The innermost known function whose span holds ``line``."""
        return self.index.function_at(line)

    def adds(self, fn: FunctionSpan) -> bool:
        """True when the patch adds ``fn``: the line naming it in its header is added."""
        return self.index.adds(fn)

    def locks_at(self, line: int) -> tuple[LockRegion, ...]:
        """Lock regions that hold at ``line`` (the acquire line itself excluded)."""
        own = self.index.locks_at(line)
        extra = self.index.extra(self.function_at(line))[0] if self.expand else ()
        if not extra:
            return own
        return own + tuple(r for r in extra if r.holds(line))

    def decl(self, name: str, line: int) -> Decl | None:
        """The declaration of ``name`` in scope at ``line``, nearest first."""
        return self.index.decl(name, line)


def file_map(path: str, fragments: tuple[MappedFragment, ...],
             functions: tuple[FunctionSpan, ...], locks: tuple[LockRegion, ...],
             decls: tuple[Decl, ...], text: dict[int, str], added: frozenset[int],
             unmapped: tuple[Unmapped, ...], parser: CParser, *, full_file: bool = False,
             globals_: tuple[Decl, ...] = (), expand: Expand | None = None) -> FileMap:
    """A FileMap and its index."""
    index = FileIndex(functions, locks, decls, globals_, text, added, expand)
    return FileMap(path, fragments, functions, locks, decls, text, added, unmapped, parser,
                   index, full_file, globals_, expand)
