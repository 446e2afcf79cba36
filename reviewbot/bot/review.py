"""Review one stored series under the policy and render its replies.

Rules and the C parser are loaded once per process (``prepare``, which the watcher calls
before it starts on the due series, so that start-up work is not counted as a review
attempt of whichever series comes first).
"""

from __future__ import annotations

import importlib
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
    from reviewbot.report.reply import Reply


@dataclass(frozen=True)
class Verdict:
    """What reviewing a series gave: a reason not to, or the (filtered) review."""

    skipped: str | None
    review: SeriesReview | None
    findings: int = 0
    patches: int = 0
    missing: tuple[int, ...] = ()


class SeriesReviewer:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._rules: list[Rule] | None = None
        self._parser: CParser | None = None

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
        """Do the start-up work of the first review now: import the pipeline and the
        reply renderer, load the rules, make the C parser. Idempotent; raises what the
        first ``review`` would."""
        for module in ("reviewbot.fetch.local", "reviewbot.pipeline", "reviewbot.series.build",
                       "reviewbot.report.reply", "unidiff.patch", "email.generator"):
            importlib.import_module(module)
        self._tools()

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
        full = review_series(series, rules, parser)
        kept = SeriesReview(series, tuple(
            replace(pr, findings=tuple(f for f in pr.findings if self.policy.reports(f)))
            for pr in full.patches))
        count = sum(len(pr.findings) for pr in kept.patches)
        return Verdict(None, kept, count, len(series.patches), series.missing)

    def render(self, review: SeriesReview, now: float) -> list[Reply]:
        """The reply emails for ``review``, dated ``now`` and signed as the policy says."""
        from reviewbot.report.reply import ReplyConfig, render_replies

        p = self.policy
        config = ReplyConfig(identity=p.identity or DEFAULT_IDENTITY,
                             date=datetime.fromtimestamp(now, p.zone()).astimezone(p.zone()),
                             signature=p.signature, all_patches=p.all_patches,
                             summary=p.summary)
        return render_replies(review, config)
