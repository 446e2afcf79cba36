"""Hard-coded offset into an array of ``struct page`` (MEM001).

An expression is a ``struct page *`` when it is a cast to it, a name declared so (a
parameter, local, or a global listed in the rule), a call of an accessor listed in the
rule (or of a function the patch defines with that return type), ``&obj->member`` for a
member listed in the rule, or pointer arithmetic on one of these. Adding an integer
literal above the rule's ``max_quiet_offset`` to it, or indexing it with one, is flagged
on the literal's line. Literals inside ``#define`` bodies are never parsed as code, so
a macro's own definition stays quiet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from reviewbot.cmap.access import call_name, compact, node_text
from reviewbot.engine.check import Hit
from reviewbot.engine.params import Names

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import FileMap, MappedFragment

# where a literal offset can be: ``E + N``, ``E[N]``, ``E += N`` (see ``_offset``)
NODE_KINDS = ("binary_expression", "subscript_expression", "assignment_expression")

PAGE = "struct page"
_CAST = re.compile(r"^(?:const\s+)?struct\s+page\s*((?:\*\s*(?:const\s*)?)+)$")
_DIGIT = re.compile(r"[0-9]")
_INT = re.compile(r"^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[uUlL]*$")


@dataclass(frozen=True)
class Member:
    """``&obj->member`` is a ``struct page *`` when ``obj`` is a ``struct_type``."""

    of: str  # the struct type ("struct folio")
    member: str
    reason: str


@dataclass(frozen=True)
class Params:
    max_quiet_offset: int = 1  # offsets up to this are fine (``page + 1``: the next page)
    page_accessors: Names = Names()  # calls that return a struct page *
    page_members: tuple[Member, ...] = ()
    page_globals: Names = Names()  # globals that are struct page arrays


class Knowledge(NamedTuple):
    """What the rule's params say returns or holds a ``struct page *``."""

    accessors: frozenset[str]
    names: frozenset[str]
    members: tuple[tuple[str, str], ...]  # (struct type, member)
    max_quiet: int


def knowledge(patch: PatchAnalysis, params: Params) -> Knowledge:
    """What the params say, and the functions of the patch that return a struct page *."""
    own = {fn.name for file in patch.files if file.map is not None for fn in file.map.functions
           if "page" in fn.signature and fn.name in fn.signature  # cheap filter first
           and re.search(rf"\bstruct\s+page\s*\*\s*{re.escape(fn.name)}\s*\(", fn.signature)}
    return Knowledge(params.page_accessors | own, params.page_globals,
                     tuple((m.of, m.member) for m in params.page_members),
                     params.max_quiet_offset)


def int_literal(node: Node | None) -> int | None:
    """The value of an integer literal node (``4``, ``0x10``, ``8UL``), else None."""
    if node is None or node.type != "number_literal":
        return None
    m = _INT.match(compact(node))
    if m is None:
        return None
    digits = m.group(1)
    if digits.lower().startswith("0x"):
        return int(digits, 16)
    return int(digits, 8) if len(digits) > 1 and digits.startswith("0") else int(digits)


class PageTypes:
    """Indirection level of expressions of type ``struct page`` (1 = ``struct page *``)."""

    def __init__(self, fmap: FileMap, mf: MappedFragment, know: Knowledge) -> None:
        self.fmap, self.mf, self.know = fmap, mf, know

    def _line(self, node: Node) -> int | None:
        return self.mf.line_of(node.start_point[0])

    def _member(self, node: Node) -> bool:
        """``obj->member`` / ``obj.member`` for a listed (struct type, member)."""
        arg = node.child_by_field_name("argument")
        field = node.child_by_field_name("field")
        if arg is None or field is None or arg.type != "identifier":
            return False
        line = self._line(arg)
        d = self.fmap.decl(compact(arg), line) if line is not None else None
        for of, member in self.know.members:
            if compact(field) != member:
                continue
            if d is not None and d.type == of:
                return True
            # the declaration is not visible: the conventional name (folio for a folio)
            if d is None and compact(arg) == of.split()[-1]:
                return True
        return False

    def level(self, node: Node | None) -> int | None:
        """1 for a ``struct page *``, 2 for ``struct page **``...; None when unknown."""
        if node is None:
            return None
        kind = node.type
        if kind == "parenthesized_expression":
            return self.level(node.named_children[0] if node.named_children else None)
        if kind == "cast_expression":
            t = node.child_by_field_name("type")
            m = _CAST.match(node_text(t)) if t is not None else None
            return m.group(1).count("*") if m else None
        if kind == "identifier":
            line = self._line(node)
            d = self.fmap.decl(compact(node), line) if line is not None else None
            if d is not None:
                return d.level if d.type == PAGE and d.level > 0 else None
            return 1 if compact(node) in self.know.names else None
        if kind == "call_expression":
            return 1 if call_name(node) in self.know.accessors else None
        if kind == "pointer_expression":
            op = node.child_by_field_name("operator")
            arg = node.child_by_field_name("argument")
            if op is None or arg is None:
                return None
            if op.type == "&":
                if arg.type == "field_expression" and self._member(arg):
                    return 1
                below = self.level(arg)
                return below + 1 if below is not None else None
            above = self.level(arg)
            return above - 1 if above is not None and above > 1 else None
        if kind == "subscript_expression":
            above = self.level(node.child_by_field_name("argument"))
            return above - 1 if above is not None and above > 1 else None
        if kind == "binary_expression":
            op = node.child_by_field_name("operator")
            if op is None or op.type not in ("+", "-"):
                return None
            left = self.level(node.child_by_field_name("left"))
            right = self.level(node.child_by_field_name("right"))
            if left is not None and right is None:
                return left
            if op.type == "+" and right is not None and left is None:
                return right
            return None
        if kind == "assignment_expression":
            return self.level(node.child_by_field_name("left"))
        return None


def _offset(cur: Node) -> tuple[Node, Node] | None:
    """The (page expression, literal) pair ``cur`` makes, if any: ``E + N``, ``N + E``,
    ``E - N``, ``E[N]``, ``E += N`` or ``E -= N``."""
    kind = cur.type
    if kind == "binary_expression":
        op = cur.child_by_field_name("operator")
        left, right = cur.child_by_field_name("left"), cur.child_by_field_name("right")
        if op is None or left is None or right is None:
            return None
        if op.type in ("+", "-") and right.type == "number_literal":
            return left, right
        if op.type == "+" and left.type == "number_literal":
            return right, left
    elif kind == "subscript_expression":
        arg, index = cur.child_by_field_name("argument"), cur.child_by_field_name("index")
        if arg is not None and index is not None and index.type == "number_literal":
            return arg, index
    elif kind == "assignment_expression":
        op = cur.child_by_field_name("operator")
        left, right = cur.child_by_field_name("left"), cur.child_by_field_name("right")
        if (op is not None and op.type in ("+=", "-=") and left is not None
                and right is not None and right.type == "number_literal"):
            return left, right
    return None


def _hits(file: FileAnalysis, mf: MappedFragment, know: Knowledge,
          digits: frozenset[int]) -> Iterable[Hit]:
    """``digits``: the added lines with a digit (every number literal has one; blanking
    annotations adds none): only the parts of the tree holding them are searched."""
    assert file.map is not None
    types = PageTypes(file.map, mf, know)
    rows = mf.rows_of_lines(digits)
    for expr, literal in filter(None, map(_offset, mf.nodes(NODE_KINDS, rows))):
        value = int_literal(literal)
        if value is None or value <= know.max_quiet:
            continue
        line = mf.line_of(literal.start_point[0])
        if line is None or line not in file.map.added:
            continue
        if types.level(expr) != 1:
            continue
        text = node_text(expr)
        shown = text if len(text) <= 60 else text[:57] + "..."
        yield Hit(file.path, line, (("offset", compact(literal)), ("expr", shown)))


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    """Flag ``struct page *`` arithmetic or indexing with a literal above max_quiet_offset."""
    if file.map is None:
        return []
    # once per patch: it reads every file's functions (per file, that was quadratic in
    # the number of files)
    know = patch.kept(__name__, lambda: knowledge(patch, params))
    out: list[Hit] = []
    seen: set[int] = set()
    # once per file, not per fragment: a list rebuilt per hunk was quadratic (30,000
    # one-line hunks took 129 s)
    visible = file.map.text
    digits = frozenset(n for n in file.map.added if _DIGIT.search(visible.get(n, "0")))
    for mf in file.map.fragments:
        for hit in _hits(file, mf, know, digits):
            if hit.line not in seen:
                seen.add(hit.line)
                out.append(hit)
    return out
