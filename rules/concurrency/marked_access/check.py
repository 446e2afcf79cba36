"""Plain accesses where the code is marked (CON007).

Three findings, each on an added line:

- ``dropped``: the patch removes a READ_ONCE()/WRITE_ONCE()/smp_load_acquire()/
  smp_store_release() of a location and adds a plain access of the same expression in
  the same hunk, outside any lock: the marking was there for a reason;
- ``tree``: (with an index) a plain access of a struct member that the tree mostly
  accesses marked (``Params.min_marked`` marked accesses of that kind, reads for a
  read and writes for a write, and at least ``Params.ratio`` times as many as plain
  ones), outside any lock, not an initialising store;
- ``rmw``: ``WRITE_ONCE(x, x | y)`` outside any lock, whose read of ``x`` is plain.

Quiet in functions that say their caller holds a lock (``held_by_caller``, a
``_locked`` name), that run single-threaded (``single_threaded``) and, for stores, in
functions whose name says they set an object up (``setup_names``) or for stores through
a pointer the function just allocated and has not published (``unpublished``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.cmap.access import LVALUES, Access, FragmentAccesses
from reviewbot.engine.check import Hit
from reviewbot.engine.params import Names

from ..tree_facts import (
    Wording,
    acquired_keys,
    caller_holds_lock,
    function_of,
    knowledge_of,
    locked,
    member_facts,
    member_of,
    removed_markings,
    single_threaded,
    unpublished,
    worded_hit,
)

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import FileMap
    from reviewbot.cmap.model import FunctionSpan
    from reviewbot.knowledge.lookup import AccessFacts, Knowledge

NODE_KINDS = LVALUES


@dataclass(frozen=True)
class Marking:
    name: str
    op: str  # read | write
    reason: str


@dataclass(frozen=True)
class TreeMarking:
    how: str  # the index's kind of access (once, acquire_release, data_race)
    op: str  # read | write
    name: str  # the macro, as the message names it


@dataclass(frozen=True)
class Params:
    wordings: tuple[Wording, ...] = ()
    markings: tuple[Marking, ...] = ()  # what a removal of is a dropped marking
    marked_reads: Names = Names()  # calls whose arguments are marked (or diagnostic) reads
    marked_writes: Names = Names()  # calls whose first argument is a marked store
    min_marked: int = 4
    ratio: int = 2
    unprotecting_locks: tuple[str, ...] = ()
    held_by_caller: re.Pattern[str] | None = None
    single_threaded: Names = Names()
    setup_names: re.Pattern[str] | None = None
    own_bases: Names = Names()
    allocators: re.Pattern[str] | None = None
    publishers: re.Pattern[str] | None = None
    macros: tuple[TreeMarking, ...] = ()  # the index's marked accesses that count


def _op(a: Access) -> str:
    return "read" if a.kind == "read" else "write"


class _Function:
    """What a function says about how it runs, worked out once."""

    def __init__(self, fmap: FileMap, fn: FunctionSpan, params: Params) -> None:
        self.quiet = caller_holds_lock(fmap, fn, params.held_by_caller) or single_threaded(
            fn, params.single_threaded)
        self.setup = params.setup_names is not None and bool(
            params.setup_names.search(fn.name))


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    fmap = file.map
    if fmap is None or not fmap.added:
        return []
    know = knowledge_of(patch)
    names = {m.name: m.op for m in params.markings}
    removed: dict[tuple[str, str], str] = {}
    for h in file.hunks:
        removed.update(removed_markings(h.hunk, names))
    out: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    functions: dict[FunctionSpan, _Function] = {}
    for mf in fmap.fragments:
        frag = FragmentAccesses(fmap, mf, params.marked_reads, params.marked_writes)
        accesses = [a for a in frag.on_rows(mf.added_rows) if a.line in fmap.added]
        rmw = _rmw(patch, file.path, fmap, frag, accesses, params, functions)
        out.extend(rmw)
        done = {h.line for h in rmw}
        for a in accesses:
            if a.kind not in ("read", "write") or a.local or a.line in done:
                continue
            fn = function_of(fmap, a.line)
            if fn is None or (fn.name, a.key) in seen:
                continue
            base = re.match(r"\w+", a.text)
            if base is not None and base.group(0) in params.own_bases:
                continue
            hit = _judge(patch, file.path, fmap, fn, a, removed, know, params, functions)
            if hit is not None:
                seen.add((fn.name, a.key))
                out.append(hit)
    return out


def _lockless(fmap: FileMap, fn: FunctionSpan, a: Access, params: Params,
              functions: dict[FunctionSpan, _Function]) -> _Function | None:
    """The function's facts when ``a`` is a lockless access, else None."""
    if locked(fmap, a.line, params.unprotecting_locks):
        return None
    if fn not in functions:
        functions[fn] = _Function(fmap, fn, params)
    info = functions[fn]
    return None if info.quiet else info


def _judge(patch: PatchAnalysis, path: str, fmap: FileMap, fn: FunctionSpan, a: Access,
           removed: dict[tuple[str, str], str], know: Knowledge | None, params: Params,
           functions: dict[FunctionSpan, _Function]) -> Hit | None:
    op = _op(a)
    text = "".join(a.text.split())
    macro = removed.get((text, op))
    facts = None
    if macro is None:
        if know is None:
            return None
        struct, member = member_of(a.key)
        if not struct:
            return None
        facts = member_facts(patch, know, struct, member)
        if not _mostly_marked(facts, op, params):
            return None
    info = _lockless(fmap, fn, a, params, functions)
    if info is None:
        return None
    if op == "write" and (info.setup or _initialising(fmap, fn, a, params)):
        return None
    if macro is not None:
        return worded_hit(params.wordings, "dropped", path, a.line, location=a.text,
                          macro=macro, op=op, evidence="")
    assert facts is not None
    return worded_hit(params.wordings, "tree", path, a.line, location=a.text, op=op,
                      macro=_main_macro(facts, op, params),
                      evidence=_describe(facts, op, params))


def _initialising(fmap: FileMap, fn: FunctionSpan, a: Access, params: Params) -> bool:
    base = re.match(r"\w+", a.text)
    if base is None or params.allocators is None or params.publishers is None:
        return False
    return unpublished(fmap, fn, base.group(0), a.line, params.allocators, params.publishers)


def _marked_hows(params: Params, op: str) -> dict[str, str]:
    """how -> macro name, for the tree's marked accesses of kind ``op``."""
    return {m.how: m.name for m in params.macros if m.op == op}


def _counts(facts: AccessFacts, op: str, params: Params) -> tuple[dict[str, int], int]:
    """(marked accesses by macro, plain accesses) of kind ``op`` (a write counts the
    plain read-modify-writes too: ``p->x++``)."""
    marked = {macro: facts.counts.get((op, how), 0)
              for how, macro in _marked_hows(params, op).items()}
    plain = facts.counts.get((op, "plain"), 0)
    if op == "write":
        plain += facts.counts.get(("rmw", "plain"), 0)
    return {k: v for k, v in marked.items() if v}, plain


def _mostly_marked(facts: AccessFacts, op: str, params: Params) -> bool:
    marked, plain = _counts(facts, op, params)
    total = sum(marked.values())
    return total >= params.min_marked and total >= params.ratio * plain


def _main_macro(facts: AccessFacts, op: str, params: Params) -> str:
    marked, _ = _counts(facts, op, params)
    return max(marked.items(), key=lambda kv: kv[1])[0] if marked else ""


def _describe(facts: AccessFacts, op: str, params: Params) -> str:
    """``the tree reads struct sock.sk_state with READ_ONCE() 57 times (e.g. in
    tcp_poll(), net/ipv4/tcp.c:512), plainly 12``."""
    marked, plain = _counts(facts, op, params)
    verb = "reads" if op == "read" else "writes"
    uses = ", ".join(f"{macro}() {n} time{'s' if n != 1 else ''}" for macro, n in
                     sorted(marked.items(), key=lambda kv: -kv[1]))
    example = next((x for x in facts.marked if (x.op == op or (op == "write" and x.op == "rmw"))
                    and x.via in marked), None)
    where = f" (e.g. in {example.site.function}(), {example.site})" if example else ""
    return (f"the tree {verb} {facts.struct}.{facts.member} with {uses}{where}, "
            f"plainly {plain}")


def _rmw(patch: PatchAnalysis, path: str, fmap: FileMap, frag: FragmentAccesses,
         accesses: list[Access], params: Params,
         functions: dict[FunctionSpan, _Function]) -> list[Hit]:
    """``WRITE_ONCE(x, x | y)``, the read of ``x`` plain, outside a lock that the other
    writers of ``x`` hold (the tree's writes, or the function's own) and that the
    function takes itself elsewhere (so it does not run with it held)."""
    out: list[Hit] = []
    stores = [a for a in accesses if a.kind == "marked_write" and a.via == "WRITE_ONCE"]
    if not stores:
        return out
    by_line: dict[int, list[Access]] = {}
    for a in accesses:
        if a.kind == "read":
            by_line.setdefault(a.line, []).append(a)
    for s in stores:
        reads = [r for r in by_line.get(s.line, ()) if r.key == s.key and r.text == s.text]
        fn = function_of(fmap, s.line)
        if not reads or fn is None or _lockless(fmap, fn, s, params, functions) is None:
            continue
        lock = _writers_lock(patch, fmap, frag, fn, s, params)
        if lock:
            out.append(worded_hit(params.wordings, "rmw", path, s.line, location=s.text,
                                  macro="READ_ONCE", op="read", evidence=lock))
    return out


def _writers_lock(patch: PatchAnalysis, fmap: FileMap, frag: FragmentAccesses,
                  fn: FunctionSpan, store: Access, params: Params) -> str:
    """A lock that ``fn`` takes itself and that other writes of the location hold: in
    ``fn`` (visible) or, with an index, in the tree ("" when there is none)."""
    takes = acquired_keys(fmap, fn, params.unprotecting_locks)
    if not takes:
        return ""
    for a in frag.of_key(store.key):
        if a.kind in ("write", "marked_write") and fn.start <= a.line <= fn.end:
            held = [takes[r.lock] for r in fmap.locks_at(a.line)
                    if r.lock not in params.unprotecting_locks and r.lock in takes]
            if held:
                return held[0]
    know = knowledge_of(patch)
    if know is None:
        return ""
    struct, member = member_of(store.key)
    if not struct:
        return ""
    for locks in member_facts(patch, know, struct, member).locked_writes:
        for lock in locks.split(","):
            if lock in takes:
                return takes[lock]
    return ""
