"""A small line scanner for C: code without comments and strings, and brace depth."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScannedLine:
    code: str  # the line with comments and string/char literals blanked
    opens: int
    closes: int
    min_depth: int  # lowest depth reached inside the line, relative to its start
    in_comment_after: bool


def scan_line(text: str, in_comment: bool) -> ScannedLine:
    """Blank comments and literals of one line; count braces."""
    out: list[str] = []
    i, n = 0, len(text)
    depth = low = opens = closes = 0
    while i < n:
        c = text[i]
        if in_comment:
            end = text.find("*/", i)
            if end < 0:
                out.append(" " * (n - i))
                i = n
                break
            out.append(" " * (end + 2 - i))
            i = end + 2
            in_comment = False
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "*":
            in_comment = True
            out.append("  ")
            i += 2
            continue
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            out.append(" " * (n - i))
            break
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + " " * max(0, j - i - 2) + (c if j - i >= 2 else ""))
            i = j
            continue
        if c == "{":
            opens += 1
            depth += 1
        elif c == "}":
            closes += 1
            depth -= 1
            low = min(low, depth)
        out.append(c)
        i += 1
    return ScannedLine("".join(out)[:n], opens, closes, low, in_comment)


def scan_lines(lines: list[str], in_comment: bool = False) -> list[ScannedLine]:
    out: list[ScannedLine] = []
    for text in lines:
        s = scan_line(text, in_comment)
        in_comment = s.in_comment_after
        out.append(s)
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
