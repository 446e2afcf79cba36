"""Where a patch's hunks are in a whole post-image file, and line numbers between them.

A patch applied to a tree that is not exactly its author's lands at an offset
("Hunk #1 succeeded at 1663 (offset 76 lines)"). Findings must keep the patch's own
post-image numbers (replies quote them), so the whole file's lines are renumbered: lines
in a hunk exactly, lines between hunks by the nearer hunk's offset (a line whose number
would collide gets none and is left out of the view).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from reviewbot.diff.model import FileDiff


class LineMap(NamedTuple):
    """Real (file) line numbers -> the patch's post-image numbers, both 1-based."""

    patch_of_real: tuple[int | None, ...] | None  # index 0 unused; None: identity
    length: int

    @property
    def identity(self) -> bool:
        return self.patch_of_real is None

    def rows(self) -> tuple[int | None, ...]:
        """For each 0-based row of the file, its patch line number."""
        if self.patch_of_real is None:
            return tuple(range(1, self.length + 1))
        return self.patch_of_real[1:]

    def to_real(self) -> dict[int, int]:
        """The inverse, for the lines that have a patch number."""
        return {d: r for r, d in enumerate(self.rows(), start=1) if d is not None}


def _post_lines(fdiff: FileDiff) -> list[tuple[int, list[str]]]:
    """(first post-image line number, post-image texts) of each hunk with any."""
    out = []
    for h in fdiff.hunks:
        post = [ln for ln in h.lines if ln.kind != "-" and ln.new is not None]
        if post:
            first = post[0].new
            assert first is not None
            out.append((first, [ln.text for ln in post]))
    return out


def _find(lines: Sequence[str], want: list[str], expected: int, low: int) -> int | None:
    """The 1-based start >= ``low`` nearest ``expected`` where ``want`` matches."""
    n = len(want)
    last = len(lines) - n + 1
    if expected >= low and expected <= last and list(lines[expected - 1:expected - 1 + n]) \
            == want:
        return expected
    first = want[0]
    starts = [i + 1 for i in range(low - 1, max(low - 1, last))
              if lines[i] == first]
    starts.sort(key=lambda s: abs(s - expected))
    for s in starts:
        if list(lines[s - 1:s - 1 + n]) == want:
            return s
    return None


def locate(fdiff: FileDiff, lines: Sequence[str]) -> LineMap | None:
    """Map ``lines`` (the whole post-image) to ``fdiff``'s numbering; None when some
    hunk's post-image is not in the file (the file does not belong to this patch), or
    when the hunks are not in order (git never writes them so): the patch numbers of the
    file's lines then increase from line to line."""
    hunks = _post_lines(fdiff)
    placed: list[tuple[int, int, int]] = []  # (patch start, real start, length)
    low, offset = 1, 0
    for first, texts in hunks:
        if placed and first < placed[-1][0] + placed[-1][2]:
            return None
        start = _find(lines, texts, first + offset, low)
        if start is None:
            return None
        offset = start - first
        placed.append((first, start, len(texts)))
        low = start + len(texts)
    if all(real == patch for patch, real, _ in placed):
        return LineMap(None, len(lines))
    return LineMap(_renumber(placed, len(lines)), len(lines))


def _renumber(placed: list[tuple[int, int, int]], length: int) -> tuple[int | None, ...]:
    """Patch numbers for every real line: exact in hunks, by the nearer hunk's offset
    between them, strictly increasing (a line that would break that gets none)."""
    nums: list[int | None] = [None] * (length + 1)
    spans = [(real, real + n - 1, real - patch) for patch, real, n in placed]
    j = 0  # the first hunk that ends at or after r
    last = 0
    for r in range(1, length + 1):
        while j < len(spans) and spans[j][1] < r:
            j += 1
        nxt = spans[j] if j < len(spans) else None
        prev = spans[j - 1] if j > 0 else None
        if nxt is not None and nxt[0] <= r:
            nums[r] = last = r - nxt[2]  # inside a hunk: exact
            continue
        if prev is None:
            assert nxt is not None
            off = nxt[2]
        elif nxt is None or r - prev[1] <= nxt[0] - r:
            off = prev[2]
        else:
            off = nxt[2]
        d = r - off
        if d >= 1 and d > last and (nxt is None or d < nxt[0] - nxt[2]):
            nums[r] = last = d
    return tuple(nums)
