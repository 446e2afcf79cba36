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

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from reviewbot.diff.model import Hunk, Line
from reviewbot.diff.seqmatch import opcodes
from reviewbot.series.model import Patch

_WORD_GAP = re.compile(r"(?<=\w)\s+(?=\w)")
_SPACE = re.compile(r"\s+")
_STRING = re.compile(r'"(?:\\.|[^"\\])*"')
# A commit message that announces layout work: the whitespace change is the point.
_ANNOUNCEMENTS = (
    r"white[- ]?space", r"coding[- ]style", r"code style", r"checkpatch", r"indentation",
    r"re-?indent", r"blank line", r"empty line", r"formatting", r"reformat", r"cosmetic",
    r"style (?:fix|issue|cleanup)", r"clang-format")
# Each starts with a letter: a lookahead for those letters lets the search skip the
# positions where none can start (about 2.5x faster than the bare alternation).
_ANNOUNCED = re.compile(
    "(?=[" + "".join(sorted({a[0] for a in _ANNOUNCEMENTS})) + "])(?:"
    + "|".join(_ANNOUNCEMENTS) + ")", re.IGNORECASE)

EditKind = Literal["same", "layout", "code"]


def _squash_re(text: str) -> str:
    """``squash`` by regexes: the definition (``squash`` gives the same, faster)."""
    return _SPACE.sub("", _WORD_GAP.sub("\x01", text)).replace("\x01", " ")


def squash(text: str) -> str:
    r"""``text`` without layout: whitespace dropped except one space between two words.

    The same as ``_squash_re`` (``str.split`` and ``\s`` agree on what is whitespace,
    ``str.isalnum() or == "_"`` and ``\w`` on word characters), without two regex
    passes per line.
    """
    if "\x01" in text:  # the regexes' placeholder already in the text: keep their result
        return _squash_re(text)
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


def squashed(hunk: Hunk) -> tuple[str, ...]:
    """``squash`` of every line of ``hunk``, in order."""
    return tuple(squash(ln.text) for ln in hunk.lines)


def _rediff_keys(hunk: Hunk) -> list[str]:
    """One key per line of ``hunk``, two keys equal exactly when the lines' ``squash``
    is: all the re-diff compares (it only asks which lines are equal), at a third of
    the cost of ``squashed``.

    Equal ``squash`` means equal text without whitespace (``squash`` only keeps single
    spaces), and equal words with single spaces (``" ".join(text.split())``) means equal
    ``squash`` (it is made of those words). When no two lines share the first but not
    the second, the three agree and the text without whitespace is the key; else (and
    for text with the regexes' placeholder \x01) the key is ``squash`` itself.
    """
    words = [ln.text.split() for ln in hunk.lines]
    bare = ["".join(w) for w in words]
    if len({" ".join(w) for w in words}) == len(set(bare)) and "\x01" not in "".join(bare):
        return bare
    return list(squashed(hunk))


def is_blank(line: Line) -> bool:
    return not line.text.strip()


def same_tokens(removed: list[str], added: list[str]) -> bool:
    """True when two runs of lines differ only in whitespace, blank lines and wrapping."""
    old, new = " ".join(removed), " ".join(added)
    # equal squash means equal text without whitespace (but for the placeholder \x01)
    if "".join(old.split()) != "".join(new.split()) and "\x01" not in old + new:
        return False
    if squash(old) != squash(new):
        return False
    return _STRING.findall("\n".join(removed)) == _STRING.findall("\n".join(added))


class Edit(NamedTuple):
    """One step of the whitespace-insensitive comparison of a hunk (a NamedTuple: built
    per line by the definition, it must be cheap)."""

    kind: EditKind
    pre: tuple[Line, ...]  # lines of the pre-image (context or removed)
    post: tuple[Line, ...]  # lines of the post-image (context or added)


def hunk_edits(hunk: Hunk) -> tuple[Edit, ...]:
    """The hunk as same/layout/code edits, in order, one edit per line of an unchanged
    run: the definition (the checks read ``_runs``, tested to give the same)."""
    return _edits(hunk, list(squashed(hunk)), merge_same=False)


def edits(hunk: Hunk) -> tuple[Edit, ...]:
    """``hunk_edits`` with each run of consecutive "same" edits merged into one edit
    (what ``layout_changes`` and ``changes_code`` read is the same either way)."""
    return _edits(hunk, _rediff_keys(hunk), merge_same=True)


def _edits(hunk: Hunk, keys: list[str], *, merge_same: bool) -> tuple[Edit, ...]:
    """The edits of the re-diff of the hunk's lines compared by ``keys`` (``squashed``,
    or keys equal exactly where those are)."""
    lines = hunk.lines
    pre = [ln for ln in lines if ln.kind != "+"]
    post = [ln for ln in lines if ln.kind != "-"]
    a = [key for ln, key in zip(lines, keys, strict=True) if ln.kind != "+"]
    b = [key for ln, key in zip(lines, keys, strict=True) if ln.kind != "-"]
    out: list[Edit] = []
    for op, i1, i2, j1, j2 in opcodes(a, b):
        olds, news = pre[i1:i2], post[j1:j2]
        if op != "equal":
            layout = same_tokens([ln.text for ln in olds], [ln.text for ln in news])
            out.append(Edit("layout" if layout else "code", tuple(olds), tuple(news)))
        elif merge_same and [ln.text for ln in olds] == [ln.text for ln in news]:
            out.append(Edit("same", tuple(olds), tuple(news)))
        else:
            out.extend(_equal_run(olds, news, merge_same))
    return tuple(out)


def _equal_run(olds: list[Line], news: list[Line], merge_same: bool) -> list[Edit]:
    """The edits of lines the re-diff pairs: "same" where the text is equal, else
    "layout"; with ``merge_same`` consecutive "same" pairs make one edit."""
    out: list[Edit] = []
    for p, q in zip(olds, news, strict=True):
        kind: EditKind = "same" if p.text == q.text else "layout"
        if merge_same and kind == "same" and out and out[-1].kind == "same":
            last = out[-1]
            out[-1] = Edit("same", (*last.pre, p), (*last.post, q))
        else:
            out.append(Edit(kind, (p,), (q,)))
    return out


@dataclass(frozen=True)
class LayoutChange:
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
