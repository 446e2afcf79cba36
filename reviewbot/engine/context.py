"""What a rule sees: the series, the patch, each file's diff and C map."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from reviewbot.cmap.filemap import FileMap
from reviewbot.diff.model import FileDiff, Line
from reviewbot.engine.regexsafe import RegexGuard
from reviewbot.series.model import Patch, Series

if TYPE_CHECKING:
    from reviewbot.cmap.parser import CParser


@dataclass(frozen=True)
class FileContext:
    diff: FileDiff
    map: FileMap | None  # None for non-C and binary files

    @property
    def path(self) -> str:
        return self.diff.path

    def added_lines(self) -> tuple[Line, ...]:
        return tuple(ln for h in self.diff.hunks for ln in h.lines if ln.kind == "+")

    @cached_property
    def _by_new(self) -> dict[int, Line]:
        """Visible post-image lines by number (built on first use, once per file: a
        search per finding made a 50k-line patch with 800 findings quadratic)."""
        out: dict[int, Line] = {}
        for h in self.diff.hunks:
            for ln in h.lines:
                if ln.new is not None:
                    out.setdefault(ln.new, ln)
        return out

    def new_line(self, number: int) -> Line | None:
        """The visible post-image line ``number`` (added or context)."""
        return self._by_new.get(number)


@dataclass(frozen=True)
class PatchContext:
    series: Series
    patch: Patch
    files: tuple[FileContext, ...]
    parser: CParser = field(repr=False)
    # rule regexes under a time limit; one guard per run (pipeline.review_messages)
    regex: RegexGuard = field(default_factory=RegexGuard, repr=False, compare=False)

    @property
    def earlier(self) -> tuple[Patch, ...]:
        """The patches of the series that come before this one (those in the input)."""
        return tuple(p for p in self.series.patches if p.index < self.patch.index)
