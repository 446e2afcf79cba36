"""``difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()`` for lists of
strings, without the matcher object.

The same algorithm (longest matching block first, then recursively left and right of
it; ties go to the earliest block in ``a``, then in ``b``), specialised for no junk and
no "popular" elements: difflib's steps that extend a block over junk, and its ``Match``
tuples, drop out. The result is difflib's, element for element (tests/test_fast_paths.py
compares the two); a re-diff of a hunk calls this once, so the saving is per hunk.
"""

from __future__ import annotations

Opcode = tuple[str, int, int, int, int]


def opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """The edit steps turning ``a`` into ``b``, as difflib gives them."""
    if a == b:  # the whole of a is the one longest match: one "equal" run (none if empty)
        return [("equal", 0, len(a), 0, len(b))] if a else []
    b2j: dict[str, list[int]] = {}
    for j, elt in enumerate(b):
        b2j.setdefault(elt, []).append(j)
    answer: list[Opcode] = []
    i = j = 0
    for ai, bj, size in _matching_blocks(a, b2j, len(a), len(b)):
        if i < ai and j < bj:
            answer.append(("replace", i, ai, j, bj))
        elif i < ai:
            answer.append(("delete", i, ai, j, bj))
        elif j < bj:
            answer.append(("insert", i, ai, j, bj))
        i, j = ai + size, bj + size
        if size:
            answer.append(("equal", ai, i, bj, j))
    return answer


def _matching_blocks(a: list[str], b2j: dict[str, list[int]], la: int, lb: int
                     ) -> list[tuple[int, int, int]]:
    """``SequenceMatcher.get_matching_blocks``: adjacent blocks merged, a (la, lb, 0)
    sentinel last."""
    queue = [(0, la, 0, lb)]
    blocks: list[tuple[int, int, int]] = []
    while queue:
        alo, ahi, blo, bhi = queue.pop()
        i, j, k = _longest_match(a, b2j, alo, ahi, blo, bhi)
        if k:
            blocks.append((i, j, k))
            if alo < i and blo < j:
                queue.append((alo, i, blo, j))
            if i + k < ahi and j + k < bhi:
                queue.append((i + k, ahi, j + k, bhi))
    blocks.sort()
    i1 = j1 = k1 = 0
    merged: list[tuple[int, int, int]] = []
    for i2, j2, k2 in blocks:
        if i1 + k1 == i2 and j1 + k1 == j2:
            k1 += k2
        else:
            if k1:
                merged.append((i1, j1, k1))
            i1, j1, k1 = i2, j2, k2
    if k1:
        merged.append((i1, j1, k1))
    merged.append((la, lb, 0))
    return merged


def _longest_match(a: list[str], b2j: dict[str, list[int]], alo: int, ahi: int,
                   blo: int, bhi: int) -> tuple[int, int, int]:
    """``SequenceMatcher.find_longest_match`` without junk: (i, j, size) of the longest
    block of ``a[alo:ahi]`` equal to one of ``b[blo:bhi]``, the earliest in ``a``, then
    in ``b``. (Without junk, the block the loop finds cannot be extended either way.)"""
    besti, bestj, bestsize = alo, blo, 0
    j2len: dict[int, int] = {}
    nothing: list[int] = []
    for i in range(alo, ahi):
        j2lenget = j2len.get
        newj2len: dict[int, int] = {}
        for j in b2j.get(a[i], nothing):
            if j < blo:
                continue
            if j >= bhi:
                break
            k = newj2len[j] = j2lenget(j - 1, 0) + 1
            if k > bestsize:
                besti, bestj, bestsize = i - k + 1, j - k + 1, k
        j2len = newj2len
    return besti, bestj, bestsize
