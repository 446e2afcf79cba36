"""STY010: a continuation line indented with tabs only, not aligned with
the open parenthesis above it (checkpatch --strict)."""

from __future__ import annotations

from collections.abc import Iterable

from reviewbot.analysis import FileAnalysis, PatchAnalysis
from reviewbot.engine.check import Hit
from reviewbot.engine.params import NoParams

from ..continuations import hits


def check(patch: PatchAnalysis, file: FileAnalysis, params: NoParams) -> Iterable[Hit]:
    """Flag the added continuation lines of this kind that miss the open parenthesis."""
    return hits(file, padded=False)
