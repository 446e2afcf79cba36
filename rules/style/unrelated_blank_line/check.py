"""STY007: a blank line added or removed between two unchanged lines, away from the
patch's changes."""

from __future__ import annotations

from collections.abc import Iterable

from reviewbot.analysis import FileAnalysis, PatchAnalysis
from reviewbot.engine.check import Hit
from reviewbot.engine.params import NoParams

from ..blank_lines import unrelated_changes


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag a blank line inserted or removed between two unchanged lines."""
    return [Hit(file.path, where.line, (("done", "removed" if where.side == "old" else "added"),),
                where.side, where.old_line)
            for _, where in unrelated_changes(patch, file, "blank")]
