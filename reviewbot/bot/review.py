"""Review one stored series under the policy and render its replies.

Rules and the C parser are loaded once per process (``prepare``, which the watcher calls
before it starts on the due series, so that start-up work is not counted as a review
attempt of whichever series comes first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from reviewbot.bot.policy import DEFAULT_IDENTITY, Policy
from reviewbot.config import Settings
from reviewbot.errors import InputError
from reviewbot.findings import SeriesReview

if TYPE_CHECKING:
    from reviewbot.cmap.parser import CParser
    from reviewbot.engine.schema import Rule
    from reviewbot.knowledge.source import KnowledgeSource
    from reviewbot.report.reply import Reply
    from reviewbot.series.model import Mail


@dataclass(frozen=True)
class Verdict:
    """What reviewing a series gave: a reason not to, or the (filtered) review."""

    skipped: str | None
    review: SeriesReview | None
    findings: int = 0
    patches: int = 0
    missing: tuple[int, ...] = ()
    not_addressed: int = 0  # comments on vN-1 that vN left as they were
    since: str | None = None  # what the revision review says in one line


class SeriesReviewer:
    def __init__(self, policy: Policy, lore_lists: Sequence[str] = (),
                 knowledge: KnowledgeSource | None = None) -> None:
        self.policy = policy
        self.knowledge = knowledge  # the tree's index, as check finds it (cli._knowledge)
        self._rules: list[Rule] | None = None
        self._parser: CParser | None = None
        self._warm = False  # prepare() has reviewed the warm-up series
        # where vN-1 is looked up: the policy's server, else the first list followed
        self.revisions_url = policy.revisions_url or next(iter(lore_lists), None)

    def settings(self) -> Settings:
        p = self.policy
        return Settings(rules_dirs=p.rules_dirs, select=p.select, ignore=p.ignore,
                        preview=p.preview)

    def _tools(self) -> tuple[list[Rule], CParser]:
        if self._rules is None or self._parser is None:
            from reviewbot.cmap.parser import CParser
            from reviewbot.pipeline import select_rules
            from reviewbot.ruleset import load_rules

            settings = self.settings()
            self._rules = select_rules(load_rules(list(settings.rules_dirs) or None), settings)
            self._parser = CParser()
        return self._rules, self._parser

    def prepare(self) -> None:
        """Do the start-up work of the first review now: load the rules and the C
        parser, then review and render ``warmup.SERIES`` (what the checks import and
        compile when they first run). Once per process; raises what the first
        ``review`` would."""
        rules, parser = self._tools()
        if self._warm:
            return
        from reviewbot.bot.warmup import SERIES
        from reviewbot.fetch.local import RawMessage
        from reviewbot.pipeline import parse_messages, review_series
        from reviewbot.series.build import build_series

        for series in build_series(parse_messages([RawMessage(r, "warm-up") for r in SERIES])):
            self.render(review_series(series, rules, parser, knowledge=self.knowledge), 0.0)
        self._warm = True

    def review(self, raws: Sequence[bytes], version: int) -> Verdict:
        """Review the series made of ``raws`` (revision ``version``)."""
        from reviewbot.fetch.local import RawMessage
        from reviewbot.pipeline import parse_messages, review_series
        from reviewbot.series.build import build_series

        mails = parse_messages([RawMessage(r, "watch state") for r in raws])
        found = build_series(mails, version)
        if not found:
            raise InputError("no patch series in the stored messages")
        series = max(found, key=lambda s: len(s.patches))
        files = [f.path for p in series.patches for f in p.files]
        reason = self.policy.paths_reason(files)
        if reason is not None:
            return Verdict(reason, None, patches=len(series.patches), missing=series.missing)
        rules, parser = self._tools()
        full = review_series(series, rules, parser, knowledge=self.knowledge)
        kept = SeriesReview(series, tuple(
            replace(pr, findings=tuple(f for f in pr.findings if self.policy.reports(f)))
            for pr in full.patches))
        count = sum(len(pr.findings) for pr in kept.patches)
        kept, since = self._since(kept, mails)
        todo = kept.since.review.count("not_addressed") if kept.since is not None and (
            kept.since.review is not None) else 0
        return Verdict(None, kept, count, len(series.patches), series.missing, todo, since)

    def _since(self, review: SeriesReview, mails: Sequence[Mail]
               ) -> tuple[SeriesReview, str | None]:
        """``review`` compared with vN-1, looked up with one search on the server; and
        one line saying what came of it (None when there is no earlier revision)."""
        series = review.series
        if not self.policy.revisions or series.version <= 1:
            return review, None
        if self.revisions_url is None:
            return review, (f"v{series.version - 1} not looked up: no lore server (policy "
                            "[revisions] lore_url, or --lore-list)")
        from reviewbot.fetch.lore import LoreOptions
        from reviewbot.fetch.since import search_source
        from reviewbot.limits import Limits
        from reviewbot.revisions.lookup import Lookup, since_for
        from reviewbot.revisions.pool import MailPool

        url = self.revisions_url
        lookup = Lookup((search_source(url, lambda: LoreOptions(url=url), Limits()),))
        since = since_for(series, MailPool.of(mails), lookup)
        if since is None:
            return review, None
        done = replace(review, since=since)
        if since.review is None:
            return done, since.note
        r = since.review
        return done, (f"v{r.previous.version}: {r.count('not_addressed')} of "
                      f"{len(r.comments)} comments not addressed")

    def render(self, review: SeriesReview, now: float) -> list[Reply]:
        """The reply emails for ``review``, dated ``now`` and signed as the policy says."""
        from reviewbot.report.reply import ReplyConfig, render_replies

        p = self.policy
        config = ReplyConfig(identity=p.identity or DEFAULT_IDENTITY,
                             date=datetime.fromtimestamp(now, p.zone()).astimezone(p.zone()),
                             signature=p.signature, all_patches=p.all_patches,
                             summary=p.summary)
        return render_replies(review, config)
