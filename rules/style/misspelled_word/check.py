"""STY008: a commonly misspelled word in what a patch adds to comments, strings and
documentation.

The words are the rule's data (``misspellings`` in rule.toml: "wrong right" pairs, a
curated list of common English misspellings, as scripts/spelling.txt is for
checkpatch.pl). In C files only comments and string literals are read: identifiers are
names, not prose, and a misspelled name is a different question. Documentation and
Kconfig files are read whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from reviewbot.analysis import FileAnalysis, PatchAnalysis
from reviewbot.engine.check import Hit

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_C = (".c", ".h")
# a character right before or after a word that makes it part of a name, a path, a
# number, a call or a format: not prose
_GLUED_BEFORE = frozenset("_0123456789./\\%$@&<>-:#")
_GLUED_AFTER = frozenset("_0123456789(/\\@[-")


@dataclass(frozen=True)
class Params:
    # "wrong right" pairs (the right spelling may be two words: "atleast at least")
    misspellings: tuple[str, ...] = ()


@lru_cache(maxsize=4)
def _table(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        wrong, _, right = pair.partition(" ")
        if wrong and right:
            out[wrong.lower()] = right.strip()
    return out


def _prose(text: str, code: str | None) -> Iterator[tuple[int, str]]:
    """(column, word) for the words of ``text`` that are prose: with ``code`` (the line
    with comments and literals blanked), only words inside those."""
    if "://" in text:
        return
    for m in _WORD.finditer(text):
        start, end = m.span()
        if start and text[start - 1] in _GLUED_BEFORE:
            continue
        if end < len(text) and text[end] in _GLUED_AFTER:
            continue
        if code is not None and code[start:end].strip():
            continue  # code, not a comment or a string
        yield start, m.group(0)


def _comment_continuation(text: str) -> bool:
    """`` * text`` inside a block comment whose start the hunk does not show."""
    s = text.lstrip()
    return s == "*" or s.startswith(("* ", "*\t"))


def _lines(file: FileAnalysis) -> Iterator[tuple[int, str, str | None]]:
    """(post-image line, text, code) of the added lines; code None: all prose."""
    c_file = file.path.endswith(_C)
    for h in file.hunks:
        post = [ln for ln in h.hunk.lines if ln.kind != "-"]
        scanned = h.post_scan() if c_file else None
        for i, ln in enumerate(post):
            if ln.kind != "+" or ln.new is None:
                continue
            if scanned is None:
                yield ln.new, ln.text, None
            elif ln.text.lstrip().startswith("#include"):
                continue
            elif _comment_continuation(scanned[i].code):
                yield ln.new, ln.text, None
            else:
                yield ln.new, ln.text, scanned[i].code


def _misspelled(word: str, table: dict[str, str]) -> str | None:
    """The right spelling of ``word`` if it is a listed misspelling written as prose
    (lower case, or capitalised; not an acronym or a CamelCase name)."""
    if not (word.islower() or (word[0].isupper() and word[1:].islower())):
        return None
    right = table.get(word.lower())
    if right is None:
        return None
    return right[0].upper() + right[1:] if word[0].isupper() else right


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    """Flag added lines whose comments, strings or documentation text misspell a word."""
    table = _table(params.misspellings)
    out: list[Hit] = []
    for line, text, code in _lines(file):
        found: list[tuple[str, str]] = []
        for _, word in _prose(text, code):
            right = _misspelled(word, table)
            if right is not None and (word, right) not in found:
                found.append((word, right))
        if found:
            out.append(Hit(file.path, line, (
                ("words", ", ".join(f"`{w}` ({r})" for w, r in found)),
                ("fixes", ", ".join(f"{w} -> {r}" for w, r in found)))))
    return out
