"""C code of diff lines, token by token: comments, strings and ``#if 0`` blocks left out.

One side of a hunk (its pre-image: context and removed lines, or its post-image: context
and added lines) is read in order, so a block comment or an ``#if 0`` that starts on one
line covers the next ones. Each line becomes a ``CodeLine``: its text with comments and
the inside of string and character literals blanked (``reviewbot.cmap.scan``), its tokens,
and what kind of line it is for the preprocessor (a directive, the body of a ``#define``,
dead code under ``#if 0``, inside a visible ``#if``/``#else`` branch).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from reviewbot.cmap.scan import ScannedLine, scan_lines, starts_in_comment

_TOKEN = re.compile(
    r"[A-Za-z_]\w*"
    r"|\.?\d[\w.]*"  # a number (a float's exponent sign is an operator: no floats here)
    r'|"[^"\n]*"?'
    r"|'[^'\n]*'?"
    r"|->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|##|\.\.\.|\S")
_KINDS = {c: "id" for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"}
_KINDS.update({c: "num" for c in "0123456789"})
_KINDS.update({'"': "str", "'": "chr"})
_DIRECTIVE = re.compile(r"^\s*#\s*(\w+)")
_IF_ZERO = re.compile(r"^\s*#\s*if\s+(?:0|false)\s*$")


class Token(NamedTuple):
    """One C token of a line; ``kind`` is ``id``, ``num``, ``str``, ``chr`` or ``op``.

    ``text`` is the token as written (a literal keeps its contents, taken from the
    original line); ``col`` its 0-based column. (A NamedTuple: there is one per token
    of every line read, it must be cheap.)
    """

    kind: str
    text: str
    col: int


@dataclass(frozen=True)
class CodeLine:
    """One line of one side of a hunk, as C code."""

    code: str  # the line with comments and literal contents blanked
    tokens: tuple[Token, ...]
    directive: str | None  # "define", "if", "ifdef", "endif", ... for a # line
    in_define: bool  # part of a #define (the directive line or a continuation)
    dead: bool  # under "#if 0" (the directive lines themselves included)
    conditional: bool  # inside a visible #if/#ifdef/#else branch

    @property
    def blank(self) -> bool:
        return not self.tokens


@lru_cache(maxsize=8192)
def tokenize(code: str, original: str | None = None) -> tuple[Token, ...]:
    """Tokens of ``code`` (comments already blanked); literals take their text from
    ``original`` (the same line before blanking) when it is given. Cached: the two
    sides of a hunk share their context lines, and ``}`` or ``return 0;`` are everywhere.
    """
    literals = original is not None and ('"' in code or "'" in code)
    out: list[Token] = []
    kinds = _KINDS
    for m in _TOKEN.finditer(code):
        text = m.group()
        kind = kinds.get(text[0], "op")
        if kind == "op" and text[0] == "." and len(text) > 1 and text[1].isdigit():
            kind = "num"
        if literals and (kind == "str" or kind == "chr"):
            text = original[m.start():m.end()]  # type: ignore[index]
        out.append(_new(Token, (kind, text, m.start())))
    return tuple(out)


_new = tuple.__new__  # Token(...) without the call through its generated __new__


def code_lines(texts: Sequence[str], scanned: Sequence[ScannedLine] | None = None
               ) -> tuple[CodeLine, ...]:
    """The lines of one side of a hunk as C code, in order; ``scanned`` is their
    ``scan_lines`` when the caller has it (a hunk's post-image: ``scan_post_image``)."""
    texts = list(texts)
    if scanned is None:
        scanned = scan_lines(texts, starts_in_comment(texts))
    out: list[CodeLine] = []
    zero_depth = 0  # nesting inside an "#if 0" (0: live code)
    cond_depth = 0  # visible #if nesting
    continued = False  # the previous line ended a #define line with a backslash
    for text, s in zip(texts, scanned, strict=True):
        code = s.code
        m = _DIRECTIVE.match(code)
        directive = m.group(1) if m and not continued else None
        in_define = continued or directive == "define"
        dead = zero_depth > 0
        if directive is not None:
            if zero_depth:
                if directive.startswith("if"):
                    zero_depth += 1
                elif directive == "endif" or (directive in ("else", "elif")
                                               and zero_depth == 1):
                    zero_depth -= 1
            elif _IF_ZERO.match(code):
                zero_depth = 1
                dead = True
            elif directive.startswith("if"):
                cond_depth += 1
            elif directive == "endif":
                cond_depth = max(0, cond_depth - 1)
        conditional = cond_depth > 0 or directive in ("else", "elif", "endif")
        continued = in_define and code.rstrip().endswith("\\")
        out.append(CodeLine(code, tokenize(code, text if code != text else None),
                            directive, in_define, dead, conditional))
    return tuple(out)
