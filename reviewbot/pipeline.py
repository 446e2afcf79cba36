"""The one composition point: messages -> series -> diff -> C map -> rules -> Review."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from reviewbot.cmap.filemap import map_file
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.whole import ParseCache
from reviewbot.config import Settings
from reviewbot.diff.model import FileDiff
from reviewbot.engine.context import FileContext, PatchContext
from reviewbot.engine.regexsafe import RegexGuard
from reviewbot.engine.runner import run_rules
from reviewbot.engine.schema import Rule
from reviewbot.fetch.local import RawMessage
from reviewbot.findings import PatchReview, Review, SeriesReview, Unmapped
from reviewbot.limits import Limits
from reviewbot.memo import forget_transient
from reviewbot.ruleset import load_rules
from reviewbot.series.build import build_series
from reviewbot.series.mail import parse_mail
from reviewbot.series.model import Mail, Patch, Series

if TYPE_CHECKING:
    from reviewbot.tree.git import GitTree

# Tree mode: gives the whole post-image text of a file after a patch, or None.
FullText = Callable[[Patch, FileDiff], "str | None"]


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


def review_patch(series: Series, patch: Patch, rules: Sequence[Rule], parser: CParser,
                 full_text: FullText | None = None,
                 cache: ParseCache | None = None,
                 guard: RegexGuard | None = None) -> PatchReview:
    if patch.skipped:
        return PatchReview(patch, ())
    files: list[FileContext] = []
    unmapped: list[Unmapped] = []
    full: list[str] = []
    notes: list[str] = []
    for fdiff in patch.files:
        fmap = None
        if fdiff.maps_to_c:
            text = full_text(patch, fdiff) if full_text is not None else None
            fmap = map_file(fdiff, parser, text, cache, kinds=node_kinds(rules))
            unmapped.extend(Unmapped(fdiff.path, u.line, u.reason) for u in fmap.unmapped)
            if fmap.full_file:
                full.append(fdiff.path)
            elif text is not None:
                notes.append(f"{fdiff.path}: the tree's file does not hold this patch's "
                             "hunks; mapped from the patch alone")
        files.append(FileContext(fdiff, fmap))
    ctx = PatchContext(series, patch, tuple(files), parser, guard or RegexGuard())
    return PatchReview(patch, tuple(run_rules(rules, ctx)), tuple(unmapped), tuple(full),
                       tuple(notes))


def _forget_analyses(patch: Patch) -> None:
    """Drop the per-hunk analyses only the patch's own review asks for (``transient``
    ones; SER001 of later patches asks for "squashed" alone), so a long mbox does not
    keep them all (peak memory on 2000 patches: 140 -> 104 MB)."""
    for fdiff in patch.files:
        for hunk in fdiff.hunks:
            forget_transient(hunk)


def review_series(series: Series, rules: Sequence[Rule], parser: CParser,
                  full_text: FullText | None = None,
                  notes: Sequence[str] = (),
                  guard: RegexGuard | None = None) -> SeriesReview:
    """Review every patch; whole files (tree mode) are parsed once per blob."""
    cache = ParseCache(parser)
    guard = guard or RegexGuard()
    reviews = []
    for p in series.patches:
        reviews.append(review_patch(series, p, rules, parser, full_text, cache, guard))
        _forget_analyses(p)
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
