"""Change groups of a hunk (a run of removed and added lines between unchanged ones) and
their token-level comparison."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from reviewbot.diff.model import Hunk, Line
from reviewbot.seriesmap.lexer import Token


@dataclass(frozen=True)
class Change:
    """Consecutive removed and added lines of a hunk."""

    hunk: Hunk
    removed: tuple[Line, ...]
    added: tuple[Line, ...]
    before: Line | None  # the context line just above (None at the hunk's start)
    after: Line | None  # the context line just below

    @property
    def anchor(self) -> Line:
        """The line a finding about the change sits on: its first added line, else
        its first removed one."""
        return (self.added or self.removed)[0]


def change_groups(hunk: Hunk) -> list[Change]:
    out: list[Change] = []
    lines = hunk.lines
    i = 0
    while i < len(lines):
        if lines[i].kind == " ":
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].kind != " ":
            j += 1
        run = lines[i:j]
        out.append(Change(hunk, tuple(ln for ln in run if ln.kind == "-"),
                          tuple(ln for ln in run if ln.kind == "+"),
                          lines[i - 1] if i > 0 else None,
                          lines[j] if j < len(lines) else None))
        i = j
    return out


def texts(tokens: Sequence[Token]) -> list[str]:
    return [t.text for t in tokens]


def token_edits(old: Sequence[str], new: Sequence[str]
                ) -> list[tuple[str, list[str], list[str]]]:
    """The non-equal steps of a token diff: (tag, old tokens, new tokens)."""
    sm = SequenceMatcher(None, list(old), list(new), autojunk=False)
    return [(tag, list(old[i1:i2]), list(new[j1:j2]))
            for tag, i1, i2, j1, j2 in sm.get_opcodes() if tag != "equal"]


def is_blank(line: Line) -> bool:
    return not line.text.strip()
