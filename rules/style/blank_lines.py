"""What the blank-line rules share (STY003-STY007): the added blank lines of a hunk by
their layout, and the whitespace-only changes a patch makes to code it does not touch.

Each rule reports one case; where two cases meet on a line the more specific rule
supersedes the other (``supersedes`` in their rule.toml), as one rule did when the cases
were one rule (STY002, stray-blank-line): the blank line before a use, then a double blank line, one
after ``{`` or before ``}``, then an unrelated whitespace change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from reviewbot.analysis import FileAnalysis, HunkAnalysis, PatchAnalysis
from reviewbot.diff.layout import Edit, LayoutChange, Place, is_blank, placement
from reviewbot.diff.model import Hunk, Line
from reviewbot.engine.check import Hit

from .missing_blank_line_after_declarations.check import NODE_KINDS, opening_declarations

BlankCase = Literal["double", "brace_open", "brace_close"]
UnrelatedCase = Literal["hunk", "blank"]


def blank_lines(h: HunkAnalysis) -> Iterator[tuple[int, BlankCase]]:
    """(post-image line, case) for the added blank lines of ``hunk`` that layout alone
    makes stray: the first of two or more in a row, one right after a ``{``, one right
    before a ``}`` (in that order of precedence; comments do not count as code)."""
    post = [ln for ln in h.hunk.lines if ln.kind != "-"]
    blank = [is_blank(ln) for ln in post]
    if not any(blank):
        return
    scanned = h.post_scan()
    reported_run = False
    for i, ln in enumerate(post):
        if not blank[i]:
            reported_run = False
            continue
        if ln.kind != "+" or ln.new is None or (i and scanned[i - 1].in_comment_after):
            continue
        prev = scanned[i - 1].code.strip() if i else None
        nxt = scanned[i + 1].code.strip() if i + 1 < len(post) else None
        double = (i > 0 and blank[i - 1]) or (i + 1 < len(post) and blank[i + 1])
        if double:
            if not reported_run:
                reported_run = True
                yield ln.new, "double"
        elif prev and prev.endswith("{"):
            yield ln.new, "brace_open"
        elif nxt and nxt.startswith("}"):
            yield ln.new, "brace_close"


def blank_line_hits(patch: PatchAnalysis, file: FileAnalysis, case: BlankCase
                    ) -> Iterator[Hit]:
    """A Hit on every added blank line of ``case`` (``blank_lines``) in the file (the
    blank lines of each file are classified once per patch, for the three rules)."""
    kept: dict[int, list[tuple[int, BlankCase]]] = patch.kept(__name__, dict)
    i = file.position
    if i not in kept:
        kept[i] = [found for h in file.hunks for found in blank_lines(h)]
    for line, found in kept[i]:
        if found == case:
            yield Hit(file.path, line)


def unrelated_changes(patch: PatchAnalysis, file: FileAnalysis, case: UnrelatedCase
                      ) -> Iterator[tuple[LayoutChange, Place]]:
    """Whitespace-only changes in code the patch does not otherwise touch, and where
    they are reported: a hunk made only of them (``hunk``), or blank lines inserted or
    removed between two unchanged lines, away from the patch's changes (``blank``).
    None in a patch whose purpose is layout (``layout_changes_expected``), none that
    removes a blank line the blank-line rules would report (``removes_a_stray_blank``),
    and no whole hunk inside a function another hunk changes (``_in_edited_function``)."""
    if patch.layout_changes_expected():
        return
    for index, h in enumerate(file.hunks):
        for change in h.layout_changes():
            if change.whole_hunk:
                found: UnrelatedCase = "hunk"
            elif change.blank_only and change.between_unchanged:
                found = "blank"
            else:
                continue
            where = placement(change)
            if found != case or where is None or removes_a_stray_blank(change) \
                    or adds_the_blank_after_declarations(file, index, change):
                continue
            if found == "blank" and _part_of_an_edit(file, h, change, where):
                continue
            if found == "hunk" and _in_edited_function(patch, file, where.line):
                continue
            yield change, where


def removes_a_stray_blank(change: LayoutChange) -> bool:
    """The change only removes blank lines, each of which the blank-line rules would
    report were it added: the second of two blank lines (STY003), one right after a
    ``{`` (STY004) or right before a ``}`` (STY005). Removing a style problem is not
    churn."""
    if not change.blank_only or any(ln.kind == "+" for ln in change.post):
        return False
    pre = [ln for ln in change.hunk.lines if ln.kind != "+"]
    removed = [ln for ln in change.pre if ln.kind == "-"]
    if not removed:
        return False
    for ln in removed:
        i = pre.index(ln)
        above = pre[i - 1] if i > 0 else None
        below = pre[i + 1] if i + 1 < len(pre) else None
        if not ((above is not None and (is_blank(above) or above.text.rstrip().endswith("{")))
                or (below is not None and (is_blank(below)
                                           or below.text.lstrip().startswith("}")))):
            return False
    return True


def adds_the_blank_after_declarations(file: FileAnalysis, hunk: int,
                                      change: LayoutChange) -> bool:
    """The change (of the file's hunk ``hunk``) only adds the blank line STY012 asks for:
    between the declarations that open a block and its first statement. Removing a style
    problem is not churn."""
    if file.map is None or not change.blank_only or any(ln.kind == "-" for ln in change.pre):
        return False
    added = sorted(ln.new for ln in change.post if ln.kind == "+" and ln.new is not None)
    if not added:
        return False
    for mf in file.map.fragments:  # the hunk's own fragment, or the whole file's
        if mf.hunk_index not in (None, hunk):
            continue
        rows = mf.rows_of_spans(((added[0], added[-1]),))
        if not rows:
            continue
        for block in mf.nodes(NODE_KINDS, rows):
            found = opening_declarations(block)
            if found is None:
                continue
            last, first = mf.line_of(found[0].end_point[0]), mf.line_of(found[1].start_point[0])
            if last is not None and first is not None and \
                    last + 1 == added[0] and added[-1] + 1 == first:
                return True
    return False


def _in_edited_function(patch: PatchAnalysis, file: FileAnalysis, line: int) -> bool:
    """``line`` is inside a function whose code some hunk of the file changes: the
    patch works on that function, so re-wrapping a line of it is not in code the patch
    does not otherwise touch."""
    if file.map is None:
        return False
    fn = file.map.function_at(line)
    if fn is None:
        return False
    kept: dict[int, frozenset[str]] = patch.kept(__name__ + ".edited", dict)
    i = file.position
    if i not in kept:
        kept[i] = _edited_functions(file)
    return fn.name in kept[i]


def _edited_functions(file: FileAnalysis) -> frozenset[str]:
    """The names of the functions whose code a hunk of the file changes (once per file:
    a look at every hunk for each whitespace-only hunk was quadratic in hunks)."""
    assert file.map is not None
    names = set()
    for h in file.hunks:
        at = {ln: i for i, ln in enumerate(h.hunk.lines)}  # (a hunk's lines differ)
        for e in h.edits():
            if e.kind != "code":
                continue
            for n in _edit_lines(h, e, at):
                fn = file.map.function_at(n)
                if fn is not None:
                    names.add(fn.name)
    return frozenset(names)


def _edit_lines(h: HunkAnalysis, e: Edit, at: dict[Line, int] | None = None) -> list[int]:
    """The post-image lines of a code edit (for a pure removal, the first one after it;
    ``at``: the hunk's line positions, by line)."""
    lines = [ln.new for ln in e.post if ln.new is not None]
    if lines:
        return lines
    all_lines = h.hunk.lines
    i = at[e.pre[-1]] if at is not None else all_lines.index(e.pre[-1])
    while i < len(all_lines) and all_lines[i].new is None:
        i += 1
    new = all_lines[i].new if i < len(all_lines) else None
    return [new] if new is not None else []


def _paragraph_written(hunk: Hunk, change: LayoutChange) -> bool:
    """The post-image paragraph right above or right below the change (up to the next
    blank line) holds a line the patch adds: the blank line paragraphs code the patch
    writes."""
    post = [ln for ln in hunk.lines if ln.kind != "-"]
    inserted = [ln for ln in change.post if ln.kind == "+"]
    if not inserted or inserted[0] not in post:
        return False
    i = post.index(inserted[0])
    j = post.index(inserted[-1])
    for step, start in ((-1, i - 1), (1, j + 1)):
        k = start
        while 0 <= k < len(post) and not is_blank(post[k]):
            if post[k].kind == "+":
                return True
            k += step
    return False


def _function_edited(file: FileAnalysis, h: HunkAnalysis, line: int) -> bool:
    """``line`` is inside a function whose code the hunk changes."""
    if file.map is None:
        return False
    fn = file.map.function_at(line)
    if fn is None:
        return False
    return any(fn.start <= n <= fn.end for e in h.edits() if e.kind == "code"
               for n in _edit_lines(h, e))


def _part_of_an_edit(file: FileAnalysis, h: HunkAnalysis, change: LayoutChange,
                     where: Place) -> bool:
    """A blank line the patch adds to paragraph code it writes, or removes inside a
    function it edits (a tidy-up of the code it rewrites): not unrelated. A blank line
    removed between two top-level declarations stays reported, wherever the edits are
    (it glues them together)."""
    if where.side == "old":
        return _function_edited(file, h, where.line)
    return _paragraph_written(h.hunk, change)
