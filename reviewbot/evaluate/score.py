"""Score findings against the reviewers' comments of a corpus.

A comment is *found* when a finding of its class lands on its file and on one of its
post-image ``lines`` (an added line: ``side == "new"``) in the review of its patch file.
A finding is *matched* when it finds some comment. Findings on ``negative`` patches
(patches that only got Reviewed-by/Acked-by) are counted per negative patch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.engine.schema import CLASSES
from reviewbot.evaluate.corpus import Comment, Corpus
from reviewbot.evaluate.run import FileReview
from reviewbot.findings import Finding


@dataclass(frozen=True)
class Tally:
    comments: int = 0
    found: int = 0
    findings: int = 0
    matched: int = 0
    negative_findings: int = 0


@dataclass(frozen=True)
class Located:
    """A finding and the corpus patch file it was made on."""

    patch_file: str
    finding: Finding


@dataclass(frozen=True)
class Score:
    corpus: Corpus
    reviews: tuple[FileReview, ...]
    per_class: tuple[tuple[str, Tally], ...]
    overall: Tally
    negative_patches: int
    found: tuple[tuple[Comment, Located], ...]
    misses: tuple[Comment, ...]
    unmatched: tuple[Located, ...]

    @property
    def patches(self) -> int:
        return len(self.reviews)


def hits(comment: Comment, patch_file: str, f: Finding) -> bool:
    return (patch_file == comment.patch_file and not comment.negative
            and f.cls == comment.category and f.file == comment.file
            and f.side == "new" and f.line in comment.lines)


def score(corpus: Corpus, reviews: Sequence[FileReview]) -> Score:
    comments = [c for c in corpus.comments if not c.negative]
    negatives = set(corpus.negative_files)
    located = [Located(r.patch_file, f) for r in reviews for f in r.findings]
    found: list[tuple[Comment, Located]] = []
    misses: list[Comment] = []
    for c in comments:
        first = next((x for x in located if hits(c, x.patch_file, x.finding)), None)
        if first is None:
            misses.append(c)
        else:
            found.append((c, first))
    is_match = [any(hits(c, x.patch_file, x.finding) for c in comments) for x in located]
    matched = [x for x, ok in zip(located, is_match, strict=True) if ok]
    unmatched = [x for x, ok in zip(located, is_match, strict=True) if not ok]
    classes = [c for c in CLASSES if c in {x.category for x in comments}
               or c in {x.finding.cls for x in located}]

    def tally(cls: str | None) -> Tally:
        def of(kind: str) -> bool:
            return cls is None or kind == cls
        return Tally(
            comments=sum(of(c.category) for c in comments),
            found=sum(of(c.category) for c, _ in found),
            findings=sum(of(x.finding.cls) for x in located),
            matched=sum(of(x.finding.cls) for x in matched),
            negative_findings=sum(of(x.finding.cls) for x in located
                                  if x.patch_file in negatives),
        )

    return Score(corpus, tuple(reviews), tuple((c, tally(c)) for c in classes), tally(None),
                 len(negatives), tuple(found), tuple(misses), tuple(unmatched))
