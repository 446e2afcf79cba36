"""STY012: no blank line between a block's local declarations and its first statement.

What scripts/checkpatch.pl reports as LINE_SPACING "Missing a blank line after
declarations", told apart on the C mapping rather than by regexes: in a block of a
function body (a ``compound_statement``), the declarations that open it (``declaration``
nodes, and the declaration macros checkpatch knows: ``DECLARE_*``/``DEFINE_*``,
``LIST_HEAD``, ``XA_STATE``, ``*_ON_STACK``, and cleanup.h's ``CLASS``), then, on the
very next line and at the same indentation, a statement.

The finding is on the statement's first line when the patch writes it, else on the
declaration's last line. When only one of the two lines is added, the patch must have
made them neighbours: the other line's old neighbour was a blank line or a brace (the
old code had the blank line, or no declarations there); code that already lacked the
blank line is left alone.

Quiet on declarations after a statement (C99-style declarations at the point of use,
which cleanup.h's ``__free()`` and ``CLASS()`` make the kernel idiom: the check of the
declared value belongs right under it), on a comment, label, preprocessor line or ``{``
after the declarations, on continuation lines of a declaration, in macro bodies, in
for-loop initialisers, and on lines that do not parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from reviewbot.cmap.fragment import SYNTHETIC
from reviewbot.engine.check import Hit
from reviewbot.engine.params import NoParams

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import MappedFragment
    from reviewbot.diff.model import Hunk, Line

NODE_KINDS = ("compound_statement",)

# checkpatch.pl's $declaration_macros, and cleanup.h's CLASS(name, var)(args)
_DECL_MACRO = re.compile(
    r"^(?:[A-Z_][A-Z0-9]*_){0,2}(?:DEFINE|DECLARE)(?:_[A-Z0-9]+){1,6}$"
    r"|^[HLP]?LIST_HEAD$|^(?:SKCIPHER_REQUEST|SHASH_DESC|AHASH_REQUEST)_ON_STACK$"
    r"|^XA_STATE(?:_ORDER)?$|^CLASS$")
# the blocks that are statements of a function body (not a statement expression's)
_BLOCK_PARENTS = frozenset({
    "function_definition", "compound_statement", "if_statement", "else_clause",
    "for_statement", "while_statement", "do_statement", "case_statement",
    "labeled_statement"})
# what may follow declarations without a blank line: no statement
_NOT_STATEMENT = frozenset({
    "comment", "labeled_statement", "compound_statement", "preproc_if", "preproc_ifdef",
    "preproc_def", "preproc_function_def", "preproc_call", "preproc_include"})


def _callee(node: Node) -> str:
    """The name a call statement starts with (``CLASS(fd, f)(fd)``: ``CLASS``)."""
    if node.type != "expression_statement" or not node.named_children:
        return ""
    expr = node.named_children[0]
    while expr.type == "call_expression":
        fn = expr.child_by_field_name("function")
        if fn is None:
            return ""
        expr = fn
    return (expr.text or b"").decode("utf-8", "replace") if expr.type == "identifier" else ""


def _declares(node: Node) -> bool:
    """A local declaration, or a statement that is one of the declaration macros."""
    return node.type == "declaration" or bool(_DECL_MACRO.match(_callee(node)))


def _indent(text: str) -> str:
    return text[:len(text) - len(text.lstrip())]


def _wrapper_body(block: Node) -> bool:
    """The body of the function the C mapping wraps around a hunk that starts inside
    braces but not in a function it knows (``cmap.fragment``): it may be a struct's."""
    fn = block.parent
    if fn is None or fn.type != "function_definition":
        return False
    decl = fn.child_by_field_name("declarator")
    name = decl.child_by_field_name("declarator") if decl is not None else None
    return name is not None and (name.text or b"") == SYNTHETIC.encode()


def opening_declarations(block: Node) -> tuple[Node, Node] | None:
    """(last declaration, first statement) of a block of a function body that opens
    with declarations, wherever the statement is (None: no such pair)."""
    if block.parent is None or block.parent.type not in _BLOCK_PARENTS or \
            _wrapper_body(block):
        return None
    kids = block.named_children
    last = None  # the last declaration of the run of declarations (and comments) opening it
    for k, kid in enumerate(kids):
        if _declares(kid):
            last = k
        elif kid.type != "comment":
            break
    if last is None:
        return None
    decl = kids[last]
    k = last + 1
    while k < len(kids) and kids[k].type == "comment" and \
            kids[k].start_point[0] == decl.end_point[0]:
        k += 1  # a comment after the declaration, on its line
    nxt = kids[k] if k < len(kids) else None
    if nxt is None or nxt.type in _NOT_STATEMENT or _declares(nxt) or nxt.has_error \
            or decl.has_error:
        return None
    return decl, nxt


def _pairs(block: Node) -> Iterator[tuple[Node, Node]]:
    """(last declaration, first statement) of ``block`` when the statement is on the line
    right under the declarations (no comment, blank line or other line between)."""
    found = opening_declarations(block)
    if found is not None and found[1].start_point[0] == found[0].end_point[0] + 1:
        yield found


class _Neighbours:
    """The pre-image neighbours of the file's context lines, looked up by post-image line
    number (an index built once per file: a search per finding was quadratic in hunks,
    and in the lines of one big hunk)."""

    def __init__(self, file: FileAnalysis) -> None:
        self._at: dict[int, tuple[Hunk, int]] = {}
        for h in file.hunks:
            for i, ln in enumerate(h.hunk.lines):
                if ln.kind == " " and ln.new is not None:
                    self._at.setdefault(ln.new, (h.hunk, i))

    def old(self, line: int, step: int) -> Line | None:
        """The line right before (``step`` -1) or after (1) the context line ``line`` in
        the pre-image, if the hunk shows it."""
        found = self._at.get(line)
        if found is None:
            return None
        hunk, i = found
        lines = hunk.lines
        i += step
        while 0 <= i < len(lines) and lines[i].kind == "+":
            i += step
        return lines[i] if 0 <= i < len(lines) else None

    def made(self, line: int, step: int) -> bool:
        """The context line ``line`` had a blank line or a brace on that side in the
        pre-image: the patch's added line is what now stands next to it."""
        old = self.old(line, step)
        if old is None:
            return False
        text = old.text.strip()
        return not text or (text.endswith("{") if step < 0 else text.startswith("}"))


def _hits(patch: PatchAnalysis, file: FileAnalysis, mf: MappedFragment,
          near: _Neighbours) -> Iterator[Hit]:
    assert file.map is not None
    added = file.map.added
    moved = patch.not_written(file)
    for block in mf.nodes(NODE_KINDS, mf.added_rows):
        for decl, stmt in _pairs(block):
            top = mf.line_of(decl.start_point[0])
            last, first = mf.line_of(decl.end_point[0]), mf.line_of(stmt.start_point[0])
            if top is None or last is None or first is None:
                continue
            text = file.map.text
            if _indent(text.get(top, "")) != _indent(text.get(first, "")) or \
                    text.get(last, "").rstrip().endswith("\\"):
                continue  # misindented, or a macro body
            if first in added and first not in moved:
                at, glued = first, last in added or near.made(last, 1)
            elif last in added and last not in moved:
                at, glued = last, first in added or near.made(first, -1)
            else:
                continue
            if glued:
                yield Hit(file.path, at)


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag a statement right under a block's declarations, with no blank line between."""
    if file.map is None:
        return []
    near = _Neighbours(file)
    return sorted({hit for mf in file.map.fragments for hit in _hits(patch, file, mf, near)})
