"""A call that may sleep where the code runs atomically (CON003).

What may sleep (``PatchAnalysis.view()``, the index with the series' facts over it): a
sleeping primitive of reviewbot/knowledge/sleeping.toml, an allocation passed a
sleeping GFP flag as written (``GFP_KERNEL``, not ``GFP_ATOMIC`` nor a ``gfp``
variable), or a function the series or the index says may sleep (with the chain).
Where code runs atomically (``reviewbot.rules.concurrency.atomic``): under a spinning
lock, in a section of ``params.sections``, or anywhere in a function the index says
runs in hard-irq context (``params.irq_depth`` calls from the handler at most).

The finding sits on the added line that makes the problem: an added sleeping call
under a region is flagged on the call; an added acquire (or section opener) whose
region covers unchanged sleeping code is flagged on the acquire, naming the first
sleeping call it covers. Quiet: a call under a context test (``if
(gfpflags_allow_blocking())``, ``in_atomic()``...), a call whose arguments name the
held lock or an unlock (``wait_event_lock_irq(wq, c, lock)``, which drops it), a
``params.drops_lock`` call, a patch that re-spells a call or a lock it removes
from the same function (the problem was there before), and no function or no C map.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.engine.check import Hit
from reviewbot.engine.params import Names
from reviewbot.knowledge.overlay import Body, guarded

from ..atomic import Held, Regions, Section, runs

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
    irq_depth: int = 2  # a hard-irq handler and the functions it calls directly
    max_chain: int = 3  # calls from the call under the lock down to the evidence


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
    added = fmap.added
    touched = sorted({fn for n in added if (fn := fmap.function_at(n)) is not None},
                     key=lambda f: f.start)
    if not touched:
        return
    view = patch.view()
    for fn in touched:
        numbers = [n for n in range(fn.start, fn.end + 1) if n in fmap.text]
        removed = _removed_calls(file, fn)
        irq = _hardirq(view, fn.name, file.path, params.irq_depth)
        for run in runs(numbers):
            if not any(n in added for n in run):
                continue
            yield from _run(view, file.path, fn.name, [(n, fmap.text[n]) for n in run], added,
                            params, removed, irq)


def _hardirq(view: KnowledgeView, function: str, path: str, depth: int) -> str:
    """``in foo_irq(), which runs in hard-irq context (...)`` when the series or the
    index says so."""
    for use in view.contexts(function, path):
        if use.context == "hardirq" and len(use.chain) <= depth:
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
    sleeps = view.sleeps_in(body, path)
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
                _dropping(name, chain, params) or len(chain.steps) > params.max_chain:
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
