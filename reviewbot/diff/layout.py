"""Layout-only changes in a diff, found by re-diffing each hunk while ignoring whitespace.

Shared by the blank-line rules (an unrelated whitespace change) and SER001 (a layout
change that belongs in an earlier patch of the series).

A hunk's pre-image (context and removed lines) and post-image (context and added lines)
are compared again line by line with all layout squashed out (``squash``), like
``git diff -w --ignore-blank-lines`` would. What the unified diff shows as a change but
this comparison does not is a *layout* change: a blank line inserted or deleted, a line
whose indentation or alignment changed, lines re-wrapped (the same C tokens in the same
order). Everything else is a *code* change. Consecutive layout edits form one
``LayoutChange``. This does not depend on how the diff tool aligned the lines.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Literal, NamedTuple

from reviewbot.diff.model import Hunk, Line
from reviewbot.series.model import Patch

_LITERAL = re.compile(r'"(?:\\.|[^"\\])*"|\' \'')
# A commit message that announces layout work: the whitespace change is the point.
_ANNOUNCED = re.compile("|".join((
    r"white[- ]?space", r"coding[- ]style", r"code style", r"checkpatch", r"indentation",
    r"re-?indent", r"blank line", r"empty line", r"formatting", r"reformat", r"cosmetic",
    r"style (?:fix|issue|cleanup)", r"clang-format")), re.IGNORECASE)

EditKind = Literal["same", "layout", "code"]


def squash(text: str) -> str:
    """``text`` without layout: whitespace dropped, except one space between two word
    characters (letters, digits, ``_``), which would otherwise make one word. String
    literals (and the character literal ``' '``) are kept as they are: spacing inside
    them is content, not layout."""
    if '"' not in text and "' '" not in text:
        return _squash_code(text)
    out: list[str] = []
    last = 0
    for m in _LITERAL.finditer(text):
        out.append(_squash_code(text[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(_squash_code(text[last:]))
    return "".join(out)


def _squash_code(text: str) -> str:
    parts = text.split()
    if len(parts) <= 1:
        return parts[0] if parts else ""
    prev = parts[0]
    out = [prev]
    for part in parts[1:]:
        c, d = prev[-1], part[0]
        if (c.isalnum() or c == "_") and (d.isalnum() or d == "_"):
            out.append(" ")
        out.append(part)
        prev = part
    return "".join(out)


def is_blank(line: Line) -> bool:
    return not line.text.strip()


def same_tokens(removed: list[str], added: list[str]) -> bool:
    """True when two runs of lines differ only in whitespace, blank lines and wrapping
    (and not inside a string literal: ``squash`` keeps those)."""
    return squash(" ".join(removed)) == squash(" ".join(added))


# difflib's comparison looks at every pair of equal lines once per block it matches
# (2,000 removed and 2,000 added lines, half of them "}", took 126 s): its cost is
# bounded by the pairs of equal keys times the shorter side (``_comparison_cost``;
# about 70 ns a unit at worst). One patch's hunks share this allowance
# (``Comparisons``); a hunk that does not fit in what is left is compared the way its
# diff already pairs it (``_diff_opcodes``). Hunks of real code cost far less: a
# 1,000-line hunk about 20,000,000.
MAX_COMPARISON = 50_000_000


class Comparisons:
    """What is left of one patch's allowance for difflib's comparisons."""

    def __init__(self, allowance: int = MAX_COMPARISON) -> None:
        self.left = allowance

    def take(self, cost: int) -> bool:
        if cost > self.left:
            return False
        self.left -= cost
        return True

Opcode = tuple[str, int, int, int, int]


def _comparison_cost(a: Sequence[str], b: Sequence[str]) -> int:
    """Pairs of equal elements of ``a`` and ``b``, times the shorter one's length."""
    counts: dict[str, int] = {}
    for key in b:
        counts[key] = counts.get(key, 0) + 1
    pairs = sum(counts.get(key, 0) for key in a)
    return pairs * min(len(a), len(b))


def _diff_opcodes(lines: Sequence[Line]) -> list[Opcode]:
    """The hunk's own pairing as difflib opcodes over its pre- and post-image: each
    context line is equal, each run of removed and added lines between two context
    lines is replaced."""
    out: list[Opcode] = []
    i = j = 0
    k = 0
    while k < len(lines):
        if lines[k].kind == " ":
            start = k
            while k < len(lines) and lines[k].kind == " ":
                k += 1
            out.append(("equal", i, i + k - start, j, j + k - start))
            i, j = i + k - start, j + k - start
            continue
        removed = added = 0
        while k < len(lines) and lines[k].kind != " ":
            removed += lines[k].kind == "-"
            added += lines[k].kind == "+"
            k += 1
        op = "replace" if removed and added else "delete" if removed else "insert"
        out.append((op, i, i + removed, j, j + added))
        i, j = i + removed, j + added
    return out


class Edit(NamedTuple):
    """One step of the whitespace-insensitive comparison of a hunk."""

    kind: EditKind
    pre: tuple[Line, ...]  # lines of the pre-image (context or removed)
    post: tuple[Line, ...]  # lines of the post-image (context or added)


def edits(hunk: Hunk, allowance: Comparisons | None = None) -> tuple[Edit, ...]:
    """The hunk as same/layout/code edits, in order: difflib's comparison of the
    pre-image with the post-image, line by line, by their ``squash``. A run of lines
    the comparison pairs is one "same" edit where their text is equal, a "layout" edit
    per line where it is not; lines it does not pair are a "layout" edit when their
    tokens are the same (``same_tokens``), else a "code" edit. A hunk too big for
    what is left of ``allowance`` (one per patch; ``MAX_COMPARISON`` when None) is
    compared as its diff pairs it."""
    lines = hunk.lines
    keys = [squash(ln.text) for ln in lines]  # a context line is in both images
    pre = [ln for ln in lines if ln.kind != "+"]
    post = [ln for ln in lines if ln.kind != "-"]
    a = [k for ln, k in zip(lines, keys, strict=True) if ln.kind != "+"]
    b = [k for ln, k in zip(lines, keys, strict=True) if ln.kind != "-"]
    if not a or not b or not (allowance or Comparisons()).take(_comparison_cost(a, b)):
        # (one side empty: the one opcode difflib would give, without building it)
        opcodes: Sequence[Opcode] = _diff_opcodes(lines)
    else:
        opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    out: list[Edit] = []
    for op, i1, i2, j1, j2 in opcodes:
        olds, news = pre[i1:i2], post[j1:j2]
        if op != "equal":
            layout = same_tokens([ln.text for ln in olds], [ln.text for ln in news])
            out.append(Edit("layout" if layout else "code", tuple(olds), tuple(news)))
            continue
        same_pre: list[Line] = []
        same_post: list[Line] = []
        for p, q in zip(olds, news, strict=True):
            if p.text == q.text:
                same_pre.append(p)
                same_post.append(q)
                continue
            if same_pre:
                out.append(Edit("same", tuple(same_pre), tuple(same_post)))
                same_pre, same_post = [], []
            out.append(Edit("layout", (p,), (q,)))
        if same_pre:
            out.append(Edit("same", tuple(same_pre), tuple(same_post)))
    return tuple(out)


class LayoutChange(NamedTuple):
    """Consecutive layout edits of one hunk, and what surrounds them."""

    hunk: Hunk
    pre: tuple[Line, ...]  # pre-image lines the change replaces (removed or re-formatted)
    post: tuple[Line, ...]  # post-image lines it puts there
    before: Line | None  # the unchanged line just above (None: hunk start or a code edit)
    after: Line | None  # the unchanged line just below
    touches_code: bool  # a code edit is directly above or below
    whole_hunk: bool  # the hunk has no code edit at all

    @property
    def blank_only(self) -> bool:
        """Only blank lines are inserted or deleted."""
        return all(is_blank(ln) for ln in (*self.pre, *self.post))

    @property
    def reindent_only(self) -> bool:
        """Lines only get other leading whitespace (what wrapping them in a block does)."""
        return len(self.pre) == len(self.post) and all(
            p.text.strip() == q.text.strip() for p, q in zip(self.pre, self.post, strict=True)
        ) and any(p.text != q.text for p, q in zip(self.pre, self.post, strict=True))

    @property
    def between_unchanged(self) -> bool:
        """The change sits between two unchanged, non-blank lines, away from code edits."""
        return (not self.touches_code and self.before is not None and self.after is not None
                and not is_blank(self.before) and not is_blank(self.after))

    @property
    def size(self) -> int:
        return max(len(self.pre), len(self.post))

    def anchor(self) -> Line | None:
        """The diff line a finding lands on: the first added line, else a removed one."""
        for ln in self.post:
            if ln.kind == "+":
                return ln
        for ln in self.pre:
            if ln.kind == "-":
                return ln
        return _blank_neighbour(self)


def _blank_neighbour(change: LayoutChange) -> Line | None:
    """For a blank line the re-diff moved: the changed blank line of the same blank run."""
    lines = change.hunk.lines
    ref = (change.pre or change.post)[0]
    if not is_blank(ref) or ref not in lines:
        return None
    i = lines.index(ref)
    lo = hi = i
    while lo > 0 and is_blank(lines[lo - 1]):
        lo -= 1
    while hi + 1 < len(lines) and is_blank(lines[hi + 1]):
        hi += 1
    run = lines[lo:hi + 1]
    return next((ln for ln in run if ln.kind == "+"), None) or next(
        (ln for ln in run if ln.kind == "-"), None)


def layout_changes(hunk: Hunk, edits: Sequence[Edit]) -> tuple[LayoutChange, ...]:
    """The layout changes of the hunk's ``edits``, in order."""
    whole = not any(e.kind == "code" for e in edits)
    out: list[LayoutChange] = []
    i = 0
    while i < len(edits):
        if edits[i].kind != "layout":
            i += 1
            continue
        j = i
        while j < len(edits) and edits[j].kind == "layout":
            j += 1
        prev = edits[i - 1] if i > 0 else None
        nxt = edits[j] if j < len(edits) else None
        out.append(LayoutChange(
            hunk=hunk,
            pre=tuple(ln for e in edits[i:j] for ln in e.pre),
            post=tuple(ln for e in edits[i:j] for ln in e.post),
            before=prev.pre[-1] if prev is not None and prev.kind == "same" else None,
            after=nxt.pre[0] if nxt is not None and nxt.kind == "same" else None,
            touches_code=any(e is not None and e.kind == "code" for e in (prev, nxt)),
            whole_hunk=whole,
        ))
        i = j
    return tuple(out)


def changes_code(edits: Sequence[Edit]) -> bool:
    """Some edit changes tokens (the hunk is not a pure layout change)."""
    return any(e.kind == "code" for e in edits)


def announces_layout(patch: Patch) -> bool:
    """The subject or commit message says the patch changes whitespace or style."""
    return bool(_ANNOUNCED.search(patch.mail.subject.title + "\n" + patch.commit_message))


class Place(NamedTuple):
    """Where a finding about a layout change goes (``Hit``'s line, side and old line)."""

    line: int
    side: Literal["new", "old"]
    old_line: int | None


def placement(change: LayoutChange) -> Place | None:
    """The change's anchor: an added line, or for a pure removal the removed line (side
    "old", placed at the next post-image line as the engine does)."""
    line = change.anchor()
    if line is None:
        return None
    if line.kind == "+" and line.new is not None:
        return Place(line.new, "new", None)
    lines = change.hunk.lines
    i = lines.index(line)
    nxt = next((ln.new for ln in lines[i + 1:] if ln.new is not None), None)
    if nxt is None:
        prev = next((ln.new for ln in reversed(lines[:i]) if ln.new is not None), None)
        nxt = (prev or change.hunk.new_start - 1) + 1
    return Place(nxt, "old", line.old)
