"""Parse ``[PATCH vN M/T]`` style subjects."""

from __future__ import annotations

import re

from reviewbot.series.model import Subject

# (linear: no two adjacent quantifiers can take the same characters)
_REPLY = re.compile(r"^\s*(?:(?:re|aw|sv|fwd?)\s*(?:\[\d+\]\s*)?:\s*)+", re.IGNORECASE)
_BRACKET = re.compile(r"\[([^\]]{0,200})\]")
MAX_BRACKETS = 16  # [PATCH] [RFC] [net-next] ...: more is not a prefix
_VERSION = re.compile(r"^v(\d{1,4})$", re.IGNORECASE)
_PATCHV = re.compile(r"^patch-?v(\d{1,4})$", re.IGNORECASE)
_COUNT = re.compile(r"^(\d{1,5})/(\d{1,5})$")


def parse_subject(raw: str) -> Subject:
    """Read version, index/total and tags from a subject line.

    >>> s = parse_subject("[PATCHv4 09/14] mm/hugetlb: Remove fake head pages")
    >>> (s.version, s.index, s.total, s.title)
    (4, 9, 14, 'mm/hugetlb: Remove fake head pages')
    """
    subject = " ".join(raw.split())
    is_reply = bool(_REPLY.match(subject))
    rest = _REPLY.sub("", subject, count=1) if is_reply else subject
    tokens: list[str] = []
    pos = 0  # (matching at a position: slicing the rest each time was quadratic)
    for _ in range(MAX_BRACKETS):
        m = _BRACKET.match(rest, pos + (rest[pos:pos + 1] == " "))  # whitespace is single
        if not m:
            break
        tokens.extend(m.group(1).replace(",", " ").split())
        pos = m.end()
    rest = rest[pos:]
    is_patch = False
    version = 1
    index: int | None = None
    total: int | None = None
    tags: list[str] = []
    for tok in tokens:
        upper = tok.upper()
        if upper == "PATCH":
            is_patch = True
        elif m := _PATCHV.match(tok):
            is_patch = True
            version = int(m.group(1))
        elif m := _VERSION.match(tok):
            version = int(m.group(1))
        elif m := _COUNT.match(tok):
            index, total = int(m.group(1)), int(m.group(2))
        else:
            tags.append(tok)
    if index is not None and total is not None and (total == 0 or index > total):
        index, total = None, None
    if is_patch and index is None:
        index, total = 1, 1
    return Subject(raw=subject, title=rest.strip(), is_patch=is_patch, is_reply=is_reply,
                   version=version, index=index, total=total, tags=tuple(tags))
