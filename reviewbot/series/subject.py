"""Parse ``[PATCH vN M/T]`` style subjects."""

from __future__ import annotations

import re

from reviewbot.series.model import Subject

_REPLY = re.compile(r"^\s*((re|aw|sv|fwd?)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_BRACKET = re.compile(r"^\s*\[([^\]]{0,200})\]")
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
    while True:
        m = _BRACKET.match(rest)
        if not m:
            break
        tokens.extend(m.group(1).replace(",", " ").split())
        rest = rest[m.end():]
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
