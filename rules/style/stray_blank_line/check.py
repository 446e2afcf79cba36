"""Stray blank lines a patch adds, and whitespace changes it makes to code it does not touch.

Cases, most specific first (one finding per line):

- ``use``: an added blank line between a statement that computes ``x`` and the next
  statement, which consumes it: an error check of ``x`` (``if (!x)``, ``if (ret < 0)``,
  ``if (IS_ERR(x))``, ...), or, when the computing statement stands alone in its
  paragraph, an assignment whose right side uses ``x``.
- ``double``: two or more blank lines in a row.
- ``brace_open`` / ``brace_close``: an added blank line right after ``{`` or right before
  ``}``.
- ``unrelated_hunk`` / ``unrelated_blank``: whitespace-only changes (blank lines,
  indentation, wrapping) in code the patch does not otherwise touch: a hunk made only of
  them, or blank lines inserted or removed between two unchanged lines, away from the
  patch's real changes. Quiet in a patch whose purpose is layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.cmap.index import row_filter
from reviewbot.cmap.scan import scan_post_image
from reviewbot.diff.layout import (
    is_blank,
    layout_changes,
    layout_changes_expected,
    placement,
    squash,
)
from reviewbot.engine.check import Hit, render

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.cmap.filemap import MappedFragment
    from reviewbot.cmap.index import Rows
    from reviewbot.diff.model import Hunk
    from reviewbot.engine.context import FileContext, PatchContext


@dataclass(frozen=True)
class Wording:
    message: str
    reply: str


@dataclass(frozen=True)
class Cases:
    """The wording of each case."""

    use: Wording
    double: Wording
    brace_open: Wording
    brace_close: Wording
    unrelated_hunk: Wording
    unrelated_blank: Wording


@dataclass(frozen=True)
class Params:
    cases: Cases


# Calls that wrap a result check without changing what is checked.
_CHECK_WRAPPERS = frozenset({"likely", "unlikely", "WARN_ON", "WARN_ON_ONCE", "IS_ERR",
                             "IS_ERR_OR_NULL", "IS_ERR_VALUE", "WARN"})
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_ERRNO = re.compile(r"^E[A-Z0-9]+$")
_STATEMENT_PARENTS = ("compound_statement", "case_statement")


def _text(node: Node | None) -> str:
    return (node.text or b"").decode("utf-8", "replace") if node is not None else ""


def _same(node: Node | None, target: Node) -> bool:
    return node is not None and node.type == target.type and squash(_text(node)) == squash(
        _text(target))


def _unparen(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


def _error_value(node: Node | None) -> bool:
    """0, NULL, or a negative error code: what a result check compares with."""
    node = _unparen(node)
    if node is None:
        return False
    if node.type == "null" or (node.type == "number_literal" and _text(node) in ("0", "0UL")):
        return True
    if node.type == "unary_expression" and _text(node.child_by_field_name("operator")) == "-":
        arg = _unparen(node.child_by_field_name("argument"))
        return arg is not None and (arg.type == "number_literal" or (
            arg.type == "identifier" and bool(_ERRNO.match(_text(arg)))))
    return False


def _checks(expr: Node | None, target: Node) -> bool:
    """``expr`` checks ``target`` for an error: ``x``, ``!x``, ``x < 0``, ``IS_ERR(x)``..."""
    expr = _unparen(expr)
    if expr is None:
        return False
    if _same(expr, target):
        return True
    if expr.type == "unary_expression" and _text(expr.child_by_field_name("operator")) == "!":
        return _checks(expr.child_by_field_name("argument"), target)
    if expr.type == "call_expression":
        args = expr.child_by_field_name("arguments")
        fn = _text(expr.child_by_field_name("function"))
        named = args.named_children if args is not None else []
        return fn in _CHECK_WRAPPERS and len(named) >= 1 and _checks(named[-1], target)
    if expr.type == "binary_expression":
        op = _text(expr.child_by_field_name("operator"))
        left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
        if op in _COMPARISONS:
            return (_same(_unparen(left), target) and _error_value(right)) or (
                _same(_unparen(right), target) and _error_value(left))
    return False


def _uses(node: Node | None, target: Node) -> bool:
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if _same(n, target):
            return True
        stack.extend(n.named_children)
    return False


def _assignment(stmt: Node) -> Node | None:
    if stmt.type != "expression_statement" or stmt.has_error or not stmt.named_children:
        return None
    expr = stmt.named_children[0]
    return expr if expr.type == "assignment_expression" else None


def _alone(prev: Node | None, stmt: Node) -> bool:
    """``stmt`` starts its paragraph: nothing or a blank line above it (a comment right
    above it makes the paragraph deliberate)."""
    return prev is None or prev.end_point[0] < stmt.start_point[0] - 1


def _call_result(assign: Node) -> bool:
    """The assignment stores what a function returned (``x = f(...)``, maybe cast)."""
    right = _unparen(assign.child_by_field_name("right"))
    while right is not None and right.type == "cast_expression":
        right = _unparen(right.child_by_field_name("value"))
    return right is not None and right.type == "call_expression"


def _error_check_of(stmt: Node | None, assign: Node | None) -> bool:
    target = assign.child_by_field_name("left") if assign is not None else None
    return (stmt is not None and target is not None and stmt.type == "if_statement"
            and _checks(stmt.child_by_field_name("condition"), target))


def _one_step(stmts: list[Node], k: int) -> bool:
    """``stmts[k]`` makes up its paragraph alone, or together with the check of its result."""
    rest = stmts[k + 1:]
    if rest and _error_check_of(rest[0], _assignment(stmts[k])) and \
            rest[0].start_point[0] == stmts[k].end_point[0] + 1:
        rest = rest[1:]
        last = stmts[k + 1]
    else:
        last = stmts[k]
    return not rest or rest[0].start_point[0] > last.end_point[0] + 1


def _use_pairs(mf: MappedFragment, rows: Rows | None = None
               ) -> Iterator[tuple[int, Node, Node]]:
    """(blank row, computing statement, consuming statement) with one blank row between.

    The consumer is the check of the computed result, or (when the computation is a lone
    one-line paragraph and the consumer one step with at most its own result check) the
    next assignment that uses the result. With ``rows`` (0-based row ranges) only the
    blocks overlapping them are looked at.
    """
    overlaps = row_filter(rows, mf.root)
    stack = [mf.root]
    while stack:
        node = stack.pop()
        if overlaps is not None and not overlaps(node.start_point[0], node.end_point[0]):
            continue
        stack.extend(node.named_children)
        if node.type not in _STATEMENT_PARENTS:
            continue
        stmts = list(node.named_children)
        for k in range(len(stmts) - 1):
            a, b = stmts[k], stmts[k + 1]
            if b.start_point[0] - a.end_point[0] != 2 or b.has_error:
                continue
            assign = _assignment(a)
            target = assign.child_by_field_name("left") if assign is not None else None
            if assign is None or target is None:
                continue
            if b.type == "if_statement":
                if _call_result(assign) and _error_check_of(b, assign):
                    yield a.end_point[0] + 1, a, b
                continue
            following = _assignment(b)
            if (following is not None and a.start_point[0] == a.end_point[0]
                    and _alone(stmts[k - 1] if k else None, a) and _one_step(stmts, k + 1)
                    and _uses(following.child_by_field_name("right"), target)):
                yield a.end_point[0] + 1, a, b


def _use_hits(fc: FileContext) -> dict[int, dict[str, str]]:
    """Added blank lines that separate a computation from its consumer, by line number."""
    assert fc.map is not None
    out: dict[int, dict[str, str]] = {}
    text = fc.map.text
    blanks = [n for n in fc.map.added if not text.get(n, "x").strip()]
    if not blanks:
        return out
    for mf in fc.map.fragments:
        # the blank row is an added blank line, and the block whose two statements it
        # separates holds it: only the blocks holding added blank lines (a blank row
        # lies between two statements of one block at most)
        rows = fc.map.index.rows_of_lines(mf, blanks)
        if not rows:
            continue
        for row, a, b in _use_pairs(mf, rows):
            line = mf.line_of(row)
            if line is None or line not in fc.map.added or fc.map.text.get(line, "x").strip():
                continue
            assign = _assignment(a)
            assert assign is not None
            out.setdefault(line, {
                "target": _text(assign.child_by_field_name("left")),
                "consumer": "check" if b.type == "if_statement" else "statement",
            })
    return out


def _blank_hits(hunk: Hunk) -> Iterator[tuple[int, str]]:
    """(post-image line, case) for the added blank lines of ``hunk`` by layout alone."""
    post = [ln for ln in hunk.lines if ln.kind != "-"]
    blank = [is_blank(ln) for ln in post]
    if not any(blank):
        return
    scanned = scan_post_image(hunk)
    reported_run = False
    for i, ln in enumerate(post):
        if not blank[i]:
            reported_run = False
            continue
        if ln.kind != "+" or ln.new is None or (i and scanned[i - 1].in_comment_after):
            continue
        prev = scanned[i - 1].code.strip() if i else None
        nxt = scanned[i + 1].code.strip() if i + 1 < len(post) else None
        double = (i > 0 and blank[i - 1]) or (i + 1 < len(post) and blank[i + 1])
        if double:
            if not reported_run:
                reported_run = True
                yield ln.new, "double"
        elif prev and prev.endswith("{"):
            yield ln.new, "brace_open"
        elif nxt and nxt.startswith("}"):
            yield ln.new, "brace_close"


def _unrelated(ctx: PatchContext, fc: FileContext) -> Iterator[tuple[Hit, str]]:
    """Whitespace-only hunks, and blank lines inserted or removed in unchanged code."""
    if layout_changes_expected(ctx.patch):
        return
    for hunk in fc.diff.hunks:
        for change in layout_changes(hunk):
            if change.whole_hunk:
                case = "unrelated_hunk"
            elif change.blank_only and change.between_unchanged:
                case = "unrelated_blank"
            else:
                continue
            where = placement(change)
            if where is not None:
                yield Hit(fc.path, where.line, (), where.side, where.old_line), case


def _removed_double(fc: FileContext) -> Iterator[Hit]:
    """A removal that leaves two blank lines next to each other."""
    for hunk in fc.diff.hunks:
        post = [ln for ln in hunk.lines if ln.kind != "-"]
        if len(post) == len(hunk.lines):
            continue  # nothing removed
        blank = [is_blank(ln) for ln in post]
        for i in range(1, len(post)):
            if not (blank[i - 1] and blank[i]):
                continue
            if post[i - 1].kind == "+" or post[i].kind == "+":
                continue  # an added blank line: reported on that line
            lo, hi = hunk.lines.index(post[i - 1]), hunk.lines.index(post[i])
            removed = [ln for ln in hunk.lines[lo + 1:hi] if ln.kind == "-"]
            if removed:
                yield Hit(fc.path, post[i].new or 0, (), "old", removed[0].old)


def check(ctx: PatchContext, fc: FileContext, params: Params) -> Iterable[Hit]:
    """Flag stray added blank lines and unrelated whitespace-only changes."""

    def hit(line: int, case: str, values: dict[str, str], side: str = "new",
            old: int | None = None) -> Hit:
        spec: Wording = getattr(params.cases, case)
        wording = {"message": render(spec.message, values),
                   "reply": render(spec.reply, values)}
        return Hit(fc.path, line, tuple({**values, **wording, "case": case}.items()),
                   "old" if side == "old" else "new", old)

    out: dict[tuple[int, str], Hit] = {}

    def add(h: Hit) -> None:
        out.setdefault((h.line, h.side), h)

    if fc.map is not None:
        for line, values in sorted(_use_hits(fc).items()):
            add(hit(line, "use", values))
    for hunk in fc.diff.hunks:
        for line, case in _blank_hits(hunk):
            add(hit(line, case, {}))
    for h in _removed_double(fc):
        add(hit(h.line, "double", {}, h.side, h.old_line))
    for h, case in _unrelated(ctx, fc):
        done = "removed" if h.side == "old" else "added"
        add(hit(h.line, case, {"done": done}, h.side, h.old_line))
    return sorted(out.values(), key=lambda h: (h.line, h.side))
