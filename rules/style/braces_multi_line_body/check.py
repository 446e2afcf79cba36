"""STY011: an unbraced branch or loop body whose single statement spans several lines.

The other side of STY001: scripts/checkpatch.pl allows braces around a body that spans
several lines, and some maintainers ask for them (a multi-line statement without braces
reads like two statements, one of them outside the branch).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from reviewbot.engine.check import Hit
from reviewbot.engine.params import NoParams

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import MappedFragment

NODE_KINDS = ("if_statement", "for_statement", "while_statement")


def _bodies(node: Node) -> Iterator[tuple[Node, str]]:
    """(body, construct) of an if (its branches, else-if bodies through their own if)
    or a loop."""
    if node.type == "if_statement":
        yield from ((b, "if") for b in (node.child_by_field_name("consequence"),)
                    if b is not None)
        alt = node.child_by_field_name("alternative")
        inner = alt.named_children[0] if alt is not None and alt.type == "else_clause" \
            and alt.named_children else alt
        if inner is not None and inner.type != "if_statement":
            yield inner, "else"
    else:
        body = node.child_by_field_name("body")
        if body is not None:
            yield body, node.type.split("_")[0]


def _spans(body: Node) -> bool:
    """An unbraced body: one statement (not a nested block) over several lines."""
    return (body.type != "compound_statement" and not body.has_error
            and body.type not in ("if_statement", "for_statement", "while_statement",
                                  "do_statement", "switch_statement")
            and body.end_point[0] > body.start_point[0])


def _hits(mf: MappedFragment, file: FileAnalysis) -> Iterator[Hit]:
    assert file.map is not None
    for node in mf.nodes(NODE_KINDS, mf.added_rows):
        for body, construct in _bodies(node):
            if not _spans(body):
                continue
            rows = range(body.start_point[0], body.end_point[0] + 1)
            lines = [mf.line_of(r) for r in rows]
            if not all(line in file.map.added for line in lines):
                continue  # the patch writes the whole body
            first = mf.line_of(body.start_point[0])
            if first is not None:
                yield Hit(file.path, first, (("construct", construct),
                                             ("lines", str(len(lines)))))


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag unbraced bodies whose one statement spans several lines."""
    if file.map is None:
        return []
    return [hit for mf in file.map.fragments for hit in _hits(mf, file)]
