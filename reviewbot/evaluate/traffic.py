"""Review a mailbox of list traffic: as ``reviewbot check`` does, and every revision.

``review_traffic`` is ``reviewbot check --no-tree MBOX``: every series in the mailbox,
newest revision of each, through the same pipeline (so the findings are the ones a user
sees). ``review_revisions`` also reviews the older revisions, which is what the reviewers'
comments are mostly about (a comment on v1 led to v2): each revision exactly as
``reviewbot check -v N`` would pick it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.engine.schema import Rule
from reviewbot.errors import InputError
from reviewbot.evaluate.judged import Located
from reviewbot.fetch.local import RawMessage, read_source
from reviewbot.findings import Review, SeriesReview
from reviewbot.pipeline import parse_messages, review_messages, review_series
from reviewbot.series.build import build_series, is_patch_mail
from reviewbot.series.model import Series
from reviewbot.workers import available_cpus, review_all

if TYPE_CHECKING:
    from reviewbot.knowledge.source import KnowledgeSource


@dataclass(frozen=True)
class TrafficReview:
    """What ``reviewbot check`` says about the traffic."""

    findings: tuple[Located, ...]
    series: int
    patches: int  # patches reviewed (not skipped)
    skipped: int  # patches that could not be reviewed (no diff, does not parse, ...)
    with_findings: int  # reviewed patches with at least one finding


def read_traffic(path: str, settings: Settings) -> Sequence[RawMessage]:
    return read_source(path, settings.max_input_bytes)


def _jobs(settings: Settings) -> Settings:
    """``check``'s default: one process per CPU (the output does not depend on it)."""
    return replace(settings, jobs=max(settings.jobs, available_cpus()))


def _located(reviews: Sequence[SeriesReview]) -> list[Located]:
    return [Located(pr.patch.msgid, pr.patch.subject, f)
            for sr in reviews for pr in sr.patches for f in pr.findings]


def review_traffic(messages: Sequence[RawMessage], settings: Settings,
                   rules: Sequence[Rule],
                   knowledge: KnowledgeSource | None = None) -> TrafficReview:
    review: Review = review_messages(messages, _jobs(replace(settings, version=None)),
                                     rules=rules, knowledge=knowledge)
    patches = [pr for sr in review.series for pr in sr.patches]
    reviewed = [pr for pr in patches if not pr.patch.skipped]
    return TrafficReview(tuple(_located(review.series)), len(review.series), len(reviewed),
                         len(patches) - len(reviewed), sum(1 for pr in reviewed if pr.findings))


def review_revisions(messages: Sequence[RawMessage], settings: Settings,
                     rules: Sequence[Rule],
                     knowledge: KnowledgeSource | None = None) -> list[Located]:
    """The findings on every revision of every series (``check -v N`` for each N)."""
    settings = _jobs(settings)
    mails = parse_messages(messages, settings.limits)
    versions = sorted({m.subject.version for m in mails if is_patch_mail(m)})
    chosen: dict[tuple[str, ...], Series] = {}
    for version in versions:
        try:
            found = build_series(mails, version, settings.limits)
        except InputError:  # only a cover letter has this version
            continue
        for s in found:
            chosen.setdefault(tuple(p.msgid for p in s.patches) or (s.id,), s)
    parser = CParser()

    def one(s: Series) -> SeriesReview:
        return review_series(s, rules, parser, knowledge=knowledge)

    return _located(review_all(list(chosen.values()), one, settings.jobs))
