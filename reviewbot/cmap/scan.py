"""A small line scanner for C: code without comments and strings, and brace depth."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from reviewbot.diff.model import Hunk


class ScannedLine(NamedTuple):
    """One scanned line (a NamedTuple: built once per line, it must be cheap)."""

    code: str  # the line with comments and string/char literals blanked
    opens: int
    closes: int
    min_depth: int  # lowest depth reached inside the line, relative to its start
    in_comment_after: bool


_SPECIAL = re.compile(r"[{}\"'/]")
_BRACES = re.compile(r"[{}]")
# The rest of a string or char literal after its opening quote (linear: the two
# alternatives start with different characters; a lone trailing backslash is taken last).
_LITERAL = {'"': re.compile(r'(?:[^"\\]|\\.)*\\?'), "'": re.compile(r"(?:[^'\\]|\\.)*\\?")}


def _braces(text: str) -> tuple[int, int, int]:
    """(opens, closes, lowest depth) of the braces in ``text``."""
    closes = text.count("}")
    if not closes:
        return text.count("{"), 0, 0
    depth = low = opens = 0
    for c in _BRACES.findall(text):
        if c == "{":
            opens += 1
            depth += 1
        else:
            depth -= 1
            low = min(low, depth)
    return opens, closes, low


def _scan_special(text: str, in_comment: bool) -> ScannedLine:
    """``scan_lines`` of a line that is in a comment or holds ``/``, ``"`` or ``'``: it
    is walked from one special character to the next with a regex, never char by char."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if in_comment:
            end = text.find("*/", i)
            if end < 0:
                out.append(" " * (n - i))
                break
            out.append(" " * (end + 2 - i))
            i = end + 2
            in_comment = False
            continue
        m = _SPECIAL.search(text, i)
        if m is None:
            out.append(text[i:])
            break
        j = m.start()
        out.append(text[i:j])
        c = text[j]
        if c == "/":
            nxt = text[j + 1:j + 2]
            if nxt == "*":
                in_comment = True
                out.append("  ")
                i = j + 2
            elif nxt == "/":
                out.append(" " * (n - j))
                break
            else:
                out.append(c)
                i = j + 1
        elif c in "\"'":
            k = _LITERAL[c].match(text, j + 1).end()  # type: ignore[union-attr]
            end = k + 1 if k < n else n
            out.append(c + " " * max(0, end - j - 2) + (c if end - j >= 2 else ""))
            i = end
        else:
            out.append(c)
            i = j + 1
    code = "".join(out)[:n]
    opens, closes, low = _braces(code)
    return ScannedLine(code, opens, closes, low, in_comment)


def scan_lines(lines: list[str], in_comment: bool = False) -> list[ScannedLine]:
    """Each line with its comments and string/char literals blanked, and its braces
    counted, starting where the line before ended (``in_comment``). Plain code, most
    lines, needs no blanking: only its braces are counted."""
    out: list[ScannedLine] = []
    append = out.append
    make = ScannedLine._make  # (without the call through the generated __new__)
    for text in lines:
        if not in_comment and "/" not in text and '"' not in text and "'" not in text:
            append(make((text, *_braces(text), False)))
            continue
        s = _scan_special(text, in_comment)
        in_comment = s.in_comment_after
        append(s)
    return out


def starts_in_comment(lines: list[str]) -> bool:
    """True when a fragment seems to begin inside a block comment (``*/`` before ``/*``)."""
    for text in lines:
        a, b = text.find("/*"), text.find("*/")
        if b >= 0 and (a < 0 or b < a):
            return True
        if a >= 0:
            return False
        stripped = text.strip()
        if stripped:
            return stripped == "*" or stripped.startswith(("* ", "*\t"))
    return False


def scan_post_image(hunk: Hunk) -> tuple[ScannedLine, ...]:
    """``scan_lines`` of the hunk's post-image (context and added lines), starting in a
    comment when ``starts_in_comment`` says so (the per-patch analysis keeps it: the C
    mapping and the blank-line rules both read it)."""
    texts = [ln.text for ln in hunk.lines if ln.kind != "-"]
    return tuple(scan_lines(texts, starts_in_comment(texts)))
