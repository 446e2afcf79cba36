"""STY006: a hunk that only changes whitespace, in code the patch does not otherwise touch."""

from __future__ import annotations

from collections.abc import Iterable

from reviewbot.analysis import FileAnalysis, PatchAnalysis
from reviewbot.engine.check import Hit
from reviewbot.engine.params import NoParams

from ..blank_lines import unrelated_changes


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag each hunk made only of whitespace changes, on its first changed line."""
    return [Hit(file.path, where.line, (), where.side, where.old_line)
            for _, where in unrelated_changes(patch, file, "hunk")]
