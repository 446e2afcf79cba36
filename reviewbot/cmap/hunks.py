"""Map a C file from the patch's hunks alone: each hunk's post-image becomes a parseable
fragment (``cmap/fragment.py``), parsed with tree-sitter; functions, lock regions and
declarations are read from the fragments."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reviewbot.cmap.blanking import blank_rows, member_macro_rows
from reviewbot.cmap.budget import MapBudget
from reviewbot.cmap.filemap import FileMap, MappedFragment, file_map
from reviewbot.cmap.fragment import (
    Fragment,
    Wrapper,
    aggregate_heading,
    build_fragment,
    heading_function,
)
from reviewbot.cmap.functions import (
    NO_FUNCTION,
    error_lines,
    scan_functions,
    tree_functions,
)
from reviewbot.cmap.locks import lock_regions
from reviewbot.cmap.model import Decl, FunctionSpan, LockRegion, Unmapped
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.scan import ScannedLine, scan_lines, scan_post_image, starts_in_comment
from reviewbot.cmap.types import DECLARATIONS, declarations, heading_params
from reviewbot.diff.model import FileDiff

if TYPE_CHECKING:
    from tree_sitter import Tree


def map_hunks(fdiff: FileDiff, parser: CParser, kinds: Sequence[tuple[str, ...]] = (),
              scans: Sequence[tuple[ScannedLine, ...]] | None = None,
              budget: MapBudget | None = None) -> FileMap:
    """The map of a C file's hunks. ``kinds`` are the groups of node kinds the checks
    look for: each fragment is searched once for all of them (``MappedFragment.nodes``).
    ``scans`` are the hunks' ``scan_post_image`` when the caller has them already.
    ``budget`` is charged each fragment's nodes before it is searched (OverBudget)."""
    added = frozenset(ln.new for h in fdiff.hunks for ln in h.lines
                      if ln.kind == "+" and ln.new is not None)
    groups = tuple(dict.fromkeys((DECLARATIONS, *kinds)))
    fragments: list[MappedFragment] = []
    functions: list[FunctionSpan] = []
    decls: list[Decl] = []
    text: dict[int, str] = {}
    code: dict[int, str] = {}  # the same lines, comments and literals blanked
    for i, hunk in enumerate(fdiff.hunks):
        post = [(ln.text, ln.new) for ln in hunk.lines
                if ln.kind != "-" and ln.new is not None]
        # (a hunk "@@ -0,0 +0,1 @@" numbers its line 0: filtering on truth dropped it
        # from the numbers but not from the texts, and zip(strict=True) raised)
        texts = [t for t, _ in post]
        numbers = [n for _, n in post]
        text.update(zip(numbers, texts, strict=True))
        # scanned once, shared by the fragment builder, the function scan, the locks and
        # the checks: the hunk's own scan when every post-image line is numbered
        if len(post) == sum(1 for ln in hunk.lines if ln.kind != "-"):
            scanned = list(scans[i] if scans is not None else scan_post_image(hunk))
        else:
            scanned = scan_lines(texts, starts_in_comment(texts))
        code.update(zip(numbers, (s.code for s in scanned), strict=True))
        frag, tree, errors = _parse(parser, texts, numbers, hunk.section, scanned)
        if budget is not None:
            budget.charge_nodes(tree.root_node.descendant_count)
        batch = dict(zip(groups, parser.find_groups(tree.root_node, groups), strict=True))
        mf = MappedFragment(frag, tree, errors, i, parser, added, batch=batch)
        fragments.append(mf)
        found = tree_functions(mf, hunk.section)
        covered = {n for fn in found for n in range(fn.start, fn.end + 1)}
        k = frag.macro_lines  # (a #define's body: no function there)
        for fn in scan_functions(texts[k:], scanned[k:], numbers[k:], frag.start_depth,
                                 frag.heading_function, hunk.section):
            # (set operations: a Python loop over each span was 0.3 s on a 50k-line file)
            if covered.isdisjoint(added.intersection(range(fn.start, fn.end + 1))):
                found.append(fn)
        functions.extend(found)
        decls.extend(declarations(mf.nodes(DECLARATIONS), frag.rows))
        if heading_function(hunk.section) and frag.start_depth > 0:
            decls.extend(heading_params(hunk.section))
    return file_map(fdiff.path, tuple(fragments), tuple(_dedupe(functions)),
                    tuple(_locks(functions, code)), tuple(decls), text, added,
                    tuple(_unmapped(fdiff.path, fragments, functions, added)), parser)


def _parse(parser: CParser, texts: list[str], numbers: list[int], section: str,
           scanned: list[ScannedLine]) -> tuple[Fragment, Tree, frozenset[int]]:
    """The hunk's fragment, its tree and error lines. A hunk that starts inside braces
    the heading does not explain (no heading, or one that opens neither a function nor
    an aggregate) is wrapped as a function body first; when that does not parse, as an
    initialiser and as a struct body too, and the wrapping with the fewest error lines
    is kept."""
    frag = build_fragment(texts, numbers, section, scanned)
    tree = parser.parse(frag.text)
    errors = error_lines(tree, frag.rows)
    if (not errors or frag.wrapper != "function" or frag.heading_function is not None
            or aggregate_heading(section) is not None):
        return _without_member_macros(parser, frag, tree, errors)
    for wrapper in _OTHER_WRAPPERS:
        other = build_fragment(texts, numbers, section, scanned, wrapper)
        other_tree = parser.parse(other.text)
        other_errors = error_lines(other_tree, other.rows)
        if len(other_errors) < len(errors):
            frag, tree, errors = other, other_tree, other_errors
            if not errors:
                break
    return _without_member_macros(parser, frag, tree, errors)


def _without_member_macros(parser: CParser, frag: Fragment, tree: Tree,
                           errors: frozenset[int]) -> tuple[Fragment, Tree, frozenset[int]]:
    """The fragment parsed again with the macros used as struct members blanked
    (``blanking.member_macro_rows``), when that leaves fewer error lines."""
    if not errors:
        return frag, tree, errors
    rows = member_macro_rows(tree.root_node, frag.text.split("\n"))
    if not rows:
        return frag, tree, errors
    other = frag._replace(text=blank_rows(frag.text, rows))
    other_tree = parser.parse(other.text)
    other_errors = error_lines(other_tree, other.rows)
    if len(other_errors) < len(errors):
        return other, other_tree, other_errors
    return frag, tree, errors


_OTHER_WRAPPERS: tuple[Wrapper, ...] = ("initialiser", "struct")


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


def _unmapped(path: str, fragments: list[MappedFragment], functions: list[FunctionSpan],
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
            out.append(Unmapped(path, n, NO_FUNCTION))
    return out
