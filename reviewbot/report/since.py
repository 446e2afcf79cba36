"""The revision review in the reports: the "since vN-1" text section, its JSON object,
and what the replies say about comments that were not addressed."""

from __future__ import annotations

from typing import Any

from reviewbot.findings import Finding, PatchReview, SeriesReview
from reviewbot.revisions.model import VERDICTS, Fate, PatchDelta, RevisionReview, Since, Verdict

_WORDS: dict[Verdict, str] = {"addressed": "addressed", "not_addressed": "not addressed",
                              "discussed": "discussed", "dropped": "patch dropped",
                              "unclear": "unclear"}
_ORDER = {v: i for i, v in enumerate(("not_addressed", "discussed", "unclear", "dropped",
                                      "addressed"))}
EXCERPT = 300  # characters of a comment quoted in a reply or a summary


def excerpt(text: str, width: int = EXCERPT) -> str:
    """A comment on one line, cut at ``width`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 3].rstrip() + "..."


def _who(fate: Fate) -> str:
    a = fate.comment.author
    return (a.name or a.email) if a is not None else "a reviewer"


def _num(index: int | None, total: int) -> str:
    return f"{index}/{total}" if index is not None else "-"


def _delta_line(d: PatchDelta, review: RevisionReview, total: int) -> str:
    old = review.previous
    v = f"v{old.version}"
    if d.kind == "dropped":
        return f"  {v} {_num(d.old, old.total)} {d.old_title}: dropped"
    head = f"  {_num(d.new, total)} {d.new_title}: "
    if d.kind == "new":
        return head + "new"
    if d.kind == "split":
        return head + f"split out of {v} {_num(d.old, old.total)} {d.old_title}"
    if d.kind == "merged":
        return (f"  {v} {_num(d.old, old.total)} {d.old_title}: merged into "
                f"{_num(d.new, total)} {d.new_title}")
    was = "" if d.old == d.new and d.old_title == d.new_title else (
        f" (was {v} {_num(d.old, old.total)}"
        + (f" {d.old_title}" if d.old_title != d.new_title else "") + ")")
    if d.kind == "unchanged":
        return head + "unchanged" + (", commit message changed" if d.message_changed else "") \
            + was
    what = f"changed, {d.lines_differ} of {d.lines} changed lines differ"
    if d.message_changed:
        what += ", commit message changed"
    return head + what + was


def since_lines(sr: SeriesReview) -> list[str]:
    """The "since vN-1" section of the text report (empty without a revision review)."""
    since = sr.since
    if since is None or since.review is None:
        return []
    r = since.review
    old = r.previous
    total = sr.series.total
    out = [sr.series.subject,
           f"  since v{old.version} <{old.id}> (found in {r.where} by {r.found_by}):"]
    for d in r.patches:
        out.append("  " + _delta_line(d, r, total))
        for h in d.hunks:
            where = f"{h.file}" + (f" @@ {h.function}" if h.function else "")
            out.append(f"        {where}: hunk {h.status}")
    if r.comments:
        counts = ", ".join(f"{r.count(v)} {_WORDS[v]}" for v in VERDICTS if r.count(v))
        out.append(f"    comments on v{old.version}: {len(r.comments)} ({counts})")
        for f in sorted(r.comments, key=lambda f: _ORDER[f.verdict]):
            c = f.comment
            out.append(f"      {_WORDS[f.verdict]}: v{old.version} {_num(c.patch, old.total)}, "
                       f"{_who(f)} <{c.msgid}>: \"{excerpt(c.text, 100)}\"")
            out.append(f"        {f.evidence}")
    if r.trailers:
        out.append("    trailers:")
        for t in r.trailers:
            given = f" (<{t.msgid}>)" if t.msgid else ""
            out.append(f"      {_num(t.new, total)} {t.trailer}: {t.reason}{given}")
    return out


def since_dict(since: Since) -> dict[str, Any]:
    """The ``since`` object of a series in the JSON report."""
    r = since.review
    if r is None:
        return {"version": since.version, "found": False, "note": since.note}
    return {
        "version": r.previous.version,
        "found": True,
        "note": since.note,
        "series": r.previous.id,
        "subject": r.previous.subject,
        "found_by": r.found_by,
        "where": r.where,
        "patches": [{"status": d.kind, "old": d.old, "new": d.new, "old_title": d.old_title,
                     "title": d.new_title, "lines_differ": d.lines_differ, "lines": d.lines,
                     "message_changed": d.message_changed, "substantial": d.substantial,
                     "alike": d.alike,
                     "hunks": [{"file": h.file, "function": h.function, "status": h.status,
                                "diff": list(h.diff)} for h in d.hunks]}
                    for d in r.patches],
        "comments": [_comment_dict(f) for f in r.comments],
        "trailers": [{"kind": t.kind, "trailer": t.trailer, "patch": t.new,
                      "old_patch": t.old, "msgid": t.msgid, "reason": t.reason}
                     for t in r.trailers],
    }


def _comment_dict(f: Fate) -> dict[str, Any]:
    c = f.comment
    spot = f.spot
    return {
        "msgid": c.msgid,
        "author": c.author.formatted() if c.author else None,
        "old_patch": c.patch,
        "quoted": [{"kind": q.kind, "file": q.file, "line": q.line, "text": q.text}
                   for q in c.quoted],
        "text": c.text,
        "verdict": f.verdict,
        "evidence": f.evidence,
        "now": list(f.now),
        "spot": None if spot is None else {"patch": spot.patch, "file": spot.file,
                                           "line": spot.line, "text": spot.text,
                                           "patch_line": spot.patch_line},
        "answer": None if f.answer is None else {"msgid": f.answer.msgid,
                                                 "text": f.answer.text,
                                                 "agrees": f.answer.agrees},
    }


def not_addressed(sr: SeriesReview) -> list[Fate]:
    r = sr.since.review if sr.since is not None else None
    return [f for f in r.comments if f.verdict == "not_addressed"] if r is not None else []


def reply_notes(sr: SeriesReview, pr: PatchReview) -> list[Finding]:
    """The not-addressed comments on the vN-1 counterpart of ``pr``'s patch, placed on
    the unchanged line in this patch, for its reply to quote."""
    r = sr.since.review if sr.since is not None else None
    if r is None:
        return []
    out = []
    for f in not_addressed(sr):
        spot = f.spot
        if spot is None or spot.patch != pr.patch.index:
            continue
        text = (f"v{r.previous.version} comment by {_who(f)} not addressed: "
                f"\"{excerpt(f.comment.text)}\" <{f.comment.msgid}>")
        out.append(Finding("", "", "other", "info", "high", spot.file or "", spot.line,
                           spot.text, None, text, text, spot.patch_line,
                           "old" if spot.kind == "-" else "new"))
    return out


def summary_since(sr: SeriesReview) -> list[str]:
    """Paragraphs for the cover-letter summary: the comments not addressed (with the
    Message-ID of each), and the trailer problems."""
    since = sr.since
    if since is None or since.review is None:
        return []
    r = since.review
    v = f"v{r.previous.version}"
    todo = not_addressed(sr)
    paras: list[str] = []
    if r.comments:
        head = (f"Since {v}: {len(todo)} of the {len(r.comments)} review comments on {v} "
                f"{'was' if len(todo) == 1 else 'were'} not addressed"
                + (":" if todo else "."))
        items = [f"- {v} {_num(f.comment.patch, r.previous.total)}, {_who(f)}: "
                 f"\"{excerpt(f.comment.text, 120)}\" <{f.comment.msgid}>" for f in todo]
        paras.append("\n".join([head, *items]))
    if r.trailers:
        items = [f"- {_num(t.new, sr.series.total)} {t.trailer}: {t.reason}"
                 + (f" <{t.msgid}>" if t.msgid else "") for t in r.trailers]
        paras.append("\n".join(["Trailers:", *items]))
    return paras
