"""Which patch of the series added a line: added lines followed through later patches.

After patch M, the lines M added sit at known post-image numbers of their file. Each
later patch that changes the file moves them (hunks above shift them, context lines map
old to new numbers, removed lines drop them). A line a later patch N removes or shows as
context then has an origin when its pre-image number holds a tracked line with the same
text. A patch missing from the input, or a series that does not apply in order, makes
the numbers wrong; the text check then fails and the line has no origin (never a wrong
one).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.diff.model import FileDiff, Hunk, Line
from reviewbot.series.model import Patch


@dataclass(frozen=True)
class Origin:
    """The added line of an earlier patch that a later patch's line is."""

    patch: int
    file: str
    line: Line


class _Shift:
    """Pre-image to post-image line numbers of one file diff (linear to build, a bisect
    per question)."""

    def __init__(self, hunks: Sequence[Hunk]) -> None:
        self.firsts: list[int] = []  # first pre-image line each hunk covers
        self.ends: list[int] = []  # one past its last
        self.deltas: list[int] = []  # shift of the lines before the hunk
        self.inside: dict[int, int | None] = {}  # pre-image line in a hunk -> new or None
        delta = 0
        for h in hunks:
            self.firsts.append(h.old_start if h.old_len else h.old_start + 1)
            self.ends.append(h.old_start + h.old_len)
            self.deltas.append(delta)
            for ln in h.lines:
                if ln.old is not None:
                    self.inside[ln.old] = ln.new
            delta += h.new_len - h.old_len
        self.total = delta

    def __call__(self, old: int) -> int | None:
        """The post-image number of pre-image line ``old`` (None: the patch removes it)."""
        if old in self.inside:
            return self.inside[old]
        k = bisect.bisect_right(self.firsts, old)
        if k == 0:
            return old
        if old < self.ends[k - 1]:
            return None  # inside a hunk but not shown: a broken hunk
        return old + (self.deltas[k] if k < len(self.deltas) else self.total)


class Provenance:
    """Origins of the removed and context lines of every patch of a series."""

    def __init__(self, patches: Sequence[Patch]) -> None:
        self._origins: dict[tuple[int, str, int], Origin] = {}
        tracked: dict[str, dict[int, Origin]] = {}
        for patch in patches:
            if patch.skipped:
                continue
            for fdiff in patch.files:
                self._file(patch.index, fdiff, tracked)

    def _file(self, index: int, fdiff: FileDiff, tracked: dict[str, dict[int, Origin]]
              ) -> None:
        before = tracked.pop(fdiff.old_path, {}) if fdiff.old_path else {}
        hunks = sorted(fdiff.hunks, key=lambda h: h.old_start)
        for h in hunks:
            for ln in h.lines:
                if ln.kind != "+" and ln.old is not None:
                    origin = before.get(ln.old)
                    if origin is not None and origin.line.text == ln.text:
                        self._origins[(index, fdiff.old_path or "", ln.old)] = origin
        if fdiff.new_path is None:
            return
        after: dict[int, Origin] = {}
        shift = _Shift(hunks)
        for old, origin in before.items():
            new = shift(old)
            if new is not None:
                after[new] = origin
        for h in hunks:
            for ln in h.lines:
                if ln.kind == "+" and ln.new is not None:
                    after[ln.new] = Origin(index, fdiff.new_path, ln)
        tracked[fdiff.new_path] = after

    def origin(self, patch: int, old_path: str | None, line: Line) -> Origin | None:
        """The earlier patch's added line that ``line`` (a removed or context line of
        patch ``patch`` in the file ``old_path``) is, if a patch of the series added it."""
        if old_path is None or line.old is None:
            return None
        return self._origins.get((patch, old_path, line.old))
