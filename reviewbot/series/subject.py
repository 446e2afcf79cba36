"""Parse ``[PATCH vN M/T]`` style subjects, reading the prefixes the way b4 reads them.

The leading bracketed groups are the prefix (``[PATCH v2 net-next 1/3]``, doubled ones
such as ``[RFC][PATCH 1/3]``, a bracket inside another as in ``[PATCH [net] 2/2]``).
Each word of it is, as in b4's ``LoreSubject``: a counter ``M/T``, a revision ``vN``
(also glued on, ``PATCHv3``, ``PATCH-v3``, ``RFCv2``), a word starting with ``PATCH``
(``PATCH``, ``PATCH-next``, ``PATCHSET``), with ``RFC`` or ``RESEND``, or any other tag
(``net-next``, ``6.1.y``, ``AUTOSEL``, ``7.0-6.6``). ``Re:``, ``Aw:``, ``Fwd:`` and any
other two- or three-letter prefix before a bracket (``Sv: [``, ``WG: [``, ``Odp: [``)
make a reply.
"""

from __future__ import annotations

import re

from reviewbot.series.model import Subject

# (linear: no two adjacent quantifiers can take the same characters)
_REPLY = re.compile(r"^\s*(?:(?:re|aw|sv|fwd?)\s*(?:\[\d+\]\s*)?:\s*)+", re.IGNORECASE)
_SHORT_REPLY = re.compile(r"^(?:\w{2,3}:\s*)+(?=\[)")  # b4: "^\w{2,3}:\s*\["
MAX_BRACKETS = 16  # [PATCH] [RFC] [net-next] ...: more is not a prefix
MAX_GROUP = 200  # characters in one bracketed group
_VERSION = re.compile(r"^v(\d{1,4})$", re.IGNORECASE)
_GLUED_VERSION = re.compile(r"^(patch|rfc|resend)[-_]?v(\d{1,4})$", re.IGNORECASE)
_COUNT = re.compile(r"^(\d{1,5})/(\d{1,5})$")


def _group(text: str, pos: int) -> tuple[str, int] | None:
    """The words of the bracketed group at ``pos`` (inner brackets flattened) and where
    it ends; None when there is no complete group there."""
    if text[pos:pos + 1] != "[":
        return None
    depth = 0
    out: list[str] = []
    for i in range(pos, min(len(text), pos + MAX_GROUP + 2)):
        ch = text[i]
        if ch == "[":
            depth += 1
            out.append(" ")
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return "".join(out), i + 1
            out.append(" ")
        else:
            out.append(ch)
    return None


def prefix_words(subject: str) -> tuple[list[str], str]:
    """The words of the leading bracketed groups and the rest of the subject."""
    words: list[str] = []
    pos = 0  # (matching at a position: slicing the rest each time was quadratic)
    for _ in range(MAX_BRACKETS):
        found = _group(subject, pos + (subject[pos:pos + 1] == " "))  # whitespace is single
        if found is None:
            break
        words.extend(found[0].replace(",", " ").replace(";", " ").split())
        pos = found[1]
    return words, subject[pos:]


def parse_subject(raw: str) -> Subject:
    """Read version, index/total and tags from a subject line.

    >>> s = parse_subject("[PATCHv4 09/14] mm/hugetlb: Remove fake head pages")
    >>> (s.version, s.index, s.total, s.title)
    (4, 9, 14, 'mm/hugetlb: Remove fake head pages')
    >>> s = parse_subject("[PATCH-next v3 0/3] md: fixes")
    >>> (s.is_patch, s.is_cover, s.version, s.tags)
    (True, True, 3, ('-next',))
    """
    subject = " ".join(raw.split())
    rest = subject
    is_reply = False
    for pattern in (_REPLY, _SHORT_REPLY):
        m = pattern.match(rest)
        if m:
            is_reply = True
            rest = rest[m.end():]
    words, rest = prefix_words(rest)
    is_patch = False
    version = 1
    index: int | None = None
    total: int | None = None
    tags: list[str] = []
    marked = False  # an RFC or RESEND word: with a counter, a patch even without PATCH
    for word in words:
        upper = word.upper()
        if m := _COUNT.match(word):
            index, total = int(m.group(1)), int(m.group(2))
        elif m := _VERSION.match(word):
            version = int(m.group(1))
        elif m := _GLUED_VERSION.match(word):
            version = int(m.group(2))
            kind = m.group(1).upper()
            is_patch = is_patch or kind == "PATCH"
            if kind != "PATCH":
                tags.append(kind)
                marked = True
        elif upper.startswith("PATCH"):
            is_patch = True
            if upper not in ("PATCH", "PATCHES", "PATCHSET"):
                tags.append(word[5:])  # PATCH-next: "-next", as [PATCH -next] says it
        else:
            tags.append(word)
            marked = marked or upper.startswith(("RFC", "RESEND"))
    if index is not None and total is not None and (total == 0 or index > total):
        index, total = None, None
    if marked and index is not None:
        is_patch = True  # [RFC 0/3], [RESEND 2/5]: b4 takes a counted subject as a patch
    if is_patch and index is None:
        index, total = 1, 1
    return Subject(raw=subject, title=rest.strip(), is_patch=is_patch, is_reply=is_reply,
                   version=version, index=index, total=total, tags=tuple(tags))


def is_resend_tag(tag: str) -> bool:
    """``RESEND`` (also ``RESEND^2``, ``resend2``): a copy of a posting, not a new one."""
    return tag.upper().startswith("RESEND")


def identity_tags(subject: Subject) -> tuple[str, ...]:
    """The tags that tell one posting from another (``net-next``, ``6.1.y``, ``RFC``,
    ``AUTOSEL``...): every tag but ``RESEND``, upper case, in order."""
    return tuple(t.upper() for t in subject.tags if not is_resend_tag(t))
