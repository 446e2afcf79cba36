"""What vN did with each comment on vN-1, decided from the quoted lines only.

The quoted lines that carry the comment are the changed lines (``+``/``-``) and the
commit message lines it sits under (context lines and trailers are left out); the last
of them is its *focus*. They are looked up in the vN patch(es) the vN-1 patch became,
each where it stood relative to the other quoted lines (``_find``). In this order:

- the comment was sent after vN was posted: **unclear**;
- the vN-1 patch has no counterpart in vN: **dropped**;
- the focus line is gone: **addressed**, with the lines that now stand there;
- the focus is there but other quoted lines changed: **addressed** when the author agreed
  on the list, **discussed** when the author answered otherwise, else **unclear**;
- the quoted lines moved, unchanged, to another patch: **unclear**;
- every quoted line is there: **unclear** when the lines right around them changed;
  **discussed** when the author answered with anything but an agreement; **unclear**
  when the code changed but only commit message lines were quoted, when the comment
  leaves the change for later, asks for nothing definite, or names an identifier or
  file that changed elsewhere in the patch; else **not addressed** (saying so when the
  author had agreed).

A change elsewhere in the patch never makes a comment addressed.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reviewbot.diff.model import Hunk, Line
from reviewbot.revisions.comments import PatchLines, line_key, patch_lines, place
from reviewbot.revisions.match import code_lines
from reviewbot.revisions.model import Answer, Comment, Fate, QuotedLine, Spot
from reviewbot.revisions.quoting import TRAILER_LINE, normalize
from reviewbot.series.model import Patch

_TRIVIAL = {"{", "}", "};", "});", ")", ");", "else", "} else {", "break;", "return;",
            "*/", "/*", "*", "#endif", "#else", "default:"}
_ASKS = re.compile(
    r"\?|\b(please|pls|should|shouldn't|must|need to|needs to|why|instead|rather|"
    r"drop|remove|rename|missing|unnecessary|unneeded|redundant|no need|not needed|"
    r"wrong|incorrect|broken|bug|typo|nits?|prefer|better to|better be|consider|suggest|"
    r"can you|could you|would you|can we|could we|avoid|leaks?|racy|races?|deadlock|"
    r"overflows?|use-after-free|don't|do not)\b|\bs/", re.IGNORECASE)

_DEFERRED = re.compile(r"\bfollow[- ]?(?:on|up)\b|\bfuture (?:cleanup|patch|series|work|change)|"
                       r"\b(?:can|could) be done (?:later|separately)|\bin a (?:separate|later|"
                       r"different) (?:patch|series)|\bnot (?:a big deal|a huge problem|worth)|"
                       r"\b(?:seems|is|looks) fine as(?: it)? is\b|\bwhat you have (?:seems|is) "
                       r"fine", re.IGNORECASE)


def asks(text: str) -> bool:
    """Does the comment ask for something (a change, an answer)?"""
    return bool(_ASKS.search(text))


def carriers(quoted: Sequence[QuotedLine]) -> list[QuotedLine]:
    """The quoted lines a comment is about: changed lines and commit message text."""
    out = []
    for q in quoted:
        flat = normalize(q.text)
        if q.kind == " " or len(flat) < 4 or flat in _TRIVIAL:
            continue
        if q.kind == "msg" and TRAILER_LINE.match(q.text):
            continue
        out.append(q)
    return out


def _key(q: QuotedLine) -> str:
    return q.text if q.kind == "msg" else q.kind + q.text


@dataclass(frozen=True)
class _Found:
    """Where a comment's lines are in one vN patch."""

    patch: Patch
    present: tuple[bool, ...]  # per carrier line
    focus: int | None  # body index of the focus line in the vN patch


SLACK = 3  # lines a quoted line may move relative to its quoted neighbour and still count
DISTINCT = 16  # characters a line needs to be recognised with no quoted neighbour placed


def _find(quoted: Sequence[QuotedLine], patch: Patch, plines: PatchLines) -> _Found:
    """Where a comment's carrier lines (see ``carriers``) are in ``patch``.

    The whole quote is placed by text (``place``); a carrier counts as there when it
    stands as far from the nearest other placed quoted line as it did in vN-1 (give or
    take SLACK lines), or, when no other quoted line is there, when its text is
    distinctive (DISTINCT characters) and occurs once in the patch: a ``return
    -EINVAL;`` found somewhere else is not the line the reviewer quoted.
    """
    pos = place([_key(q) for q in quoted], plines)

    def there(i: int) -> bool:
        p, q = pos[i], quoted[i]
        got = plines.at.get(p) if p is not None else None
        return got is not None and got.kind == q.kind and got.file == q.file

    anchors = [i for i in range(len(quoted))
               if there(i) and len(normalize(quoted[i].text)) >= 4]
    wanted = set(map(id, carriers(quoted)))
    present: list[bool] = []
    last: int | None = None
    for i, q in enumerate(quoted):
        if id(q) not in wanted:
            continue
        ok = there(i)
        if ok:
            p = pos[i]
            assert p is not None
            others = [j for j in anchors if j != i]
            if others:
                j = min(others, key=lambda j: abs(j - i))
                near = pos[j]
                assert near is not None
                ok = abs(p - (near + q.index - quoted[j].index)) <= SLACK
            else:
                ok = len(normalize(q.text)) >= DISTINCT and len(
                    plines.keys.get(_line_key(q), ())) == 1
        present.append(ok)
        last = pos[i] if ok else None
    return _Found(patch, tuple(present), last)


def _line_key(q: QuotedLine) -> str:
    return line_key(_key(q))


LinesOf = Callable[[Patch], PatchLines]


def decide(comment: Comment, versions: tuple[int, int], targets: Sequence[Patch],
           others: Sequence[Patch], old: Patch, answer: Answer | None,
           lines_of: LinesOf = patch_lines, posted: float | None = None,
           taken: frozenset[QuotedLine] = frozenset()) -> Fate:
    """The fate of ``comment`` (on patch ``old`` of v``versions[0]``) in v``versions[1]``
    (first mail dated ``posted``), whose matching patches are ``targets`` (none: the
    patch is gone) and whose other patches are ``others``; ``taken`` are the lines the
    other comments on ``old`` quote."""
    v = f"v{versions[1]}"
    if posted is not None and comment.timestamp is not None and comment.timestamp > posted:
        return Fate(comment, "unclear", f"the comment was sent after {v} was posted",
                    answer=answer)
    if not targets:
        return Fate(comment, "dropped", f"the v{versions[0]} patch has no counterpart in {v}",
                    answer=answer)
    lines = carriers(comment.quoted)
    if not lines:
        return Fate(comment, "unclear", "the comment quotes only context lines",
                    answer=answer)
    found = [_find(comment.quoted, t, lines_of(t)) for t in targets]
    whole = next((f for f in found if all(f.present)), None)
    if whole is not None:
        return _unchanged(comment, v, whole, old, lines, answer, lines_of, taken)
    if any(f.focus is not None for f in found):
        hit = next(f for f in found if f.focus is not None)
        changed = [q for q, ok in zip(lines, hit.present, strict=True) if not ok]
        if answer is not None and answer.agrees:
            return Fate(comment, "addressed", f"the author agreed on the list, and "
                        f"{len(changed)} of the {len(lines)} quoted lines changed in {v} "
                        f"patch {hit.patch.index}", answer=answer)
        if answer is not None:
            return Fate(comment, "discussed", f"the author answered on the list; the line "
                        f"the comment sits under is unchanged in {v} ({len(changed)} of the "
                        f"{len(lines)} quoted lines changed)", answer=answer)
        return Fate(comment, "unclear", f"{len(changed)} of the {len(lines)} quoted lines "
                    f"changed in {v} patch {hit.patch.index}, but not the one the comment "
                    "sits under", answer=answer)
    for other in others:
        moved = _find(comment.quoted, other, lines_of(other))
        if all(moved.present):
            return Fate(comment, "unclear", f"the quoted lines are unchanged in {v}, but "
                        f"in patch {other.index} now", answer=answer)
    now = _now(lines[-1], old, targets[0])
    what = "commit message line" if lines[-1].kind == "msg" else "line"
    if now is None:
        how = "; it is no longer in the patch" if what == "line" else ""
    elif len(now) == 1:
        how = f"; it now reads: {now[0][1:].strip()}"
    elif len(now) >= MAX_NOW:
        how = "; the lines around it were rewritten"
    else:
        how = f"; {len(now)} lines stand there now" if now else "; it was removed"
    return Fate(comment, "addressed", f"the quoted {what} \"{_short(lines[-1].text)}\" "
                f"changed in {v} patch {targets[0].index}{how}", now=tuple(now or ()),
                answer=answer)


def _unchanged(comment: Comment, v: str, found: _Found, old: Patch,
               lines: Sequence[QuotedLine], answer: Answer | None, lines_of: LinesOf,
               taken: frozenset[QuotedLine]) -> Fate:
    patch = found.patch
    assert found.focus is not None
    spot_line = lines_of(patch).at[found.focus]
    spot = Spot(patch.index, spot_line.file, spot_line.line or 0, spot_line.text,
                spot_line.kind, found.focus + patch.mail.body_line_offset)
    where = f"{spot.file}:{spot.line}" if spot.file else "the commit message"
    if lines[-1].kind != "msg" and not _same_around(lines, spot_line, old, patch, taken):
        answered = "the author answered on the list, and " if answer is not None else ""
        return Fate(comment, "unclear", f"{answered}the quoted lines are unchanged in {v} "
                    f"({where}), but lines right next to them changed", spot=spot,
                    answer=answer)
    if answer is not None and not answer.agrees:
        return Fate(comment, "discussed", f"the author answered on the list; the quoted "
                    f"lines are unchanged in {v} ({where})", spot=spot, answer=answer)
    if lines[-1].kind == "msg" and code_lines(old) != code_lines(patch):
        return Fate(comment, "unclear", f"the quoted commit message lines are unchanged in "
                    f"{v}, but the code changed", spot=spot, answer=answer)
    if _DEFERRED.search(comment.text):
        return Fate(comment, "unclear", f"the quoted lines are unchanged in {v} ({where}), "
                    "but the comment leaves the change for later", spot=spot, answer=answer)
    if not asks(comment.text):
        return Fate(comment, "unclear", f"the quoted lines are unchanged in {v} ({where}), "
                    "but the comment asks for nothing definite", spot=spot, answer=answer)
    named = sorted(_names(comment.text) & _changed_names(old, patch))
    if named:
        return Fate(comment, "unclear", f"the quoted lines are unchanged in {v} ({where}), "
                    f"but the comment names {named[0]}, which changed elsewhere in the patch",
                    spot=spot, answer=answer)
    agreed = f"; the author agreed to it on the list <{answer.msgid}>" if answer else ""
    return Fate(comment, "not_addressed", f"the quoted lines are in {v} patch "
                f"{patch.index} exactly as they were ({where}){agreed}", spot=spot,
                answer=answer)


MAX_NOW = 8  # replacement lines shown; more: "rewritten"
AROUND = 2  # lines before the first quoted line and after the last one that must be
# unchanged too for a comment to be "not addressed" (a fix is often a line added there)


_NAME = re.compile(r"\b(?:[A-Za-z]\w{0,80}_\w{1,80}|[A-Za-z]\w{3,80}(?=\()|"
                   r"(?<![\w/-])[\w/-]{1,80}\.[ch])\b")


def _names(text: str) -> set[str]:
    """Identifiers a text names: with an underscore (``hk_type``) or called (``foo(``)."""
    return set(_NAME.findall(text))


def _changed_names(old: Patch, new: Patch) -> set[str]:
    """The identifiers in the hunks of vN that vN-1 did not have as they are (their
    context included: a comment added above ``FOO_BAR`` names it), and on the changed
    lines vN-1 had and vN has not."""
    def hunks(p: Patch) -> dict[tuple[str, ...], list[str]]:
        return {tuple(ln.kind + ln.text for ln in h.lines if ln.kind != " "):
                [ln.text for ln in h.lines] for fd in p.files for h in fd.hunks}

    before, after = hunks(old), hunks(new)
    gone = Counter(code_lines(old)) - Counter(code_lines(new))
    texts = [t for code, lines in after.items() if code not in before for t in lines]
    return {n for text in (*texts, *(t for _p, _k, t in gone)) for n in _names(text)}


def _same_around(lines: Sequence[QuotedLine], spot: QuotedLine, old: Patch,
                 new: Patch, taken: frozenset[QuotedLine]) -> bool:
    """Do the quoted lines stand among the same lines in vN as in vN-1: from AROUND
    lines before the first quoted line of the hunk (not reaching into lines another
    comment quotes: their change is that comment's) to AROUND lines after the focus?"""
    focus = lines[-1]
    a = _hunk_of(old, focus)
    b = _hunk_of(new, spot)
    if a is None or b is None:
        return False
    (ha, ia), (hb, ib) = a, b
    first = next((f for q in lines if q.file == focus.file
                  if (f := _hunk_of(old, q)) is not None and f[0] is ha), None)
    start = first[1] if first is not None else ia
    low = start
    while low > 0 and start - low < AROUND and _quoted(ha.lines[low - 1], focus.file) \
            not in taken:
        low -= 1
    before = min(ia - low, ib)
    after = min(AROUND, len(ha.lines) - 1 - ia, len(hb.lines) - 1 - ib)
    la = [ln.kind + ln.text for ln in ha.lines[ia - before:ia + after + 1]]
    lb = [ln.kind + ln.text for ln in hb.lines[ib - before:ib + after + 1]]
    return la == lb


def _now(focus: QuotedLine, old: Patch, new: Patch) -> list[str] | None:
    """The vN lines that stand where the focus line was (diff markers kept): those
    between the nearest distinctive lines around it that both hunks share, or the one
    most like it; [] when nothing stands there; None when the place itself is gone."""
    if focus.kind == "msg":
        return None
    old_hunk = _hunk_of(old, focus)
    if old_hunk is None:
        return None
    a, idx = [ln.kind + ln.text for ln in old_hunk[0].lines], old_hunk[1]
    wanted = set(a)
    best: tuple[int, list[str]] | None = None
    for fd in new.files:
        if fd.path != focus.file:
            continue
        for h in fd.hunks:
            lines = [ln.kind + ln.text for ln in h.lines]
            shared = len(wanted.intersection(lines))
            if shared and (best is None or shared > best[0]):
                best = (shared, lines)
    if best is None:
        return None
    b = best[1]
    count = Counter(b)
    where = {line: j for j, line in enumerate(b) if count[line] == 1 and len(line.strip()) > 8}
    lo = next((where[a[i]] for i in range(idx - 1, -1, -1) if a[i] in where), None)
    hi = next((where[a[i]] for i in range(idx + 1, len(a)) if a[i] in where
               and (lo is None or where[a[i]] > lo)), None)
    if lo is None and hi is None:
        return None  # the place is not in vN: the line is gone with what was around it
    region = [x for x in b[(lo if lo is not None else -1) + 1:
                           hi if hi is not None else len(b)] if x[:1] in "+-" and x[1:].strip()]
    if lo is not None and hi is not None and len(region) <= 3:
        return region
    like = max(region, default="", key=lambda x: _similar(a[idx], x))
    if like and _similar(a[idx], like) >= 0.5 and normalize(like) != normalize(a[idx]):
        return [like]  # (the same text elsewhere is not what stands there now)
    return region[:MAX_NOW] if lo is not None and hi is not None else None


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _quoted(ln: Line, path: str | None) -> QuotedLine:
    return QuotedLine(ln.kind, ln.text, path, ln.old if ln.kind == "-" else ln.new)


def _hunk_of(patch: Patch, q: QuotedLine) -> tuple[Hunk, int] | None:
    """The hunk of ``patch`` holding the line ``q`` stands for, and its index there."""
    for fd in patch.files:
        if fd.path != q.file:
            continue
        for h in fd.hunks:
            for i, ln in enumerate(h.lines):
                if ln.kind == q.kind and ln.text == q.text and _quoted(ln, fd.path) == q:
                    return h, i
    return None


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 3] + "..."

