"""A behaviour change in a patch that says it changes no behaviour.

A patch whose subject or commit message claims no functional change ("NFC", "no
functional change (intended)", "pure refactor", "no behaviour change", ...) is compared
token by token, removed code against added code:

- lines moved within the patch (the same code removed in one place and added in
  another, whitespace aside) cancel out;
- a name replaced consistently by one other name everywhere in the patch is a rename;
- each remaining removed line is paired with the most similar added line of its change
  group. A pair that differs in a comparison or logical operator, a number, an error
  code or ``true``/``false``/``NULL`` changes behaviour;
- a lock or unlock call (or RCU read section, interrupt or preemption toggle) added or
  removed, counted over the whole patch, changes behaviour; so does a call statement
  added or removed whose function appears nowhere on the other side of the patch and
  is not one the patch defines, renames or removes (assertions and debug output
  aside). Not when the patch starts calling a function it did not call before (the
  removed calls may have moved into that helper), nor, for added calls, when it stops
  calling one (they may have been inside it).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from reviewbot.diff.model import Line
from reviewbot.seriesmap.changes import Change, token_edits
from reviewbot.seriesmap.lexer import Token
from reviewbot.seriesmap.model import Site
from reviewbot.seriesmap.series import SeriesMap
from reviewbot.seriesmap.symbols import HunkMap, PatchMap, is_c

NfcKind = Literal["operator", "constant", "lock", "call-added", "call-removed"]
_CLAIM = re.compile(
    r"\bNFC\b|\bno[- ]functional(?:ity)?[- ]changes?\b|\bnon[- ]functional change|"
    r"\bno (?:intended )?(?:functional|behaviou?ral|behaviou?r|logic(?:al)?) changes?\b|"
    r"\bno change (?:in|of) (?:functionality|behaviou?r|logic)\b|"
    r"\bpure(?:ly)? (?:a )?(?:refactor(?:ing)?|code movement|cleanup|mechanical)\b|"
    r"\bshould not change (?:any )?behaviou?r\b|\bdoes(?:n't| not) change (?:any )?"
    r"behaviou?r\b", re.IGNORECASE)
_NEGATED = re.compile(r"\bnot (?:a |an )?(?:NFC|no[- ]functional|pure)", re.IGNORECASE)
_OPERATORS = frozenset(("==", "!=", "<", ">", "<=", ">=", "&&", "||", "!"))
_LITERALS = frozenset(("true", "false", "NULL"))
_ERRNO = re.compile(r"^E[A-Z0-9]{2,}$")
_LOCK = re.compile(
    r"^(?:(?:raw_)?spin_(?:try)?(?:un)?lock\w*|(?:read|write)_(?:try)?(?:un)?lock\w*|"
    r"mutex_(?:try)?(?:un)?lock\w*|down_\w+|down|up_read|up_write|up|"
    r"rcu_read_(?:un)?lock\w*|srcu_read_(?:un)?lock\w*|local_irq_\w+|"
    r"preempt_(?:en|dis)able\w*|local_bh_(?:en|dis)able|guard|scoped_guard)$")
_QUIET_CALL = re.compile(
    r"^(?:lockdep_assert\w*|WARN\w*|BUG\w*|BUILD_BUG\w*|static_assert|might_sleep\w*|"
    r"might_fault|pr_debug|pr_devel|dev_dbg|dev_vdbg|trace_\w+|kmemleak_\w+|"
    r"VM_BUG_ON\w*|VM_WARN\w*|lockdep_\w+|__must_hold|__acquires|__releases)$")
MIN_PAIR_RATIO = 0.6


@dataclass(frozen=True)
class NfcChange:
    """A behaviour change in a patch that claims none; ``site`` is the line it is on
    (the added line, or the removed one for a removal), ``detail`` what changed."""

    kind: NfcKind
    site: Site
    detail: str

    def message(self) -> str:
        return (f"the commit message says no functional change, but this {self.detail}")


def claims_nfc(title: str, message: str) -> bool:
    text = title + "\n" + message
    return bool(_CLAIM.search(text)) and not _NEGATED.search(text)


def _squash(tokens: tuple[Token, ...]) -> str:
    return " ".join(t.text for t in tokens)


@dataclass(frozen=True)
class _CodeLine:
    line: Line
    tokens: tuple[Token, ...]


def _code(hm: HunkMap, lines: tuple[Line, ...]) -> list[_CodeLine]:
    return [_CodeLine(ln, cl.tokens) for ln, cl in zip(lines, hm.code(lines), strict=True)
            if cl.tokens and not cl.dead and cl.directive is None]


class _Patch:
    """The patch's changes read for behaviour."""

    def __init__(self, pm: PatchMap) -> None:
        self.pm = pm
        self.changes: list[tuple[str, Change, list[_CodeLine], list[_CodeLine]]] = []
        for hm in pm.hunks:
            if not is_c(hm.file):
                continue
            for ch in hm.changes:
                self.changes.append((hm.file, ch, _code(hm, ch.removed),
                                     _code(hm, ch.added)))
        self.own = {d.symbol.name for d in (*pm.added, *pm.removed)}
        self.renames = self._renames()

    def _renames(self) -> dict[str, str]:
        """Names replaced by one other name wherever a paired line shows them. A called
        name counts only when the patch renames that function's definition: calling
        another function is not a rename."""
        s = self.pm  # definitions only: a patch's uses say nothing here
        defs = {(r.old.symbol.name, r.new.symbol.name) for r in s.renames} | {
            (a.symbol.name, b.symbol.name) for a in s.removed for b in s.added
            if a.symbol.kind == b.symbol.kind and a.symbol.name != b.symbol.name}
        seen: dict[str, set[str]] = {}
        for _, _, old, new in self.changes:
            for a, b in _pairs(old, new):
                x = [t.text for t in a.tokens]
                y = [t.text for t in b.tokens]
                ops = SequenceMatcher(None, x, y, autojunk=False).get_opcodes()
                for tag, i1, i2, j1, j2 in ops:
                    if tag != "replace" or i2 - i1 != j2 - j1:
                        continue
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                        p, q = x[i], y[j]
                        if not (_name(p) and _name(q)):
                            continue
                        call = i + 1 < len(x) and x[i + 1] == "("
                        if call and (p, q) not in defs:
                            continue
                        seen.setdefault(p, set()).add(q)
        return {p: next(iter(qs)) for p, qs in seen.items() if len(qs) == 1}

    def renamed(self, tokens: tuple[Token, ...]) -> list[str]:
        return [self.renames.get(t.text, t.text) for t in tokens]


def _name(text: str) -> bool:
    return bool(re.match(r"^[A-Za-z_]\w*$", text)) and not _ERRNO.match(text) and \
        text not in _LITERALS


def _pairs(old: list[_CodeLine], new: list[_CodeLine]
           ) -> list[tuple[_CodeLine, _CodeLine]]:
    """Each removed line with the most similar added line (similar enough)."""
    out: list[tuple[_CodeLine, _CodeLine]] = []
    used: set[int] = set()
    for a in old:
        best, score = None, MIN_PAIR_RATIO
        ta = [t.text for t in a.tokens]
        for k, b in enumerate(new):
            if k in used:
                continue
            r = SequenceMatcher(None, ta, [t.text for t in b.tokens],
                                autojunk=False).ratio()
            if r > score:
                best, score = k, r
        if best is not None:
            used.add(best)
            out.append((a, new[best]))
    return out


def _pair_change(p: _Patch, a: _CodeLine, b: _CodeLine) -> tuple[NfcKind, str] | None:
    old = p.renamed(a.tokens)
    new = [t.text for t in b.tokens]
    for _, x, y in token_edits(old, new):
        if set(x) & _OPERATORS or set(y) & _OPERATORS:
            if (set(x) | set(y)) - _OPERATORS - {"(", ")"} and \
                    not (set(x) & _OPERATORS and set(y) & _OPERATORS):
                continue  # an operand added with its operator: judged below, if at all
            return "operator", f"changes `{' '.join(x) or '(nothing)'}` to " \
                f"`{' '.join(y) or '(nothing)'}` in `{b.line.text.strip()}`"
        changed = [t for t in (*x, *y) if t[:1].isdigit() or _ERRNO.match(t)
                   or t in _LITERALS]
        if changed and x and y:
            return "constant", f"changes `{' '.join(x)}` to `{' '.join(y)}` in " \
                f"`{b.line.text.strip()}`"
    return None


def _calls(lines: list[_CodeLine]) -> list[tuple[str, _CodeLine]]:
    out = []
    for cl in lines:
        toks = cl.tokens
        for k in range(len(toks) - 1):
            if toks[k].kind == "id" and toks[k + 1].text == "(":
                out.append((toks[k].text, cl))
    return out


def _statement_call(cl: _CodeLine) -> str | None:
    """The function of a line that is a call statement (``foo(...);``)."""
    toks = cl.tokens
    if len(toks) >= 3 and toks[0].kind == "id" and toks[1].text == "(" and \
            toks[-1].text == ";":
        return toks[0].text
    return None


def nfc_in_patch(pm: PatchMap) -> list[NfcChange]:
    patch = pm.patch
    if not claims_nfc(patch.mail.subject.title, patch.commit_message):
        return []
    p = _Patch(pm)
    removed = Counter(" ".join(p.renamed(cl.tokens)) for _, _, old, _ in p.changes
                      for cl in old)
    added = Counter(_squash(cl.tokens) for _, _, _, new in p.changes for cl in new)
    moved = removed & added
    out: list[NfcChange] = []
    left_old: list[tuple[str, _CodeLine]] = []
    left_new: list[tuple[str, _CodeLine]] = []
    every_old = {p.renames.get(n, n) for _, _, o, _ in p.changes for n, _ in _calls(o)}
    every_new = {n for _, _, _, nw in p.changes for n, _ in _calls(nw)}
    for path, _, old, new in p.changes:
        # a call brought in where calls go away: code replaced by a helper (or a helper
        # by its code), which may hold what went away: no call or lock counts here
        if any(n not in every_old for n, _ in _calls(new)) and \
                any(p.renames.get(n, n) not in every_new for n, _ in _calls(old)):
            helper = True
        else:
            helper = False
        budget_old, budget_new = Counter(moved), Counter(moved)
        rest_old = [cl for cl in old if not _take(budget_old, " ".join(p.renamed(cl.tokens)))]
        rest_new = [cl for cl in new if not _take(budget_new, _squash(cl.tokens))]
        del budget_old, budget_new
        paired = _pairs(rest_old, rest_new)
        for a, b in paired:
            found = _pair_change(p, a, b)
            if found is not None:
                out.append(NfcChange(found[0], Site(pm.index, path, b.line), found[1]))
        done_old = {id(a) for a, _ in paired}
        done_new = {id(b) for _, b in paired}
        if helper:
            continue
        left_old += [(path, cl) for cl in rest_old if id(cl) not in done_old]
        left_new += [(path, cl) for cl in rest_new if id(cl) not in done_new]
    # a function called now that was not before (a helper), or one no longer called
    # (inlined): what went away or came in may live in it; calls and locks say nothing
    brought = any(n not in every_old and not _QUIET_CALL.match(n) for n in every_new)
    dropped = any(n not in every_new and not _QUIET_CALL.match(n) for n in every_old)
    if brought:
        left_old = []
    if dropped:
        left_new = []
    out.extend(_lock_changes(p, pm, left_old, left_new))
    out.extend(_call_statements(p, pm, left_old, left_new))
    return sorted(out, key=lambda c: (c.site.file, c.site.number))


def _take(budget: Counter[str], key: str) -> bool:
    if budget[key] > 0:
        budget[key] -= 1
        return True
    return False


def _lock_changes(p: _Patch, pm: PatchMap, old: list[tuple[str, _CodeLine]],
                  new: list[tuple[str, _CodeLine]]) -> list[NfcChange]:
    """Lock calls added or removed, counted over the patch; a lock and its unlock
    (``spin_lock``/``spin_unlock``) make one finding, on the first of them."""
    gone = Counter(p.renames.get(n, n) for _, cl in old for n, _ in _calls([cl])
                   if _LOCK.match(n))
    came = Counter(n for _, cl in new for n, _ in _calls([cl]) if _LOCK.match(n))
    diff = {name: came[name] - gone[name] for name in set(came) | set(gone)
            if came[name] != gone[name]}
    families: dict[tuple[str, bool], list[str]] = {}
    for name in sorted(diff):
        family = name.replace("unlock", "lock").replace("enable", "disable")
        families.setdefault((family, diff[name] > 0), []).append(name)
    out: list[NfcChange] = []
    for (_, more), names in sorted(families.items()):
        side = new if more else old
        path, cl = next((path, cl) for path, cl in side
                        if any(n in names for n, _ in _calls([cl])))
        verb = "adds" if more else "removes"
        calls = "/".join(f"{n}()" for n in names)
        out.append(NfcChange("lock", Site(pm.index, path, cl.line), f"{verb} {calls}"))
    return out


def _call_statements(p: _Patch, pm: PatchMap, old: list[tuple[str, _CodeLine]],
                     new: list[tuple[str, _CodeLine]]) -> list[NfcChange]:
    every_old = {p.renames.get(n, n) for _, _, o, _ in p.changes for n, _ in _calls(o)}
    every_new = {n for _, _, _, nw in p.changes for n, _ in _calls(nw)}
    out: list[NfcChange] = []
    for side, other, kind, verb in ((new, every_old, "call-added", "adds a call to"),
                                    (old, every_new, "call-removed", "removes the call to")):
        for path, cl in side:
            name = _statement_call(cl)
            if name is None or _LOCK.match(name) or _QUIET_CALL.match(name):
                continue
            if kind == "call-removed":
                name = p.renames.get(name, name)
            if name in other or name in p.own:
                continue
            out.append(NfcChange(kind, Site(pm.index, path, cl.line),  # type: ignore[arg-type]
                                 f"{verb} {name}()"))
    return out


def nfc_changes(smap: SeriesMap) -> list[NfcChange]:
    """Behaviour changes in the patches of the series that claim none, in order."""
    return [c for pm in smap.patches for c in nfc_in_patch(pm)]
