"""Compare vN with vN-1: matched patches, the comments' fate, trailers."""

from __future__ import annotations

from reviewbot.revisions.answers import answers
from reviewbot.revisions.comments import PatchLines, comments_on, patch_lines
from reviewbot.revisions.fate import carriers, decide
from reviewbot.revisions.match import match_patches
from reviewbot.revisions.model import Comment, Previous, QuotedLine, RevisionReview
from reviewbot.revisions.pool import MailPool, identity
from reviewbot.revisions.previous import wanted
from reviewbot.revisions.trailers import check_trailers, on_list
from reviewbot.series.model import Patch, Series
from reviewbot.series.stored import loaded


def _authors(*series: Series) -> set[str]:
    return {key for s in series
            for m in ([s.cover] if s.cover else []) + [p.mail for p in s.patches]
            for key in identity(m.author)}


def review_revision(current: Series, previous: Previous, pool: MailPool) -> RevisionReview:
    """What changed from ``previous`` (found in ``pool``) to ``current``."""
    current = loaded(current)  # every vN patch is read many times below: parsed once
    old = previous.series
    deltas = match_patches(old.patches, current.patches)
    new_by = {p.index: p for p in current.patches}
    old_by = {p.index: p for p in old.patches}
    targets: dict[int, list[Patch]] = {}
    for d in sorted(deltas, key=lambda d: d.kind in ("split", "merged")):
        if d.old is not None and d.new is not None:  # the counterpart first, then splits
            targets.setdefault(d.old, []).append(new_by[d.new])
    posted = wanted(current).date
    comments = comments_on(old, pool)
    answered = answers(comments, pool, _authors(old, current))
    known: dict[str, PatchLines] = {}

    def lines_of(patch: Patch) -> PatchLines:
        if patch.msgid not in known:
            known[patch.msgid] = patch_lines(patch)
        return known[patch.msgid]

    quoted: dict[int, list[tuple[Comment, list[QuotedLine]]]] = {}
    for c in comments:
        quoted.setdefault(c.patch, []).append((c, carriers(c.quoted)))
    fates = []
    for c in comments:
        mine = targets.get(c.patch, [])
        others = [p for p in current.patches if all(p is not m for m in mine)]
        taken = frozenset(q for o, lines in quoted[c.patch] if o is not c for q in lines)
        fates.append(decide(c, (old.version, current.version), mine, others, old_by[c.patch],
                            answered.get((c.msgid, c.index)), lines_of, posted, taken))
    issues = check_trailers(deltas, old, current, on_list(old, pool, posted))
    return RevisionReview(old, previous.found_by, previous.where, tuple(deltas), tuple(fates),
                          tuple(issues))
