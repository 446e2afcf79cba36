"""Match the patches of vN-1 with those of vN, and say how each changed (range-diff).

Matching, in this order:

1. the same title (lower case, blanks folded), first unmatched first;
2. for what is left: the same files and mostly the same changed lines (a retitled
   patch);
3. what is still left, by content: a vN-1 patch whose added lines mostly went into one
   vN patch was *merged* into it; a vN patch whose added lines mostly come from one
   vN-1 patch was *split* out of it;
4. of the rest, two patches that change the same files and mostly the same functions
   (the hunks' sections) are one patch retitled and rewritten in place; what is still
   left is *dropped* (vN-1) or *new* (vN).

Two matched patches are compared hunk by hunk, on their changed (``+``/``-``) lines:
a hunk found unchanged in the other revision is left out, the others are paired by file
and likeness and shown as a diff of the two hunks (``-``: vN-1 only, ``+``: vN only),
as ``git range-diff`` does. Line numbers and context lines alone do not make a change.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.revisions.model import HunkDelta, PatchDelta
from reviewbot.revisions.pool import title_key
from reviewbot.revisions.quoting import TRAILER_LINE
from reviewbot.series.model import Patch

SIMILAR_FILES = 0.5  # step 2: share of the changed lines two patches must have in common
SIMILAR_PLACES = 0.5  # step 2: share of the (file, function) places both patches touch
CONTAINED = 0.5  # step 3: share of a patch's added lines found in the other one
# substantial: at least this many changed lines differ, and the changed code (as tokens)
# is less than this much the same: a variable folded into an ``if`` on every hunk
# changes many lines but little code
SUBSTANTIAL_LINES = 6
SUBSTANTIAL_SAME = 0.8
_TOKEN = re.compile(r"\w+|[^\s\w]")
MAX_HUNK_DIFF = 60  # lines of one hunk comparison kept
MAX_PATCH_DIFF = 300  # lines of all hunk comparisons of one patch kept

CodeLine = tuple[str, str, str]  # (path, "+"/"-", text)


@dataclass(frozen=True)
class _Hunk:
    path: str
    section: str
    lines: tuple[str, ...]  # marker + text, context included
    code: tuple[str, ...]  # marker + text, changed lines only


def _hunks(patch: Patch) -> list[_Hunk]:
    out = []
    for fd in patch.files:
        for h in fd.hunks:
            lines = tuple(ln.kind + ln.text.rstrip() for ln in h.lines)
            out.append(_Hunk(fd.path, h.section.strip(), lines,
                             tuple(x for x in lines if x[:1] in "+-")))
    return out


def code_lines(patch: Patch) -> list[CodeLine]:
    return [(fd.path, ln.kind, ln.text.rstrip()) for fd in patch.files for h in fd.hunks
            for ln in h.lines if ln.kind != " "]


def _added(patch: Patch) -> Counter[tuple[str, str]]:
    return Counter((fd.path, ln.text.strip()) for fd in patch.files for h in fd.hunks
                   for ln in h.lines if ln.kind == "+" and len(ln.text.strip()) >= 4)


def message_text(patch: Patch) -> list[str]:
    """The commit message without trailers and blank lines (what a change is seen in)."""
    return [ln.rstrip() for ln in patch.commit_message.split("\n")
            if ln.strip() and not TRAILER_LINE.match(ln)]


def compare(old: Patch, new: Patch) -> PatchDelta:
    """How ``old`` (vN-1) became ``new`` (vN)."""
    a, b = code_lines(old), code_lines(new)
    ca, cb = Counter(a), Counter(b)
    differ = sum((ca - cb).values()) + sum((cb - ca).values())
    total = len(a) + len(b)
    hunks = _hunk_deltas(_hunks(old), _hunks(new))
    msg = message_text(old) != message_text(new)
    same = differ == 0 and not hunks and bool(old.files) and bool(new.files)
    if not old.files or not new.files:  # a patch without a diff: only its text compares
        same = not msg and old.mail.body == new.mail.body
    alike = _alike(a, b) if differ >= SUBSTANTIAL_LINES else 1.0
    return PatchDelta("unchanged" if same else "changed", old.index, new.index,
                      old.mail.subject.title, new.mail.subject.title, tuple(hunks), differ,
                      total, msg, alike < SUBSTANTIAL_SAME, round(alike, 2))


def _alike(a: Sequence[CodeLine], b: Sequence[CodeLine]) -> float:
    """How much of the changed code two patches share, as tokens (1.0: the same).

    The lines both have count whole; of the lines that differ, the tokens both sides
    have (as a multiset, order aside) count too. Linear in the size of the patches.
    """
    ca, cb = Counter(a), Counter(b)
    same = sum(len(_tokens(line)) * n for line, n in (ca & cb).items())
    ta = [t for line, n in (ca - cb).items() for _ in range(n) for t in _tokens(line)]
    tb = [t for line, n in (cb - ca).items() for _ in range(n) for t in _tokens(line)]
    total = 2 * same + len(ta) + len(tb)
    if not total:
        return 1.0
    shared = sum((Counter(ta) & Counter(tb)).values())  # order-blind: linear in size
    return (2 * same + 2 * shared) / total


def _tokens(line: CodeLine) -> list[str]:
    return _TOKEN.findall(line[1] + line[2])


def _hunk_deltas(old: list[_Hunk], new: list[_Hunk]) -> list[HunkDelta]:
    left = list(old)
    right = list(new)
    for h in list(left):  # a hunk whose changed lines are all still there is unchanged
        twin = next((r for r in right if r.path == h.path and r.code == h.code), None)
        if twin is not None:
            left.remove(h)
            right.remove(twin)
    out: list[HunkDelta] = []
    budget = MAX_PATCH_DIFF
    for h in left:
        same_file = [r for r in right if r.path == h.path]
        best = max(same_file, default=None, key=lambda r: (
            r.section == h.section, difflib.SequenceMatcher(None, h.lines, r.lines,
                                                            autojunk=False).quick_ratio()))
        if best is not None and (best.section == h.section or difflib.SequenceMatcher(
                None, h.lines, best.lines, autojunk=False).quick_ratio() >= 0.3):
            right.remove(best)
            diff = _diff(h.lines, best.lines)
            out.append(HunkDelta(h.path, best.section or h.section, "changed",
                                 tuple(diff[:min(MAX_HUNK_DIFF, max(budget, 0))])))
        else:
            out.append(HunkDelta(h.path, h.section, "removed",
                                 tuple("-" + x for x in h.lines[:min(MAX_HUNK_DIFF,
                                                                      max(budget, 0))])))
        budget -= len(out[-1].diff)
    for r in right:
        out.append(HunkDelta(r.path, r.section, "added",
                             tuple("+" + x for x in r.lines[:min(MAX_HUNK_DIFF,
                                                                  max(budget, 0))])))
        budget -= len(out[-1].diff)
    return out


def _diff(a: Sequence[str], b: Sequence[str]) -> list[str]:
    """The two hunks compared, one line of context around each difference."""
    out: list[str] = []
    for line in difflib.unified_diff(list(a), list(b), n=1, lineterm=""):
        if line.startswith(("---", "+++")) and not out:
            continue
        if line.startswith("@@"):
            if out:
                out.append(" ...")
            continue
        out.append(line)
    return out


def match_patches(old: Sequence[Patch], new: Sequence[Patch]) -> list[PatchDelta]:
    """Every patch of vN-1 and of vN, matched (see the module docstring), in vN order
    with the dropped ones after their vN-1 neighbours."""
    pairs: dict[int, int] = {}  # vN index -> vN-1 index
    by_title: dict[str, list[Patch]] = {}
    for p in old:
        by_title.setdefault(title_key(p.mail.subject.title), []).append(p)
    for q in new:
        same = by_title.get(title_key(q.mail.subject.title))
        if same:
            pairs[q.index] = same.pop(0).index
    _match_by_content(old, new, pairs)
    old_by = {p.index: p for p in old}
    new_by = {q.index: q for q in new}
    paired_old = set(pairs.values())
    out: list[PatchDelta] = []
    relations = _relations([p for p in old if p.index not in paired_old],
                           [q for q in new if q.index not in pairs], old, new)
    _match_by_places(old, new, pairs, relations)
    paired_old = set(pairs.values())
    for q in new:
        if q.index in pairs:
            out.append(compare(old_by[pairs[q.index]], q))
        elif q.index in relations.split:
            p = old_by[relations.split[q.index]]
            out.append(PatchDelta("split", p.index, q.index, p.mail.subject.title,
                                  q.mail.subject.title))
        else:
            out.append(PatchDelta("new", None, q.index, "", q.mail.subject.title))
    for p in old:
        if p.index in paired_old:
            continue
        if p.index in relations.merged:
            q = new_by[relations.merged[p.index]]
            out.append(PatchDelta("merged", p.index, q.index, p.mail.subject.title,
                                  q.mail.subject.title))
        else:
            out.append(PatchDelta("dropped", p.index, None, p.mail.subject.title, ""))
    return out


def _match_by_content(old: Sequence[Patch], new: Sequence[Patch],
                      pairs: dict[int, int]) -> None:
    """Step 2: pair the unmatched patches that change mostly the same lines."""
    taken = set(pairs.values())
    left = [p for p in old if p.index not in taken]
    right = [q for q in new if q.index not in pairs]
    scored: list[tuple[float, int, int]] = []
    for q in right:
        cq = Counter(code_lines(q))
        files_q = {f.path for f in q.files}
        for p in left:
            if not files_q & {f.path for f in p.files}:
                continue
            cp = Counter(code_lines(p))
            common = sum((cp & cq).values())
            smaller = min(sum(cp.values()), sum(cq.values())) or 1
            share = common / smaller
            if share >= SIMILAR_FILES:
                scored.append((share, q.index, p.index))
    _pair(scored, pairs)


def _match_by_places(old: Sequence[Patch], new: Sequence[Patch], pairs: dict[int, int],
                     relations: _Relations) -> None:
    """Step 4: pair the patches left (not merged or split either) that change the same
    files and mostly the same functions: a patch retitled and rewritten in place. Hunks
    without a section (the top of a file) name no function and do not count."""
    taken = set(pairs.values()) | set(relations.merged)
    left = [(p, _places(p)) for p in old if p.index not in taken]
    right = [(q, _places(q)) for q in new if q.index not in pairs
             and q.index not in relations.split]
    scored: list[tuple[float, int, int]] = []
    for q, (files_q, places_q) in right:
        for p, (files_p, places_p) in left:
            if not places_q or files_p != files_q:
                continue
            share = len(places_p & places_q) / len(places_p | places_q)
            if share >= SIMILAR_PLACES:
                scored.append((share, q.index, p.index))
    _pair(scored, pairs)


def _places(patch: Patch) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """The files a patch changes, and the (file, hunk section) places it changes."""
    return (frozenset(fd.path for fd in patch.files),
            frozenset((fd.path, section) for fd in patch.files for h in fd.hunks
                      if (section := " ".join(h.section.split()))))


def _pair(scored: list[tuple[float, int, int]], pairs: dict[int, int]) -> None:
    """Pair (vN index, vN-1 index) best score first, each patch once."""
    for _share, qi, pi in sorted(scored, key=lambda s: (-s[0], s[1], s[2])):
        if qi not in pairs and pi not in pairs.values():
            pairs[qi] = pi


@dataclass(frozen=True)
class _Relations:
    split: dict[int, int]  # vN index -> the vN-1 patch it was split out of
    merged: dict[int, int]  # vN-1 index -> the vN patch it went into


def _relations(old_left: Sequence[Patch], new_left: Sequence[Patch],
               old: Sequence[Patch], new: Sequence[Patch]) -> _Relations:
    """Step 3: merged and split patches, by where their added lines went."""
    if not old_left and not new_left:
        return _Relations({}, {})
    added = {id(p): _added(p) for p in (*old, *new)}
    merged: dict[int, int] = {}
    for p in old_left:
        home = _container(added[id(p)], new, added)
        if home is not None:
            merged[p.index] = home.index
    split: dict[int, int] = {}
    for q in new_left:
        home = _container(added[id(q)], old, added)
        if home is not None:
            split[q.index] = home.index
    return _Relations(split, merged)


def _container(lines: Counter[tuple[str, str]], others: Sequence[Patch],
               added: dict[int, Counter[tuple[str, str]]]) -> Patch | None:
    """The patch of ``others`` holding most of ``lines``, if it holds enough of them."""
    total = sum(lines.values())
    if total == 0:
        return None
    best: tuple[float, Patch] | None = None
    for other in others:
        share = sum((lines & added[id(other)]).values()) / total
        if share >= CONTAINED and (best is None or share > best[0]):
            best = (share, other)
    return best[1] if best else None
