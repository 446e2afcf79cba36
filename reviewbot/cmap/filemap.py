"""Map one file's changed lines to C structure: functions, lock regions, declarations."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from reviewbot.cmap.fragment import SYNTHETIC, Fragment, build_fragment, heading_function
from reviewbot.cmap.linemap import locate
from reviewbot.cmap.locks import lock_regions
from reviewbot.cmap.model import Decl, FunctionSpan, LockRegion
from reviewbot.cmap.scan import (
    ScannedLine,
    scan_lines,
    scan_post_image,
    starts_in_comment,
)
from reviewbot.cmap.types import DECLARATIONS, declarations, heading_params
from reviewbot.diff.model import FileDiff

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

    from reviewbot.cmap.index import FileIndex, Rows
    from reviewbot.cmap.parser import CParser
    from reviewbot.cmap.whole import ParseCache, WholeFile

_COL0_FUNC = re.compile(r"^(?:[A-Za-z_][\w\s\*]*?[\s\*])?([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True)
class MappedFragment:
    """A parsed fragment: the hunk's (or the whole file's) post-image and its tree."""

    fragment: Fragment
    tree: Tree
    error_lines: frozenset[int]
    hunk_index: int | None
    # 0-based row ranges worth looking at (the hunks, in a whole-file fragment); None:
    # every row (a hunk's fragment).
    focus: tuple[tuple[int, int], ...] | None = None
    parser: CParser | None = field(default=None, repr=False, compare=False)
    # a hunk's fragment: the nodes of each group of kinds the checks declared, found by
    # one search when the fragment was mapped (``nodes``)
    batch: Mapping[tuple[str, ...], list[Node]] = field(default_factory=dict, repr=False,
                                                         compare=False)

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def nodes(self, kinds: tuple[str, ...], rows: Rows | None = None) -> list[Node]:
        """Every node of one of ``kinds``, in document order (outer before inner); with
        ``rows`` (0-based row ranges) only those overlapping them. A hunk's fragment was
        searched for every kind a check declares when it was mapped; a whole file (tree
        mode) is searched on the rows asked for."""
        from reviewbot.cmap.index import row_filter

        found = self.batch.get(kinds)
        if found is None:
            assert self.parser is not None
            return self.parser.find(self.root, kinds, rows)
        overlaps = row_filter(rows, self.root)
        if overlaps is None:
            return found
        return [n for n in found if overlaps(n.start_point[0], n.end_point[0])]

    def line_of(self, row: int) -> int | None:
        rows = self.fragment.rows
        return rows[row] if 0 <= row < len(rows) else None


@dataclass(frozen=True)
class Unmapped:
    line: int
    reason: str


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
    full_file: bool = False  # tree mode: the whole post-image file is mapped
    globals: tuple[Decl, ...] = ()  # file-scope declarations (tree mode)
    whole: WholeFile | None = field(default=None, repr=False, compare=False)
    # tree mode: lock regions and declarations of a function the patch does not touch
    # (``locks`` and ``decls`` hold the touched ones), worked out when asked
    expand: Callable[[FunctionSpan], tuple[tuple[LockRegion, ...], tuple[Decl, ...]]] | None \
        = field(default=None, repr=False, compare=False)
    # the parser that made the trees: its compiled queries search them in C (None: the
    # index walks the trees in Python instead)
    parser: CParser | None = field(default=None, repr=False, compare=False)

    @cached_property
    def index(self) -> FileIndex:
        """Lookups built once for this map (``function_at``, ``decl``... use them)."""
        from reviewbot.cmap.index import FileIndex

        return FileIndex(self)

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

    # Whole-file queries: in tree mode they see every function of the file; from the
    # patch alone, only what the hunks show.
    def function(self, name: str) -> FunctionSpan | None:
        """The (first) function called ``name`` in the view."""
        return next((fn for fn in self.functions if fn.name == name), None)

    def other_functions(self, line: int) -> tuple[FunctionSpan, ...]:
        """Every function of the view except the one holding ``line``."""
        here = self.function_at(line)
        return tuple(fn for fn in self.functions if fn != here)

    def lines_of(self, fn: FunctionSpan) -> list[tuple[int, str]]:
        """The visible (line number, text) pairs of a function."""
        return [(n, self.text[n]) for n in range(fn.start, fn.end + 1) if n in self.text]

    def search(self, pattern: str | re.Pattern[str]) -> list[tuple[int, str, str | None]]:
        """Visible lines matching ``pattern``: (line, text, enclosing function name)."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        out = []
        for n in sorted(self.text):
            if rx.search(self.text[n]):
                fn = self.function_at(n)
                out.append((n, self.text[n], fn.name if fn else None))
        return out

    def function_node(self, fn: FunctionSpan) -> tuple[MappedFragment, Node] | None:
        """The fragment and ``function_definition`` node of ``fn``, when tree-sitter has it."""
        for mf in self.fragments:
            row = self.index.row_of(mf, fn.start)
            if row is None:
                continue
            node = mf.root.descendant_for_point_range((row, 0), (row, 0))
            while node is not None and node.type != "function_definition":
                node = node.parent
            if node is not None:
                return mf, node
        return None


def _function_name(node: Node) -> str | None:
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type in ("pointer_declarator", "function_declarator",
                                             "parenthesized_declarator",
                                             "attributed_declarator"):
        inner = decl.child_by_field_name("declarator")
        if inner is None:
            break
        if inner.type == "identifier":
            return (inner.text or b"").decode("utf-8", "replace")
        decl = inner
    return None


def _header(mf: MappedFragment, node: Node) -> str:
    """A function definition's text up to its body: type, annotations, name, parameters."""
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None else node.end_byte
    raw = mf.fragment.text.encode("utf-8", "surrogateescape")[node.start_byte:end]
    return " ".join(raw.decode("utf-8", "replace").split())


def _tree_functions(mf: MappedFragment, section: str) -> list[FunctionSpan]:
    """Functions tree-sitter found; ``section`` (the hunk heading) stands in for a header
    that is above the visible lines."""
    out: list[FunctionSpan] = []
    rows = mf.fragment.rows
    stack = [mf.root]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            name = _function_name(node)
            real = [r for r in range(node.start_point[0], node.end_point[0] + 1)
                    if r < len(rows) and rows[r] is not None]
            if name and name != SYNTHETIC and real:
                first, last = rows[real[0]], rows[real[-1]]
                assert first is not None and last is not None
                start_seen = rows[node.start_point[0]] is not None
                complete = start_seen and (
                    node.end_point[0] < len(rows) and rows[node.end_point[0]] is not None)
                signature = _header(mf, node) if start_seen else section
                out.append(FunctionSpan(name, first, last, "tree-sitter", complete,
                                        signature))
            continue
        stack.extend(node.children)
    return out


def _scan_functions(texts: list[str], scanned: list[ScannedLine], numbers: list[int],
                    start_depth: int, heading_fn: str | None,
                    section: str = "") -> list[FunctionSpan]:
    """Kernel-style fallback: functions open with ``{`` and close with ``}`` at column 0."""
    out: list[FunctionSpan] = []
    depth = start_depth
    current: str | None = heading_fn if start_depth > 0 else None
    start = numbers[0] if numbers else 0
    complete_start = False
    candidate: tuple[str, int, int] | None = None
    header = section
    for i, (number, s) in enumerate(zip(numbers, scanned, strict=True)):
        if depth == 0:
            m = _COL0_FUNC.match(s.code)
            if m and not s.code.rstrip().endswith(";"):
                candidate = (m.group(1), number, i)
            if s.code.startswith("{") and candidate is not None:
                current, start, first = candidate
                header = " ".join(" ".join(texts[first:i]).split())
                complete_start = True
        depth += s.opens - s.closes
        if depth <= 0 and current is not None:
            out.append(FunctionSpan(current, start, number, "heuristic"
                                    if complete_start else "heading", complete_start, header))
            current, candidate, complete_start = None, None, False
            depth = 0
    if current is not None and numbers:
        out.append(FunctionSpan(current, start, numbers[-1],
                                "heuristic" if complete_start else "heading", False, header))
    return out


def _error_lines(mf_tree: Tree, rows: tuple[int | None, ...]) -> frozenset[int]:
    out: set[int] = set()
    root = mf_tree.root_node
    if not root.has_error:
        return frozenset()
    stack = [root]
    while stack:
        node = stack.pop()
        if not node.has_error:
            continue
        if node.type == "ERROR" or node.is_missing:
            for r in range(node.start_point[0], node.end_point[0] + 1):
                if r < len(rows) and rows[r] is not None:
                    out.add(rows[r])  # type: ignore[arg-type]
            continue
        stack.extend(node.children)
    return frozenset(out)


def map_file(fdiff: FileDiff, parser: CParser, full_text: str | None = None,
             cache: ParseCache | None = None, blob: str | None = None,
             kinds: Sequence[tuple[str, ...]] = ()) -> FileMap:
    """Map a C file's changed lines.

    ``kinds`` are the groups of node kinds the checks look for: each hunk's fragment is
    searched once for all of them (``MappedFragment.nodes``).

    ``full_text`` (tree mode) is the whole post-image: it is parsed once per blob
    (``cache``, keyed by ``blob`` or the text's git blob id) and every function, lock
    region and declaration of the file is known. A post-image that does not hold the
    patch's hunks is ignored (the map is then built from the hunks alone). A patch
    applied at an offset keeps its own line numbers (see ``cmap.linemap``).
    """
    if full_text is not None:
        from reviewbot.cmap.whole import ParseCache, map_whole

        whole = (cache or ParseCache(parser)).get(full_text, blob, fdiff.path)
        lm = locate(fdiff, whole.lines)
        if lm is not None:
            return map_whole(fdiff, whole, lm)
    added = frozenset(ln.new for h in fdiff.hunks for ln in h.lines
                      if ln.kind == "+" and ln.new is not None)
    pieces: list[tuple[list[str], list[int], str, int, list[ScannedLine] | None]] = []
    for i, hunk in enumerate(fdiff.hunks):
        post = [(ln.text, ln.new) for ln in hunk.lines
                if ln.kind != "-" and ln.new is not None]
        # (a hunk "@@ -0,0 +0,1 @@" numbers its line 0: filtering on truth dropped it
        # from the numbers but not from the texts, and zip(strict=True) raised)
        texts = [t for t, _ in post]
        # the hunk's own scan (shared with the checks) when every post-image line is
        # numbered, as the diff parser makes them
        numbered = len(post) == sum(1 for ln in hunk.lines if ln.kind != "-")
        pieces.append((texts, [n for _, n in post], hunk.section, i,
                       list(scan_post_image(hunk)) if numbered else None))
    groups = tuple(dict.fromkeys((DECLARATIONS, *kinds)))
    fragments: list[MappedFragment] = []
    functions: list[FunctionSpan] = []
    decls: list[Decl] = []
    text: dict[int, str] = {}
    code: dict[int, str] = {}  # the same lines, comments and literals blanked
    for texts, numbers, section, hunk_index, hunk_scan in pieces:
        text.update(zip(numbers, texts, strict=True))
        # scanned once here, shared by the fragment builder, the function scan and locks
        scanned = hunk_scan if hunk_scan is not None else scan_lines(
            texts, starts_in_comment(texts))
        code.update(zip(numbers, (s.code for s in scanned), strict=True))
        frag = build_fragment(texts, numbers, section, scanned)
        tree = parser.parse(frag.text)
        batch = dict(zip(groups, parser.find_groups(tree.root_node, groups), strict=True))
        mf = MappedFragment(frag, tree, _error_lines(tree, frag.rows), hunk_index,
                            parser=parser, batch=batch)
        fragments.append(mf)
        found = _tree_functions(mf, section)
        covered = {n for fn in found for n in range(fn.start, fn.end + 1)}
        for fn in _scan_functions(texts, scanned, numbers, frag.start_depth,
                                  frag.heading_function, section):
            # (set operations: a Python loop over each span was 0.3 s on a 50k-line file)
            if covered.isdisjoint(added.intersection(range(fn.start, fn.end + 1))):
                found.append(fn)
        functions.extend(found)
        decls.extend(declarations(mf.nodes(DECLARATIONS), frag.rows))
        hf = heading_function(section)
        if hf and frag.start_depth > 0:
            decls.extend(heading_params(section))
    locks = _locks(functions, code)
    unmapped = _unmapped(fragments, functions, added)
    return FileMap(fdiff.path, tuple(fragments), tuple(_dedupe(functions)), tuple(locks),
                   tuple(decls), text, added, tuple(unmapped), parser=parser)


def _dedupe(functions: list[FunctionSpan]) -> list[FunctionSpan]:
    seen: set[tuple[str, int, int]] = set()
    out: list[FunctionSpan] = []
    for fn in sorted(functions, key=lambda f: (f.start, f.end)):
        key = (fn.name, fn.start, fn.end)
        if key not in seen:
            seen.add(key)
            out.append(fn)
    return out


def _locks(functions: list[FunctionSpan], code: dict[int, str]) -> list[LockRegion]:
    """Lock regions per function, over the visible lines' code (comments blanked)."""
    numbers = sorted(code)
    regions: list[LockRegion] = []
    for fn in _dedupe(functions):
        lo = bisect.bisect_left(numbers, fn.start)
        hi = bisect.bisect_right(numbers, fn.end)
        lines = [(n, code[n]) for n in numbers[lo:hi]]
        regions.extend(lock_regions(lines, fn.name, fn.complete))
    return regions


def _code_lines(mf: MappedFragment) -> set[int]:
    """Post-image lines of a fragment that hold code (not blank, comment or preprocessor)."""
    texts = mf.fragment.text.split("\n")
    out: set[int] = set()
    for row, s in enumerate(scan_lines(texts)):
        line = mf.line_of(row)
        code = s.code.strip()
        if line is not None and code and not code.startswith("#"):
            out.add(line)
    return out


def _unmapped(fragments: list[MappedFragment], functions: list[FunctionSpan],
              added: frozenset[int]) -> list[Unmapped]:
    out: list[Unmapped] = []
    for mf in fragments:
        if not mf.error_lines:
            continue
        # the first added code line with an error outside every function; lines in a
        # function are ruled out first, so the fragment is scanned for code only when
        # some line is left
        loose = sorted(n for n in mf.error_lines if n in added
                       and not any(fn.start <= n <= fn.end for fn in functions))
        if not loose:
            continue
        code = _code_lines(mf)
        n = next((n for n in loose if n in code), None)
        if n is not None:
            out.append(Unmapped(n, "tree-sitter could not parse this line and no "
                                   "enclosing function was found"))
    return out
