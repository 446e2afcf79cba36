"""Where code runs atomically, in the visible lines of a function (CON003, CON004):
the regions of the locks that spin (spinlocks, raw spinlocks, rwlocks, bit spinlocks,
taken as in reviewbot/knowledge/locking.toml, ``guard()``/``scoped_guard()`` too) and
the sections a rule lists (``Section``: interrupts, preemption or bottom halves
disabled, RCU read side).

Read line by line, with the brace depth, and quiet where unsure: a lock taken under a
braceless ``if`` (conditional locking), or taken in a block (or a branch) that ends
before its release, holds nowhere, and nothing taken in view holds after a label; a
release in a nested block ends the region, which resumes after that block only when
the block jumps away after the release (the error path ``if (err) { spin_unlock();
return; }``). A release without its acquire in view (taken above the hunk, or by the
caller) holds on the lines before it that surely reach it: back to the nearest jump,
label, ``else``/``case``, block start, or line naming the lock (a helper that takes it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from reviewbot.cmap.locks import RELEASE, normalize_lock
from reviewbot.knowledge.overlay import Body, split_args, vocab

if TYPE_CHECKING:
    from reviewbot.cmap.filemap import FileMap
    from reviewbot.cmap.model import FunctionSpan

SPINNING = frozenset(("spinlock", "raw_spinlock", "rwlock", "bit_spinlock"))
_CALL = re.compile(r"(?<![\w.>])([A-Za-z_]\w*+)\s*+\(")
_GUARD = re.compile(r"\b(scoped_guard|guard)\s*\(\s*(\w+)\s*(?:\)\s*)?[(,]")
_JUMP = re.compile(r"\b(?:return|goto|break|continue)\b")
_LABEL = re.compile(r"^\s*(?!default\b)[A-Za-z_]\w*+\s*:(?!:)\s*$")
_BRANCH = re.compile(r"^\s*(?:\}\s*)?else\b|^\s*(?:case\b|default\s*:)")
_CONTROL = re.compile(r"^\s*(?:\}\s*)?(?:else\s+)?(?:if|while|for)\b|^\s*(?:\}\s*)?else\b")


@dataclass(frozen=True)
class Section:
    """Calls that open and close a section that runs atomically (a rule's params)."""

    opens: tuple[str, ...]
    closes: tuple[str, ...]
    state: str  # how the code inside runs: "with interrupts disabled"
    guards: tuple[str, ...] = ()  # guard()/scoped_guard() classes opening it
    irqs_off: bool = False  # interrupts are disabled inside


class Held(NamedTuple):
    """A region holding at a line: a spinning lock, or a section."""

    key: str  # the lock expression (normalised) or the section's first opening call
    call: str  # spin_lock_irqsave, local_irq_save, guard(spinlock)...
    text: str  # the call as written, squeezed: "spin_lock(&d->lock)"
    line: int  # where it was taken; 0 when above the visible lines
    release: int  # for a region taken above: the line releasing it
    kind: str  # the lock class (spinlock, raw_spinlock...) or "section"
    state: str  # for a section: Section.state
    irqs_off: bool
    flavour: str = "plain"  # for a lock: plain, irq, irqsave, bh
    ends: tuple[str, ...] = ()  # the calls that end it (spin_unlock..., rcu_read_unlock)

    def describe(self) -> str:
        """``under spin_lock(&d->lock) taken at line 46``, ``with interrupts disabled
        by local_irq_save(flags) at line 50``, ``with d->lock held (released at line
        60)``."""
        if self.kind == "section":
            where = f" at line {self.line}" if self.line else f" ended at line {self.release}"
            return f"{self.state} ({self.text}{where})"
        if not self.line:
            return f"with {self.key} held (released at line {self.release})"
        return f"under {self.text} taken at line {self.line}"


class _Open:
    """A region open at the line being read."""

    __slots__ = ("depth", "held", "jumped", "suspended")

    def __init__(self, held: Held, depth: int) -> None:
        self.held = held
        self.depth = depth  # the region holds at lines of this depth or deeper
        self.suspended = -1  # the depth of the block that released it (-1: not released)
        self.jumped = False  # that block jumps away after the release


def _ends(kind: str, section: Section | None) -> tuple[str, ...]:
    """The calls that end a region of lock class ``kind`` (or ``section``)."""
    if section is not None:
        return section.closes
    v = vocab()
    names = [r for r, base in RELEASE.items() if base in v.acquire and v.acquire[base][0] == kind]
    return tuple(names) + (("bit_spin_unlock", "__bit_spin_unlock") if kind == "bit_spinlock"
                           else ())


def _args(code: str, open_at: int) -> str:
    """The text between the "(" at ``open_at`` and its ")" (to the end if unclosed)."""
    depth = 0
    for i in range(open_at, min(len(code), open_at + 400)):
        c = code[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return code[open_at + 1:i]
    return code[open_at + 1:open_at + 400]


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _first(args: str) -> str:
    """The first argument, squeezed (``&f->lock`` of ``&f->lock, flags``)."""
    first = split_args(f"({args})", 0)
    return _squeeze(first[0]) if first else _squeeze(args)


class Regions:
    """The atomic regions of some consecutive lines of one function."""

    def __init__(self, lines: Sequence[tuple[int, str]], sections: Sequence[Section]
                 ) -> None:
        self.body = Body(lines)
        self.numbers = [n for n, _ in lines]
        self.holding: dict[int, list[Held]] = {n: [] for n in self.numbers}
        self.taken: list[tuple[Held, int]] = []  # every region's acquire, and its depth
        self._opens: dict[str, Section] = {}
        self._closes: dict[str, Section] = {}
        self._guards: dict[str, Section] = {}
        for s in sections:
            self._opens.update(dict.fromkeys(s.opens, s))
            self._closes.update(dict.fromkeys(s.closes, s))
            self._guards.update(dict.fromkeys(s.guards, s))
        self._scan()

    def at(self, line: int) -> list[Held]:
        return self.holding.get(line, [])

    def _conditional(self, i: int, text: str, at: int) -> bool:
        """The call at ``at`` of line ``i`` runs under a braceless branch."""
        if _CONTROL.match(text[:at]) and "{" not in text[:at] and ";" not in text[:at]:
            return True
        for j in range(i - 1, -1, -1):
            above = self.body.text(self.numbers[j]).strip()
            if above:
                return bool(_CONTROL.match(above)) and not above.endswith(("{", ";", "}"))
        return False

    def _scan(self) -> None:
        v = vocab()
        code = self.body.code
        depths: list[int] = []
        depth = 0
        texts = [self.body.text(n) for n in self.numbers]
        for text in texts:
            depths.append(depth)
            depth += text.count("{") - text.count("}")
        active: list[_Open] = []
        touched: set[str] = set()
        unknown: list[tuple[int, str, str, str]] = []  # line index, key, call, text
        for i, (number, text) in enumerate(zip(self.numbers, texts, strict=True)):
            d = depths[i]
            kept = []
            for o in active:
                if o.suspended >= 0 and d < o.suspended:
                    if not o.jumped:
                        continue  # released on a path that goes on: unsure
                    o.suspended, o.jumped = -1, False
                if o.depth > d:
                    continue  # a block closed with the lock taken in it: conditional
                kept.append(o)
            active = kept
            self.holding[number] = [o.held for o in active if o.suspended < 0
                                    and o.held.line < number]
            start = self.body.starts[i]
            for m in _GUARD.finditer(text):
                kind, cls = m.group(1), m.group(2)
                taken = v.guards.get(cls)
                section = self._guards.get(cls)
                if (taken is None or taken[0] not in SPINNING) and section is None:
                    continue
                args = _args(code, start + m.end() - 1)
                key = normalize_lock(args) if section is None else cls
                hold = d + 1 if kind == "scoped_guard" else d
                if kind == "scoped_guard" and "{" not in text[m.end():]:
                    touched.add(key)
                    continue
                held = Held(key, f"{kind}({cls})", _squeeze(text[m.start():].rstrip(";{ ")),
                            number, 0, taken[0] if section is None and taken else "section",
                            section.state if section else "",
                            section.irqs_off if section else taken is not None
                            and taken[1] in ("irq", "irqsave"),
                            taken[1] if taken is not None else "",
                            _ends(taken[0] if taken else "", section))
                active.append(_Open(held, hold))
                self.taken.append((held, d))
            jump = _JUMP.search(text)
            if jump is not None and not self._conditional(i, text, jump.start()):
                for o in active:
                    if o.suspended >= 0 and d == o.suspended:
                        o.jumped = True
            if _BRANCH.match(text):  # a branch ends here, another starts
                kept = []
                for o in active:
                    if o.suspended >= 0 and d == o.suspended:
                        if not o.jumped:
                            continue  # released on a path that goes on: unsure
                        o.suspended, o.jumped = -1, False  # this branch runs with it
                    elif o.suspended < 0 and o.depth >= d and o.held.line:
                        continue  # taken in the branch that ends: not held in this one
                    kept.append(o)
                active = kept
            elif _LABEL.match(text):  # reached by jumps too: unsure of what is held
                active = [o for o in active if not o.held.line]
            for m in _CALL.finditer(text):
                name = m.group(1)
                at = m.start(1)
                open_at = start + m.end() - 1
                acquire = v.acquire.get(name)
                section = self._opens.get(name)
                if (acquire is not None and acquire[0] in SPINNING
                        and acquire[1] != "trylock") or section is not None:
                    args = _args(code, open_at)
                    if section is not None:
                        key, cls, flavour = section.opens[0], "section", ""
                    elif acquire is not None and acquire[0] == "bit_spinlock":
                        key, cls, flavour = _squeeze(args), acquire[0], acquire[1]
                    else:
                        assert acquire is not None
                        key, cls, flavour = normalize_lock(args, name), acquire[0], acquire[1]
                    if self._conditional(i, text, at):
                        touched.add(key)
                        continue
                    shown = f"{name}({_first(args) if section is None else ''})"
                    held = Held(key, name, shown, number, 0, cls,
                                section.state if section else "",
                                section.irqs_off if section else flavour in ("irq",
                                                                            "irqsave"),
                                flavour, _ends(cls, section))
                    active.append(_Open(held, d))
                    self.taken.append((held, d))
                    touched.add(key)
                    continue
                if "unlock" in name and name not in RELEASE and name not in self._closes:
                    args = _args(code, open_at)
                    for o in reversed(active):
                        base = re.split(r"->|\.", o.held.key)[0]
                        if o.suspended < 0 and o.held.kind != "section" and re.search(
                                r"(?<![\w.>])" + re.escape(base) + r"\b", args):
                            active.remove(o)  # a helper that releases it
                            touched.add(o.held.key)
                            break
                    continue
                closes = self._closes.get(name)
                base = RELEASE.get(name) or ("bit_spin_lock" if name in (
                    "bit_spin_unlock", "__bit_spin_unlock") else None)
                base_class = v.acquire.get(base)[0] if base in v.acquire else None  # type: ignore[index]
                if closes is None and base_class not in SPINNING:
                    continue
                args = _args(code, open_at)
                if closes is not None:
                    key = closes.opens[0]
                elif base_class == "bit_spinlock":
                    key = _squeeze(args)
                else:
                    key = normalize_lock(args, base or "")
                match = next((o for o in reversed(active) if o.held.key == key
                              and o.suspended < 0), None)
                if match is None:
                    if key not in touched and not self._conditional(i, text, at):
                        unknown.append((i, key, name, f"{name}()"))
                    touched.add(key)
                    continue
                if self._conditional(i, text, at):
                    active.remove(match)  # released on some paths: unsure
                elif d > match.depth:
                    match.suspended = d
                else:
                    active.remove(match)
        for i, key, call, text in unknown:
            self._taken_above(i, key, call, text, depths)

    def _taken_above(self, r: int, key: str, call: str, text: str, depths: list[int]) -> None:
        """Lines before the release at index ``r`` (of a lock taken above) that surely
        run with it held."""
        named = re.compile(r"(?<![\w.>])" + re.escape(key) + r"(?![\w\[])")
        kind = "section" if key in self._opens else "spinlock"
        section = self._opens.get(key)
        held = Held(key, call, text, 0, self.numbers[r], kind,
                    section.state if section else "", bool(section and section.irqs_off),
                    "plain", _ends(kind, section))
        for j in range(r - 1, -1, -1):
            line = self.body.text(self.numbers[j])
            squeezed = _squeeze(line)
            if depths[j] < depths[r] or _JUMP.search(line) or _LABEL.match(line) or \
                    _BRANCH.match(line) or named.search(squeezed):
                break
            self.holding[self.numbers[j]].append(held)


def runs(numbers: Sequence[int]) -> list[list[int]]:
    """Line numbers split where they are not consecutive."""
    out: list[list[int]] = []
    for n in numbers:
        if out and n == out[-1][-1] + 1:
            out[-1].append(n)
        else:
            out.append([n])
    return out


def changed_runs(fmap: FileMap) -> Iterator[tuple[FunctionSpan, list[tuple[int, str]]]]:
    """Each function the patch adds lines to, with each run of its visible lines
    (consecutive numbers: a gap is code not in view) that holds an added line."""
    added = fmap.added
    touched = sorted({fn for n in added if (fn := fmap.function_at(n)) is not None},
                     key=lambda f: f.start)
    for fn in touched:
        numbers = [n for n in range(fn.start, fn.end + 1) if n in fmap.text]
        for run in runs(numbers):
            if any(n in added for n in run):
                yield fn, [(n, fmap.text[n]) for n in run]
