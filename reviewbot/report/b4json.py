"""The JSON list b4 (>= 0.16) reads from ``review-perpatch-check-cmd`` and
``review-series-check-cmd``: ``[{"tool", "status", "summary", "url", "details"}]``.

``status`` is ``fail`` when a finding is an error, ``warn`` when one is a warning,
``pass`` otherwise (info findings are listed but do not raise the status). ``details``
is the JSON-encoded list of ``{"status", "description"}`` entries b4's review TUI shows
one per line (the shape of its built-in checkpatch check).
"""

from __future__ import annotations

import json

from reviewbot.findings import Finding, Review
from reviewbot.printable import printable

TOOL = "reviewbot"
STATUS = {"error": "fail", "warning": "warn", "info": "pass"}
_ORDER = {"pass": 0, "warn": 1, "fail": 2}


def _describe(f: Finding) -> str:
    where = f" (in {f.function}())" if f.function else ""
    return f"{f.file}:{f.line}: {f.rule} {f.severity}: {f.message}{where}"


def _summary(findings: tuple[Finding, ...], skipped: int) -> str:
    if not findings:
        text = "no findings"
    else:
        counts = {s: sum(1 for f in findings if f.severity == s)
                  for s in ("error", "warning", "info")}
        text = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
    if skipped:
        text += f" ({skipped} patch{'es' if skipped != 1 else ''} not reviewed)"
    return text


def b4_results(review: Review) -> list[dict[str, str]]:
    """One result for the input (a patch, or a whole series for the series check):
    [] when it held no patch (a cover letter with no review branch to read)."""
    patches = [pr for sr in review.series for pr in sr.patches]
    if not patches:
        return []
    findings = review.findings
    status = "pass"
    for f in findings:
        if _ORDER[STATUS[f.severity]] > _ORDER[status]:
            status = STATUS[f.severity]
    skipped = [pr for pr in patches if pr.patch.skipped]
    label = len(patches) > 1  # a series check: say which patch
    details = [{"status": STATUS[f.severity],  # b4 prints descriptions on its terminal
                "description": printable((f"{pr.patch.label}: " if label else "")
                                         + _describe(f))}
               for pr in patches for f in pr.findings]
    details.extend({"status": "pass", "description": printable(
                    f"{pr.patch.label}: not reviewed: {pr.patch.skipped}")} for pr in skipped)
    return [{"tool": TOOL, "status": status, "summary": _summary(findings, len(skipped)),
             "url": "", "details": json.dumps(details, ensure_ascii=False) if details else ""}]


def render_b4_json(review: Review) -> str:
    return json.dumps(b4_results(review), ensure_ascii=False) + "\n"
