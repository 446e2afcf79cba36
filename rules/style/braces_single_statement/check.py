"""STY001: braces around a single simple statement (coding-style.rst §3)."""

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

LOOPS = ("for_statement", "while_statement", "do_statement")
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


def _braced(node: Node | None) -> bool:
    return node is not None and node.type == "compound_statement"


def _needs_braces(body: Node | None) -> bool:
    """A branch that is braced for a reason: several statements, a comment, a nested block."""
    return _braced(body) and not _single_simple(body)


def _if_chain(node: Node) -> list[Node | None]:
    """Bodies of an if / else if / else chain, in order."""
    bodies: list[Node | None] = []
    cur: Node | None = node
    while cur is not None and cur.type == "if_statement":
        bodies.append(cur.child_by_field_name("consequence"))
        alt = cur.child_by_field_name("alternative")
        cur = None
        if alt is not None:
            inner = alt.named_children[0] if alt.type == "else_clause" and alt.named_children \
                else alt
            if inner.type == "if_statement":
                cur = inner
            else:
                bodies.append(inner)
    return bodies


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
            bodies = _if_chain(node)
            if any(_needs_braces(b) for b in bodies):
                continue
            # every branch is unbraced or a single simple statement in braces: report the
            # first braced branch, on its keyword line
            first = next((b for b in bodies if _single_simple(b)), None)
            if first is not None:
                yield (node if first is bodies[0] else first, "if")
        elif kind in LOOPS:
            if _single_simple(node.child_by_field_name("body")):
                yield node, kind.split("_")[0]
        elif kind == "expression_statement":
            nxt = node.next_sibling
            call = node.named_children[0] if node.named_children else None
            if (nxt is not None and call is not None and call.type == "call_expression"
                    and _single_simple(nxt)):
                fn = call.child_by_field_name("function")
                name = (fn.text or b"").decode() if fn is not None else ""
                if _FOR_EACH.search(name) and nxt.start_point[0] == node.end_point[0]:
                    yield node, name


def _flag_row(node: Node) -> int:
    if node.type == "compound_statement" and node.parent is not None \
            and node.parent.type == "else_clause":
        return node.parent.start_point[0]
    return node.start_point[0]


def _hits(mf: MappedFragment, file: FileAnalysis) -> Iterable[Hit]:
    assert file.map is not None
    # the flagged line must be added: only constructs overlapping added rows
    for node, construct in _candidates(mf, mf.added_rows):
        line = mf.line_of(_flag_row(node))
        if line not in file.map.added:
            continue
        yield Hit(file.path, line, (("construct", construct),))


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag ``if``/``else``/loop bodies braced around exactly one simple statement."""
    if file.map is None:
        return []
    return [hit for mf in file.map.fragments for hit in _hits(mf, file)]
