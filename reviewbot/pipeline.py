"""The one composition point: messages -> series -> diff -> C map -> rules -> Review."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from reviewbot.analysis import FullText, PatchAnalysis, SeriesAnalysis
from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.engine.regexsafe import RegexGuard
from reviewbot.engine.runner import run_rules
from reviewbot.engine.schema import Rule
from reviewbot.fetch.local import RawMessage
from reviewbot.findings import PatchReview, Review, SeriesReview
from reviewbot.limits import Limits
from reviewbot.progress import NoProgress, Progress
from reviewbot.ruleset import load_rules
from reviewbot.selection import select_rules as select_rules  # re-exported
from reviewbot.series.build import Planned, head_of, load_series, make_patch, plan_series
from reviewbot.series.mail import parse_mail
from reviewbot.series.model import Mail, Patch, Series
from reviewbot.series.stored import stored_review

if TYPE_CHECKING:
    from reviewbot.knowledge.source import KnowledgeSource
    from reviewbot.revisions.lookup import Lookup
    from reviewbot.tree.git import GitTree

__all__ = ["FullText", "parse_messages", "review_messages", "review_series", "select_rules"]


def node_kinds(rules: Sequence[Rule]) -> tuple[tuple[str, ...], ...]:
    """The groups of node kinds the rules' checks look for (the C mapping finds them)."""
    return tuple(dict.fromkeys(r.check.node_kinds for r in rules
                               if r.check is not None and r.check.node_kinds))


def review_patch(patch: PatchAnalysis, rules: Sequence[Rule], guard: RegexGuard
                 ) -> PatchReview:
    """The findings of ``rules`` on one analysed patch."""
    return PatchReview(patch.patch, tuple(run_rules(rules, patch, guard)),
                       tuple(patch.unmapped), tuple(patch.full_files), tuple(patch.notes))


def review_series(series: Series, rules: Sequence[Rule], parser: CParser,
                  full_text: FullText | None = None,
                  notes: Sequence[str] = (),
                  guard: RegexGuard | None = None,
                  knowledge: KnowledgeSource | None = None) -> SeriesReview:
    """Review every patch in turn, each with its own ``PatchAnalysis`` (dropped when its
    findings are made); whole files (tree mode) are parsed once per blob. With
    ``knowledge``, checks look facts up in that tree's index (``PatchAnalysis.view``)."""
    analysis = SeriesAnalysis(series, parser, node_kinds(rules), full_text, knowledge)
    guard = guard or RegexGuard()
    reviews = []
    for position, patch in enumerate(series.patches):
        if patch.skipped:
            reviews.append(PatchReview(patch, ()))
        else:
            reviews.append(review_patch(analysis.patch(position), rules, guard))
    return SeriesReview(series, tuple(reviews), tuple(notes))


def parse_messages(raw: Sequence[RawMessage], limits: Limits | None = None) -> list[Mail]:
    max_bytes = (limits or Limits()).message_bytes
    return [parse_mail(m.data, max_bytes) for m in raw]


class _Input:
    """The messages of a review, read one at a time: planned from their Heads, each
    series parsed when it is reviewed, and kept afterwards in its stored form (a
    ``series.stored.Source``: stored patches are read again from here)."""

    COLLECT_EVERY = 4 << 20  # bytes of series read between two full garbage collections

    def __init__(self, raw: Sequence[RawMessage], limits: Limits) -> None:
        self.raw, self.limits = raw, limits
        self._since_collect = 0
        self.versions: frozenset[int] = frozenset()  # of the patch mails (``plan``)

    def mail(self, n: int) -> Mail:
        return parse_mail(self.raw[n].data, self.limits.message_bytes)

    def patch(self, n: int, index: int, total: int, version: int) -> Patch:
        return make_patch(self.mail(n), index, total, version, self.limits.lines_per_patch,
                          self.limits.line_length)

    def plan(self, version: int | None) -> list[Planned]:
        """Which mails make each series to review, in report order (one pass over the
        input, keeping only the Heads of patch mails)."""
        heads = [h for n in range(len(self.raw)) if (h := head_of(self.mail(n), n))]
        self.versions = frozenset(h.subject.version for h in heads)
        return plan_series(heads, version, self.limits)

    def series(self, plan: Planned) -> Series:
        """The series ``plan`` names, read and parsed. Every ``COLLECT_EVERY`` bytes a
        full garbage collection frees the reference cycles the reviews before left (the
        oldest generation is collected rarely), and a streamed review must not keep
        what it is done with."""
        self._since_collect += plan.bytes
        if self._since_collect >= self.COLLECT_EVERY:
            gc.collect()
            self._since_collect = 0
        return load_series(plan, self.mail, self.limits)

    def stored(self, review: SeriesReview, plan: Planned) -> SeriesReview:
        """``review`` in the form kept until the report: mails and patches are read
        again from the input when the report asks for their text."""
        return stored_review(review, self, plan.cover, [n for _, n in plan.patches])


def review_messages(raw: Sequence[RawMessage], settings: Settings,
                    rules: Sequence[Rule] | None = None, parser: CParser | None = None,
                    full_text: FullText | None = None, tree: GitTree | None = None,
                    base: str | None = None, revisions: Lookup | None = None,
                    progress: Progress | None = None,
                    knowledge: KnowledgeSource | None = None) -> Review:
    """Review every series found in ``raw`` (newest revision, or ``settings.version``).

    The input is streamed: a first pass keeps what grouping needs of each message (its
    Head), then each series is read, parsed, reviewed and kept in its stored form (see
    ``series.stored``), so memory follows the largest series, not the input.

    With ``tree`` (kernel-tree mode) each series is applied there first (on ``base``,
    else its base-commit, else HEAD) and files are mapped from their whole post-image.
    With ``revisions``, each series is also compared with its previous revision
    (``reviewbot.revisions``), found among the same mails or where ``revisions`` says.
    With ``knowledge`` (an index, opened in each worker process that uses it), checks
    look up what the tree knows.
    """
    if rules is None:
        rules = load_rules(list(settings.rules_dirs) or None,
                           lambda rules: select_rules(rules, settings))
    parser = parser or CParser()
    source = _Input(raw, settings.limits)
    plans = source.plan(settings.version)
    guard = RegexGuard()  # one per run: a rule that keeps timing out is dropped for good
    progress = progress or NoProgress()
    progress.start(f"reviewing {len(plans)} series "
                   f"({sum(len(p.patches) for p in plans)} patches)",
                   sum(p.lines for p in plans))
    if tree is None:
        from reviewbot.workers import SeriesResult, review_items, unpack

        def one(plan: Planned) -> SeriesReview:
            return source.stored(review_series(source.series(plan), rules, parser, full_text,
                                               guard=guard, knowledge=knowledge), plan)

        def attach(plan: Planned, result: SeriesResult) -> SeriesReview:
            return source.stored(unpack(source.series(plan), result), plan)

        weights = [p.lines for p in plans]
        reviewed = review_items(plans, one, attach, weights, settings.jobs,
                                advance=progress.advance)
        progress.finish()
        return _since(Review(tuple(reviewed)), source, revisions)
    from reviewbot.tree.apply import apply_series

    reviews = []
    for plan in plans:  # tree mode: one process
        s = source.series(plan)
        applied = apply_series(tree, s, base)
        reviews.append(source.stored(review_series(s, rules, parser, applied.full_text,
                                                   applied.notes, guard, knowledge), plan))
        progress.advance(plan.lines)
    progress.finish()
    return _since(Review(tuple(reviews)), source, revisions)


def _since(review: Review, source: _Input, revisions: Lookup | None) -> Review:
    """``review`` with the revision review of each series (when asked for). Only then,
    and only when a series is a revision after the first that may have an earlier one
    to find, are all the input's mails read again, one at a time, and filed in the pool
    vN-1 and the replies to it are looked for in: by their headers, each held without
    its text (``MailPool.filed``), so memory follows the number of mails, not the input.
    Without other sources, vN-1 can only be a patch mail of the input whose version is
    lower (``revisions.previous``): when there is none, nothing is read
    (``lookup.since_for`` would find nothing and say nothing)."""
    if revisions is None or not any(sr.series.version > 1 for sr in review.series):
        return review
    if not revisions.sources and not any(v < sr.series.version for sr in review.series
                                         for v in source.versions):
        return review
    from reviewbot.revisions.lookup import attach
    from reviewbot.revisions.pool import MailPool
    from reviewbot.series.stored import stored_mail

    def filed() -> Iterator[tuple[Mail, Mail]]:
        for n in range(len(source.raw)):
            mail = source.mail(n)
            yield mail, stored_mail(mail, source, n)

    return attach(review, MailPool.filed(filed()), revisions)
