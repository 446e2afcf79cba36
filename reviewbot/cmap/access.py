"""Memory accesses in mapped C: which field/array locations a line reads or writes.

A *location* is a member or array access (``p->x``, ``s.a.b``, ``NODE_DATA(n)->tails[i]``):
the shapes through which two CPUs can share data. Plain identifiers are left out on
purpose: a hunk rarely shows whether a name is a local or a global.

Each location gets a *key* that stays the same wherever the location is named: blanks are
dropped, array subscripts become ``[]``, a base name declared in the function is replaced
by its declared type (``zone->tails[idx]`` in one function and ``z->tails[i]`` in another,
both ``struct zone *``, share the key ``<struct zone*>->tails[]``) and a call is reduced to
its name (``NODE_DATA(node)`` and ``NODE_DATA(nid)`` are the same kind of object).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Literal, NamedTuple

from reviewbot.cmap.filemap import FileMap, MappedFragment
from reviewbot.cmap.locks import ACQUIRE, RELEASE
from reviewbot.cmap.rows import Rows, covers, row_filter

if TYPE_CHECKING:
    from tree_sitter import Node

AccessKind = Literal["read", "write", "marked_read", "marked_write", "address", "lock"]
# The node kinds of a location; a check that asks for accesses declares them
# (``NODE_KINDS = LVALUES``), so the C mapping finds them with its other nodes.
LVALUES = ("field_expression", "subscript_expression")
_SKIP_PARENTS = ("parenthesized_expression",)
_UNEVALUATED = ("sizeof_expression", "alignof_expression", "offsetof_expression")
# Calls whose argument is a lock, not data: lock/unlock, init, assertions, pte_unmap_unlock.
_LOCK_CALL = re.compile(r"(^|_)(un)?lock(dep)?(_|$)|mutex|rwsem|^(down|up)(_|$)|(^|_)sem_")
_STATEMENT_END = ("expression_statement", "declaration", "return_statement", "if_statement",
                  "while_statement", "for_statement", "do_statement", "switch_statement",
                  "compound_statement", "init_declarator")


class Access(NamedTuple):
    """One mention of a location on one post-image line."""

    text: str  # as written, blanks collapsed: "NODE_DATA(node)->vmemmap_tails[idx]"
    key: str  # the location's key (see the module docstring)
    line: int
    kind: AccessKind
    via: str  # the marking macro (READ_ONCE, cmpxchg, ...) or "" for a plain access
    local: bool  # storage of a local non-pointer variable (a stack struct or array)


def node_text(node: Node) -> str:
    return " ".join((node.text or b"").decode("utf-8", "replace").split())


def compact(node: Node) -> str:
    """The node's text without any blanks (for comparing expressions)."""
    return "".join((node.text or b"").decode("utf-8", "replace").split())


def call_name(node: Node | None) -> str:
    """The called name of a ``call_expression`` (``""`` for calls through pointers)."""
    if node is None or node.type != "call_expression":
        return ""
    fn = node.child_by_field_name("function")
    return (fn.text or b"").decode("utf-8", "replace") if fn is not None \
        and fn.type == "identifier" else ""


def strip_parens(node: Node) -> Node:
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        inner = node.named_children[0]
        if inner is None:
            break
        node = inner
    return node


def _base(node: Node) -> Node:
    """The innermost object of a member/subscript chain (``p`` in ``p->a.b[i]``)."""
    cur = node
    while cur.type in LVALUES or cur.type in _SKIP_PARENTS:
        nxt = cur.child_by_field_name("argument") if cur.type in LVALUES else (
            cur.named_children[0] if cur.named_children else None)
        if nxt is None:
            break
        cur = nxt
    return cur


def location_key(node: Node, fmap: FileMap, line: int) -> str:
    """The key of a location expression (see the module docstring)."""
    kind = node.type
    if kind == "parenthesized_expression" and node.named_children:
        inner = node.named_children[0]
        return location_key(inner, fmap, line) if inner is not None else compact(node)
    if kind == "field_expression":
        arg = node.child_by_field_name("argument")
        op = node.child_by_field_name("operator")
        field = node.child_by_field_name("field")
        if arg is None or field is None:
            return compact(node)
        sep = (op.text or b"->").decode() if op is not None else "->"
        return f"{location_key(arg, fmap, line)}{sep}{compact(field)}"
    if kind == "subscript_expression":
        arg = node.child_by_field_name("argument")
        return f"{location_key(arg, fmap, line)}[]" if arg is not None else compact(node)
    if kind == "call_expression":
        name = call_name(node)
        return f"{name}()" if name else compact(node)
    if kind == "cast_expression":
        value = node.child_by_field_name("value")
        return location_key(value, fmap, line) if value is not None else compact(node)
    if kind == "identifier":
        name = compact(node)
        d = fmap.decl(name, line)
        fn = fmap.function_at(line)
        if d is not None and fn is not None and (d.line == 0 or fn.start <= d.line <= fn.end):
            return f"<{d.type}{'*' * d.level}>"
        return name
    return compact(node)


def _is_local_storage(node: Node, fmap: FileMap, line: int) -> bool:
    """``s.x`` or ``arr[i]`` where ``s``/``arr`` is a non-pointer local of the function."""
    base = _base(node)
    if base.type != "identifier" or "->" in compact(node):
        return False
    d = fmap.decl(compact(base), line)
    fn = fmap.function_at(line)
    return (d is not None and fn is not None and d.pointer == 0 and d.line != 0
            and fn.start <= d.line <= fn.end)


def _outer(node: Node) -> tuple[Node, Node | None]:
    """(the node behind any parentheses, its parent)."""
    cur, parent = node, node.parent
    while parent is not None and parent.type in _SKIP_PARENTS:
        cur, parent = parent, parent.parent
    return cur, parent


def _enclosing_call(node: Node) -> tuple[Node, int] | None:
    """(call, argument index) when ``node`` is directly an argument of a call."""
    parent = node.parent
    if parent is None or parent.type != "argument_list":
        return None
    call = parent.parent
    if call is None or call.type != "call_expression":
        return None
    index = [c.id for c in parent.named_children if c is not None].index(node.id)
    return call, index


def _is_lock_call(name: str) -> bool:
    return bool(name) and (name in ACQUIRE or name in RELEASE
                           or _LOCK_CALL.search(name) is not None)


def classify(node: Node, marked_reads: Collection[str],
             marked_writes: Collection[str]) -> tuple[AccessKind, str] | None:
    """How the location expression ``node`` is used; None where it is not evaluated.

    ``lock``: the location is handed to a lock primitive (it *is* a lock, or a pointer to
    one); ``address``: only its address is taken.
    """
    anc = node.parent
    while anc is not None and anc.type not in _STATEMENT_END:
        if anc.type in _UNEVALUATED:
            return None
        name = call_name(anc)
        if name in marked_reads:
            return "marked_read", name
        anc = anc.parent
    cur, parent = _outer(node)
    if parent is None:
        return "read", ""
    if parent.type == "assignment_expression" and parent.child_by_field_name("left") == cur:
        return "write", ""
    if parent.type == "update_expression":
        return "write", ""
    if parent.type == "pointer_expression":
        op = parent.child_by_field_name("operator")
        if op is not None and op.type == "&":
            addr, _ = _outer(parent)
            call = _enclosing_call(addr)
            if call is not None and call[1] == 0 and call_name(call[0]) in marked_writes:
                return "marked_write", call_name(call[0])
            if call is not None and _is_lock_call(call_name(call[0])):
                return "lock", call_name(call[0])
            return "address", ""
    call = _enclosing_call(cur)
    if call is not None and call[1] == 0 and call_name(call[0]) in marked_writes:
        return "marked_write", call_name(call[0])
    if call is not None and _is_lock_call(call_name(call[0])):
        return "lock", call_name(call[0])
    return "read", ""


def is_location(node: Node) -> bool:
    """An outermost member/subscript expression (not the object of a longer chain)."""
    if node.type not in LVALUES:
        return False
    parent = node.parent
    return not (parent is not None and parent.type in LVALUES
                and parent.child_by_field_name("argument") == node)


def location_nodes(mf: MappedFragment, rows: Rows | None = None) -> list[Node]:
    """Every outermost member/subscript expression of the fragment, in source order;
    with ``rows`` (0-based row ranges) only those starting on one of those rows."""
    starts = row_filter(rows, mf.root)
    return [n for n in mf.nodes(LVALUES, rows)
            if (starts is None or starts(n.start_point[0], n.start_point[0]))
            and is_location(n)]


def make_access(fmap: FileMap, mf: MappedFragment, node: Node,
                marked_reads: Collection[str], marked_writes: Collection[str]
                ) -> Access | None:
    """The access the location expression ``node`` makes (None: not evaluated, or not
    on a mapped line)."""
    line = mf.line_of(node.start_point[0])
    if line is None:
        return None
    use = classify(node, marked_reads, marked_writes)
    if use is None:
        return None
    kind, via = use
    return Access(node_text(node), location_key(node, fmap, line), line, kind, via,
                  _is_local_storage(node, fmap, line))


_KEY_WORD = re.compile(r"(?:^|->|\.)(\w+)(?:\(\))?(?:\[\])*$")


def key_word(key: str) -> str | None:
    """A word every mention of a location with this key spells out: its last member,
    or the array or call it indexes (None for ``<struct page*>[]``: a typed base)."""
    m = _KEY_WORD.search(key)
    return m.group(1) if m else None


def locations_spelling(root: Node, source: bytes, offset: int, word: str) -> list[Node]:
    """The outermost member/subscript expressions (``location_nodes``) whose text spells
    ``word`` as a whole word, in source order. ``source`` is the parsed text under
    ``root``, starting at byte ``offset``."""
    needle = word.encode("utf-8", "surrogateescape")
    spelled = re.compile(re.escape(needle) + rb"(?![A-Za-z0-9_])")
    found: dict[int, tuple[int, int, int, Node]] = {}  # by node id: (order..., node)
    cursor = root.walk()
    for m in spelled.finditer(source):
        if m.start() and (source[m.start() - 1:m.start()].isalnum()
                          or source[m.start() - 1] == 0x5F):  # "_": inside a longer word
            continue
        start, end = offset + m.start(), offset + m.end()
        cursor.reset(root)
        parent, depth = root, 0
        # down through every node holding this spelling: the expressions around it
        while cursor.goto_first_child_for_byte(start) is not None:
            node = cursor.node
            if node is None or node.start_byte > start or node.end_byte < end:
                break
            depth += 1
            if node.type in LVALUES and node.id not in found and not (
                    parent.type in LVALUES
                    and parent.child_by_field_name("argument") == node):
                found[node.id] = (node.start_byte, -node.end_byte, depth, node)
            parent = node
    return [entry[3] for entry in sorted(found.values(), key=lambda e: e[:3])]


class FragmentAccesses:
    """The accesses of one fragment for one set of marking macros, each location's
    access worked out once, however many times and on whatever rows it is asked for
    (a check that asks again and again keeps one per fragment for its patch)."""

    def __init__(self, fmap: FileMap, mf: MappedFragment, marked_reads: Collection[str],
                 marked_writes: Collection[str]) -> None:
        self.fmap, self.mf = fmap, mf
        self._reads, self._writes = frozenset(marked_reads), frozenset(marked_writes)
        self._of: dict[int, Access | None] = {}  # by node id: the node's access
        self._rows: dict[Rows | None, list[Access]] = {}
        self._nodes: dict[Rows | None, list[Node]] = {}
        self._spelled: dict[str, dict[str, list[Access]]] = {}  # word -> key -> accesses

    def _access(self, node: Node) -> Access | None:
        if node.id not in self._of:
            self._of[node.id] = make_access(self.fmap, self.mf, node, self._reads,
                                            self._writes)
        return self._of[node.id]

    def _key(self, rows: Rows | None) -> Rows | None:
        return None if rows is not None and covers(rows, self.mf.root) else rows

    def on_rows(self, rows: Rows | None = None) -> list[Access]:
        """Every access starting on ``rows`` (None: anywhere), in source order."""
        rows = self._key(rows)
        found = self._rows.get(rows)
        if found is None:
            found = self._rows[rows] = self.where(rows, _any)
        return found

    def where(self, rows: Rows | None, keep: Callable[[Node], bool]) -> list[Access]:
        """The accesses of ``on_rows(rows)`` made by the location expressions ``keep``
        accepts, in the same order (nothing is worked out for the others)."""
        rows = self._key(rows)
        nodes = self._nodes.get(rows)
        if nodes is None:
            nodes = self._nodes[rows] = location_nodes(self.mf, rows)
        return [a for node in nodes if keep(node) and (a := self._access(node)) is not None]

    def of_key(self, key: str) -> list[Access]:
        """The accesses of ``on_rows()`` whose key is ``key``, in the same order: found
        from the places the key's word (``key_word``) is spelled, the location
        expressions around each (all of them when the key has no such word). The
        accesses spelling a word are sorted by key once (many keys share a word: ``lock``
        of every struct), not searched again for each key."""
        word = key_word(key)
        if word is None:
            return [a for a in self.on_rows() if a.key == key]
        by_key = self._spelled.get(word)
        if by_key is None:
            root = self.mf.root
            by_key = self._spelled[word] = {}
            for node in locations_spelling(root, root.text or b"", root.start_byte, word):
                a = self._access(node)
                if a is not None:
                    by_key.setdefault(a.key, []).append(a)
        return list(by_key.get(key, ()))


def _any(node: Node) -> bool:
    return True
