"""What STY009 and STY010 share: continuation lines not aligned with the open
parenthesis above them.

As scripts/checkpatch.pl checks it (PARENTHESIS_ALIGNMENT, a ``--strict`` check): when an
added line ends inside an open parenthesis with ``,``, ``&&`` or ``||`` and the next line
is added too, that next line should start in the column right after the parenthesis
(tabs count to the next multiple of 8). A continuation padded with spaces meant to align
and missed (STY009); one indented with tabs only follows another style (STY010).
"""

from __future__ import annotations

from collections.abc import Iterator

from reviewbot.analysis import FileAnalysis
from reviewbot.engine.check import Hit

TAB = 8
_CONTINUES = (",", "&&", "||")


def _column(text: str, index: int) -> int:
    """The display column of ``text[index]``, tabs expanded."""
    col = 0
    for ch in text[:index]:
        col = (col // TAB + 1) * TAB if ch == "\t" else col + 1
    return col


def _last_open_paren(code: str) -> int | None:
    """The index of the last ``(`` of ``code`` that the line does not close."""
    stack: list[int] = []
    for i, ch in enumerate(code):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            stack.pop()
    return stack[-1] if stack else None


def misaligned(file: FileAnalysis, padded: bool) -> Iterator[tuple[int, int, int]]:
    """(line, column found, column wanted) of the misaligned continuation lines whose
    indentation has spaces (``padded``: meant to align) or only tabs (not ``padded``)."""
    for h in file.hunks:
        post = [ln for ln in h.hunk.lines if ln.kind != "-"]
        scanned = h.post_scan()
        for i in range(1, len(post)):
            prev, cur = post[i - 1], post[i]
            if prev.kind != "+" or cur.kind != "+" or cur.new is None:
                continue
            code = scanned[i - 1].code.rstrip()
            if not code.endswith(_CONTINUES) or code.lstrip().startswith("#") \
                    or code.endswith("\\"):
                continue
            if i > 1 and scanned[i - 2].in_comment_after:
                continue
            paren = _last_open_paren(code)
            text = cur.text
            stripped = text.lstrip()
            if paren is None or not stripped or stripped.startswith(("#", "/*", "//", ")")):
                continue
            if scanned[i].code.strip() == "":
                continue  # a comment or a string continues: its own layout
            want = _column(prev.text, paren) + 1
            found = _column(text, len(text) - len(stripped))
            if found != want and (" " in text[:len(text) - len(stripped)]) == padded:
                yield cur.new, found, want



def hits(file: FileAnalysis, padded: bool) -> list[Hit]:
    """A Hit per misaligned continuation line of the kind asked for (1-based columns)."""
    return [Hit(file.path, line, (("found", str(found + 1)), ("want", str(want + 1))))
            for line, found, want in misaligned(file, padded)]
