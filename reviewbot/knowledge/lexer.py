"""The lexical layer: C text with comments, literals and preprocessor lines blanked.

Line numbers survive every step (each blanked stretch keeps its newlines), so an offset
in the cleaned text maps back to the source line. Top-level constructs are found by
kernel layout: braces at depth 0 open function bodies, type bodies and initialisers,
told apart by the text before the brace; a ``}`` in column 0 always closes a top-level
body (re-synchronising after an ``#ifdef`` that unbalanced the braces).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

_STRIP = re.compile(r'//[^\n]*+|/\*[\s\S]*?\*/|"(?:[^"\\\n]|\\[\s\S])*+"'
                    r"|'(?:[^'\\\n]|\\[\s\S])*+'")
_DIRECTIVE = re.compile(r"^[ \t]*+#[^\n]*+(?:(?<=\\)\n[^\n]*+)*+", re.M)
_DEFINE = re.compile(r"#[ \t]*+define[ \t]++(\w++)(\([^)]*+\))?+")  # at the "#"
_BRACE = re.compile(r"[{}]")


def _stripped(m: re.Match[str]) -> str:
    s = m.group()
    c = s[0]
    if c == "/":
        if s[1] == "/":
            return ""
        n = s.count("\n")
        return "\n" * n if n else " "
    return '""' if c == '"' else "' '"


class Macro(NamedTuple):
    name: str
    line: int
    params: tuple[str, ...] | None  # None: an object-like macro
    body: str  # the replacement text, continuation lines joined


class Lines:
    """1-based line numbers of offsets in a text, counted from the last offset asked
    (asking in increasing order, as a scan does, costs one pass over the text)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.number = 1

    def __call__(self, offset: int) -> int:
        if offset >= self.pos:
            self.number += self.text.count("\n", self.pos, offset)
        else:
            self.number -= self.text.count("\n", offset, self.pos)
        self.pos = offset
        return self.number


class Cleaned(NamedTuple):
    code: str  # comments -> newlines, literals -> "" / ' ', directives -> newlines
    macros: list[Macro]
    line: Lines  # the line of an offset of ``code``


def clean(source: str) -> Cleaned:
    """Blank comments, string and character literals and preprocessor directives."""
    code = _STRIP.sub(_stripped, source)
    macros: list[Macro] = []
    where = [0, 1]  # offset and line reached so far (lines counted once, in order)

    def directive(m: re.Match[str]) -> str:
        text = m.group()
        d = _DEFINE.match(text, text.find("#"))
        if d is not None:
            where[1] += code.count("\n", where[0], m.start())
            where[0] = m.start()
            params = None
            if d.group(2) is not None:
                params = tuple(p.strip() for p in d.group(2)[1:-1].split(",") if p.strip())
            body = text[d.end():].replace("\\\n", " ")
            macros.append(Macro(d.group(1), where[1], params, body if params is not None
                                else ""))
        n = text.count("\n")
        return "\n" * n

    if "#" in code:
        code = _DIRECTIVE.sub(directive, code)
    return Cleaned(code, macros, Lines(code))


class Block(NamedTuple):
    """A top-level ``{...}``: ``head`` is the text since the previous top-level ``;`` or
    ``}``; ``open``/``close`` are the offsets of the braces."""

    head: str
    head_start: int
    open: int
    close: int


def blocks(code: str) -> Iterator[Block]:
    """Every top-level brace block, in order."""
    depth = 0
    last_end = 0  # end of the previous top-level block
    open_at = head_start = 0
    head = ""
    for m in _BRACE.finditer(code):
        pos = m.start()
        column0 = pos == 0 or code[pos - 1] == "\n"
        if code[pos] == "{":
            if depth and column0:  # a body opening in column 0: the last one never closed
                depth = 0
            if depth == 0:
                semi = code.rfind(";", last_end, pos)
                head_start = max(semi + 1, last_end)
                head = code[head_start:pos]
                open_at = pos
            depth += 1
        else:
            if column0 and depth > 1:
                depth = 1
            if depth == 0:
                continue  # a stray closing brace
            depth -= 1
            if depth == 0:
                yield Block(head, head_start, open_at, pos)
                last_end = pos + 1
