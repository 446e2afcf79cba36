"""Per-rule precision on judged traffic, and the bar every stable rule is held to.

precision = TP / (TP + FP); DEBATABLE findings are left out of it but counted against
their own limit. A ``stable`` rule with findings fails the bar when its precision is under
``MIN_PRECISION`` or ``MAX_DEBATABLE`` or more of its findings are DEBATABLE (the bar
keeps them under it); a
``preview`` rule is measured, never held to it. Unjudged findings are counted per rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reviewbot.evaluate.judged import Matched

MIN_PRECISION = 0.90
MAX_DEBATABLE = 0.15


@dataclass(frozen=True)
class RuleTally:
    rule: str
    status: str  # stable | preview | "-" (the rule did not run: judged data only)
    findings: int
    tp: int
    debatable: int
    fp: int
    unjudged: int
    stale: int  # judged findings it no longer reports

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def debatable_share(self) -> float | None:
        return self.debatable / self.findings if self.findings else None

    @property
    def failures(self) -> tuple[str, ...]:
        """Why a stable rule misses the bar (empty: it holds it, or is not held to it)."""
        if self.status != "stable" or not self.findings:
            return ()
        out = []
        p, d = self.precision, self.debatable_share
        if p is not None and p < MIN_PRECISION:
            out.append(f"precision {p:.1%} < {MIN_PRECISION:.0%}")
        if d is not None and d >= MAX_DEBATABLE:
            out.append(f"DEBATABLE {d:.1%} >= {MAX_DEBATABLE:.0%}")
        return tuple(out)


def tally(matched: Matched, statuses: Mapping[str, str]) -> list[RuleTally]:
    """One row per rule id with findings or judgements, in id order; ``statuses`` maps
    the ids of the rules that ran to their status."""
    ids = {x.rule for x in matched.unjudged} | {x.rule for x, _ in matched.pairs} | {
        j.rule for j in matched.stale}
    rows = []
    for rule in sorted(ids):
        verdicts = [j.verdict for x, j in matched.pairs if x.rule == rule]
        unjudged = sum(1 for x in matched.unjudged if x.rule == rule)
        rows.append(RuleTally(
            rule, statuses.get(rule, "-"),
            len(verdicts) + unjudged, verdicts.count("TP"), verdicts.count("DEBATABLE"),
            verdicts.count("FP"), unjudged, sum(1 for j in matched.stale if j.rule == rule)))
    return rows


def overall(rows: Sequence[RuleTally]) -> RuleTally:
    def total(name: str) -> int:
        return sum(getattr(r, name) for r in rows)

    return RuleTally("all", "-", total("findings"), total("tp"), total("debatable"),
                     total("fp"), total("unjudged"), total("stale"))
