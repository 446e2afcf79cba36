"""A lock taken only to test one location and conditionally store it (CON002).

The critical section between an exclusive acquire and its release (same block) must
hold exactly one ``if`` whose condition compares a shared location LOC (``!LOC``,
``LOC``, ``LOC == x``, ``LOC != x``), whose branches together store LOC exactly once, in
the branch that runs when LOC equals the compared value (what one cmpxchg() does), and
otherwise only assign local variables from *pure* expressions (locals, constants, LOC
itself, and calls the rule lists as pure conversions). Assignments of locals from pure
expressions may also stand before the ``if``. Anything else — a second shared location,
a list operation, a counter, another call, a return — is real work, and the section is
left alone. The acquire line is flagged; the wording names the lock as contended when it
is in the rule's ``contended_locks``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.cmap.access import LVALUES, call_name, compact, node_text, strip_parens
from reviewbot.cmap.locks import RELEASE
from reviewbot.cmap.rows import in_rows
from reviewbot.engine.check import Hit, render
from reviewbot.engine.params import Names

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import FileMap, MappedFragment
    from reviewbot.cmap.model import LockRegion


# Acquires that exclude every other holder (not read sides, not trylocks).
_EXCLUSIVE = frozenset(
    ["spin_lock", "spin_lock_irq", "spin_lock_irqsave", "spin_lock_bh", "spin_lock_nested",
     "raw_spin_lock", "raw_spin_lock_irq", "raw_spin_lock_irqsave", "raw_spin_lock_bh",
     "mutex_lock", "mutex_lock_nested", "mutex_lock_interruptible", "mutex_lock_killable",
     "write_lock", "write_lock_irq", "write_lock_irqsave", "write_lock_bh",
     "down_write", "down_write_killable", "mmap_write_lock"])


@dataclass(frozen=True)
class ContendedLock:
    lock: str  # the lock as the wording names it ("zone->lock")
    match: re.Pattern[str]  # searched in the normalised lock expression
    protects: str


@dataclass(frozen=True)
class Params:
    contended_note: str = ""  # the wording for a lock in contended_locks; {lock}
    other_note: str = ""  # ... for any other lock; {lock}, {location}
    pure_calls: Names = Names()  # calls that compute, without side effects
    pure_call_pattern: re.Pattern[str] | None = None  # ... and calls named like this
    marked_loads: Names = Names()
    marked_stores: Names = Names()
    contended_locks: tuple[ContendedLock, ...] = ()


class _Analyzer:
    def __init__(self, fmap: FileMap, mf: MappedFragment, know: Params,
                 globals_: frozenset[str]) -> None:
        self.fmap, self.mf, self.know = fmap, mf, know
        self.globals = globals_  # names the visible text declares at file scope

    def _line(self, node: Node) -> int:
        return self.mf.line_of(node.start_point[0]) or 0

    def is_local(self, node: Node) -> bool:
        """An identifier declared in the enclosing function (parameter or local)."""
        if node.type != "identifier":
            return False
        line = self._line(node)
        fn = self.fmap.function_at(line)
        d = self.fmap.decl(compact(node), line)
        return fn is not None and d is not None and (d.line == 0
                                                     or fn.start <= d.line <= fn.end)

    def is_global(self, node: Node) -> bool:
        """An identifier the visible text declares at file scope."""
        return node.type == "identifier" and compact(node) in self.globals

    def is_location(self, node: Node) -> bool:
        node = strip_parens(node)
        return node.type in LVALUES or self.is_global(node)

    def unmark(self, node: Node, names: frozenset[str]) -> Node:
        """``READ_ONCE(x)`` / ``smp_load_acquire(&x)`` (for ``names``) -> ``x``."""
        node = strip_parens(node)
        if call_name(node) not in names:
            return node
        args = node.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_children else None
        if first is None:
            return node
        first = strip_parens(first)
        if first.type == "pointer_expression":
            op = first.child_by_field_name("operator")
            inner = first.child_by_field_name("argument")
            if op is not None and op.type == "&" and inner is not None:
                return strip_parens(inner)
        return first

    def pure(self, node: Node, loc: Node) -> bool:
        """No side effect and no shared state other than ``loc`` itself."""
        node = self.unmark(node, self.know.marked_loads)
        if compact(node) == compact(loc):
            return True
        kind = node.type
        if kind in ("assignment_expression", "update_expression") or kind in LVALUES:
            return False
        if kind == "identifier":
            return self.is_local(node) or compact(node).isupper() or compact(node) == "NULL"
        if kind == "pointer_expression":
            op = node.child_by_field_name("operator")
            if op is not None and op.type == "*":
                return False
        if kind == "call_expression":
            name = call_name(node)
            pattern = self.know.pure_call_pattern
            if not (name in self.know.pure_calls or (
                    pattern is not None and pattern.search(name))):
                return False
            args = node.child_by_field_name("arguments")
            return args is None or all(self.pure(a, loc) for a in args.named_children
                                       if a is not None and a.type != "comment")
        return all(self.pure(c, loc) for c in node.named_children
                   if c is not None and c.type != "comment")

    def tested(self, cond: Node) -> tuple[Node, bool] | None:
        """(the location an ``if`` condition compares, whether the *then* branch runs
        when it equals the compared value); None for any other condition.

        ``!x`` and ``x == k`` run the then branch on equality, ``x`` and ``x != k`` the
        else branch: only a store made on equality is what one cmpxchg() does.
        """
        node = strip_parens(cond)
        equal = False  # a bare ``x`` means ``x != 0``
        while node.type == "unary_expression" and (
                (op := node.child_by_field_name("operator")) is not None and op.type == "!"):
            arg = node.child_by_field_name("argument")
            if arg is None:
                return None
            node = strip_parens(arg)
            equal = not equal
        if node.type == "binary_expression":
            op = node.child_by_field_name("operator")
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op is None or op.type not in ("==", "!=") or left is None or right is None:
                return None
            equal = (op.type == "==") != equal  # a leading "!" flips the comparison
            for a, b in ((left, right), (right, left)):
                a = self.unmark(a, self.know.marked_loads)
                if self.is_location(a) and self.pure(b, a) and not self.is_location(b):
                    return a, equal
            return None
        node = self.unmark(node, self.know.marked_loads)
        return (node, equal) if self.is_location(node) else None

    def assignment(self, stmt: Node) -> tuple[Node, Node] | None:
        """(left, right) of an ``a = b;`` or ``WRITE_ONCE(a, b);`` statement."""
        if stmt.type != "expression_statement" or stmt.named_child_count != 1:
            return None
        expr = stmt.named_children[0]
        if expr is not None and call_name(expr) in self.know.marked_stores:
            args = expr.child_by_field_name("arguments")
            named = [a for a in args.named_children if a is not None and a.type != "comment"] \
                if args is not None else []
            if len(named) != 2:
                return None
            return self.unmark(expr, self.know.marked_stores), named[1]
        if expr is None or expr.type != "assignment_expression":
            return None
        op = expr.child_by_field_name("operator")
        left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
        if op is None or op.type != "=" or left is None or right is None:
            return None
        return strip_parens(left), right

    def local_assignment(self, stmt: Node, loc: Node) -> bool:
        pair = self.assignment(stmt)
        return pair is not None and self.is_local(pair[0]) and self.pure(pair[1], loc)

    def stores(self, stmt: Node, loc: Node) -> bool:
        pair = self.assignment(stmt)
        return (pair is not None and compact(pair[0]) == compact(loc)
                and self.pure(pair[1], loc))

    def section(self, body: list[Node]) -> Node | None:
        """The location the section tests and publishes, when that is all it does."""
        ifs = [s for s in body if s.type == "if_statement"]
        if len(ifs) != 1:
            return None
        stmt = ifs[0]
        cond = stmt.child_by_field_name("condition")
        test = self.tested(cond) if cond is not None else None
        if test is None:
            return None
        loc, then_on_equal = test
        if not all(s is stmt or self.local_assignment(s, loc) for s in body):
            return None
        then = stmt.child_by_field_name("consequence")
        alt = stmt.child_by_field_name("alternative")
        other = (alt.named_children[0] if alt is not None and alt.type == "else_clause"
                 and alt.named_children else alt)
        stores: list[bool] = []  # per store: made on equality?
        for branch, on_equal in ((then, then_on_equal), (other, not then_on_equal)):
            if branch is None:
                continue
            for s in _statements(branch):
                if self.stores(s, loc):
                    stores.append(on_equal)
                elif not self.local_assignment(s, loc):
                    return None
        return loc if stores == [True] else None


def _statements(node: Node) -> list[Node]:
    if node.type == "compound_statement":
        return [c for c in node.named_children if c is not None and c.type != "comment"]
    return [node]


def _call_statement(node: Node) -> str:
    """The called name when ``node`` is ``name(...);``."""
    if node.type != "expression_statement" or node.named_child_count != 1:
        return ""
    return call_name(node.named_children[0])


def _find(fmap: FileMap, mf: MappedFragment, region: LockRegion) -> Iterator[Node]:
    """The acquire statement of ``region`` in this fragment."""
    rows = mf.rows_of_spans([(region.start, region.start)])
    if not rows:
        return
    overlaps = in_rows(rows)
    first, last = rows[0][0], rows[-1][1]
    stack = [mf.root]
    while stack:
        node = stack.pop()
        if not overlaps(node.start_point[0], node.end_point[0]):
            continue  # the statement starts on the acquire's row: only the nodes around it
        if node.type == "expression_statement":
            if mf.line_of(node.start_point[0]) == region.start and \
                    _call_statement(node) == region.call:
                yield node
            continue
        stack.extend(_children_on(node, first, last))


def _children_on(node: Node, first: int, last: int) -> Iterator[Node]:
    """The children of ``node`` that may hold rows ``first``..``last``, in order (found
    by the cursor: a file's root has thousands of children, one per function)."""
    cursor = node.walk()
    if cursor.goto_first_child_for_point((first, 0)) is None:
        return
    while cursor.node is not None and cursor.node.start_point[0] <= last:
        yield cursor.node
        if not cursor.goto_next_sibling():
            return


def _body(acquire: Node, region: LockRegion, mf: MappedFragment,
          analyzer: _Analyzer) -> list[Node] | None:
    """Statements between the acquire and its release, when both are in the same block
    and the statements can make a section (``_Analyzer.section``: one ``if``, the rest
    assignments). The walk stops at the first statement that cannot: a nested acquire is
    such a statement, so the walks of nested regions do not overlap (20,000 nested
    ``spin_lock`` lines took 269 s when every region walked to its release)."""
    out: list[Node] = []
    ifs = 0
    cur = acquire.next_named_sibling
    while cur is not None:
        line = mf.line_of(cur.start_point[0])
        if line is None or line > region.end:
            return None
        if line == region.end and _call_statement(cur) in RELEASE:
            return out
        if cur.type == "if_statement":
            ifs += 1
            if ifs > 1:
                return None
        elif cur.type != "comment" and analyzer.assignment(cur) is None:
            return None
        if cur.type != "comment":
            out.append(cur)
        cur = cur.next_named_sibling
    return None


def _values(region: LockRegion, loc: Node, know: Params) -> tuple[tuple[str, str], ...]:
    values = {"lock": region.lock, "location": node_text(loc)}
    known = next((c for c in know.contended_locks if c.match.search(region.lock)), None)
    note = know.contended_note if known is not None else know.other_note
    values["lock_note"] = render(note, values)
    values["contention"] = f" ({region.lock} is contended)" if known is not None else ""
    values["protects"] = known.protects if known is not None else ""
    return tuple(values.items())


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    """Flag the acquire of a critical section that only tests and stores one location."""
    fmap = file.map
    if fmap is None:
        return []
    know = params
    out: list[Hit] = []
    regions = [r for r in fmap.locks if r.start_known and r.end_known
               and r.start in fmap.added and r.call in _EXCLUSIVE]
    if not regions:
        return out
    # the fragments showing each acquire line, found once (not every fragment per region)
    starts = {r.start for r in regions}
    showing: dict[int, list[int]] = {}
    for j, mf in enumerate(fmap.fragments):
        for n in dict.fromkeys(n for n in mf.fragment.rows if n in starts):
            showing.setdefault(n, []).append(j)
    globals_ = frozenset(d.name for d in fmap.decls
                         if d.line and fmap.function_at(d.line) is None)
    analyzers: dict[int, _Analyzer] = {}
    for region in regions:
        for j in showing.get(region.start, ()):
            mf = fmap.fragments[j]
            analyzer = analyzers.get(j)
            if analyzer is None:
                analyzer = analyzers[j] = _Analyzer(fmap, mf, know, globals_)
            for acquire in _find(fmap, mf, region):
                body = _body(acquire, region, mf, analyzer)
                if not body:
                    continue
                loc = analyzer.section(body)
                if loc is not None:
                    out.append(Hit(file.path, region.start, _values(region, loc, know)))
    return out

