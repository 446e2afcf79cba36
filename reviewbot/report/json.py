"""The JSON report: a stable schema (documented in README.md, "JSON output")."""

from __future__ import annotations

import json
from typing import Any

from reviewbot.findings import Finding, Review
from reviewbot.printable import json_printable

SCHEMA_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "name": f.name,
        "class": f.cls,
        "severity": f.severity,
        "confidence": f.confidence,
        "file": f.file,
        "line": f.line,
        "side": f.side,
        "text": f.text,
        "function": f.function,
        "message": f.message,
        "reply": f.reply,
        "patch_line": f.patch_line,
    }


def review_dict(review: Review, index: str = "") -> dict[str, Any]:
    """The report as JSON data; ``index`` (the knowledge index the checks used, one
    line) is the ``index`` field, left out when there was none."""
    series = []
    patches = []
    for sr in review.series:
        s = sr.series
        series.append({
            "id": s.id,
            "subject": s.subject,
            "version": s.version,
            "total": s.total,
            "missing": list(s.missing),
            "cover": s.cover.msgid if s.cover else None,
            "other_versions": list(s.other_versions),
            "notes": list(sr.notes),
        })
        if sr.since is not None:  # only when an earlier revision was looked for
            from reviewbot.report.since import since_dict

            series[-1]["since"] = since_dict(sr.since)
        for pr in sr.patches:
            p = pr.patch
            patches.append({
                "series": s.id,
                "index": p.index,
                "total": p.total,
                "version": p.version,
                "subject": p.subject,
                "msgid": p.msgid,
                "author": p.mail.author.formatted() if p.mail.author else None,
                "skipped": p.skipped,
                "files": list(p.paths),
                "unmapped": [{"file": u.file, "line": u.line, "reason": u.reason}
                             for u in pr.unmapped],
                "findings": [finding_dict(f) for f in pr.findings],
                "full_files": list(pr.full_files),
                "notes": list(pr.notes),
            })
    out: dict[str, Any] = {"schema": SCHEMA_VERSION}
    if index:
        out["index"] = index
    out.update(series=series, patches=patches)
    return out


def render_json(review: Review, index: str = "") -> str:
    """The report as JSON text; the controls a terminal obeys that JSON leaves as they
    are (C1, bidirectional) written as ``\\uXXXX`` (``printable.json_printable``)."""
    return json_printable(json.dumps(review_dict(review, index), indent=2,
                                     ensure_ascii=False)) + "\n"
