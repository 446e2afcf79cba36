"""Calls in cleaned C text, shared by the index (``extract``) and the checks that use
it (``overlay``): which names are not calls, where a call's parentheses close, the call
around a position, the allocations passed a sleeping GFP flag, the handler a
registration names. Small on purpose: a check imports it without the extractor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.knowledge.vocab import Vocab

_PARENS = re.compile(r"[(),]")
_ID = re.compile(r"[A-Za-z_]\w*+")
MACRO_NAMED = re.compile(r"[A-Z][A-Z0-9_]*+")
NOT_CALLS = frozenset((
    "if", "for", "while", "switch", "return", "sizeof", "typeof", "__typeof__", "__typeof",
    "alignof", "_Alignof", "__alignof__", "defined", "__attribute__", "asm", "__asm__",
    "volatile", "__volatile__", "case", "do", "else", "goto", "likely", "unlikely",
    "__builtin_expect", "_Static_assert", "static_assert", "offsetof", "__builtin_offsetof",
))


def match_paren(code: str, open_at: int, limit: int) -> tuple[int, list[int]]:
    """(offset of the ")" closing the "(" at ``open_at``, offsets of its depth-1 commas);
    (-1, ...) when it does not close before ``limit``."""
    depth = 0
    commas: list[int] = []
    for m in _PARENS.finditer(code, open_at, limit):
        c = code[m.start()]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return m.start(), commas
        elif depth == 1:
            commas.append(m.start())
    return -1, commas


def enclosing_call(code: str, pos: int, floor: int) -> int:
    """Offset of the innermost unclosed "(" before ``pos`` in the same statement, or -1."""
    depth = 0
    i = pos - 1
    stop = max(floor, pos - 600)
    while i >= stop:
        c = code[i]
        if c == ")":
            depth += 1
        elif c == "(":
            if depth == 0:
                return i
            depth -= 1
        elif c in ";{}":
            return -1
        i -= 1
    return -1


def name_before(code: str, pos: int) -> str:
    """The identifier that ends right before ``pos`` (blanks skipped)."""
    end = pos
    while end > 0 and code[end - 1] in " \t\n":
        end -= 1
    start = end
    while start > 0 and (code[start - 1].isalnum() or code[start - 1] == "_"):
        start -= 1
    return code[start:end]


def gfp_sleeps(vocab: Vocab, code: str, start: int, end: int,
               guarded: Sequence[tuple[int, int]] = ()) -> Iterator[tuple[int, str]]:
    """(offset of the flag, ``kmalloc(GFP_KERNEL)``) of each allocation in
    code[start:end] (comments and literals blanked) passed a sleeping GFP flag as
    written, outside the ``guarded`` spans: the index's evidence, and a check's."""
    done: set[int] = set()
    for m in vocab.gfp_rx.finditer(code, start, end):
        s = m.start()
        if code[s - 2:s] == "__":
            s -= 2
        if code[s - 1].isalnum() or code[s - 1] == "_" or code[s:m.end()] not in \
                vocab.gfp_sleeping or any(a <= s < b for a, b in guarded):
            continue
        open_ = enclosing_call(code, s, start)
        if open_ < 0 or open_ in done:
            continue
        done.add(open_)
        callee = name_before(code, open_)
        if not callee or callee in NOT_CALLS or callee in vocab.gfp_inspectors \
                or callee.startswith("gfp") or MACRO_NAMED.fullmatch(callee) \
                or not any(a in callee for a in vocab.gfp_allocators):
            continue
        close, _ = match_paren(code, open_, end)
        args = code[open_:close if close > 0 else end]
        squeezed = args.replace(" ", "")
        if any(n in squeezed for n in vocab.gfp_not):
            continue
        yield s, f"{callee}({code[s:m.end()]})"


def handler_named(arg: str) -> str:
    """The function a registration's argument names (``&fn``, ``(irq_handler_t)fn``), or ""."""
    text = re.sub(r"\([^()]*\)\s*(?=\w)", "", arg).strip().lstrip("&").strip()
    return text if _ID.fullmatch(text) and text not in ("NULL", "0") else ""
