"""STY002: an added blank line between a computation and the statement that consumes it.

The consumer is the error check of the computed value (``if (!x)``, ``if (ret < 0)``,
``if (IS_ERR(x))``, ... ; a bare ``if (x)`` only when its body just bails out), or, when
the computing statement stands alone in its paragraph, the next assignment, whose right
side uses the value.

Only in functions the patch does not add: there the author inserts a step into code that
has a style of its own, and the split is the reviewer's "Do not add a new line here". In
a function (or file) the patch adds, how to paragraph it is the author's taste (measured
on list traffic: nobody asked, and maintainers applied such code as it was).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from reviewbot.cmap.rows import row_filter
from reviewbot.diff.layout import squash
from reviewbot.engine.check import Hit
from reviewbot.engine.params import NoParams

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import MappedFragment
    from reviewbot.cmap.rows import Rows

# Calls that wrap a result check without changing what is checked.
_CHECK_WRAPPERS = frozenset({"likely", "unlikely", "WARN_ON", "WARN_ON_ONCE", "IS_ERR",
                             "IS_ERR_OR_NULL", "IS_ERR_VALUE", "WARN"})
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_ERRNO = re.compile(r"^E[A-Z0-9]+$")
_STATEMENT_PARENTS = ("compound_statement", "case_statement")
# the comparisons of a value with 0/NULL/-E... that hold when the value is an error
_FAILED = frozenset({"==", "<", "<="})
_JUMPS = ("return_statement", "goto_statement", "break_statement", "continue_statement")


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


def _checks(expr: Node | None, target: Node) -> str | None:
    """How ``expr`` checks ``target`` for an error: "failed" when it holds for an error
    (``!x``, ``x < 0``, ``x == NULL``, ``IS_ERR(x)``...), "truth" when it tests the value
    as true (``x``, ``x != 0``: an error code, or a result that succeeded); None when it
    is no such check."""
    expr = _unparen(expr)
    if expr is None:
        return None
    if _same(expr, target):
        return "truth"
    if expr.type == "unary_expression" and _text(expr.child_by_field_name("operator")) == "!":
        inner = _checks(expr.child_by_field_name("argument"), target)
        return None if inner is None else "failed"
    if expr.type == "call_expression":
        args = expr.child_by_field_name("arguments")
        fn = _text(expr.child_by_field_name("function"))
        named = args.named_children if args is not None else []
        if fn not in _CHECK_WRAPPERS or not named:
            return None
        inner = _checks(named[-1], target)
        return "failed" if inner is not None and fn.startswith("IS_ERR") else inner
    if expr.type == "binary_expression":
        op = _text(expr.child_by_field_name("operator"))
        left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
        if op in _COMPARISONS and ((_same(_unparen(left), target) and _error_value(right)) or (
                _same(_unparen(right), target) and _error_value(left))):
            return "failed" if op in _FAILED or (op in (">", ">=") and _same(
                _unparen(right), target)) else "truth"
    return None


def _bails_out(body: Node | None) -> bool:
    """The branch only leaves: one ``return``/``goto``/``break``/``continue``."""
    if body is not None and body.type == "compound_statement":
        named = body.named_children
        body = named[0] if len(named) == 1 else None
    return body is not None and body.type in _JUMPS


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
    """``stmt`` is the error check of what ``assign`` stored: it tests for the error, or
    tests the value as true and only bails out (``if (ret) return ret;``)."""
    target = assign.child_by_field_name("left") if assign is not None else None
    if stmt is None or target is None or stmt.type != "if_statement":
        return False
    how = _checks(stmt.child_by_field_name("condition"), target)
    return how == "failed" or (how == "truth" and _bails_out(
        stmt.child_by_field_name("consequence")))


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


def _new_code(file: FileAnalysis, line: int) -> bool:
    """``line`` is in a file or a function the patch adds (a statement in a function
    whose header the hunks do not show is in a function that was there)."""
    assert file.map is not None
    fn = file.map.function_at(line)
    return file.diff.old_path is None or (fn is not None and file.map.adds(fn))


def _use_hits(file: FileAnalysis) -> dict[int, dict[str, str]]:
    """Added blank lines that separate a computation from its consumer, by line number."""
    assert file.map is not None
    out: dict[int, dict[str, str]] = {}
    text = file.map.text
    blanks = [n for n in file.map.added if not text.get(n, "x").strip()]
    if not blanks:
        return out
    for mf in file.map.fragments:
        # the blank row is an added blank line, and the block whose two statements it
        # separates holds it: only the blocks holding added blank lines (a blank row
        # lies between two statements of one block at most)
        rows = mf.rows_of_lines(blanks)
        if not rows:
            continue
        for row, a, b in _use_pairs(mf, rows):
            line = mf.line_of(row)
            if line is None or line not in file.map.added or file.map.text.get(line, "x").strip():
                continue
            if _new_code(file, line):
                continue
            assign = _assignment(a)
            assert assign is not None
            out.setdefault(line, {
                "target": _text(assign.child_by_field_name("left")),
                "consumer": "check" if b.type == "if_statement" else "statement",
            })
    return out


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag added blank lines between a computation and its consumer."""
    if file.map is None:
        return []
    return [Hit(file.path, line, tuple(values.items()))
            for line, values in sorted(_use_hits(file).items())]
