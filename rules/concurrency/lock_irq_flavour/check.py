"""A lock taken with an interrupt flavour the context does not allow (CON004).

On an added acquire of a spinning lock (``reviewbot.rules.concurrency.atomic``):

- ``hardirq``: taken plain or with ``_bh`` (interrupts enabled) while the index says
  the tree also takes the same lock in hard-irq context: an interrupt on this CPU that
  takes it deadlocks. Needs the lock's key resolved confidently (a member of a
  declared struct pointer, a global the index knows as a lock, or the one key the
  tree's own copy of the function gives the same expression), the tree to take it
  with ``_irq``/``_irqsave`` somewhere (it knows the lock is shared with a handler), and
  the function not to run in hard-irq context itself nor with interrupts already
  disabled at that line, and the tree not to take it plainly outside its handlers
  (then its callers disable interrupts, or the tree does the same: not this patch's).
  A patch that turns the code's own ``_irqsave``/``_irq`` acquire of the lock (a
  removed line of the hunk) into this one is judged on any hard-irq use, and the
  tree's plain acquisitions do not excuse it;
- ``irq_restore``: ``spin_lock_irq()`` (whose unlock enables interrupts) where they
  are already disabled: inside a region that disabled them (``spin_lock_irqsave()``,
  ``local_irq_save()``...), in a function the index says runs in hard-irq context, or
  in one the tree calls directly with an ``_irqsave``/``_irq`` lock held
  (``Knowledge.irqs_off_callers``);
- ``rt``: a ``spinlock_t`` (``spin_lock*()``) taken inside a raw spinlock region or a
  section that disables interrupts or preemption: on PREEMPT_RT a spinlock_t is a
  sleeping lock (lockdep's "Invalid wait context"); with an index, also in a function
  the tree calls directly in such a section for at least half of its calls
  (``Knowledge.rt_atomic_callers``; ``_rt_caller``), named with the caller and what
  makes its section atomic.

The evidence is named: where the tree takes the lock in hard-irq context (file:line and
how the handler is registered), or the line that disabled interrupts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.cmap.locks import normalize_lock
from reviewbot.engine.check import Hit, render
from reviewbot.knowledge.keys import lock_key

from ..atomic import Held, Regions, Section, changed_runs
from ..tree_facts import removed_markings, tree_lock_key

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import FileMap
    from reviewbot.diff.model import Hunk
    from reviewbot.knowledge.lookup import ContextUse, Knowledge, LockFacts
    from reviewbot.knowledge.overlay import KnowledgeView

_IRQ_ACQUIRES = dict.fromkeys(("spin_lock_irqsave", "spin_lock_irq", "raw_spin_lock_irqsave",
                               "raw_spin_lock_irq", "spin_lock_bh", "raw_spin_lock_bh"),
                              "acquire")
_BH_OFF = ("local_bh_disable", "rcu_read_lock_bh", "_lock_bh(")  # bottom halves off
# a raw spinlock released, interrupts (or the caller's saved flags) or preemption enabled
_RT_ENDS = ("raw_spin_unlock", "local_irq_restore", "local_irq_enable", "preempt_enable",
            "put_cpu", "_irqrestore(", "_unlock_irq(")


@dataclass(frozen=True)
class Params:
    sections: tuple[Section, ...] = ()
    irq_depth: int = 2  # a hard-irq handler and the functions it calls directly
    hardirq_note: str = ""  # the reply's words for each case
    irq_restore_note: str = ""
    rt_note: str = ""
    softirq_note: str = ""


def _key(fmap: FileMap, expr: str, line: int, know: Knowledge, function: str
         ) -> str | None:
    """The index key of a lock expression, when it resolves confidently: by the
    declaration the patch shows (a local, a parameter in the hunk heading), else by
    how the tree's own version of the function keys the same expression (one key)."""
    base = expr.split("->")[0].split(".")[0].split("[")[0]
    if not base.isidentifier():
        return None
    if base == expr:  # a global (confident only when the index declares it once, or
        # in this file: ``_trusted``), unless the patch declares the name here (a local
        # or a parameter: a pointer to some lock, ``spinlock_t *lock``)
        return expr if fmap.decl(base, line) is None else None
    decl = fmap.decl(base, line)
    if decl is not None:
        return lock_key(expr, {base: (decl.type, decl.level)})
    return tree_lock_key(know, function, fmap.path, expr)


def _drops(fmap: FileMap, held: Held) -> bool:
    """The function released the same lock above ``held``'s line (its caller's: it
    drops and takes it back, and the caller's ``_irq`` acquire is what it restores)."""
    at = held.line - 1
    while at > 0 and at in fmap.text and not fmap.text[at].startswith("}"):
        text = "".join(fmap.text[at].split())
        text = text.replace("&", "")
        if "unlock" in text and (f"({held.key})" in text or f"({held.key}," in text):
            return True
        at -= 1
    return False


def _trusted(key: str, facts: LockFacts, path: str, was: str | None) -> bool:
    """The index's facts are about the patch's lock: a member of a struct type the
    index declares it in (or the code's own irq-disabling acquire the patch drops); a
    global name declared once in the tree, or in the patch's own file (the same name
    declared in several files is several locks: ``static DEFINE_SPINLOCK(lock)``)."""
    if not key.isidentifier():
        return bool(facts.declared or was)
    files = {d.site.file for d in facts.declared}
    return len(facts.declared) == 1 or path in files


def _hardirq(view: KnowledgeView, function: str, path: str, depth: int
             ) -> ContextUse | None:
    return next((u for u in view.contexts(function, path) if _near(u, depth)), None)


def _near(use: ContextUse, depth: int, context: str = "hardirq") -> bool:
    """An interrupt context (hard-irq, or softirq) close enough to trust: the handler
    itself, or a function it calls (``depth`` calls at most) in the file that registers
    it."""
    return use.context == context and len(use.chain) <= depth and (
        len(use.chain) == 1 or use.registered.file == use.site.file)


def _where(use: ContextUse) -> str:
    via = " -> ".join(f"{c}()" for c in use.chain)
    return (f"{via} at {use.site} (registered with {use.reg_call}() at "
            f"{use.registered})")


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterator[Hit]:
    fmap = file.map
    if fmap is None:
        return
    view: KnowledgeView | None = None
    dropped: dict[int, dict[str, str]] | None = None
    irq_of: dict[str, ContextUse | None] = {}  # function -> its hard-irq context
    for fn, lines in changed_runs(fmap):
        regions = Regions(lines, params.sections)
        for held, _ in regions.taken:
            if held.kind == "section" or held.line not in fmap.added:
                continue
            view = view or patch.view()
            if fn.name not in irq_of:
                irq_of[fn.name] = _hardirq(view, fn.name, file.path, params.irq_depth)
            if dropped is None:
                dropped = _dropped(file.diff.hunks)
            found = _one(held, regions.at(held.line), fmap, fn.name, view.index,
                         irq_of[fn.name], params, dropped.get(held.line, {}))
            if found is None and held.flavour == "plain" and not _bh_off(fmap, fn.start,
                                                                         held.line):
                found = _softirq(held, regions.at(held.line), fmap, fn.name, view,
                                 file.path, params, dropped.get(held.line, {}))
            if found is None and held.kind == "spinlock" and view.index is not None \
                    and not _threaded(irq_of[fn.name]):
                found = _rt_caller(held, fmap, fn.name, fn.start, view.index, params)
            if found is not None:
                values = dict(found)
                values["note"] = render(values["note"], values)
                yield Hit(file.path, held.line, tuple(values.items()))


def _dropped(hunks: tuple[Hunk, ...]) -> dict[int, dict[str, str]]:
    """For each added line of a hunk that removes an interrupt-disabling acquire
    (``spin_lock_irqsave(&x->lock, flags)``): the lock expressions those removed lines
    took (normalised) -> the call. The patch itself shows what the code did before."""
    out: dict[int, dict[str, str]] = {}
    for hunk in hunks:
        taken = {normalize_lock(expr): call for (expr, _), call
                 in removed_markings(hunk, _IRQ_ACQUIRES).items()}
        if taken:
            for n in range(hunk.new_start, hunk.new_start + hunk.new_len):
                out[n] = taken
    return out


def _one(held: Held, around: list[Held], fmap: FileMap, function: str,
         know: Knowledge | None, irq_fn: ContextUse | None, params: Params,
         dropped: dict[str, str]) -> tuple[tuple[str, str], ...] | None:
    off = next((h for h in reversed(around) if h.irqs_off), None)
    caller = None
    if held.flavour == "irq" and off is None and irq_fn is None and know is not None \
            and not function.endswith("_locked") and not _drops(fmap, held):
        caller = next(iter(know.irqs_off_callers(function, fmap.path)), None)
    if held.flavour == "irq" and (off is not None or irq_fn is not None or caller):
        why = (f"interrupts are already disabled here ({off.describe().removeprefix('with ')})"
               if off is not None else f"it runs in hard-irq context: {_where(irq_fn)}"
               if irq_fn is not None else
               f"{caller.function}() calls {function}() with interrupts disabled, under an "
               f"_irqsave/_irq lock ({caller})" if caller is not None else "")
        return (("lock", held.text), ("problem", "re-enables interrupts at its unlock"),
                ("evidence", why), ("fix", held.call.replace("_irq", "_irqsave") + "()"),
                ("note", params.irq_restore_note))
    spinning = [h for h in around if h.kind == "raw_spinlock" or (
        h.kind == "section" and h.line)]
    if held.kind == "spinlock" and spinning:
        outer = spinning[-1]
        return (("lock", held.text), ("problem", "takes a spinlock_t, which sleeps on "
                                                 "PREEMPT_RT"),
                ("evidence", f"it runs {outer.describe()}"),
                ("fix", "a raw_spinlock_t, or the lock taken outside"),
                ("note", params.rt_note))
    if know is None or held.flavour not in ("plain", "bh") or held.kind == "rwlock" \
            or irq_fn is not None or off is not None:
        return None
    key = _key(fmap, held.key, held.line, know, function)
    if key is None:
        return None
    facts = know.lock(key)
    # the patch turns the code's own irq-disabling acquire of this lock into this one:
    # any hard-irq use the index knows counts, and the tree's plain acquisitions
    # elsewhere do not excuse it (this function's author disabled interrupts)
    was = dropped.get(held.key)
    was = was if was is not None and not was.endswith("_bh") else None
    use = next((c for c in facts.contexts if _near(c, params.irq_depth)), None) or (
        facts.taken_in("hardirq") if was else None)
    if use is None or not _trusted(key, facts, fmap.path, was):
        return None
    safe = sum(n for k, n in facts.flavours.items() if k.endswith((" irq", " irqsave")))
    if not safe:
        return None  # the tree never disables interrupts for it: unsure of the context
    plain = sum(n for k, n in facts.flavours.items() if k.endswith((" plain", " bh")))
    if not was and plain > sum(1 for c in facts.contexts if c.context == "hardirq"):
        return None  # the tree takes it so outside its handlers too (with interrupts
        # disabled by its callers, or as wrongly): the patch only does the same
    call = held.call.removesuffix("_bh")
    problem = ("leaves interrupts enabled" if held.flavour == "plain"
               else "disables only bottom halves")
    return (("lock", held.text),
            ("problem", f"{problem} (the code took it with {was}())" if was else problem),
            ("evidence", f"the tree also takes {key} in hard-irq context: {_where(use)}"),
            ("fix", f"{call}_irqsave()"), ("note", params.hardirq_note))


def _threaded(use: ContextUse | None) -> bool:
    """Code of an interrupt handler registered with request_irq() and the like (or
    close to one): forced into a thread on PREEMPT_RT, where its spinlock_t is right;
    a caller that disables interrupts to call it directly (a netpoll controller, a
    media-check timer) emulates the interrupt, and is what PREEMPT_RT would change."""
    return use is not None and "request_" in use.reg_call and "percpu" not in use.reg_call \
        and "nmi" not in use.reg_call


def _rt_caller(held: Held, fmap: FileMap, function: str, first: int, know: Knowledge,
               params: Params) -> tuple[tuple[str, str], ...] | None:
    """A ``spinlock_t`` taken in a function the tree calls directly in a section that
    stays atomic on PREEMPT_RT (under a raw spinlock, with interrupts or preemption
    disabled: ``Knowledge.rt_atomic_callers``, only calls that reach this definition
    alone) for at least half of the tree's direct calls of it. Quiet when the
    function's visible lines above the acquire release a raw
    spinlock, end such a section or restore interrupts (``spin_unlock_irqrestore()``
    with its caller's flags: it drops its caller's section and takes it back), and when
    the index declares the lock with another type than ``spinlock_t``."""
    if any(w in fmap.text.get(n, "") for n in range(first, held.line) for w in _RT_ENDS):
        return None
    atomic = know.rt_atomic_callers(function, fmap.path)
    if not atomic or 2 * len(atomic) < len(know.callers(function, fmap.path)):
        return None  # a function the tree mostly calls elsewhere (skb_queue_tail(),
        # mempool_free()): the odd caller that disables interrupts is the one to fix
    caller = atomic[0]
    key = _key(fmap, held.key, held.line, know, function)
    if key is not None:
        types = know.lock_types()
        declared = {types.get(d.type.rstrip(" *"), d.type) for d in know.lock(key).declared}
        if declared and declared != {"spinlock"}:
            return None
    return (("lock", held.text), ("problem", "takes a spinlock_t, which sleeps on PREEMPT_RT"),
            ("evidence", f"{function}() is called from {caller.site.function}() "
                         f"{caller.describe()}"),
            ("fix", "a raw_spinlock_t or move the call"), ("note", params.rt_note))


def _bh_off(fmap: FileMap, first: int, line: int) -> bool:
    """The function's visible lines before ``line`` disable bottom halves
    (``local_bh_disable()``, ``rcu_read_lock_bh()``, a ``_bh`` acquire): unsure whether
    they still are at ``line``, so the softirq case stays quiet."""
    return any(w in fmap.text.get(n, "") for n in range(first, line) for w in _BH_OFF)


def _softirq(held: Held, around: list[Held], fmap: FileMap, function: str,
             view: KnowledgeView, path: str, params: Params, dropped: dict[str, str]
             ) -> tuple[tuple[str, str], ...] | None:
    """A plain acquire of a lock the tree also takes in softirq context (a timer, a
    tasklet, a NAPI poll, a softirq handler, or a function one calls in its file): a
    softirq that runs on this CPU at the unlock-free moment spins on it forever; the
    lock needs ``_bh`` (or an irq-disabling flavour). The same confidence as the
    hard-irq case: a resolved key, the tree taking it with ``_bh``/``_irq``/``_irqsave``
    somewhere and not plain outside its handlers (unless the patch itself turns the
    code's ``_bh``/``_irqsave`` acquire of it into this one), and this function not in
    interrupt context itself, with no other region held at the line."""
    know = view.index
    if know is None or held.kind not in ("spinlock", "raw_spinlock") or any(
            h is not held and h.line != held.line for h in around):
        return None  # nested in another region: what it disables is that region's
    if any(u.context == "hardirq" or _near(u, params.irq_depth, "softirq")
           for u in view.contexts(function, path)):
        return None  # a softirq handler (or one close to it): softirqs do not nest on a
        # CPU, and a function some chain reaches from a softirq runs elsewhere too; one
        # that a hard-irq handler reaches (the tick's wq_worker_tick()) is tick or irq
        # code, run with interrupts disabled
    key = _key(fmap, held.key, held.line, know, function)
    if key is None:
        return None
    facts = know.lock(key)
    was = dropped.get(held.key)
    use = next((c for c in facts.contexts if _near(c, params.irq_depth, "softirq")), None) \
        or (facts.taken_in("softirq") if was else None)
    if use is None or not _trusted(key, facts, fmap.path, was):
        return None
    safe = sum(n for k, n in facts.flavours.items() if k.endswith((" bh", " irq", " irqsave")))
    plain = sum(n for k, n in facts.flavours.items() if k.endswith(" plain"))
    if not safe or (not was and plain > len(facts.contexts)):
        return None
    call = held.call
    problem = "leaves bottom halves enabled"
    return (("lock", held.text),
            ("problem", f"{problem} (the code took it with {was}())" if was else problem),
            ("evidence", f"the tree also takes {key} in softirq context: {_where(use)}"),
            ("fix", f"{call}_bh()"), ("note", params.softirq_note))
