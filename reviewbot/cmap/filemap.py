"""Map one file's changed lines to C structure: functions, lock regions, declarations."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from reviewbot.cmap.fragment import SYNTHETIC, Fragment, build_fragment, heading_function
from reviewbot.cmap.locks import lock_regions
from reviewbot.cmap.model import Decl, FunctionSpan, LockRegion
from reviewbot.cmap.scan import ScannedLine, scan_lines, starts_in_comment
from reviewbot.cmap.types import declarations, heading_params
from reviewbot.diff.model import FileDiff

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

    from reviewbot.cmap.parser import CParser

_COL0_FUNC = re.compile(r"^(?:[A-Za-z_][\w\s\*]*?[\s\*])?([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True)
class MappedFragment:
    """A parsed fragment: the hunk's (or the whole file's) post-image and its tree."""

    fragment: Fragment
    tree: Tree
    error_lines: frozenset[int]
    hunk_index: int | None

    @property
    def root(self) -> Node:
        return self.tree.root_node

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
    full_file: bool = False

    @cached_property
    def _by_start(self) -> tuple[list[FunctionSpan], list[int], list[int]]:
        """Functions sorted by start, their starts, and the running maximum of their
        ends (so a search can stop once no earlier function reaches the line)."""
        fns = sorted(self.functions, key=lambda f: (f.start, f.end))
        reach: list[int] = []
        for fn in fns:
            reach.append(max(fn.end, reach[-1]) if reach else fn.end)
        return fns, [f.start for f in fns], reach

    def function_at(self, line: int) -> FunctionSpan | None:
        """The innermost known function whose span holds ``line`` (the first of equal
        spans, in order of start)."""
        fns, starts, reach = self._by_start
        best: FunctionSpan | None = None
        i = bisect.bisect_right(starts, line) - 1
        while i >= 0 and reach[i] >= line:
            fn = fns[i]
            if fn.end >= line and (best is None or fn.end - fn.start
                                   <= best.end - best.start):
                best = fn
            i -= 1
        return best

    def locks_at(self, line: int) -> tuple[LockRegion, ...]:
        """Lock regions that hold at ``line`` (the acquire line itself excluded)."""
        return tuple(r for r in self.locks if r.start < line < r.end
                     or (r.start == line and not r.start_known))

    def decl(self, name: str, line: int) -> Decl | None:
        """The declaration of ``name`` in scope at ``line``, nearest first."""
        fn = self.function_at(line)
        best: Decl | None = None
        for d in self.decls:
            if d.name != name or d.line > line:
                continue
            if fn is not None and d.line and not fn.start <= d.line <= fn.end:
                continue
            if best is None or d.line >= best.line:
                best = d
        return best


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


def _tree_functions(mf: MappedFragment) -> list[FunctionSpan]:
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
                complete = rows[node.start_point[0]] is not None and (
                    node.end_point[0] < len(rows) and rows[node.end_point[0]] is not None)
                out.append(FunctionSpan(name, first, last, "tree-sitter", complete))
            continue
        stack.extend(node.children)
    return out


def _scan_functions(scanned: list[ScannedLine], numbers: list[int], start_depth: int,
                    heading_fn: str | None) -> list[FunctionSpan]:
    """Kernel-style fallback: functions open with ``{`` and close with ``}`` at column 0."""
    out: list[FunctionSpan] = []
    depth = start_depth
    current: str | None = heading_fn if start_depth > 0 else None
    start = numbers[0] if numbers else 0
    complete_start = False
    candidate: tuple[str, int] | None = None
    for number, s in zip(numbers, scanned, strict=True):
        if depth == 0:
            m = _COL0_FUNC.match(s.code)
            if m and not s.code.rstrip().endswith(";"):
                candidate = (m.group(1), number)
            if s.code.startswith("{") and candidate is not None:
                current, start = candidate
                complete_start = True
        depth += s.opens - s.closes
        if depth <= 0 and current is not None:
            out.append(FunctionSpan(current, start, number, "heuristic"
                                    if complete_start else "heading", complete_start))
            current, candidate, complete_start = None, None, False
            depth = 0
    if current is not None and numbers:
        out.append(FunctionSpan(current, start, numbers[-1],
                                "heuristic" if complete_start else "heading", False))
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


def map_file(fdiff: FileDiff, parser: CParser, full_text: str | None = None) -> FileMap:
    """Map a C file's changed lines. ``full_text`` (tree mode) is the whole post-image."""
    added = frozenset(ln.new for h in fdiff.hunks for ln in h.lines
                      if ln.kind == "+" and ln.new is not None)
    pieces: list[tuple[list[str], list[int], str, int | None]] = []
    if full_text is not None:
        texts = full_text.split("\n")
        if texts and texts[-1] == "":
            texts.pop()
        pieces.append((texts, list(range(1, len(texts) + 1)), "", None))
    else:
        for i, hunk in enumerate(fdiff.hunks):
            post = [(ln.text, ln.new) for ln in hunk.lines
                    if ln.kind != "-" and ln.new is not None]
            # (a hunk "@@ -0,0 +0,1 @@" numbers its line 0: filtering on truth dropped it
            # from the numbers but not from the texts, and zip(strict=True) raised)
            pieces.append(([t for t, _ in post], [n for _, n in post], hunk.section, i))
    fragments: list[MappedFragment] = []
    functions: list[FunctionSpan] = []
    decls: list[Decl] = []
    text: dict[int, str] = {}
    code: dict[int, str] = {}  # the same lines, comments and literals blanked
    for texts, numbers, section, hunk_index in pieces:
        text.update(zip(numbers, texts, strict=True))
        # scanned once here, shared by the fragment builder, the function scan and locks
        scanned = scan_lines(texts, starts_in_comment(texts))
        code.update(zip(numbers, (s.code for s in scanned), strict=True))
        frag = build_fragment(texts, numbers, section, scanned) if full_text is None \
            else Fragment("\n".join(texts) + "\n", tuple(numbers), 0, None)
        tree = parser.parse(frag.text)
        mf = MappedFragment(frag, tree, _error_lines(tree, frag.rows), hunk_index)
        fragments.append(mf)
        found = _tree_functions(mf)
        covered = {n for fn in found for n in range(fn.start, fn.end + 1)}
        for fn in _scan_functions(scanned, numbers, frag.start_depth, frag.heading_function):
            # (set operations: a Python loop over each span was 0.3 s on a 50k-line file)
            if covered.isdisjoint(added.intersection(range(fn.start, fn.end + 1))):
                found.append(fn)
        functions.extend(found)
        decls.extend(declarations(tree.root_node, frag.rows, parser))
        hf = heading_function(section)
        if hf and frag.start_depth > 0:
            decls.extend(heading_params(section))
    locks = _locks(functions, code)
    unmapped = _unmapped(fragments, functions, added)
    return FileMap(fdiff.path, tuple(fragments), tuple(_dedupe(functions)), tuple(locks),
                   tuple(decls), text, added, tuple(unmapped), full_text is not None)


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


def _unmapped(fragments: list[MappedFragment], functions: list[FunctionSpan],
              added: frozenset[int]) -> list[Unmapped]:
    out: list[Unmapped] = []
    for mf in fragments:
        bad = sorted(n for n in mf.error_lines if n in added)
        for n in bad:
            if not any(fn.start <= n <= fn.end for fn in functions):
                out.append(Unmapped(n, "tree-sitter could not parse this line and no "
                                       "enclosing function was found"))
                break
    return out
