"""Sets of rows of a parsed text, as sorted, merged (first, last) ranges (0-based).

Checks limit their work to the rows that can hold a finding (the added lines, some
functions): a walk of the tree skips every subtree outside them (``row_filter``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

Rows = tuple[tuple[int, int], ...]  # merged, sorted 0-based (first, last) row ranges


def merge(ranges: Iterable[tuple[int, int]]) -> Rows:
    """Sorted, merged (first, last) ranges; adjacent ones are joined."""
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def subtract(rows: Rows, other: Rows) -> Rows:
    """The rows of ``rows`` that are not in ``other`` (both sorted and disjoint)."""
    out: list[tuple[int, int]] = []
    k = 0
    for lo, hi in rows:
        while k < len(other) and other[k][1] < lo:
            k += 1
        m = k
        while lo <= hi:
            if m >= len(other) or other[m][0] > hi:
                out.append((lo, hi))
                break
            o_lo, o_hi = other[m]
            if o_lo > lo:
                out.append((lo, o_lo - 1))
            lo = max(lo, o_hi + 1)
            m += 1
    return tuple(out)


def intersect(a: Rows, b: Rows) -> Rows:
    """The rows in both ``a`` and ``b`` (each sorted and merged), merged."""
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return merge(out)


def in_rows(rows: Rows) -> Callable[[int, int], bool]:
    """Whether a (first, last) row span overlaps ``rows`` (sorted, disjoint)."""
    starts = [lo for lo, _ in rows]

    def overlaps(first: int, last: int) -> bool:
        i = bisect.bisect_right(starts, last) - 1
        return i >= 0 and rows[i][1] >= first

    return overlaps


def covers(rows: Rows, root: Node) -> bool:
    """``rows`` holds every row with text under ``root`` (a tree ends at column 0 of the
    row after its last line: that row holds nothing a walk could be looking for)."""
    end_row, end_column = root.end_point
    last = end_row if end_column else end_row - 1
    return len(rows) == 1 and rows[0][0] <= root.start_point[0] and rows[0][1] >= last


def row_filter(rows: Rows | None, root: Node) -> Callable[[int, int], bool] | None:
    """``in_rows(rows)`` for a walk under ``root``; None (no filter) when ``rows`` is None
    or holds every row of ``root`` (``covers``)."""
    if rows is None or covers(rows, root):
        return None
    return in_rows(rows)
