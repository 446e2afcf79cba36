"""Static check of rule regexes for catastrophic backtracking (used by the rule loader).

``risky_regex`` parses a pattern (Python's own ``re`` parser) and names the constructs
known to backtrack catastrophically: a repeated group around a variable-length part with
nothing to pin down where one repetition ends (``(a+)+``, ``(\\w+\\s?)*``, ``(.*,)*``),
a repeated alternation whose branches can start the same way (``(a|ab)*``), and three or
more unbounded quantifiers that can match the same character (``.*a.*b.*``, polynomial).
What it cannot see is bounded at run time by ``regexsafe.RegexGuard``.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

MAX_PATTERN = 2_000  # characters in one rule pattern

# Characters the analysis tries (ASCII and a few others); char sets are bit masks.
_UNIVERSE = [chr(i) for i in range(128)] + ["\xa0", "é", "ж", "\u2028", "😀"]
_ALL = (1 << len(_UNIVERSE)) - 1
_OTHER = _UNIVERSE.index("é")  # stands for any non-ASCII literal


@cache
def _class_mask(expr: str, flags: int) -> int:
    """Bit mask of the universe characters that the one-character ``expr`` matches."""
    compiled = re.compile(expr, flags)
    return sum(1 << i for i, ch in enumerate(_UNIVERSE) if compiled.fullmatch(ch))


@dataclass(frozen=True)
class _Info:
    nullable: bool  # can match the empty string
    first: int  # characters a match can start with
    chars: int  # characters a match can contain


_EMPTY = _Info(True, 0, 0)


class _Analyser:
    def __init__(self, flags: int) -> None:
        # re's own parser and opcodes (private modules, stable since 3.11; not in typeshed)
        self.c: Any = importlib.import_module("re._constants")
        self.ignorecase = bool(flags & re.IGNORECASE)
        self.dotall = bool(flags & re.DOTALL)
        self.problems: list[str] = []

    # -- character sets ---------------------------------------------------------------
    def _literal(self, code: int) -> int:
        ch = chr(code)
        chars = {ch, ch.lower(), ch.upper()} if self.ignorecase else {ch}
        mask = 0
        for x in chars:
            mask |= 1 << (_UNIVERSE.index(x) if x in _UNIVERSE else _OTHER)
        return mask

    def _in(self, items: list[tuple[Any, Any]]) -> int:
        c = self.c
        mask, negate = 0, False
        for op, av in items:
            if op is c.NEGATE:
                negate = True
            elif op is c.LITERAL:
                mask |= self._literal(av)
            elif op is c.RANGE:
                lo, hi = av
                mask |= _class_mask(f"[{re.escape(chr(lo))}-{re.escape(chr(hi))}]",
                                    re.IGNORECASE if self.ignorecase else 0)
                if hi > 127:
                    mask |= 1 << _OTHER
            elif op is c.CATEGORY:
                name = str(av).replace("CATEGORY_", "").replace("UNI_", "").replace(
                    "LOC_", "")
                expr = {"DIGIT": r"\d", "NOT_DIGIT": r"\D", "SPACE": r"\s",
                        "NOT_SPACE": r"\S", "WORD": r"\w", "NOT_WORD": r"\W",
                        "LINEBREAK": r"\n", "NOT_LINEBREAK": r"[^\n]"}.get(name, r"[\s\S]")
                mask |= _class_mask(expr, 0)
            else:  # anything unexpected: assume it matches everything
                mask |= _ALL
        return _ALL & ~mask if negate else mask

    # -- structure ---------------------------------------------------------------------
    def seq(self, items: list[tuple[Any, Any]]) -> _Info:
        nullable, first, chars = True, 0, 0
        for op, av in items:
            i = self.item(op, av)
            if nullable:
                first |= i.first
            nullable = nullable and i.nullable
            chars |= i.chars
        return _Info(nullable, first, chars)

    def item(self, op: Any, av: Any) -> _Info:
        c = self.c
        if op is c.LITERAL:
            m = self._literal(av)
            return _Info(False, m, m)
        if op is c.NOT_LITERAL:
            m = _ALL & ~self._literal(av)
            return _Info(False, m, m)
        if op is c.ANY:
            m = _ALL if self.dotall else _ALL & ~(1 << _UNIVERSE.index("\n"))
            return _Info(False, m, m)
        if op is c.IN:
            m = self._in(av)
            return _Info(False, m, m)
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return _EMPTY
        if op is c.SUBPATTERN:
            return self.seq(av[-1])
        if op is c.ATOMIC_GROUP:
            return self.seq(av)
        if op is c.BRANCH:
            infos = [self.seq(alt) for alt in av[1]]
            return _Info(any(i.nullable for i in infos),
                         _or(i.first for i in infos), _or(i.chars for i in infos))
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            lo, _, body = av
            i = self.seq(body)
            return _Info(lo == 0 or i.nullable, i.first, i.chars)
        if op is c.GROUPREF_EXISTS:
            _, yes, no = av
            a, b = self.seq(yes), self.seq(no) if no else _EMPTY
            return _Info(a.nullable or b.nullable, a.first | b.first, a.chars | b.chars)
        return _Info(True, _ALL, _ALL)  # GROUPREF and the like: anything

    # -- checks ------------------------------------------------------------------------
    def flatten(self, items: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
        """The sequence with plain groups opened up."""
        out: list[tuple[Any, Any]] = []
        for op, av in items:
            if op is self.c.SUBPATTERN:
                out.extend(self.flatten(av[-1]))
            else:
                out.append((op, av))
        return out

    def _variable(self, op: Any, av: Any) -> bool:
        """Does this item contain a backtracking repeat of variable length?"""
        c = self.c
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            return av[0] != av[1] or any(self._variable(o, a) for o, a in av[2])
        if op is c.SUBPATTERN:
            return any(self._variable(o, a) for o, a in av[-1])
        if op is c.BRANCH:
            return any(self._variable(o, a) for alt in av[1] for o, a in alt)
        return False

    def _check_repeat(self, body: list[tuple[Any, Any]]) -> None:
        flat = self.flatten(body)
        info = self.seq(flat)
        if info.nullable and flat:
            self.problems.append("a repeated group that can match the empty string "
                                 "(like (a*)*) can backtrack catastrophically")
            return
        variable = [(o, a) for o, a in flat if self._variable(o, a)]
        if variable:
            var_chars = _or(self.item(o, a).chars for o, a in variable)
            c = self.c
            separators = [self.item(o, a).chars for o, a in flat
                          if o in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN)]
            if not any(m & var_chars == 0 for m in separators):
                self.problems.append("nested quantifier (like (a+)+ or (.*,)*): nothing "
                                     "fixes where one repetition ends, so it can "
                                     "backtrack catastrophically (make the inner "
                                     "quantifier possessive, \\w++, or the group atomic, "
                                     "(?>...))")
        for op, av in flat:
            if op is self.c.BRANCH:
                self._check_branch(av[1])

    def _check_branch(self, alts: list[list[tuple[Any, Any]]]) -> None:
        for i, a in enumerate(alts):
            for b in alts[i + 1:]:
                if self._overlap(self.flatten(a), self.flatten(b)):
                    self.problems.append("a repeated alternation whose branches can match "
                                         "the same text (like (a|ab)*) can backtrack "
                                         "catastrophically")
                    return

    def _overlap(self, a: list[tuple[Any, Any]], b: list[tuple[Any, Any]]) -> bool:
        k = 0
        while k < min(len(a), len(b)) and a[k] == b[k] and a[k][0] is self.c.LITERAL:
            k += 1
        ra, rb = self.seq(a[k:]), self.seq(b[k:])
        return ra.nullable or rb.nullable or bool(ra.first & rb.first)

    def _check_polynomial(self, flat: list[tuple[Any, Any]]) -> None:
        """Unbounded quantifiers that can trade characters among themselves multiply
        their work. A required item whose characters none of them can take (the ``(`` in
        ``\\s*\\(\\s*``) pins the boundary, so the count starts again after it."""
        c = self.c
        groups: list[list[int]] = [[]]
        for op, av in flat:
            info = self.item(op, av)
            if not info.nullable and info.chars & _or(groups[-1]) == 0:
                groups.append([])
            if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[1] == c.MAXREPEAT:
                groups[-1].append(info.chars)
        for masks in groups:
            if len(masks) >= 3 and self._common(masks) >= 3:
                self.problems.append("three or more unbounded quantifiers that can match "
                                     "the same character (like .*a.*b.*) take polynomial "
                                     "time on long lines; use [^x]* or fewer wildcards")
                return

    @staticmethod
    def _common(masks: list[int]) -> int:
        """The largest number of ``masks`` that share one character."""
        return max(sum(1 for m in masks if m >> bit & 1) for bit in range(len(_UNIVERSE)))

    def walk(self, items: list[tuple[Any, Any]]) -> None:
        c = self.c
        self._check_polynomial(self.flatten(items))
        for op, av in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT):
                _, hi, body = av
                if hi == c.MAXREPEAT or hi > 16:
                    self._check_repeat(body)
                self.walk(body)
            elif op is c.POSSESSIVE_REPEAT:
                self.walk(av[2])
            elif op is c.SUBPATTERN:
                self.walk(av[-1])
            elif op is c.ATOMIC_GROUP:
                self.walk(av)
            elif op is c.BRANCH:
                for alt in av[1]:
                    self.walk(alt)
            elif op in (c.ASSERT, c.ASSERT_NOT):
                self.walk(av[1])
            elif op is c.GROUPREF_EXISTS:
                self.walk(av[1])
                if av[2]:
                    self.walk(av[2])


def _or(masks: Any) -> int:
    out = 0
    for m in masks:
        out |= m
    return out


def risky_regex(pattern: str) -> str | None:
    """Why ``pattern`` may backtrack catastrophically, or None when it looks linear.

    >>> risky_regex(r"(a+)+b") is not None, risky_regex(r"\\bfoo\\(\\s*(\\w+),") is None
    (True, True)
    """
    if len(pattern) > MAX_PATTERN:
        return f"pattern longer than {MAX_PATTERN} characters"
    parser: Any = importlib.import_module("re._parser")
    try:
        parsed = parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None  # the caller reports the compile error itself
    analyser = _Analyser(parsed.state.flags)
    try:
        analyser.walk(list(parsed))
    except RecursionError:
        return "pattern nested too deeply"
    return analyser.problems[0] if analyser.problems else None
