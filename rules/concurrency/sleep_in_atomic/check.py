"""A call that may sleep where the code runs atomically (CON003).

What may sleep (``PatchAnalysis.view()``, the index with the series' facts over it): a
sleeping primitive of reviewbot/knowledge/sleeping.toml, an allocation passed a
sleeping GFP flag as written (``GFP_KERNEL``, not ``GFP_ATOMIC`` nor a ``gfp``
variable), or a function the series or the index says may sleep (with the chain).
Where code runs atomically (``reviewbot.rules.concurrency.atomic``): under a spinning
lock, in a section of ``params.sections``, or anywhere in a function the index (or the
series, registering it) says runs in hard-irq context: the handler, or a function of
its file at most ``params.irq_depth`` calls from it.

The finding sits on the added line that makes the problem: an added sleeping call
under a region is flagged on the call; an added acquire (or section opener) whose
region covers unchanged sleeping code is flagged on the acquire, naming the first
sleeping call it covers. Quiet: a call under a context test (``if
(gfpflags_allow_blocking())``, ``in_atomic()``...), a call whose arguments name the
held lock or an unlock (``wait_event_lock_irq(wq, c, lock)``, which drops it), a
``params.drops_lock`` call, a patch that re-spells a call or a lock it removes
from the same function (the problem was there before), no function or no C map, and
what rule.toml's ``false_positives`` lists (chains the index cannot be sure of: too
long, through a reference drop, a preallocated argument, a call that ends the region).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.engine.check import Hit
from reviewbot.engine.params import Names
from reviewbot.knowledge.overlay import Body, guarded, split_args

from ..atomic import Held, Regions, Section, changed_runs

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.model import FunctionSpan
    from reviewbot.knowledge.lookup import SleepChain
    from reviewbot.knowledge.overlay import KnowledgeView


@dataclass(frozen=True)
class Params:
    sections: tuple[Section, ...] = ()
    drops_lock: Names = Names()  # calls made with a lock held that drop it to sleep
    # primitives that sleep by dropping a lock their caller holds: a chain ending in one
    # is not evidence (the tree calls them under that lock, from atomic-safe paths)
    dropping_waits: re.Pattern[str] | None = None
    # a hard-irq handler and the functions it calls directly, in the file that registers
    # it (a generic function called from one driver's handler is not "in hard-irq")
    irq_depth: int = 2
    max_chain: int = 3  # calls from the call under the lock down to the evidence
    # reference drops: they sleep (if at all) only on the last reference, which a caller
    # holding a lock rarely drops; by the index alone, not evidence
    last_reference: re.Pattern[str] | None = None


_UNLOCK = re.compile(r"unlock|_enable\b|restore")


def _said(call: str, chain: SleepChain) -> str:
    """``msleep() may sleep: sleeps for a time`` / the chain."""
    shown = call if "(" in call else f"{call}()"
    if not chain.steps:
        return f"{shown} may sleep: {chain.reason.split(' (')[0]}"
    return chain.describe()


def _dropping(name: str, chain: SleepChain, params: Params) -> bool:
    """The call, or the chain's last, is a wait that drops its caller's lock to sleep."""
    rx = params.dropping_waits
    last = chain.primitive
    return rx is not None and (rx.search(name) is not None or (
        last is not None and rx.search(last.call.split("(")[0]) is not None))


def _released_by_callee(view: KnowledgeView, body: Body, held: Held, at: int,
                        path: str) -> bool:
    """A call between the region's start and the call at ``at`` (that one included)
    reaches a function that ends the region itself (``grab_super()`` drops sb_lock,
    ``pin_kill()`` leaves the RCU read side): by the index, it calls one of the
    region's ending calls."""
    if view.index is None or not held.ends:
        return False
    first = body.starts[body.numbers.index(held.line)] if held.line else 0
    ends = set(held.ends)
    for s, name in body.calls():
        if s < first or s > at or name in ends or view.primitive(name) is not None:
            continue
        calls = view.index.calls(name, path)
        if ends & calls or any(ends & view.index.calls(c, path) for c in calls
                               if "unlock" in c and c not in ends):
            return True  # directly, or through an unlock helper (pte_unmap_unlock())
    return False


def _preallocated(body: Body, at: int, chain: SleepChain) -> bool:
    """The chain ends in an allocation and the call at ``at`` is given memory the
    function allocated beforehand (``es1 = __es_alloc_extent(true);`` ... under the lock
    ``__es_insert_extent(inode, &newes, es1)``, or a ``prealloc`` argument): the idiom
    that allocates outside the lock, the callee allocating only when given nothing."""
    last = chain.primitive
    if last is None or "(" not in last.call:
        return False
    args = split_args(body.code, body.code.find("(", at))
    names = {w for a in args for w in re.findall(r"[A-Za-z_]\w*", a)}
    if any("prealloc" in n for n in names):
        return True
    return any(re.search(r"(?<![\w.>])" + re.escape(n) + r"\s*=\s*[\w>.-]*alloc\w*\s*\(",
                         body.code[:at]) for n in names)


def _args_name(code: str, at: int, held: Held) -> bool:
    """The call at ``at`` passes the held lock or an unlock to the callee."""
    open_at = code.find("(", at)
    depth = 0
    for i in range(open_at, min(len(code), open_at + 600)):
        if code[i] == "(":
            depth += 1
        elif code[i] == ")":
            depth -= 1
            if depth == 0:
                args = "".join(code[open_at:i].split())
                return (bool(held.key) and held.key in args) or bool(_UNLOCK.search(args))
    return False


def _removed_calls(file: FileAnalysis, fn: FunctionSpan) -> set[str]:
    """Names the patch removes calls of in ``fn``'s hunks (re-spelled lines)."""
    out: set[str] = set()
    for hunk in file.diff.hunks:
        if hunk.new_start > fn.end or hunk.new_start + hunk.new_len < fn.start:
            continue
        out.update(re.findall(r"([A-Za-z_]\w*)\s*\(", " ".join(
            ln.text for ln in hunk.lines if ln.kind == "-")))
    return out


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterator[Hit]:
    fmap = file.map
    if fmap is None:
        return
    view: KnowledgeView | None = None
    asked: dict[str, tuple[set[str], str]] = {}  # function -> (removed calls, hard-irq)
    for fn, lines in changed_runs(fmap):
        view = view or patch.view()
        if fn.name not in asked:
            asked[fn.name] = (_removed_calls(file, fn),
                              _hardirq(view, fn.name, file.path, params.irq_depth))
        removed, irq = asked[fn.name]
        yield from _run(view, file.path, fn.name, lines, fmap.added, params, removed, irq)


def _hardirq(view: KnowledgeView, function: str, path: str, depth: int) -> str:
    """``in foo_irq(), which runs in hard-irq context (...)`` when the series or the
    index says so."""
    for use in view.contexts(function, path):
        if use.context == "hardirq" and len(use.chain) <= depth and (
                len(use.chain) == 1 or use.registered.file == path):
            via = " -> ".join(f"{c}()" for c in use.chain)
            return (f"in {function}(), which runs in hard-irq context ({via}, registered "
                    f"with {use.reg_call}() at {use.registered})")
    return ""


def _run(view: KnowledgeView, path: str, function: str, lines: list[tuple[int, str]],
         added: frozenset[int], params: Params, removed: set[str], irq: str
         ) -> Iterable[Hit]:
    regions = Regions(lines, params.sections)
    if not irq and not any(regions.holding.values()):
        return
    body = regions.body
    asked = {n for n, held in regions.holding.items() if held}
    if irq:
        asked |= added
    sleeps = view.sleeps_in(body, path, asked)
    if not sleeps:
        return
    covered: set[int] = set()  # lines already reported
    said: set[tuple[int, int, str]] = set()  # (region, callee) already reported
    for at, call, chain in sleeps:
        line = body.line(at)
        if line in covered:
            continue
        name = call.split("(")[0]
        if name in params.drops_lock or name == function or guarded(body, line) or \
                _dropping(name, chain, params) or len(chain.steps) > params.max_chain or (
                    chain.steps and params.last_reference is not None
                    and params.last_reference.search(name)):
            continue
        if _preallocated(body, at, chain):
            continue
        holding = [h for h in regions.at(line) if not _args_name(body.code, at, h)
                   and not _released_by_callee(view, body, h, at, path)]
        if line in added:
            if name in removed:
                continue  # a re-spelled line: the call was there before
            if holding:
                h = holding[-1]
                covered.add(line)
                if (h.line, h.release, name) in said:
                    continue  # said once per region and callee
                said.add((h.line, h.release, name))
                yield Hit(path, line, (("call", call if "(" in call else f"{call}()"),
                                       ("where", h.describe()),
                                       ("why", _said(call, chain))))
            elif irq:
                covered.add(line)
                yield Hit(path, line, (("call", call if "(" in call else f"{call}()"),
                                       ("where", irq), ("why", _said(call, chain))))
            continue
        for h in holding:
            if h.line in added and h.line not in covered and h.call not in removed:
                covered.add(h.line)
                shown = call if "(" in call else f"{call}()"
                yield Hit(path, h.line, (("call", h.text),
                                         ("where", f"now covers {shown} at line {line}"),
                                         ("why", _said(call, chain))))
