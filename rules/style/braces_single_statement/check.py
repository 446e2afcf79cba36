"""STY001: braces around a single simple statement (coding-style.rst §3).

Counted as scripts/checkpatch.pl counts (``statement_block_size``, ``statement_lines``):
braces are fine when a body's statement or the condition spans several lines, or when
any arm of the if/else chain does. ``do { } while`` is left alone (the kernel idiom,
and every ``do`` macro body), as are braces the patch did not write: a construct whose
braced bodies and closing braces are all unchanged lines, and one inside a macro body.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from reviewbot.engine.check import Hit
from reviewbot.engine.params import NoParams

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import MappedFragment
    from reviewbot.cmap.rows import Rows

LOOPS = ("for_statement", "while_statement")
# statements that may hold a single-statement block: if/else chains, loops, and
# for_each-style macro calls followed by a block
NODE_KINDS = ("if_statement", *LOOPS, "expression_statement")
SIMPLE = ("expression_statement", "return_statement", "break_statement",
          "continue_statement", "goto_statement")
_FOR_EACH = re.compile(r"(for_each|_foreach\b|^for_|_for_)")


def _single_simple(block: Node | None) -> bool:
    """A ``{ }`` holding exactly one simple statement, no comment, no preprocessor line."""
    if block is None or block.type != "compound_statement" or block.has_error:
        return False
    named = [c for c in block.named_children]
    if len(named) != 1 or named[0].type not in SIMPLE:
        return False
    return b"{" not in (named[0].text or b"")


def _one_line(node: Node | None) -> bool:
    return node is None or node.start_point[0] == node.end_point[0]


def _statement(body: Node | None) -> Node | None:
    """The statement a branch runs: the only one inside braces, or the unbraced one."""
    if body is not None and body.type == "compound_statement":
        named = body.named_children
        return named[0] if len(named) == 1 else None
    return body


def _braced(node: Node | None) -> bool:
    return node is not None and node.type == "compound_statement"


def _needs_braces(body: Node | None) -> bool:
    """A branch that is braced for a reason: several statements, a comment, a nested block."""
    return _braced(body) and not _single_simple(body)


def _if_chain(node: Node) -> tuple[list[Node | None], list[Node | None]]:
    """Bodies of an if / else if / else chain, in order, and the conditions."""
    bodies: list[Node | None] = []
    conditions: list[Node | None] = []
    cur: Node | None = node
    while cur is not None and cur.type == "if_statement":
        bodies.append(cur.child_by_field_name("consequence"))
        conditions.append(cur.child_by_field_name("condition"))
        alt = cur.child_by_field_name("alternative")
        cur = None
        if alt is not None:
            inner = alt.named_children[0] if alt.type == "else_clause" and alt.named_children \
                else alt
            if inner.type == "if_statement":
                cur = inner
            else:
                bodies.append(inner)
    return bodies, conditions


def _spans_lines(bodies: list[Node | None], conditions: list[Node | None]) -> bool:
    """A condition, or the statement of a branch, spans several lines: checkpatch
    allows braces then (on every branch of the chain)."""
    return not all(_one_line(c) for c in conditions) or not all(
        _one_line(_statement(b)) for b in bodies)


def _candidates(mf: MappedFragment, rows: Rows) -> Iterator[tuple[Node, str]]:
    """(node whose first line is flagged, construct) for every single-statement block
    overlapping ``rows`` (the flagged row is always inside the construct: its keyword,
    or an ``else`` of its chain)."""
    # a statement is a for_each block only when its macro's name (a piece of the text)
    # spells "for_" or "foreach": every branch of ``_FOR_EACH`` does
    text = mf.fragment.text
    loops = "for_" in text or "foreach" in text
    for node in mf.nodes(NODE_KINDS, rows):
        kind = node.type
        if kind == "expression_statement" and not loops:
            continue
        if kind == "if_statement":
            parent = node.parent
            if parent is not None and parent.type == "else_clause":
                continue  # handled with the chain it belongs to
            bodies, conditions = _if_chain(node)
            if any(_needs_braces(b) for b in bodies) or _spans_lines(bodies, conditions):
                continue
            # every branch is unbraced or a single simple statement in braces: report the
            # first braced branch, on its keyword line
            first = next((b for b in bodies if _single_simple(b)), None)
            if first is not None:
                yield (node if first is bodies[0] else first, "if")
        elif kind in LOOPS:
            body = node.child_by_field_name("body")
            if _single_simple(body) and body is not None and _one_line(_statement(body)) \
                    and body.start_point[0] == node.start_point[0] and _one_line(
                        node.child_by_field_name("condition")):
                yield node, kind.split("_")[0]
        elif kind == "expression_statement":
            nxt = node.next_sibling
            call = node.named_children[0] if node.named_children else None
            if (nxt is not None and call is not None and call.type == "call_expression"
                    and _single_simple(nxt)):
                fn = call.child_by_field_name("function")
                name = (fn.text or b"").decode() if fn is not None else ""
                if _FOR_EACH.search(name) and nxt.start_point[0] == node.end_point[0] \
                        and _one_line(call) and _one_line(_statement(nxt)):
                    yield node, name


def _construct(node: Node) -> Node:
    """The whole statement a flagged node belongs to (an ``else`` block: its chain)."""
    while node.parent is not None and node.type in ("compound_statement", "else_clause",
                                                    "if_statement") \
            and node.parent.type in ("else_clause", "if_statement"):
        node = node.parent
    return node


def _flag_row(node: Node) -> int:
    if node.type == "compound_statement" and node.parent is not None \
            and node.parent.type == "else_clause":
        return node.parent.start_point[0]
    return node.start_point[0]


def _written(mf: MappedFragment, text: list[str], node: Node,
             added: set[int] | frozenset[int]) -> bool:
    """The patch writes the braces: a line after the construct's first one is added
    (a body or a closing brace); and no line of it continues a macro body (``\\``).
    ``text`` is the fragment's text, split into rows."""
    first, last = node.start_point[0], node.end_point[0]
    if node.type == "expression_statement" and node.next_sibling is not None:
        last = node.next_sibling.end_point[0]  # a for_each macro call and its block
    lines = [mf.line_of(row) for row in range(first, last + 1)]
    if any(row < len(text) and text[row].rstrip().endswith("\\")
           for row in range(first, last + 1)):
        return False
    return any(line in added for line in lines[1:] if line is not None)


def _hits(mf: MappedFragment, file: FileAnalysis) -> Iterable[Hit]:
    assert file.map is not None
    text: list[str] | None = None  # the fragment's rows, split once (not per construct)
    # the flagged line must be added: only constructs overlapping added rows
    for node, construct in _candidates(mf, mf.added_rows):
        line = mf.line_of(_flag_row(node))
        if line not in file.map.added:
            continue
        if text is None:
            text = mf.fragment.text.splitlines()
        if not _written(mf, text, _construct(node), file.map.added):
            continue
        yield Hit(file.path, line, (("construct", construct),))


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag ``if``/``else``/loop bodies braced around exactly one simple statement."""
    if file.map is None:
        return []
    return [hit for mf in file.map.fragments for hit in _hits(mf, file)]
