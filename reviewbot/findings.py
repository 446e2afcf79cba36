"""Findings and review results: what the engine hands to the reports (frozen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from reviewbot.cmap.model import Unmapped
from reviewbot.engine.vocab import Confidence, RuleClass, Severity
from reviewbot.series.model import Patch, Series

if TYPE_CHECKING:
    from reviewbot.revisions.model import Since

__all__ = ["Finding", "PatchReview", "Review", "SeriesReview", "Unmapped"]


@dataclass(frozen=True)
class Finding:
    """One problem on one line of one patch."""

    rule: str  # the rule id, e.g. "STY001"
    name: str  # the rule name, e.g. "braces-single-statement"
    cls: RuleClass
    severity: Severity
    confidence: Confidence
    file: str
    line: int  # post-image line number (for a removed line: where it was)
    text: str  # the line's text without the diff marker
    function: str | None
    message: str  # terse, one line
    reply: str  # the comment for the email, in a reviewer's words
    patch_line: int  # line number inside the patch email
    side: Literal["new", "old"] = "new"  # "old": the finding is about a removed line


@dataclass(frozen=True)
class PatchReview:
    """The findings on one patch, and what could not be mapped."""

    patch: Patch
    findings: tuple[Finding, ...]
    unmapped: tuple[Unmapped, ...] = ()
    full_files: tuple[str, ...] = ()  # C files mapped from their whole post-image (tree)
    notes: tuple[str, ...] = ()  # e.g. why a file had no tree context


@dataclass(frozen=True)
class SeriesReview:
    """The reviews of the patches of one series."""

    series: Series
    patches: tuple[PatchReview, ...]
    notes: tuple[str, ...] = ()  # tree mode: where the series was applied, what failed
    since: Since | None = None  # the comparison with the previous revision, if any


@dataclass(frozen=True)
class Review:
    """Everything one run found, series by series."""

    series: tuple[SeriesReview, ...]

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for s in self.series for p in s.patches for f in p.findings)
