"""The reviewers' inline comments on vN-1: who, under which quoted lines, what.

A comment is the writer's own text in a direct reply to a vN-1 patch, right under a
quoted run that holds lines of that patch (diff lines or commit message lines). The
quoted lines are found in the patch by their text (whitespace folded: mail clients turn
tabs into blanks), in order; lines the patch does not have (the diffstat, another
mail) are left out, and a run with none of the patch's lines makes no comment (a
general remark). Pure acknowledgements ("Looks good.") are not comments to address.
Replies by the patch author, and replies to replies (discussion), make no comment here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.revisions.model import Comment, QuotedLine
from reviewbot.revisions.pool import MailPool, identity
from reviewbot.revisions.quoting import (
    Block,
    clean_comment,
    drop_attribution,
    normalize,
    split_blocks,
)
from reviewbot.series.model import Mail, Patch, Series

SIGNIFICANT = 4  # characters a line key needs to be placed on its own
MAX_QUOTED = 400  # quoted lines of one run that are placed (a whole-patch quote is cut)
_ACK = re.compile(
    r"^(?:(?:overall|otherwise|apart from that|other than that|else),?\s+)?"
    r"(?:(?:this|it|that|patch|the (?:patch|change|code|fix|series|update|rest))\s+)?"
    r"(?:(?:looks|seems|is|sounds)\s+(?:good|fine|ok|okay|correct|reasonable|sane|great|"
    r"nice|right|better)|lgtm|nice|good catch|agreed|agree|makes sense|thanks|thank you|"
    r"ok|okay|good|fine|great|\+1|indeed|right|yes|yep|ack|acked|sounds good|"
    r"nice (?:cleanup|catch|find|work)|looks good to me)\b[^?]{0,60}$", re.IGNORECASE)
_NOT_ONLY_ACK = re.compile(r"\b(but|however|though|nit|except|please|should|would|could|"
                           r"maybe|instead)\b", re.IGNORECASE)


def line_key(text: str) -> str:
    """A patch line as compared with a quote of it: the diff marker, then the text with
    whitespace folded (``+\\tfoo(a,  b)`` and ``+ foo(a, b)`` compare equal)."""
    if text[:1] in ("+", "-"):
        return text[0] + normalize(text[1:])
    return normalize(text)


@dataclass(frozen=True)
class PatchLines:
    """The lines of a patch a reviewer can quote, by key, and what each one is."""

    keys: dict[str, list[int]]  # line key -> body line indices, ascending
    at: dict[int, QuotedLine]


def patch_lines(patch: Patch) -> PatchLines:
    body = patch.mail.body.split("\n")
    offset = patch.mail.body_line_offset
    at: dict[int, QuotedLine] = {}
    first_diff = len(body)
    for fd in patch.files:
        first_diff = min(first_diff, max(fd.patch_line - offset, 0))
        for h in fd.hunks:
            for ln in h.lines:
                idx = ln.patch_line - offset
                if 0 <= idx < len(body):
                    at[idx] = QuotedLine(ln.kind, ln.text, fd.path,
                                         ln.old if ln.kind == "-" else ln.new, idx)
    end = first_diff
    for i in range(min(first_diff, len(body))):
        if body[i].rstrip() == "---":
            end = i
            break
    for i in range(end):
        if body[i].strip():
            at[i] = QuotedLine("msg", body[i], None, None, i)
    keys: dict[str, list[int]] = {}
    for i in sorted(at):
        key = line_key(body[i])
        if key:
            keys.setdefault(key, []).append(i)
    return PatchLines(keys, at)


def place(quoted: Sequence[str], lines: PatchLines) -> list[int | None]:
    """For each quoted line, the body index of the patch line it is (None: not one).

    Lines of at least SIGNIFICANT characters are placed first, each after the one
    before; where a line occurs several times, the occurrence followed by most of the
    other quoted lines wins. Short lines (``+}``, ``+``) are then placed only between
    two placed neighbours.
    """
    keys = [line_key(q) for q in quoted[:MAX_QUOTED]]
    pos: list[int | None] = [None] * len(keys)
    last = -1
    for i, key in enumerate(keys):
        if len(key) < SIGNIFICANT:
            continue
        cands = [c for c in lines.keys.get(key, ()) if c > last]
        if not cands:
            continue
        best = max(cands, key=lambda c: (_follow(keys, i, c, lines), -c))
        pos[i] = last = best
    for i, key in enumerate(keys):
        if pos[i] is not None or not key:
            continue
        lo = next((p for p in reversed(pos[:i]) if p is not None), None)
        hi = next((p for p in pos[i + 1:] if p is not None), None)
        if lo is None and hi is None:
            continue
        for c in lines.keys.get(key, ()):
            if (lo is None or c > lo) and (hi is None or c < hi) and c not in pos:
                if lo is None and hi is not None and hi - c > i + 1:
                    continue
                pos[i] = c
                break
    return pos + [None] * (len(quoted) - len(pos))


def _follow(keys: Sequence[str], i: int, start: int, lines: PatchLines) -> int:
    """How many of the next quoted lines occur shortly after ``start``."""
    score = 0
    span = start + 2 * (len(keys) - i) + 5
    for key in keys[i + 1:i + 12]:
        if any(start < c <= span for c in lines.keys.get(key, ())):
            score += 1
    return score


_POINTER = re.compile(r"^(?:(?>(?:just |only )?(?:one|a few|a couple of|some|two|three|minor|"
                      r"small|few|more)\s+))*(?:nits?|comments?|questions?|things?|issues?|"
                      r"remarks?|suggestions?|concerns?)(?:\s+\w+){0,2}\s+(?:below|inline)"
                      r"\b[^?]{0,20}$", re.IGNORECASE)


_WITH_TRAILER = re.compile(r"^(?:feel free to add|you (?:can|may) add|please (?:add|take|"
                           r"consider)(?: my)?|with (?:that|this|those|these) (?:fixed|"
                           r"addressed|changed|changes|fixes)|for the (?:whole )?series|"
                           r"(?:for|on) (?:this|the) (?:patch|series|whole thing))\b[^?]{0,80}$",
                           re.IGNORECASE)


def is_ack(text: str) -> bool:
    """Only an acknowledgement ("Looks good.", "Nice cleanup!") or a pointer to what
    follows ("One nit below."): nothing to address."""
    flat = " ".join(text.split())
    if len(flat) > 160:
        return False
    parts = [p for p in re.split(r"(?<=[.!])\s+", flat) if p]
    return bool(parts) and all(_ack_part(p) for p in parts)


def _ack_part(flat: str) -> bool:
    if len(flat) <= 80 and _POINTER.match(flat):
        return True
    if len(flat) <= 120 and _WITH_TRAILER.match(flat):
        return True  # the words around a trailer given ("Feel free to add: ...")
    return len(flat) <= 120 and bool(_ACK.match(flat)) and not _NOT_ONLY_ACK.search(flat)


def reply_comments(patch: Patch, number: int, reply: Mail,
                   lines: PatchLines) -> list[Comment]:
    """The comments of one direct reply to ``patch`` (vN-1 patch ``number``)."""
    blocks = split_blocks(reply.body)
    own = [i for i, b in enumerate(blocks) if b.depth == 0 and any(x.strip() for x in b.lines)]
    out: list[Comment] = []
    first = True
    for i, block in enumerate(blocks):
        if block.depth != 0 or i == 0 or blocks[i - 1].depth == 0:
            continue
        text_lines = list(block.lines)
        if i + 1 < len(blocks):
            text_lines = drop_attribution(text_lines)
        text = clean_comment(text_lines, reply.author, last=bool(own) and i == own[-1],
                             first=first)
        if not text:
            continue
        first = False
        quoted = _quoted(blocks[i - 1], lines)
        if not quoted or is_ack(text):
            continue
        out.append(Comment(reply.msgid, reply.author, number, tuple(quoted), text, len(out),
                           reply.timestamp))
    return out


def _quoted(block: Block, lines: PatchLines) -> list[QuotedLine]:
    """The lines of the patch in a quoted run (quote depth 1 only)."""
    texts = [t for t, d in zip(block.lines, block.depths, strict=True) if d == 1]
    return [lines.at[i] for i in place(texts, lines) if i is not None]


def comments_on(previous: Series, pool: MailPool) -> list[Comment]:
    """Every inline comment on the patches of ``previous``, patch by patch."""
    out: list[Comment] = []
    for patch in previous.patches:
        author = identity(patch.mail.author)
        replies = pool.replies(patch.msgid)
        if not replies:
            continue
        lines = patch_lines(patch)
        for reply in sorted(replies, key=lambda m: (m.timestamp or 0.0, m.msgid)):
            if identity(reply.author) & author:
                continue
            out.extend(reply_comments(patch, patch.index, reply, lines))
    return out
