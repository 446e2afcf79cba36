"""The index as a check sees it: the facts the series itself adds or removes first.

The index describes the tree; a patch changes it. ``PatchFacts`` is what one patch
says about the functions it touches (from its diff and C map): the sleeping calls it
adds to a function (a sleeping primitive of sleeping.toml, an allocation passed a
sleeping GFP flag as written), the calls it adds, and the calls it removes (and does
not add back). ``KnowledgeView`` answers a check's questions from the index with those
facts over it (the facts of the patch under review and of the series' patches before
it):

- ``may_sleep(function, file)``: a function the series adds or changes may sleep by
  what the patch adds (``foo() may sleep: it calls msleep() (drivers/x.c:42)``, the
  site being the patch's line), directly or through a call the patch adds to another
  function that may sleep; the index's chain no longer counts when the series removes
  one of its calls from the function that makes it. Without an index only the
  primitives and the patch's own functions are known;
- ``sleeps_in(body, file)``: the calls in some lines of code (a ``Body``) that may
  sleep, each with its ``SleepChain``;
- ``contexts(function, file)``: the interrupt contexts a function runs in, a handler
  the series registers (``request_irq(..., foo_irq, ...)`` on an added line) first;
- ``index``: the ``Knowledge`` itself (None without one) for the other lookups
  (``lock``, ``contexts``, ``member``...), which the patch does not override.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from reviewbot.knowledge.calls import NOT_CALLS, gfp_sleeps, handler_named

if TYPE_CHECKING:  # the lookups' value types are imported where they are made: a check
    # that imports this module costs little when it never asks (a run without the rule)
    from reviewbot.cmap.filemap import FileMap
    from reviewbot.diff.model import FileDiff
    from reviewbot.knowledge.lookup import ContextUse, Knowledge, Site, SleepChain
    from reviewbot.knowledge.vocab import Vocab

_CALL = re.compile(r"(?<![\w.>])([A-Za-z_]\w*+)\s*+\(")
_BLANK = re.compile(r"//[^\n]*+|/\*.*?(?:\*/|\Z)|\"(?:[^\"\\\n]|\\.)*+\"|'(?:[^'\\\n]|\\.)*+'",
                    re.S)
_VOCAB: list[Vocab] = []


def vocab() -> Vocab:
    """The knowledge vocabulary (sleeping.toml...), read once per process."""
    if not _VOCAB:
        from reviewbot.knowledge.vocab import load_vocab

        _VOCAB.append(load_vocab())
    return _VOCAB[0]


class Body:
    """Lines of code (numbered, in order) as one text, comments and literals blanked,
    that knows the line of each offset: a call spread over lines is one call."""

    def __init__(self, lines: Sequence[tuple[int, str]]) -> None:
        self.numbers = [n for n, _ in lines]
        self.starts: list[int] = []
        at = 0
        for _, text in lines:
            self.starts.append(at)
            at += len(text) + 1
        joined = "\n".join(t for _, t in lines)
        self.code = _BLANK.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), joined)

        self._at = {n: i for i, n in enumerate(self.numbers)}
        self._guarded: frozenset[int] | None = None

    def line(self, offset: int) -> int:
        return self.numbers[max(bisect_right(self.starts, offset) - 1, 0)]

    def text(self, line: int) -> str:
        """The code of ``line`` (comments blanked)."""
        i = self._at[line]
        end = self.starts[i + 1] - 1 if i + 1 < len(self.starts) else len(self.code)
        return self.code[self.starts[i]:end]

    def guarded(self) -> frozenset[int]:
        """The lines that run only under a context test (see ``guarded``), worked out
        once, in one pass: an indentation stack of the branches above each line."""
        if self._guarded is None:
            rx = vocab().guard_rx
            out: set[int] = set()
            stack: list[tuple[int, bool]] = []  # (indent, a guarding branch)
            for number in self.numbers:
                text = self.text(number)
                stripped = text.lstrip()
                if not stripped:
                    continue
                indent = len(text) - len(stripped)
                while stack and stack[-1][0] >= indent:
                    stack.pop()
                if rx.search(text) or any(g for _, g in stack):
                    out.add(number)
                stack.append((indent, bool(_BRANCH.match(stripped)) and
                              rx.search(text) is not None))
            self._guarded = frozenset(out)
        return self._guarded

    def calls(self) -> list[tuple[int, str]]:
        """(offset, name) of each call (not keywords, not through a member)."""
        return [(m.start(1), m.group(1)) for m in _CALL.finditer(self.code)
                if m.group(1) not in NOT_CALLS]

    def gfp(self) -> list[tuple[int, str]]:
        """(offset of the callee, ``kmalloc(GFP_KERNEL)``) of each allocation passed a
        sleeping GFP flag as written."""
        out = []
        for s, call in gfp_sleeps(vocab(), self.code, 0, len(self.code)):
            name = call.split("(")[0]
            out.append((self.code.rfind(name, 0, s), call))
        return out


class Added(NamedTuple):
    """A call the patch adds: ``call`` in ``function`` at ``site``."""

    call: str  # "msleep", or "kmalloc(GFP_KERNEL)" for an allocation
    site: Site
    reason: str = ""  # set when the call itself sleeps (a primitive, a sleeping GFP flag)


class PatchFacts:
    """What one patch says about the functions it touches, by function name."""

    def __init__(self) -> None:
        self.sleeps: dict[str, list[Added]] = {}
        self.calls: dict[str, list[Added]] = {}
        self.removed: dict[str, set[str]] = {}
        # handlers the patch registers to run in interrupt context (request_irq(), ...)
        self.registered: dict[str, ContextUse] = {}


def guarded(body: Body, line: int) -> bool:
    """Whether ``line`` of ``body`` runs only under a context test: an ``if``/``while``
    above it (less indented) or the line itself naming a guard word of sleeping.toml
    (``gfpflags_allow_blocking()``, ``in_atomic()``...): the caller's context decides,
    and the index does not count it either."""
    return line in body.guarded()


_BRANCH = re.compile(r"(?:\}\s*)?(?:else\s+)?(?:if|while)\b")


def _register(facts: PatchFacts, body: Body, at: int, call: str, site: Site) -> None:
    """The handler the registration ``call`` at ``at`` names (locking.toml's contexts)."""
    from reviewbot.knowledge.lookup import ContextUse

    ctx = vocab().contexts[call]
    args = split_args(body.code, body.code.find("(", at))
    arg = ctx.arg if ctx.arg >= 0 else len(args) - 1
    handler = handler_named(args[arg]) if 0 <= arg < len(args) else ""
    if handler:
        context = "softirq" if ctx.soft and "_SOFT" in ",".join(args) else ctx.context
        facts.registered[handler] = ContextUse(context, site, (handler,), site, call)


def split_args(code: str, open_at: int) -> list[str]:
    """The arguments of the call whose "(" is at ``open_at`` (as far as it closes)."""
    out: list[str] = []
    depth = 0
    start = open_at + 1
    for i in range(open_at, min(len(code), open_at + 2000)):
        c = code[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                out.append(code[start:i])
                return out
        elif c == "," and depth == 1:
            out.append(code[start:i])
            start = i + 1
    return out


def patch_facts(files: Iterable[tuple[FileDiff, FileMap]]) -> PatchFacts:
    """The facts of one patch's C files (their diffs and C maps)."""
    from reviewbot.knowledge.lookup import Site

    v = vocab()
    facts = PatchFacts()
    for diff, fmap in files:
        path = diff.path
        for hunk in diff.hunks:
            shown = [(ln.new, ln.text) for ln in hunk.lines if ln.new is not None]
            if not shown:
                continue
            body = Body(shown)
            added = {ln.new for ln in hunk.lines if ln.kind == "+"}
            sleeping: set[int] = set()
            for s, call in body.gfp():
                line = body.line(s)
                fn = fmap.function_at(line)
                if line in added and fn is not None and not guarded(body, line):
                    sleeping.add(s)
                    facts.sleeps.setdefault(fn.name, []).append(
                        Added(call, Site(path, line, fn.name), v.gfp_reason))
            for s, name in body.calls():
                line = body.line(s)
                fn = fmap.function_at(line)
                if line not in added or fn is None or s in sleeping or guarded(body, line):
                    continue
                site = Site(path, line, fn.name)
                if name in v.contexts:
                    _register(facts, body, s, name, site)
                reason = v.sleep_reason(name)
                if reason is not None and name not in v.never_sleep:
                    facts.sleeps.setdefault(fn.name, []).append(Added(name, site, reason))
                else:
                    facts.calls.setdefault(fn.name, []).append(Added(name, site))
            near = hunk.new_start
            gone = []
            for ln in hunk.lines:
                if ln.new is not None:
                    near = ln.new
                elif ln.kind == "-":
                    gone.append((near, ln.text))
            if gone:
                old = Body([(i, t) for i, (_, t) in enumerate(gone)])
                for s, name in old.calls():
                    fn = fmap.function_at(gone[old.line(s)][0])
                    if fn is not None:
                        facts.removed.setdefault(fn.name, set()).add(name)
    for name, calls in facts.removed.items():  # a call moved within the function stays
        calls -= {a.call.split("(")[0] for a in facts.sleeps.get(name, ())}
        calls -= {a.call for a in facts.calls.get(name, ())}
    return facts


class KnowledgeView:
    """The index (or none) with the facts of the series' patches over it."""

    def __init__(self, index: Knowledge | None, facts: Sequence[PatchFacts]) -> None:
        self.index = index
        self.facts = tuple(facts)
        self.vocab = vocab()
        self._answers: dict[tuple[str, str | None], SleepChain | None] = {}

    def primitive(self, name: str) -> SleepChain | None:
        """``name`` is a sleeping primitive of sleeping.toml."""
        from reviewbot.knowledge.lookup import SleepChain

        reason = self.vocab.sleep_reason(name)
        return SleepChain(name, (), reason) if reason else None

    def may_sleep(self, function: str, file: str | None = None) -> SleepChain | None:
        """Why a call of ``function`` may sleep, the series' changes first; None when
        nothing says it does."""
        asked = (function, file)
        if asked not in self._answers:
            self._answers[asked] = None  # a recursive call in progress: no evidence
            self._answers[asked] = self._may_sleep(function, file, 0)
        return self._answers[asked]

    def _may_sleep(self, function: str, file: str | None, depth: int) -> SleepChain | None:
        from reviewbot.knowledge.lookup import SleepChain, Step

        if function in self.vocab.never_sleep:
            return None
        for facts in reversed(self.facts):
            for added in facts.sleeps.get(function, ()):
                return SleepChain(function, (Step(function, added.call, added.site),),
                                  added.reason)
        if depth < self.vocab.max_depth:
            for facts in reversed(self.facts):
                for added in facts.calls.get(function, ()):
                    if added.call == function:
                        continue
                    below = self._may_sleep(added.call, added.site.file, depth + 1)
                    if below is not None:
                        step = Step(function, added.call, added.site)
                        return SleepChain(function, (step, *below.steps), below.reason)
        if self.index is None:
            return self.primitive(function)
        chain = self.index.may_sleep(function, file)
        if chain is not None and not self._still_evidence(chain):
            return None  # built with an older sleeping.toml that counted it
        if chain is not None and any(step.call.split("(")[0] in f.removed.get(step.function, ())
                                     for step in chain.steps for f in self.facts):
            return None  # the series removes a call the index's evidence goes through
        return chain

    def contexts(self, function: str, file: str | None = None) -> tuple[ContextUse, ...]:
        """The interrupt contexts ``function`` runs in: where the series registers it as
        a handler, else what the index says (nothing without one)."""
        for facts in reversed(self.facts):
            use = facts.registered.get(function)
            if use is not None:
                return (use,)
        return self.index.contexts(function, file) if self.index is not None else ()

    def _still_evidence(self, chain: SleepChain) -> bool:
        """The chain's evidence is evidence by this sleeping.toml (an index built with
        an older one may count a call this one does not)."""
        last = chain.primitive
        call = last.call if last is not None else chain.function
        if "(" in call:  # an allocation passed a sleeping GFP flag
            return call[call.index("(") + 1:].rstrip(")") in self.vocab.gfp_sleeping
        return self.vocab.sleep_reason(call) is not None

    def sleeps_in(self, body: Body, file: str, lines: Collection[int] | None = None
                  ) -> list[tuple[int, str, SleepChain]]:
        """(offset, call as written, why) of each call in ``body`` (on ``lines`` only,
        when given: each other call would be a lookup for nothing) that may sleep: an
        allocation passed a sleeping GFP flag, a sleeping primitive, or a function
        that may sleep (by the series, else by the index)."""
        from reviewbot.knowledge.lookup import SleepChain

        out: list[tuple[int, str, SleepChain]] = []
        gfp = [(s, c) for s, c in body.gfp() if lines is None or body.line(s) in lines]
        for s, call in gfp:
            out.append((s, call, SleepChain(call, (), self.vocab.gfp_reason)))
        allocs = {s for s, _ in gfp}
        for s, name in body.calls():
            if s in allocs or (lines is not None and body.line(s) not in lines):
                continue
            chain = self.may_sleep(name, file)
            if chain is not None:
                out.append((s, name, chain))
        return sorted(out, key=lambda x: x[0])
