"""What the revision review finds: matched patches, comments and their fate, trailers.

Frozen dataclasses only; built by the modules of this package, read by the reports.
Patch numbers are the 1-based indices of the series they belong to (``old`` in vN-1,
``new`` in vN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reviewbot.series.model import Person, Series

# how vN-1 was found (b4's order: change-id, In-Reply-To chain, links, subject)
FoundBy = Literal["change-id", "in-reply-to", "link", "subject"]
MatchKind = Literal["unchanged", "changed", "new", "dropped", "split", "merged"]
HunkStatus = Literal["changed", "added", "removed"]
Verdict = Literal["addressed", "not_addressed", "discussed", "dropped", "unclear"]
QuoteKind = Literal["+", "-", " ", "msg"]
TrailerIssueKind = Literal["carried", "missing"]

VERDICTS: tuple[Verdict, ...] = ("addressed", "not_addressed", "discussed", "dropped",
                                 "unclear")


@dataclass(frozen=True)
class Previous:
    """vN-1 as found: its series, how and where it was found."""

    series: Series
    found_by: FoundBy
    where: str  # "the input", "the thread", a server URL


@dataclass(frozen=True)
class HunkDelta:
    """One hunk that differs between the two revisions of a patch."""

    file: str
    function: str  # git's @@ heading (may be empty)
    status: HunkStatus  # changed; added (only in vN); removed (only in vN-1)
    diff: tuple[str, ...]  # the hunk's lines compared: ``-`` vN-1 only, ``+`` vN only


@dataclass(frozen=True)
class PatchDelta:
    """How one patch of vN-1 became one of vN (range-diff style)."""

    kind: MatchKind
    old: int | None  # patch number in vN-1 (None: new in vN)
    new: int | None  # patch number in vN (None: dropped)
    old_title: str
    new_title: str
    hunks: tuple[HunkDelta, ...] = ()
    lines_differ: int = 0  # changed (+/-) lines in one revision and not the other
    lines: int = 0  # changed (+/-) lines of the larger of the two
    message_changed: bool = False  # the commit message (trailers aside) differs
    substantial: bool = False  # see match.SUBSTANTIAL_*
    alike: float = 1.0  # how much of the changed code the two share, as tokens


@dataclass(frozen=True)
class QuotedLine:
    """A line of the vN-1 patch that a reviewer quoted."""

    kind: QuoteKind  # a diff line's marker, or "msg" for the commit message
    text: str  # without the marker
    file: str | None  # the diff's file (None for the commit message)
    line: int | None  # post-image line number in vN-1 (pre-image for "-")
    index: int = field(default=-1, compare=False)  # its line in the patch body (0-based)


@dataclass(frozen=True)
class Comment:
    """One inline comment a reviewer made on a vN-1 patch."""

    msgid: str  # the reply that holds it
    author: Person | None
    patch: int  # vN-1 patch number
    quoted: tuple[QuotedLine, ...]  # the patch lines it sits under, in order
    text: str  # trailers, greetings and sign-offs stripped
    index: int  # position among the comments of that reply (0-based)
    timestamp: float | None = None  # the reply's Date


@dataclass(frozen=True)
class Answer:
    """The vN-1 author's answer to a comment on the list."""

    msgid: str
    text: str
    agrees: bool  # "will fix", "sure", ... (else: disagreement, explanation, question)


@dataclass(frozen=True)
class Spot:
    """Where a quoted line stands in vN: what a reply quotes under the comment."""

    patch: int  # vN patch number
    file: str | None  # None: the commit message
    line: int  # post-image line number (for a removed line: where it was)
    text: str
    kind: QuoteKind
    patch_line: int  # line number in the vN patch email


@dataclass(frozen=True)
class Fate:
    """What vN did with one comment, and why reviewbot thinks so."""

    comment: Comment
    verdict: Verdict
    evidence: str  # one sentence
    spot: Spot | None = None  # not addressed: the unchanged line in vN
    now: tuple[str, ...] = ()  # addressed: how the quoted lines read in vN (diff lines)
    answer: Answer | None = None


@dataclass(frozen=True)
class TrailerIssue:
    """A trailer carried onto a changed patch, or one given on the list and lost."""

    kind: TrailerIssueKind
    trailer: str  # "Reviewed-by: Name <addr>"
    new: int  # the vN patch
    old: int  # the vN-1 patch
    msgid: str | None  # the reply that gave it (missing), None when from the patch
    reason: str


@dataclass(frozen=True)
class RevisionReview:
    """Everything the comparison of vN with vN-1 says."""

    previous: Series
    found_by: FoundBy
    where: str
    patches: tuple[PatchDelta, ...]
    comments: tuple[Fate, ...]
    trailers: tuple[TrailerIssue, ...]

    def count(self, verdict: Verdict) -> int:
        return sum(1 for f in self.comments if f.verdict == verdict)


@dataclass(frozen=True)
class Since:
    """A series' revision review: the result, or the one line saying vN-1 was not found."""

    version: int  # the revision compared with (found), or wanted (N-1)
    review: RevisionReview | None
    note: str | None = None  # why there is no review (not found, lookup failed)
