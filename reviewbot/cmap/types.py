"""Declared types of parameters and locals (which names are ``struct page *``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.cmap.model import Decl

if TYPE_CHECKING:
    from tree_sitter import Node

DECLARATIONS = ("declaration", "parameter_declaration", "field_declaration")

_WRAPPERS = ("init_declarator", "array_declarator", "parenthesized_declarator",
             "attributed_declarator")
_HEADING_PARAM = re.compile(
    r"(?:^|[(,])\s*(?:const\s+)?((?:struct|union|enum)\s+\w+|\w+)\s*(\*+)\s*(\w+)"
    r"\s*(?=[,)]|$)"
)


def type_text(node: Node) -> str:
    t = node.child_by_field_name("type")
    if t is None or t.text is None:
        return ""
    return " ".join(t.text.decode("utf-8", "replace").split())


def declarator_name(node: Node) -> tuple[str, int, int] | None:
    """(name, pointer depth, array dimensions) of a declarator; None for functions."""
    pointer = array = 0
    cur: Node | None = node
    while cur is not None:
        kind = cur.type
        if kind == "identifier":
            return (cur.text or b"").decode("utf-8", "replace"), pointer, array
        if kind == "pointer_declarator":
            pointer += 1
        elif kind == "array_declarator":
            array += 1
        elif kind not in _WRAPPERS:
            return None  # a function declarator, or something unexpected
        cur = cur.child_by_field_name("declarator")
    return None


def declarations(nodes: list[Node], rows: tuple[int | None, ...]) -> list[Decl]:
    """Every name the declaration nodes ``nodes`` (``DECLARATIONS``, in document order)
    declare, in order; line numbers come from ``rows``."""
    out: list[Decl] = []
    for node in nodes:
        kind = type_text(node)
        if not kind:
            continue
        row = node.start_point[0]
        line = rows[row] if row < len(rows) else None
        for child in node.children_by_field_name("declarator"):
            named = declarator_name(child)
            if named:
                out.append(Decl(named[0], kind, named[1], line or 0, named[2]))
    return out


def heading_params(section: str) -> list[Decl]:
    """Pointer parameters visible in a hunk heading (``static int f(struct page *p,``)."""
    paren = section.find("(")
    if paren < 0:
        return []
    return [Decl(m.group(3), " ".join(m.group(1).split()), len(m.group(2)), 0)
            for m in _HEADING_PARAM.finditer(section[paren:])]
