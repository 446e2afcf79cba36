"""STY005: an added blank line right before a closing brace."""

from __future__ import annotations

from collections.abc import Iterable

from reviewbot.analysis import FileAnalysis, PatchAnalysis
from reviewbot.engine.check import Hit
from reviewbot.engine.params import NoParams

from ..blank_lines import blank_line_hits


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag an added blank line that precedes a line starting with ``}``."""
    return list(blank_line_hits(patch, file, "brace_close"))
