"""STY003: two or more blank lines in a row, added by the patch or left by a removal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from reviewbot.analysis import FileAnalysis, PatchAnalysis
from reviewbot.diff.layout import is_blank
from reviewbot.engine.check import Hit
from reviewbot.engine.params import NoParams

from ..blank_lines import blank_line_hits


def _removed_double(file: FileAnalysis) -> Iterator[Hit]:
    """A removal that leaves two blank lines next to each other: on the removed line."""
    for hunk in file.diff.hunks:
        post = [ln for ln in hunk.lines if ln.kind != "-"]
        if len(post) == len(hunk.lines):
            continue  # nothing removed
        blank = [is_blank(ln) for ln in post]
        for i in range(1, len(post)):
            if not (blank[i - 1] and blank[i]):
                continue
            if post[i - 1].kind == "+" or post[i].kind == "+":
                continue  # an added blank line: reported on that line
            lo, hi = hunk.lines.index(post[i - 1]), hunk.lines.index(post[i])
            removed = [ln for ln in hunk.lines[lo + 1:hi] if ln.kind == "-"]
            if removed:
                yield Hit(file.path, post[i].new or 0, (), "old", removed[0].old)


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag runs of blank lines: added ones first, then those a removal leaves."""
    return [*blank_line_hits(patch, file, "double"), *_removed_double(file)]
