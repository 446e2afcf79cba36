"""A lockless plain read of a location that is written concurrently (CON001).

Evidence of concurrency is gathered over every C file of the patch: a location (see
``reviewbot.cmap.access``) that is stored while a lock is held, or through one of the
rule's ``marked_writes`` (WRITE_ONCE, cmpxchg, ...). An added line that reads the same
location with a plain access, outside any lock region, is flagged, unless:

- the read is marked (one of the rule's ``marked_reads``: READ_ONCE, data_race, ...);
- the function runs single-threaded (an annotation of ``single_threaded`` in its header);
- the function documents that its caller holds a lock (``held_by_caller`` pattern, or a
  name ending in ``_locked``);
- the location is a local, non-pointer variable (stack storage).

Only the first such read per function and location is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.checks import params
from reviewbot.cmap.access import Access, accesses
from reviewbot.engine.context import Hit
from reviewbot.engine.runner import render

if TYPE_CHECKING:
    from reviewbot.cmap.filemap import FileMap
    from reviewbot.cmap.model import FunctionSpan
    from reviewbot.engine.context import FileContext, PatchContext
    from reviewbot.engine.schema import Rule


@dataclass(frozen=True)
class Knowledge:
    marked_reads: frozenset[str]
    marked_writes: frozenset[str]
    single_threaded: frozenset[str]
    held_by_caller: re.Pattern[str] | None
    unprotecting_locks: frozenset[str]  # regions that do not exclude writers (rcu)
    paired_store: str


@dataclass(frozen=True)
class Evidence:
    """Why a location is shared: how and where it is written."""

    how: str  # "under hugetlb_lock", "with cmpxchg()"
    function: str
    lock: str  # "" for a marked write
    line: int
    file: str


def knowledge(rule: Rule) -> Knowledge:
    pattern = params.text(rule, "held_by_caller")
    try:
        held = re.compile(pattern) if pattern else None
    except re.error as exc:
        from reviewbot.errors import RuleError

        raise RuleError(f"{rule.source}: params.held_by_caller: {exc}") from exc
    return Knowledge(
        marked_reads=params.names(rule, "marked_reads"),
        marked_writes=params.names(rule, "marked_writes"),
        single_threaded=params.names(rule, "single_threaded"),
        held_by_caller=held,
        unprotecting_locks=frozenset(params.strings(rule, "unprotecting_locks")),
        paired_store=params.text(rule, "paired_store"),
    )


def _held(fmap: FileMap, line: int, know: Knowledge) -> list[str]:
    return [r.lock for r in fmap.locks_at(line) if r.lock not in know.unprotecting_locks]


def _file_accesses(fmap: FileMap, know: Knowledge) -> list[Access]:
    return [a for mf in fmap.fragments
            for a in accesses(fmap, mf, know.marked_reads, know.marked_writes)]


def evidence(ctx: PatchContext, know: Knowledge) -> dict[str, list[Evidence]]:
    """Per location key: the concurrent-looking stores anywhere in the patch."""
    out: dict[str, list[Evidence]] = {}
    for fc in ctx.files:
        fmap = fc.map
        if fmap is None:
            continue
        for a in _file_accesses(fmap, know):
            if a.local or a.kind not in ("write", "marked_write"):
                continue
            fn = fmap.function_at(a.line)
            name = fn.name if fn is not None else ""
            if a.kind == "marked_write":
                out.setdefault(a.key, []).append(Evidence(f"with {a.via}()", name, "", a.line,
                                                          fc.path))
                continue
            held = _held(fmap, a.line, know)
            if held:
                out.setdefault(a.key, []).append(Evidence(f"under {held[0]}", name, held[0],
                                                          a.line, fc.path))
    return out


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


def _paired(know: Knowledge, found: list[Evidence]) -> str:
    plain = next((e for e in found if e.lock), None)
    if plain is None or not know.paired_store:
        return ""
    return " " + render(know.paired_store, {"lock": plain.lock, "function": plain.function})


def check(ctx: PatchContext, fc: FileContext, rule: Rule) -> Iterable[Hit]:
    """Flag the first plain lockless read per function of a concurrently written location."""
    fmap = fc.map
    if fmap is None:
        return []
    know = knowledge(rule)
    shared = evidence(ctx, know)
    if not shared:
        return []
    out: list[Hit] = []
    reported: set[tuple[str, str]] = set()
    for a in _file_accesses(fmap, know):
        if a.kind != "read" or a.local or a.line not in fmap.added:
            continue
        found = shared.get(a.key)
        fn = fmap.function_at(a.line)
        if not found or fn is None or _held(fmap, a.line, know):
            continue
        if (fn.name, a.key) in reported:
            continue
        if _single_threaded(fn, know) or _caller_holds_lock(fmap, fn, know):
            continue
        reported.add((fn.name, a.key))
        first = min(found, key=lambda e: (e.function != fn.name, e.file != fc.path, e.line))
        where = f"{first.how} in {first.function}()" if first.function else first.how
        out.append(Hit(fc.path, a.line, (("location", a.text), ("evidence", where),
                                         ("paired", _paired(know, found)))))
    return out
