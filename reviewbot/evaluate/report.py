"""The evaluation report: a table per class, then misses and unmatched findings."""

from __future__ import annotations

import json
from typing import Any

from reviewbot.evaluate.score import Located, Score, Tally

SCHEMA_VERSION = 1


def _ratio(a: int, b: int) -> str:
    return f"{a}/{b}"


def _per_negative(t: Tally, n: int) -> str:
    return f"{t.negative_findings / n:.2f}" if n else "-"


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _finding_line(x: Located) -> str:
    f = x.finding
    side = " (removed line)" if f.side == "old" else ""
    return f"  {x.patch_file}  {f.file}:{f.line}{side}  {f.rule}  {f.message}"


def render_eval_text(s: Score, index: str = "") -> str:
    """The text report; ``index``: the index the review used (one line), if any."""
    grouped = sum(1 for r in s.reviews if r.reviewed_with)
    out = [f"corpus {s.corpus.root}: {s.patches} patches ({s.negative_patches} negative), "
           f"{s.overall.comments} comments; {grouped} patches reviewed together with "
           "other patches of their series", *([f"with the {index}"] if index else []), ""]
    head = f"{'class':<14}{'comments found':>16}{'findings matched':>18}" \
           f"{'per negative patch':>20}"
    out.append(head)
    rows = [*s.per_class, ("overall", s.overall)]
    for name, t in rows:
        out.append(f"{name:<14}{_ratio(t.found, t.comments):>16}"
                   f"{_ratio(t.matched, t.findings):>18}"
                   f"{_per_negative(t, s.negative_patches):>20}")
    out.append("")
    out.append(f"found ({len(s.found)}):")
    out += [f"  {c.id}  {c.patch_file}  {c.file}:{x.finding.line}  {x.finding.rule}  "
            f"{_short(x.finding.reply or x.finding.message, 60)}" for c, x in s.found]
    out.append(f"misses ({len(s.misses)}):")
    out += [f"  {c.id}  {c.patch_file}  {c.file}:{','.join(map(str, c.lines))}  "
            f"{c.category}  \"{_short(c.text, 60)}\"" for c in s.misses]
    out.append(f"unmatched findings ({len(s.unmatched)}):")
    out += [_finding_line(x) for x in s.unmatched]
    skipped = [(r.patch_file, why) for r in s.reviews for why in r.skipped]
    if skipped:
        out.append(f"patches not reviewed ({len(skipped)}):")
        out += [f"  {name}: {why}" for name, why in skipped]
    return "\n".join(out) + "\n"


def _tally(t: Tally, negatives: int) -> dict[str, Any]:
    return {"comments": t.comments, "found": t.found, "findings": t.findings,
            "matched": t.matched, "negative_findings": t.negative_findings,
            "findings_per_negative_patch": (t.negative_findings / negatives
                                            if negatives else None)}


def _located(x: Located) -> dict[str, Any]:
    f = x.finding
    return {"patch_file": x.patch_file, "rule": f.rule, "class": f.cls, "file": f.file,
            "line": f.line, "side": f.side, "message": f.message, "reply": f.reply}


def render_eval_json(s: Score, index: str = "") -> str:
    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "corpus": str(s.corpus.root),
        "patches": s.patches,
        "negative_patches": s.negative_patches,
        "classes": {name: _tally(t, s.negative_patches) for name, t in s.per_class},
        "overall": _tally(s.overall, s.negative_patches),
        "found": [{"id": c.id, **_located(x)} for c, x in s.found],
        "misses": [{"id": c.id, "patch_file": c.patch_file, "class": c.category,
                    "file": c.file, "lines": list(c.lines), "comment": c.text}
                   for c in s.misses],
        "unmatched": [_located(x) for x in s.unmatched],
        "reviews": [{"patch_file": r.patch_file, "findings": len(r.findings),
                     "skipped": list(r.skipped), "reviewed_with": list(r.reviewed_with)}
                    for r in s.reviews],
    }
    if index:
        data["index"] = index
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
