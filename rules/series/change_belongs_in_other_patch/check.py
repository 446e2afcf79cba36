"""A change that belongs in another patch of the same series (SER001).

Layout: a whitespace-only change group (blank lines, indentation, alignment, wrapping; see
``reviewbot.diff.layout``) whose removed lines were added by an earlier patch of the series in the
input, compared whitespace-insensitively together with the unchanged lines around them,
belongs in that earlier patch: the series should not add code in one patch and re-format
it in the next. When earlier patches of the series are not in the input, a hunk made only
of whitespace changes is still reported, without a patch number.

The series map (``reviewbot.seriesmap.misplaced``) adds the changes of code: a change that
puts back what an earlier patch M replaced (revert), one that changes only a few names or
strings of lines M added (fix-up), and a hunk that only adds definitions nothing in this
patch uses and a later patch M is the first to use. Each is worked out once per patch,
and only when the diffs show it can be there (a removed line an earlier patch added; a
hunk that only adds lines, in a patch that does not announce preparatory work).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.analysis import PostImage
from reviewbot.diff.layout import LayoutChange, placement, squash
from reviewbot.engine.check import Hit, render
from reviewbot.seriesmap.gates import has_others, reviewed

from ..series_map import found_on, hit, series_map

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.seriesmap.misplaced import Misplaced


@dataclass(frozen=True)
class Params:
    """The wording of a layout change, when the earlier patch is in the input
    (``{patch}`` is its number) and when it is not (``{change}``: "This one-line
    change", "Those two-line changes"); and the replies for the changes of code."""

    numbered_message: str
    numbered_reply: str
    unnumbered_message: str
    unnumbered_reply: str
    # changes of code ({patch}: patch M; {symbol}: what the hunk adds; {detail}: the
    # tokens a fix-up changes)
    revert_reply: str
    fixup_reply: str
    later_reply: str


MIN_DISTINCTIVE = 10  # characters of squashed text
_COUNTS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
           "ten")


def _distinctive(text: str | None) -> bool:
    """Squashed text long enough to identify a line (not ``}``, ``return 0;``, blank)."""
    return text is not None and len(text) >= MIN_DISTINCTIVE


class _Wanted:
    """What ``added_by`` looks for: a change's replaced lines and neighbours, squashed."""

    def __init__(self, change: LayoutChange) -> None:
        self.replaced = [squash(ln.text) for ln in change.pre]
        self.before = squash(change.before.text) if change.before is not None else None
        self.after = squash(change.after.text) if change.after is not None else None


def _matches_at(texts: list[str], added: list[bool], i: int, want: _Wanted) -> bool:
    replaced = want.replaced
    n = len(replaced)
    if texts[i:i + n] != replaced or not all(added[i:i + n]):
        return False
    before, after = want.before, want.after

    def neighbour(pos: int, expected: str | None) -> bool | None:
        """True/False when the neighbour can be compared, None when it cannot."""
        if expected is None or not 0 <= pos < len(texts):
            return None
        return texts[pos] == expected and (n > 0 or added[pos])

    prev, nxt = neighbour(i - 1, before), neighbour(i + n, after)
    # Blank lines, braces and "return 0;" are everywhere: text that short is no evidence.
    framed = prev is True and nxt is True and (_distinctive(before) or _distinctive(after))
    if n == 0:  # an insertion between two lines the earlier patch added
        return framed
    if prev is False or nxt is False:
        return False
    return _distinctive("".join(replaced)) or framed


def added_by(hunks: tuple[PostImage, ...], change: LayoutChange) -> bool:
    """An earlier patch's change to the same file (the squashed post-images of its
    ``hunks``) added the lines ``change`` re-formats: they appear there as added lines,
    between the same neighbours."""
    n = len(change.pre)
    want = _Wanted(change)
    for texts_, added_ in hunks:
        texts, added = list(texts_), list(added_)
        start = 1 if n == 0 else 0
        if any(_matches_at(texts, added, i, want) for i in range(start, len(texts) - n + 1)):
            return True
    return False


def source_patch(patch: PatchAnalysis, file: FileAnalysis, change: LayoutChange) -> int | None:
    """The index of the latest earlier patch in the input that added the changed lines."""
    names = {file.diff.new_path, file.diff.old_path} - {None}
    for earlier in reversed(patch.earlier()):
        if earlier.patch.skipped:
            continue
        for k, fdiff in enumerate(earlier.patch.files):
            if fdiff.new_path in names and added_by(earlier.squashed(k), change):
                return earlier.patch.index
    return None


def _size(change: LayoutChange) -> str:
    n = change.size
    word = _COUNTS[n] if n < len(_COUNTS) else str(n)
    return f"This {word}-line change" if n == 1 else f"Those {word}-line changes"


def _candidates(file: FileAnalysis) -> Iterator[LayoutChange]:
    for h in file.hunks:
        for change in h.layout_changes():
            if not change.whole_hunk and (change.reindent_only or change.touches_code):
                continue  # re-indented or re-aligned for a change in the same hunk
            yield change


def _code_changes(patch: PatchAnalysis) -> list[Misplaced]:
    """The reverts, fix-ups and hunks for later patches of the patch under review
    (layout changes are found above, from the earlier patches' post-images)."""
    if not has_others(reviewed(patch.series), patch.patch):
        return []  # nothing imported, nothing read
    from reviewbot.seriesmap.misplaced import (
        changes_earlier_lines,
        earlier_changes,
        may_add_for_later,
        only_used_later,
    )

    p = patch.patch
    smap = series_map(patch)
    fixes = changes_earlier_lines(smap, p)
    later = may_add_for_later(smap, p)
    pm = smap.patch(p.index) if fixes or later else None
    if pm is None:
        return []
    found = [m for m in earlier_changes(smap, pm) if m.kind != "reformat"] if fixes else []
    return found + (only_used_later(smap, pm) if later else [])


def _code_hits(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> list[Hit]:
    found = found_on(patch, file, __name__, lambda: _code_changes(patch))
    if not found:
        return []
    smap = series_map(patch)
    replies = {"revert": params.revert_reply, "fixup": params.fixup_reply,
               "only-used-later": params.later_reply}
    out = []
    for m in found:
        values = {"message": m.message(patch.series.total), "patch": str(m.target),
                  "detail": m.detail,
                  "symbol": m.symbol.spelled() if m.symbol is not None else ""}
        out.append(hit(smap, m.site, values, {"reply": replies[m.kind]}))
    return out


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    """Flag changes to lines an earlier patch of the series added that belong there, and
    hunks that belong in a later patch."""
    present = {p.index for p in patch.series.patches}
    earlier_missing = any(i not in present for i in range(1, patch.patch.index))
    unnumbered_ok = earlier_missing and not patch.layout_changes_expected()
    out: list[Hit] = []
    for change in _candidates(file):
        number = source_patch(patch, file, change)
        if number is not None:
            values = {"patch": str(number), "change": _size(change)}
            msg, reply = params.numbered_message, params.numbered_reply
        elif change.whole_hunk and unnumbered_ok:
            values = {"change": _size(change)}
            msg, reply = params.unnumbered_message, params.unnumbered_reply
        else:
            continue
        values["message"] = render(msg, values)
        values["reply"] = render(reply, values)
        where = placement(change)
        if where is not None:
            out.append(Hit(file.path, where.line, tuple(values.items()), where.side,
                           where.old_line))
    return out + _code_hits(patch, file, params)
