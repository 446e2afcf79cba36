"""The one composition point: messages -> series -> diff -> C map -> rules -> Review."""

from __future__ import annotations

from collections.abc import Sequence
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
from reviewbot.ruleset import load_rules
from reviewbot.series.build import build_series
from reviewbot.series.mail import parse_mail
from reviewbot.series.model import Mail, Series

if TYPE_CHECKING:
    from reviewbot.tree.git import GitTree

__all__ = ["FullText", "parse_messages", "review_messages", "review_series", "select_rules"]


def select_rules(rules: Sequence[Rule], settings: Settings) -> list[Rule]:
    """The rules this run uses: stable ones (and preview ones with --preview), filtered."""
    def named(rule: Rule, keys: Sequence[str]) -> bool:
        return any(k in (rule.id, rule.name, rule.cls, rule.category) for k in keys)

    out = []
    for rule in rules:
        explicitly = bool(settings.select) and named(rule, settings.select)
        if rule.status == "preview" and not (settings.preview or explicitly):
            continue
        if settings.select and not explicitly:
            continue
        if named(rule, settings.ignore):
            continue
        out.append(rule)
    return out


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
                  guard: RegexGuard | None = None) -> SeriesReview:
    """Review every patch in turn, each with its own ``PatchAnalysis`` (dropped when its
    findings are made); whole files (tree mode) are parsed once per blob."""
    analysis = SeriesAnalysis(series, parser, node_kinds(rules), full_text)
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


def review_messages(raw: Sequence[RawMessage], settings: Settings,
                    rules: Sequence[Rule] | None = None, parser: CParser | None = None,
                    full_text: FullText | None = None, tree: GitTree | None = None,
                    base: str | None = None) -> Review:
    """Review every series found in ``raw`` (newest revision, or ``settings.version``).

    With ``tree`` (kernel-tree mode) each series is applied there first (on ``base``,
    else its base-commit, else HEAD) and files are mapped from their whole post-image.
    """
    if rules is None:
        rules = select_rules(load_rules(list(settings.rules_dirs) or None), settings)
    parser = parser or CParser()
    series = build_series(parse_messages(raw, settings.limits), settings.version,
                          settings.limits)
    guard = RegexGuard()  # one per run: a rule that keeps timing out is dropped for good
    if tree is None:
        from reviewbot.workers import review_all

        def one(s: Series) -> SeriesReview:
            return review_series(s, rules, parser, full_text, guard=guard)

        return Review(tuple(review_all(series, one, settings.jobs)))
    from reviewbot.tree.apply import apply_series

    reviews = []
    for s in series:  # tree mode: one process
        applied = apply_series(tree, s, base)
        reviews.append(review_series(s, rules, parser, applied.full_text, applied.notes,
                                     guard))
    return Review(tuple(reviews))
