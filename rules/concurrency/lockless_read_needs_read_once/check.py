"""A lockless plain read of a location that is written concurrently (CON001).

Evidence of concurrency (see ``reviewbot.cmap.access`` for locations and their keys):

- ``lock``: the location is stored while a lock is held;
- ``rmw``: it is updated with an atomic read-modify-write (cmpxchg, xchg, ...);
- ``store``: it is stored with a marked store (WRITE_ONCE, smp_store_release).

An added line that reads the location with a plain access, outside any lock region, is
flagged when it races with one of those stores (see ``relevant``): the double-checked
"read, lock, test again, store" pattern inside one function (the test an ``if``/``?:``
condition under the store's lock, or the compare of a cmpxchg()), or a store in
another function that the patch adds, when the reading function provably runs without
the store's lock (it takes that lock itself elsewhere) or reads under RCU, or when the
store is an atomic RMW.

With an index of the tree, a double check whose only evidence is the reading
function's own store under a lock needs the tree to show the location shared
(``_unshared_in_tree``): a marked access of it anywhere, or a write of it with a lock
held in another function; a location the tree does not know is judged as without one.

It is not flagged when the read is marked (``marked_reads``), sits in an assertion
(``diagnostic_reads``: WARN_ON(), BUG_ON()...) or only goes into a log line (a call
of its own with a printf-style format: ``_logged``), when its base object is one the reading
task owns (``own_bases``: ``current``), when the function runs
single-threaded (``single_threaded`` annotations) or documents that its caller holds a
lock (``held_by_caller``, or a ``_locked`` name), or when the location is a lock, an RCU
pointer (stored with ``rcu_writes``; its readers need rcu_dereference()) or a member of a
local non-pointer variable. Only the first such read per function and location is
reported.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Literal, NamedTuple

from reviewbot.cmap.access import (
    LVALUES,
    Access,
    FragmentAccesses,
    call_name,
    classify,
    compact,
    key_word,
)
from reviewbot.cmap.rows import Rows, intersect, merge, subtract
from reviewbot.engine.check import Hit, render
from reviewbot.engine.params import Names

from ..tree_facts import acquired_keys, function_text, knowledge_of, member_facts, member_of

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import FileMap, MappedFragment
    from reviewbot.cmap.model import FunctionSpan
    from reviewbot.knowledge.lookup import Access as TreeAccess
    from reviewbot.knowledge.lookup import AccessFacts
    from reviewbot.knowledge.lookup import Knowledge as Index

NODE_KINDS = LVALUES  # the locations a line reads or writes (``cmap.access``)
How = Literal["lock", "rmw", "store"]


@dataclass(frozen=True)
class MarkedWrite:
    name: str
    kind: Literal["rmw", "store"]  # atomic read-modify-write, or a marked store
    reason: str
    # a compare-and-exchange: it stores only if the location still holds what the
    # function read, so it is the re-check of a read earlier in the same function
    compares: bool = False


@dataclass(frozen=True)
class Params:
    marked_reads: Names = Names()
    diagnostic_reads: Names = Names()  # assertions: their reads are not data reads
    own_bases: Names = Names()  # objects the reading task owns (current)
    marked_writes: tuple[MarkedWrite, ...] = ()
    rcu_writes: Names = Names()
    single_threaded: Names = Names()  # annotations of functions that run alone
    # a function whose header or body matches runs with its caller's lock
    held_by_caller: re.Pattern[str] | None = None
    unprotecting_locks: tuple[str, ...] = ()  # regions that do not exclude a writer (rcu)
    paired_store: str = ""  # the WRITE_ONCE() hint; {lock}, {where}


class Knowledge(NamedTuple):
    marked_reads: frozenset[str]
    diagnostic_reads: frozenset[str]
    own_bases: frozenset[str]
    rmw_writes: frozenset[str]
    compare_writes: frozenset[str]  # the rmw writes that check the old value (cmpxchg)
    store_writes: frozenset[str]
    rcu_writes: frozenset[str]
    single_threaded: frozenset[str]
    held_by_caller: re.Pattern[str] | None
    unprotecting_locks: frozenset[str]  # regions that do not exclude writers (rcu)
    paired_store: str
    all_writes: frozenset[str]  # rmw, store and rcu writes
    marked: tuple[frozenset[str], frozenset[str]]  # the (reads, writes) that are marked


class Evidence(NamedTuple):
    """A store that shows a location is shared: how, and where."""

    how: How
    via: str  # the lock ("hugetlb_lock") or the macro ("cmpxchg")
    lock: str  # the lock held at the store ("" when none is visible)
    function: str
    line: int
    file: str
    added_function: bool  # the store is in a function the patch adds

    def describe(self, here: str) -> str:
        what = f"under {self.via}" if self.how == "lock" else f"with {self.via}()"
        where = f"{what} in {self.function}()"
        return where if self.file == here else f"{where} ({self.file})"


class Reader(NamedTuple):
    """The plain read being judged, and what its function shows about locking."""

    access: Access
    function: FunctionSpan
    path: str
    acquires: frozenset[str]  # locks the function takes itself (so it is not called with them)
    in_rcu: bool  # the read is inside an RCU read-side section: a lockless reader


def knowledge(params: Params) -> Knowledge:
    """The rule's params, as the check asks them."""
    rmw = frozenset(e.name for e in params.marked_writes if e.kind == "rmw")
    store = frozenset(e.name for e in params.marked_writes if e.kind == "store")
    writes = rmw | store | params.rcu_writes
    return Knowledge(
        marked_reads=params.marked_reads,
        diagnostic_reads=params.diagnostic_reads,
        own_bases=params.own_bases,
        rmw_writes=rmw,
        compare_writes=frozenset(e.name for e in params.marked_writes if e.compares),
        store_writes=store,
        rcu_writes=params.rcu_writes,
        single_threaded=params.single_threaded,
        held_by_caller=params.held_by_caller,
        unprotecting_locks=frozenset(params.unprotecting_locks),
        paired_store=params.paired_store,
        all_writes=writes,
        marked=(params.marked_reads | params.diagnostic_reads, writes),
    )


def _held(fmap: FileMap, line: int, know: Knowledge) -> list[str]:
    return [r.lock for r in fmap.locks_at(line) if r.lock not in know.unprotecting_locks]


def _evidence(fmap: FileMap, path: str, a: Access, know: Knowledge) -> Evidence | None:
    """The store ``a`` as evidence of sharing, if it is one."""
    if a.local or a.kind not in ("write", "marked_write"):
        return None
    fn = fmap.function_at(a.line)
    if fn is None:
        return None
    held = _held(fmap, a.line, know)
    lock = held[0] if held else ""
    how: How
    if a.kind == "marked_write":
        how, via = ("rmw" if a.via in know.rmw_writes else "store"), a.via
    elif lock:
        how, via = "lock", lock
    else:
        return None
    return Evidence(how, via, lock, fn.name, a.line, path, fmap.adds(fn))


def is_store(node: Node, marked_reads: frozenset[str], marked_writes: frozenset[str]
             ) -> bool:
    """The access the location expression ``node`` makes (if any) is a write or a marked
    write: ``make_access`` would give one of those kinds (its ``classify``)."""
    use = classify(node, marked_reads, marked_writes)
    return use is not None and use[0] in ("write", "marked_write")


# where a store stands in the patch, for putting stores back in patch order: (file,
# fragment, line); a fragment's rows have increasing lines
Place = tuple[int, int, int]
Stores = dict[str, list[tuple[Place, "Evidence"]]]


class Sharing:
    """The stores in the patch's visible code that show a location is shared, per
    location key, worked out only as far as a reader needs them (one per patch, kept
    by the patch's analysis).

    Every store of the patch's files counts, and a key is out when the location is
    anywhere a lock or an RCU pointer. Only two kinds of store can make a read race
    (see ``relevant``): one in a function of the reader's name and file, and one in a
    function the patch adds; so only those functions are analysed for stores, and the
    rest of the files only where a key that would be reported is spelled.

    The stores of the added functions are the same for every reader: they are found
    once, and each reader's own function adds only its other rows (a patch that adds
    a thousand functions is not scanned a thousand times). Files and fragments are
    known by their position in the patch (``i``) and in the file's map (``j``).
    """

    def __init__(self, patch: PatchAnalysis, know: Knowledge) -> None:
        self.patch, self.know = patch, know
        # per file, per fragment: the accesses, each location's worked out once
        self.accesses = [[FragmentAccesses(f.map, mf, *know.marked) for mf in f.map.fragments]
                         if f.map is not None else [] for f in patch.files]
        self._added: Stores | None = None
        self._named: dict[tuple[str, str], Stores] = {}
        self._stores: dict[tuple[str, str, str], list[Evidence]] = {}
        self._rows: dict[tuple[int, int], Rows] = {}
        self._fns: dict[int, tuple[list[tuple[int, int]],
                                   dict[str, list[FunctionSpan]]]] = {}
        self._excluded: dict[str, bool] = {}
        self._marked: dict[str, bool] = {}
        self._tests: dict[tuple[int, str], list[Access]] = {}
        self._store_rows: dict[tuple[int, int], Rows | None] = {}
        self._locked: dict[int, set[int]] = {}
        self._keys: tuple[frozenset[str] | None] | None = None  # (evidence_keys(),)
        self._none: bool | None = None

    def _maps(self) -> Iterator[tuple[int, FileAnalysis, FileMap]]:
        for i, file in enumerate(self.patch.files):
            if file.map is not None:
                yield i, file, file.map

    def store_rows(self, i: int, j: int) -> Rows | None:
        """The rows of fragment ``j`` of file ``i`` where ``_evidence`` can find a store
        (None: any row).

        A store is evidence only when it is a marked write (its macro's name is then in
        the fragment's text: any row) or made with a lock held: on a line strictly
        inside a lock region, or on the first visible line of one taken above. Tree
        mode adds regions per function (``expand``): any row there.
        """
        if (i, j) in self._store_rows:
            return self._store_rows[(i, j)]
        fmap = self.patch.files[i].map
        assert fmap is not None
        mf = fmap.fragments[j]
        rows: Rows | None = None
        text = mf.fragment.text
        if fmap.expand is None and not any(w in text for w in self.know.all_writes):
            rows = mf.rows_of_lines(self._locked_lines(i, fmap))
        self._store_rows[(i, j)] = rows
        return rows

    def _locked_lines(self, i: int, fmap: FileMap) -> set[int]:
        """The lines of file ``i`` run with a (protecting) lock held, or taken above."""
        found = self._locked.get(i)
        if found is None:
            found = self._locked[i] = set()
            # the union of the regions' spans, merged first: nested regions held each
            # line many times over (10,000 nested regions took 7 s)
            held = (r.held_lines() for r in fmap.locks
                    if r.lock not in self.know.unprotecting_locks)
            for first, last in merge((h.start, h.stop - 1) for h in held if len(h)):
                found.update(range(first, last + 1))
        return found

    def evidence_keys(self) -> frozenset[str] | None:
        """The keys of every store in the patch that is evidence (``stores`` never
        gives one of another key); None in tree mode (whole files: not worked out)."""
        if self._keys is None:
            self._keys = (self._evidence_keys(),)
        return self._keys[0]

    def _evidence_keys(self) -> frozenset[str] | None:
        found: set[str] = set()
        for i, file, fmap in self._maps():
            if fmap.expand is not None:
                return None
            for j, mf in enumerate(fmap.fragments):
                if mf.focus is not None:
                    return None
                rows = self.store_rows(i, j)
                if rows == ():
                    continue
                # only a store can be evidence (``_evidence``): the other location
                # expressions are not worked out into accesses
                stored = self.accesses[i][j].where(rows, self._is_store)
                found.update(a.key for a in stored
                             if _evidence(fmap, file.path, a, self.know) is not None)
        return frozenset(found)

    def _is_store(self, node: Node) -> bool:
        return is_store(node, *self.know.marked)

    def none_possible(self) -> bool:
        """No row of the patch's files can hold a store that is evidence."""
        if self._none is None:
            self._none = all(self.store_rows(i, j) == () for i, _, fmap in self._maps()
                             for j in range(len(fmap.fragments)))
        return self._none

    def stores(self, path: str, function: str, key: str) -> list[Evidence]:
        """The stores of ``key`` that can race with a read in ``function`` of ``path``
        (and maybe others), in patch order."""
        found = self._stores.get((path, function, key))
        if found is None:
            if self._added is None:
                self._added = self._scan(None, None)
            named = self._named.get((path, function))
            if named is None:
                named = self._named[(path, function)] = self._scan(path, function)
            merged = heapq.merge(self._added.get(key, ()), named.get(key, ()),
                                 key=lambda pe: pe[0])
            found = self._stores[(path, function, key)] = [e for _, e in merged]
        return found

    def _scan(self, path: str | None, function: str | None) -> Stores:
        """With no ``function``: the stores in the functions the patch adds. Else the
        stores in ``function`` of ``path`` on rows no added function holds."""
        out: Stores = {}
        for i, file, fmap in self._maps():
            added, by_name = self._functions(i, fmap)
            named = [] if function is None or file.path != path else [
                (fn.start, fn.end) for fn in by_name.get(function, ()) if not fmap.adds(fn)]
            if not (added or named):
                continue
            for j, mf in enumerate(fmap.fragments):
                rows = self._added_rows(i, j, mf, added)
                if function is not None:
                    rows = subtract(mf.rows_of_spans(named), rows)
                possible = self.store_rows(i, j)
                if possible is not None:
                    rows = intersect(rows, possible)
                if not rows:
                    continue
                for a in self.accesses[i][j].on_rows(rows):
                    e = _evidence(fmap, file.path, a, self.know)
                    if e is not None:
                        out.setdefault(a.key, []).append(((i, j, a.line), e))
        return out

    def _functions(self, i: int, fmap: FileMap
                   ) -> tuple[list[tuple[int, int]], dict[str, list[FunctionSpan]]]:
        """File ``i``'s added functions' spans, and its functions by name (in order)."""
        found = self._fns.get(i)
        if found is None:
            by_name: dict[str, list[FunctionSpan]] = {}
            for fn in fmap.functions:
                by_name.setdefault(fn.name, []).append(fn)
            found = self._fns[i] = ([(fn.start, fn.end) for fn in fmap.functions
                                     if fmap.adds(fn)], by_name)
        return found

    def _added_rows(self, i: int, j: int, mf: MappedFragment,
                    spans: list[tuple[int, int]]) -> Rows:
        """The rows of fragment ``j`` of file ``i`` in functions the patch adds."""
        found = self._rows.get((i, j))
        if found is None:
            found = self._rows[(i, j)] = mf.rows_of_spans(spans)
        return found

    def tests(self, i: int, key: str) -> list[Access]:
        """The reads of ``key`` in file ``i`` that are (part of) the condition of an
        ``if`` or a ``?:`` (``_tested``), worked out once per file and key."""
        found = self._tests.get((i, key))
        if found is None:
            found = self._tests[(i, key)] = []
            tested = partial(_tested, writes=self.know.marked[1])
            for frag in self.accesses[i]:
                lines = {x.line for x in frag.of_key(key) if x.kind in ("read", "marked_read")}
                if lines:
                    found.extend(x for x in frag.where(frag.mf.rows_of_lines(lines), tested)
                                 if x.key == key and x.kind in ("read", "marked_read"))
        return found

    def marked(self, key: str) -> bool:
        """The patch's files access the location with a marked read or write somewhere
        (READ_ONCE(), WRITE_ONCE(), cmpxchg()...; an assertion is not a marking)."""
        found = self._marked.get(key)
        if found is None:
            found = self._marked[key] = any(
                (a.kind == "marked_read" and a.via not in self.know.diagnostic_reads)
                or a.kind == "marked_write"
                for i, _, _ in self._maps() for frag in self.accesses[i]
                for a in frag.of_key(key))
        return found

    def excluded(self, key: str) -> bool:
        """The location is a lock, or an RCU pointer, somewhere in the patch's files."""
        found = self._excluded.get(key)
        if found is None:
            found = self._excluded[key] = any(
                a.kind == "lock" or (a.kind == "marked_write" and a.via in self.know.rcu_writes)
                for i, _, _ in self._maps() for frag in self.accesses[i]
                for a in frag.of_key(key))
        return found


def relevant(found: Iterable[Evidence], r: Reader,
             rechecked: Callable[[Evidence], bool]) -> list[Evidence]:
    """The stores this plain read races with (empty: no evidence that it does).

    - later in the same function, the double-checked pattern: the function checks the
      location again before the store (``rechecked``): a compare-and-exchange
      (cmpxchg(): the compare is the check), or a store under a lock L the function
      takes itself (so it does not run with L held) after testing the location again
      under L;
    - in another function the patch adds: an atomic RMW (it races with every reader);
      a store under lock L when the reading function takes L itself elsewhere and
      reads outside it; any store when the read sits in an RCU read-side section.

    A function that stores the location with a marked store and no visible lock is the
    serialised updater: its own plain reads are fine. One that reads and then stores
    without checking again (under the lock, or by the compare of a cmpxchg()) treats
    the value as stable (a lock its caller holds, an object it owns or has not
    published, a single writer): no evidence.
    """
    fn, read = r.function, r.access
    found = list(found)
    same = [e for e in found if e.function == fn.name and e.file == r.path]
    if any(e.how == "store" and not e.lock for e in same):
        return []
    out: list[Evidence] = []
    for e in found:
        mine = e.function == fn.name and e.file == r.path
        locked = bool(e.lock) and e.lock in r.acquires
        if mine:
            if e.line > read.line and (e.how == "rmw" or locked) and rechecked(e):
                out.append(e)
        elif e.added_function and (e.how == "rmw" or r.in_rcu or locked):
            out.append(e)
    return out


def _rechecks(fmap: FileMap, tests: Callable[[], list[Access]], read: Access,
              know: Knowledge) -> Callable[[Evidence], bool]:
    """Whether the reading function checks the location of ``read`` again before the
    store ``e`` in the same function: ``e`` is a compare-and-exchange, or the function
    tests the location after the read and inside the lock region that holds ``e`` (on
    a line up to the store's). ``tests``: the reads of the location in the condition of
    an ``if`` or a ``?:`` (``Sharing.tests``); a read that only uses the value under the
    lock (an argument, the right-hand side of the store, a loop over it) is not a
    re-check."""
    def rechecked(e: Evidence) -> bool:
        if e.how == "rmw":
            return e.via in know.compare_writes
        regions = [g for g in fmap.locks_at(e.line) if g.lock == e.lock]
        return any(read.line < x.line <= e.line and g.holds(x.line)
                   for x in tests() for g in regions)
    return rechecked


_TESTS = {"if_statement": "condition", "conditional_expression": "condition"}
_STATEMENTS = frozenset(("expression_statement", "declaration", "return_statement",
                         "compound_statement", "for_statement", "while_statement",
                         "do_statement", "switch_statement", "function_definition"))


def _tested(node: Node, writes: frozenset[str]) -> bool:
    """The expression ``node`` is (part of) the condition of an ``if`` or a ``?:``, and
    not a value handed to a marked write there (``cmpxchg(&p->next, NULL, fe->head)``
    stores ``fe->head``, it does not test it)."""
    cur = node
    while (parent := cur.parent) is not None and parent.type not in _STATEMENTS:
        if parent.type == "argument_list" and call_name(parent.parent) in writes:
            return False
        field = _TESTS.get(parent.type)
        if field is not None:
            cond = parent.child_by_field_name(field)
            return cond is not None and cond.id == cur.id
        cur = parent
    return False


def _acquires(fmap: FileMap, fn: FunctionSpan, know: Knowledge) -> frozenset[str]:
    return frozenset(r.lock for r in fmap.index.locks_starting(fn.start, fn.end)
                     if r.start_known and r.lock not in know.unprotecting_locks)


def _single_threaded(fn: FunctionSpan, know: Knowledge) -> bool:
    words = set(re.findall(r"\w+", fn.signature))
    return bool(words & know.single_threaded)


def _caller_holds_lock(fmap: FileMap, fn: FunctionSpan, know: Knowledge) -> bool:
    if fn.name.endswith("_locked"):
        return True
    if know.held_by_caller is None:
        return False
    body = "\n".join(fmap.text[n] for n in range(fn.start, fn.end + 1) if n in fmap.text)
    return bool(know.held_by_caller.search(fn.signature) or know.held_by_caller.search(body))


def _paired(know: Knowledge, found: list[Evidence], r: Reader) -> str:
    """The WRITE_ONCE() hint for a plain store under a lock (marked stores need none)."""
    plain = next((e for e in found if e.how == "lock"), None)
    if plain is None or not know.paired_store:
        return ""
    here = plain.function == r.function.name and plain.file == r.path
    where = "" if here else f" in {plain.function}()"
    return " " + render(know.paired_store, {"lock": plain.lock, "where": where})


def _added_reads(fmap: FileMap, frags: list[FragmentAccesses],
                 keys: frozenset[str] | None = None) -> list[Access]:
    """Plain reads of shared-looking locations on added lines, in source order; with
    ``keys``, only the reads of those locations.

    An access spells its key's word (``key_word``) in its text, blanks dropped: with
    ``keys``, only the location expressions that spell one of the keys' words are
    worked out into accesses (all of them when a key has no word)."""
    words = {key_word(k) for k in keys} if keys is not None else {None}

    def spells(node: Node) -> bool:
        text = compact(node)
        return any(w in text for w in words if w is not None)

    keep = spells if None not in words else _any_node
    return [a for frag in frags for a in frag.where(frag.mf.added_rows, keep)
            if (keys is None or a.key in keys) and a.kind == "read" and not a.local
            and a.line in fmap.added]


def _logged_reads(frags: list[FragmentAccesses], reads: list[Access],
                  where: Callable[[Node], bool] | None = None) -> frozenset[Access]:
    """The reads of ``reads`` that only go into a log line (``_logged``), or those whose
    expression ``where`` accepts."""
    if not reads:
        return frozenset()
    lines = {a.line for a in reads}
    keep = where or _logged
    return frozenset(a for frag in frags
                     for a in frag.where(frag.mf.rows_of_lines(lines), keep)) \
        & frozenset(reads)


def _passed(node: Node) -> bool:
    """The location expression is itself an argument of a call (``test_bit(n,
    p->map)``, ``fill_map(p->map, n)``)."""
    return node.parent is not None and node.parent.type == "argument_list"


def _bitmap(facts: AccessFacts) -> bool:
    """The tree writes the location only with bit operations (set_bit(), clear_bit(),
    ...; at least one): a bitmap. Passed to a call by its name, such a member is the
    array's address (``test_bit(n, dlm->domain_map)``), not a load of it."""
    writes = facts.total(op="write") + facts.total(op="rmw")
    return writes > 0 and writes == facts.total("bitop", "write") + facts.total("bitop", "rmw")


# an assertion that a lock is held: WARN_ON(!mutex_is_locked(&m)), lockdep_is_held()
_LOCK_ASSERTED = re.compile(r"\b(?:WARN_ON|WARN_ON_ONCE|BUG_ON|WARN)\s*\(\s*!\s*"
                            r"(?:\w+_is_locked|lockdep_is_held)\s*\(")


# a printf-style conversion in a string literal (%d, %lu, %.*s, %pK...): a formatted message
_CONVERSION = re.compile(r"%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[hlLzjt]*[diouxXcspfFeEgGaA]")
_STRINGS = frozenset(("string_literal", "concatenated_string"))


def _logged(node: Node) -> bool:
    """The read is (part of) an argument of a call that is a statement of its own and
    formats a message: a string literal with a printf-style conversion among its
    arguments (``mlog(0, "level %d\\n", res->level);``, pr_debug(), dev_dbg(),
    cifs_dbg(), seq_printf()), or a tracepoint (``trace_foo(..., p->x);``: the kernel's
    tracepoints are its ``trace_`` calls, their format is in the event's definition).
    The value only goes into a log line or a trace record: a racy one costs a
    wrong number there at worst, and the marking for such a diagnostic read is
    data_race(), not READ_ONCE() (tools/memory-model/Documentation/access-marking.txt).
    A formatted value the code goes on to use (``return sysfs_emit(buf, "%d", p->x)``,
    ``len += sprintf(...)``) is not a statement of its own: still a read. So is a
    logged read of a location the patch or the tree marks elsewhere (``_marked``):
    its authors mark even such reads (mptcp_pm_allow_new_subflow()'s pr_debug() of
    READ_ONCE(pm->accept_subflow))."""
    cur = node
    while (parent := cur.parent) is not None and parent.type not in _STATEMENTS:
        if parent.type == "call_expression" and parent.parent is not None \
                and parent.parent.type == "expression_statement":
            if call_name(parent).startswith("trace_"):
                return True  # a tracepoint: the value goes into a trace record
            args = parent.child_by_field_name("arguments")
            if args is not None and any(c.type in _STRINGS and _CONVERSION.search(
                    (c.text or b"").decode("utf-8", "replace")) for c in args.named_children):
                return True
        cur = parent
    return False


def _own_store_first(fmap: FileMap, frags: list[FragmentAccesses], read: Access,
                     fn: FunctionSpan, know: Knowledge) -> bool:
    """The reading function itself stores the location plainly, with no lock held,
    before the read: the value it reads is its own (an output structure it fills in),
    whatever lock a later store happens to sit under."""
    return any(w.kind == "write" and fn.start <= w.line < read.line
               and not _held(fmap, w.line, know)
               for frag in frags for w in frag.of_key(read.key))


def _any_node(node: Node) -> bool:
    return True


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    """Flag the first plain lockless read per function of a concurrently written location:
    written so in the patch, or (with an index) in the tree."""
    fmap = file.map
    if fmap is None:
        return []
    # kept for the patch: CON008 asks for CON001's lines of each file too (not to say
    # them twice), and with both rules selected they were worked out twice
    position = file.position
    return patch.kept(f"{__name__}:hits:{position}",
                      lambda: _file_hits(patch, file, fmap, params))


def _file_hits(patch: PatchAnalysis, file: FileAnalysis, fmap: FileMap, params: Params
               ) -> list[Hit]:
    hits = _patch_hits(patch, file, fmap, params)
    know = knowledge_of(patch)
    if know is None:
        return hits
    return hits + tree_hits(patch, file, fmap, sharing_of(patch, params), know, hits)


def sharing_of(patch: PatchAnalysis, params: Params) -> Sharing:
    """The patch's ``Sharing`` (one per patch, whichever rule asks first)."""
    return patch.kept(__name__, lambda: Sharing(patch, knowledge(params)))


def _patch_hits(patch: PatchAnalysis, file: FileAnalysis, fmap: FileMap, params: Params
                ) -> list[Hit]:
    """The reads that race with a store the patch shows."""
    sharing = sharing_of(patch, params)
    know = sharing.know
    if sharing.none_possible():  # no store anywhere can make a read race
        return []
    keys = sharing.evidence_keys()
    if keys is not None and not keys:
        return []
    # a read of a key no store has finds no store (``stores``): only the others count
    position = file.position
    frags = sharing.accesses[position]
    reads = _added_reads(fmap, frags, keys)
    if not reads:
        return []
    logged = _logged_reads(frags, reads)
    out: list[Hit] = []
    index = knowledge_of(patch)
    reported: set[tuple[str, str]] = set()
    quiet: dict[FunctionSpan, bool] = {}  # the function runs alone or with the lock held
    acquires: dict[FunctionSpan, frozenset[str]] = {}
    for a in reads:
        base = re.match(r"\w+", a.key)
        if base is not None and base.group(0) in know.own_bases:
            continue
        fn = fmap.function_at(a.line)
        if fn is None or (fn.name, a.key) in reported:
            continue
        stores = sharing.stores(file.path, fn.name, a.key)
        if not stores or _held(fmap, a.line, know):
            continue
        if fn not in quiet:
            quiet[fn] = _single_threaded(fn, know) or _caller_holds_lock(fmap, fn, know)
        if quiet[fn]:
            continue
        if fn not in acquires:
            acquires[fn] = _acquires(fmap, fn, know)
        reader = Reader(a, fn, file.path, acquires[fn],
                        any(x.lock in know.unprotecting_locks for x in fmap.locks_at(a.line)))
        found = relevant(stores, reader,
                         _rechecks(fmap, partial(sharing.tests, position, a.key), a, know))
        if not found or sharing.excluded(a.key) or _own_store_first(fmap, frags, a, fn, know):
            continue
        if index is not None and _unshared_in_tree(patch, index, a.key, found, reader):
            continue
        if a in logged and not _marked(patch, sharing, index, a.key):
            continue
        reported.add((fn.name, a.key))
        out.append(Hit(file.path, a.line, (("location", a.text),
                                         ("evidence", found[0].describe(file.path)),
                                         ("paired", _paired(know, found, reader)))))
    return out


def _unshared_in_tree(patch: PatchAnalysis, index: Index, key: str, found: list[Evidence],
                      r: Reader) -> bool:
    """The only evidence is the reading function's own store under a lock, and the tree's
    index knows the location but shows nothing that makes it shared beyond that function:
    no access anywhere in the tree is marked (READ_ONCE(), WRITE_ONCE(), an atomic or a
    bit operation, data_race()...), and no function of another name writes it with a
    lock held.
    The function's lock then protects something else, and its double check guards data
    the tree treats as owned: the caller's structure (an iattr, a lock request, an
    irqaction not yet published) or state set up single-threaded. A location the tree
    does not know (a new member, a global, an untyped chain) is judged as without an
    index; a store the patch shows in another function, or a marked one, is the patch's
    own evidence of sharing."""
    if any(e.how != "lock" or e.function != r.function.name or e.file != r.path
           for e in found):
        return False
    facts = _typed_facts(patch, index, key)
    if facts is None or not facts.counts or facts.marked_count:
        return False
    struct, member = member_of(key)
    # the function's own copy in the tree is this function (in whichever file: a patch
    # may move it), not another writer
    writers = index.locked_writers(struct, member, "" if struct else key)
    return all(w.function == r.function.name for w in writers)


def _marked(patch: PatchAnalysis, sharing: Sharing, index: Index | None, key: str) -> bool:
    """The patch, or the tree's index, accesses the location with a marked access
    somewhere: its authors mark its accesses, so even a read that only goes into a log
    line is one KCSAN reports (``_logged``)."""
    if sharing.marked(key):
        return True
    facts = _typed_facts(patch, index, key) if index is not None else None
    return facts is not None and facts.marked_count > 0


def _typed_facts(patch: PatchAnalysis, index: Index, key: str) -> AccessFacts | None:
    """How the tree accesses the location of a typed key: a struct member (through any
    name of its type), or a typed chain of several links (the location's own facts);
    None for a global or an untyped key (not looked up: a name is not a type)."""
    struct, member = member_of(key)
    if struct:
        return member_facts(patch, index, struct, member)
    return index.location(key) if key.startswith("<") else None


def tree_hits(patch: PatchAnalysis, file: FileAnalysis, fmap: FileMap, sharing: Sharing,
              index: Index, done: list[Hit], elsewhere: bool = False) -> list[Hit]:
    """The plain lockless reads the patch shows no store for, that race with stores the
    tree's index knows in the reading function itself (CON001): the tree's copy of it
    updates the location with cmpxchg()/xchg() (read, then cmpxchg), or reads it with
    READ_ONCE() and later stores it under a lock or atomically (``_own_evidence``).
    With ``elsewhere`` (CON008, preview): the member is written mostly under a lock
    that the reading function visibly takes after the read, on the same object (or a
    global lock), and under which it tests the location again (the condition of an
    ``if`` or a ``?:``, ``Sharing.tests``; a use of the value there is no re-check, as
    for CON001): the double-checked "read, lock, check again" whose store is elsewhere
    in the tree. Quiet also in a function that asserts a lock is held
    (``_LOCK_ASSERTED``) and for a bitmap passed by its name to a call (``_bitmap``).
    The same quiet cases as for the patch's own stores, and a function that stores the
    location itself outside any lock (it owns the object); RCU pointers are CON006's."""
    know = sharing.know
    frags = sharing.accesses[file.position]
    reported = {h.line for h in done}
    seen: set[tuple[str, str]] = set()
    out: list[Hit] = []
    quiet: dict[FunctionSpan, bool] = {}
    own: dict[FunctionSpan, tuple[TreeAccess, ...]] = {}
    reads = _added_reads(fmap, frags)
    logged = _logged_reads(frags, reads)
    passed = _logged_reads(frags, reads, _passed) if elsewhere else frozenset()
    asserted: dict[FunctionSpan, bool] = {}
    for a in reads:
        struct, member = member_of(a.key)
        base = re.match(r"\w+", a.text)
        if base is None or a.line in reported or base.group(0) in know.own_bases:
            continue
        fn = fmap.function_at(a.line)
        if fn is None or (fn.name, a.key) in seen or _held(fmap, a.line, know):
            continue
        if not struct and fn.complete:
            continue
        if fn not in quiet:  # a _nolock function leaves the locking to its caller
            quiet[fn] = _single_threaded(fn, know) or _caller_holds_lock(fmap, fn, know) \
                or fn.name.endswith("_nolock")
        if elsewhere and fn not in asserted:  # the function asserts a lock is held
            asserted[fn] = bool(_LOCK_ASSERTED.search(function_text(fmap, fn)))
        owns = _owns(fmap, frags, fn, a, know)
        if quiet[fn] or sharing.excluded(a.key) or "write" in owns:
            continue
        if not fn.complete and fn not in own:  # the hunks show part of it: the tree's
            own[fn] = index.accesses_in(fn.name, file.path)  # copy shows the rest
        key = a.key if struct or a.key.startswith("<") else _typed(
            own.get(fn, ()), a.key, base.group(0)) or ""
        struct, member = member_of(key)
        if struct:
            facts = member_facts(patch, index, struct, member)
        elif key.startswith("<"):  # a typed chain of several links (p->a.b): the
            facts = index.location(key)  # location's own facts
        elif any(x.key == a.key for x in own.get(fn, ())):  # the tree's copy of the
            key, facts = a.key, index.location(a.key)  # function keys it so: a global
        else:
            continue
        if facts.rcu or (a in logged and not facts.marked_count
                         and not sharing.marked(a.key)):
            continue
        if elsewhere:
            if (a in passed and _bitmap(facts)) or asserted.get(fn, False):
                continue
            later = _locks_after(fmap, fn, a.line, base.group(0), know)
            # the locks held where the function tests the location again after the read
            again = {r.lock for x in sharing.tests(file.position, a.key)
                     if a.line < x.line <= fn.end for r in fmap.locks_at(x.line)}
            later = {k: v for k, v in later.items() if v in again}
            evidence = _tree_evidence(facts, fn, file.path, later, know)
        else:  # an unlocked WRITE_ONCE() of its own makes the function the serialised
            # updater, unless the tree's copy of it reads the location with READ_ONCE()
            # there: its author marked the read because other writers race with it
            rmw = None if owns else _rmw_evidence(facts, fn, file.path, know)
            evidence = rmw or _own_evidence(own.get(fn, ()), key, know)
        if evidence is None or (owns and elsewhere):
            continue
        seen.add((fn.name, a.key))
        out.append(Hit(file.path, a.line, (("location", a.text), ("evidence", evidence[0]),
                                         ("paired", evidence[1]))))
    return out


def _typed(own: tuple[TreeAccess, ...], key: str, base: str) -> str | None:
    """The typed key (``<struct foo*>->bar``) of ``key`` (``foo->bar``, its base not
    declared in the hunk) as the tree's copy of the function keys the same chain: one
    key, else None (two types reach it, or the tree's function does not access it)."""
    chain = key[len(base):]
    found = {x.key for x in own if x.key.startswith("<") and x.key.endswith(">" + chain)}
    return found.pop() if len(found) == 1 else None


def _own_evidence(own: tuple[TreeAccess, ...], key: str, know: Knowledge
                  ) -> tuple[str, str] | None:
    """The double-checked pattern in the tree's copy of the reading function, for a
    hunk that shows only part of it: the tree's function reads the location with a
    marked read (READ_ONCE()...), then stores it under a lock, atomically (cmpxchg())
    or with a marked store (WRITE_ONCE()). The patch's plain read races with that store
    as the tree's marked one does."""
    read = next((x for x in own if x.key == key and x.op == "read"
                 and x.how in ("once", "acquire_release")), None)
    if read is None:
        return None
    store = next((x for x in own if x.key == key and x.op != "read"
                  and x.site.line > read.site.line
                  and (x.locks or x.how in ("once", "acquire_release", "atomic"))), None)
    if store is None:
        return None
    how = f"under {store.locks.split(',')[0]}" if store.locks else f"with {store.via}()"
    return (f"{how} in {store.site.function}() ({store.site}), which reads it with "
            f"{read.via}() at {read.site.file}:{read.site.line}", "")


def _locks_after(fmap: FileMap, fn: FunctionSpan, line: int, base: str, know: Knowledge
                 ) -> dict[str, str]:
    """The locks ``fn`` visibly takes after ``line``, on the object ``base`` (``base->lock``)
    or global (``hugetlb_lock``), keyed as written and as the index keys them."""
    return {k: v for k, v in acquired_keys(fmap, fn, know.unprotecting_locks,
                                           first=line + 1).items()
            if re.fullmatch(r"\w+", v) or re.match(re.escape(base) + r"\b", v)}


def _owns(fmap: FileMap, frags: list[FragmentAccesses], fn: FunctionSpan, a: Access,
          know: Knowledge) -> set[str]:
    """The kinds (``write``, ``marked_write``) of the stores of the location that the
    reading function itself makes outside any lock: it owns the object there (a request
    being set up, the serialised updater). Empty: none."""
    return {x.kind for frag in frags for x in frag.of_key(a.key)
            if x.kind in ("write", "marked_write") and fn.start <= x.line <= fn.end
            and not _held(fmap, x.line, know)}


def _rmw_evidence(facts: AccessFacts, fn: FunctionSpan, path: str, know: Knowledge
                  ) -> tuple[str, str] | None:
    """The tree's copy of the reading function updates the location with a
    compare-and-exchange (cmpxchg(): its compare is the re-check): the plain read races
    with that update (read, then cmpxchg). An xchg() there checks nothing: no evidence."""
    rmw = next((x for x in facts.marked if x.op == "rmw" and x.via in know.compare_writes
                and x.site.function == fn.name and x.site.file == path), None)
    if rmw is not None:
        return f"with {rmw.via}() in {fn.name}() ({rmw.site})", ""
    return None


def _tree_evidence(facts: AccessFacts, fn: FunctionSpan, path: str, takes: dict[str, str],
                   know: Knowledge) -> tuple[str, str] | None:
    """(how the tree writes the member, the WRITE_ONCE() hint) when that races with a
    plain read in ``fn`` outside its locks (``takes``: the locks ``fn`` takes after the
    read). The tree's writes must be mostly under one lock alone (at least two, and at
    least half of the writes)."""
    writes = facts.total(op="write") + facts.total(op="rmw")
    # writes under one lock only: where they hold several, a reader holding any one of
    # them (its caller's, unseen) is protected
    alone = {locks: n for locks, n in facts.locked_writes.items() if "," not in locks}
    if not takes or sum(alone.values()) < 2 or 2 * sum(alone.values()) < writes:
        return None
    for locks, n in sorted(alone.items(), key=lambda kv: -kv[1]):
        lock = takes.get(locks)
        if lock is None:
            continue
        site = next((x.site for x in facts.examples if x.op != "read"
                     and lock in [takes.get(k) for k in x.locks.split(",")]), None)
        where = f" in {site.function}() ({site})" if site is not None else \
            f" ({n} write{'s' if n != 1 else ''} in the tree)"
        paired = " " + render(know.paired_store, {
            "lock": lock, "where": f" in {site.function}()" if site else ""}) \
            if know.paired_store else ""
        return f"under {lock}{where}", paired
    return None
