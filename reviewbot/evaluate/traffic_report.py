"""``reviewbot eval --traffic MBOX --judged FILE [--recall FILE]``: precision per rule on
judged list traffic (and recall on the reviewers' classed comments), as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reviewbot.config import Settings
from reviewbot.engine.schema import Rule
from reviewbot.errors import InputError
from reviewbot.evaluate.judged import (
    Judgement,
    Located,
    Matched,
    load_judged,
    match,
    stub,
)
from reviewbot.evaluate.precision import (
    MAX_DEBATABLE,
    MIN_PRECISION,
    RuleTally,
    overall,
    tally,
)
from reviewbot.evaluate.recall import Recall, load_comments, recall
from reviewbot.evaluate.traffic import (
    TrafficReview,
    read_traffic,
    review_revisions,
    review_traffic,
)

if TYPE_CHECKING:
    from reviewbot.knowledge.source import KnowledgeSource

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class TrafficResult:
    traffic: str
    judged: str
    review: TrafficReview
    matched: Matched
    rows: tuple[RuleTally, ...]
    recall_file: str | None
    recall: Recall | None
    index: str = ""  # the index the review used (``KnowledgeSource.describe``), if any

    @property
    def failing(self) -> tuple[RuleTally, ...]:
        return tuple(r for r in self.rows if r.failures)

    @property
    def ok(self) -> bool:
        """Every stable rule holds the bar and every finding is judged."""
        return not self.failing and not self.matched.unjudged

    @property
    def per_patch(self) -> float:
        return len(self.review.findings) / self.review.patches if self.review.patches else 0.0


def evaluate_traffic(traffic: str | None, judged: str | None, comments: str | None,
                     settings: Settings, rules: Sequence[Rule],
                     corpus: str | None = None,
                     knowledge: KnowledgeSource | None = None) -> TrafficResult:
    """Review ``traffic`` as ``check`` does and score it against the judged file (and,
    with ``comments``, every revision against the reviewers' comments)."""
    if corpus:
        raise InputError("give a corpus DIR or --traffic MBOX, not both")
    if not traffic or not judged:
        raise InputError("eval needs a corpus DIR, or --traffic MBOX with --judged FILE")
    ran = {r.id: r.status for r in rules}
    # judgements of rules that did not run (--select, --ignore) are neither used nor stale
    entries = [j for j in load_judged(judged) if j.rule in ran]
    classed = load_comments(comments) if comments else None
    messages = read_traffic(traffic, settings)
    review = review_traffic(messages, settings, rules, knowledge)
    matched = match(review.findings, entries)
    rows = tuple(tally(matched, ran))
    found = review_revisions(messages, settings, rules, knowledge) if classed is not None else None
    return TrafficResult(traffic, judged, review, matched, rows, comments,
                         recall(classed, found) if classed is not None and found is not None
                         else None, knowledge.describe() if knowledge is not None else "")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _row(r: RuleTally) -> str:
    bar = "FAIL: " + "; ".join(r.failures) if r.failures else ""
    return (f"{r.rule:<8}{r.status:<9}{r.findings:>8}{r.tp:>5}{r.debatable:>5}{r.fp:>5}"
            f"{_pct(r.precision):>11}{_pct(r.debatable_share):>11}{r.unjudged:>10}  {bar}"
            ).rstrip()


def _place(msgid: str, file: str, line: int, side: str) -> str:
    return f"{msgid}  {file}:{line}{' (removed line)' if side == 'old' else ''}"


def _judgement(x: Located, j: Judgement) -> str:
    return f"  {j.verdict:<9} {x.rule}  {_place(x.msgid, j.file, j.line, j.side)}  {j.reason}"


def _recall_text(res: TrafficResult, rc: Recall) -> list[str]:
    out = ["", f"recall on {res.recall_file} (every revision of every series reviewed):",
           "landed: a finding on the quoted added line; near: on one of the (at most "
           "three) added lines quoted right above the comment",
           f"{'class':<16}{'comments':>9}{'landed':>8}{'near':>6}  rules"]
    out += [f"{t.cls:<16}{t.comments:>9}{t.landed:>8}{t.near:>6}  {', '.join(t.rules)}"
            .rstrip() for t in (*rc.per_class, rc.total)]
    out.append(f"comments a finding lands on or near ({len(rc.landed)}):")
    out += [f"  {c.cls:<14} {', '.join(rules)}{'' if exact else ' (near)'}  "
            f"{_place(c.patch, c.file, c.line, 'new')}  {c.description}"
            for c, rules, exact in rc.landed]
    out.append("mechanical checks the reviewers asked for (times asked):")
    out += [f"  {name:<28}{n:>3}" for name, n in rc.idioms]
    return out


def render_traffic_text(res: TrafficResult) -> str:
    rv, m = res.review, res.matched
    out = [f"traffic {res.traffic}: {rv.series} series, {rv.patches} patches reviewed "
           f"({rv.skipped} skipped), {rv.with_findings} with findings, "
           f"{len(rv.findings)} findings ({res.per_patch:.2f} per reviewed patch)",
           f"judged in {res.judged}: {len(m.pairs)} findings matched, "
           f"{len(m.unjudged)} unjudged, {len(m.stale)} judged but no longer reported",
           *([f"with the {res.index}"] if res.index else []), "",
           f"{'rule':<8}{'status':<9}{'findings':>8}{'TP':>5}{'DEB':>5}{'FP':>5}"
           f"{'precision':>11}{'DEBATABLE':>11}{'unjudged':>10}  bar"]
    out += [_row(r) for r in (*res.rows, overall(res.rows))]
    out += ["", f"bar: a stable rule needs precision = TP/(TP+FP) >= {MIN_PRECISION:.0%} and "
                f"under {MAX_DEBATABLE:.0%} of its findings DEBATABLE",
            f"rules under the bar ({len(res.failing)}): "
            + (", ".join(r.rule for r in res.failing) or "none")]
    wrong = [(x, j) for x, j in m.pairs if j.verdict != "TP"]
    out.append(f"FP and DEBATABLE findings ({len(wrong)}):")
    out += [_judgement(x, j) for x, j in wrong]
    out.append(f"unjudged findings ({len(m.unjudged)})"
               + (": judge them in the judged file (--format json lists them as entries "
                  "to fill in)" if m.unjudged else ""))
    out += [f"  {x.rule}  {_place(x.msgid, x.finding.file, x.finding.line, x.finding.side)}"
            f"  {x.finding.message}  [{x.subject}]\n      | {x.finding.text}"
            for x in m.unjudged]
    out.append(f"judged findings no longer reported ({len(m.stale)}):")
    out += [f"  {j.verdict:<9} {j.rule}  {_place(j.msgid, j.file, j.line, j.side)}  {j.reason}"
            for j in m.stale]
    if res.recall is not None:
        out += _recall_text(res, res.recall)
    return "\n".join(out) + "\n"


def _tally(r: RuleTally) -> dict[str, Any]:
    return {"rule": r.rule, "status": r.status, "findings": r.findings, "tp": r.tp,
            "debatable": r.debatable, "fp": r.fp, "precision": r.precision,
            "debatable_share": r.debatable_share, "unjudged": r.unjudged, "stale": r.stale,
            "failures": list(r.failures)}


def _verdict(j: Judgement) -> dict[str, Any]:
    return {"msgid": j.msgid, "rule": j.rule, "file": j.file, "line": j.line,
            "side": j.side, "verdict": j.verdict, "reason": j.reason}


def _recall_json(rc: Recall) -> dict[str, Any]:
    return {"classes": [{"class": t.cls, "comments": t.comments, "landed": t.landed,
                         "near": t.near, "rules": list(t.rules)} for t in rc.per_class],
            "overall": {"comments": rc.total.comments, "landed": rc.total.landed,
                        "near": rc.total.near},
            "landed": [{"reply": c.reply, "patch": c.patch, "file": c.file, "line": c.line,
                        "class": c.cls, "rules": list(rules), "on_line": exact}
                       for c, rules, exact in rc.landed],
            "idioms": [{"idiom": name, "comments": n} for name, n in rc.idioms]}


def render_traffic(res: TrafficResult, fmt: str) -> str:
    return render_traffic_json(res) if fmt == "json" else render_traffic_text(res)


def render_traffic_json(res: TrafficResult) -> str:
    rv = res.review
    data = {
        "schema": SCHEMA_VERSION, "traffic": res.traffic, "judged": res.judged,
        "series": rv.series, "patches": rv.patches, "skipped": rv.skipped,
        "patches_with_findings": rv.with_findings, "findings": len(rv.findings),
        "findings_per_patch": res.per_patch, "ok": res.ok,
        "bar": {"min_precision": MIN_PRECISION, "max_debatable": MAX_DEBATABLE},
        "rules": [_tally(r) for r in res.rows], "overall": _tally(overall(res.rows)),
        "verdicts": [_verdict(j) for _, j in res.matched.pairs],
        "unjudged": [stub(x) for x in res.matched.unjudged],
        "stale": [_verdict(j) for j in res.matched.stale],
        "recall": _recall_json(res.recall) if res.recall is not None else None,
    }
    if res.index:
        data["index"] = res.index
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
