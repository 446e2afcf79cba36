"""The author's answers on the list to the reviewers' comments on vN-1.

An answer is the author's own text right under a quote of the comment, in a mail of the
author's somewhere below the reviewer's reply. When the reviewer's mail had a single
comment, an author's reply to it that quotes none of it answers that comment. An answer
"agrees" when it opens like "Will fix", "Sure", "Good catch", "You're right" and says
nothing against ("but", "however", "not sure"); anything else (a disagreement, an
explanation, a question back) makes the comment "discussed".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewbot.revisions.model import Answer, Comment
from reviewbot.revisions.pool import MailPool, identity
from reviewbot.revisions.quoting import clean_comment, drop_attributions, normalize, split_blocks
from reviewbot.series.model import Mail

MIN_MATCH = 8  # characters of a comment line that identify it in a quote
_AGREE = re.compile(
    r"^(?:(?:ok|okay|sure|yes|yep|yeah|right|indeed|agreed?|correct|true|ack|oops|sorry|"
    r"all (?:fixed|done)|sounds (?:good|fine|reasonable|right)|"
    r"(?:that's|that is|it's|it is|this is) (?:completely |indeed |clearly |definitely )?"
    r"(?:backwards?|wrong|broken|a bug|buggy)|"
    r"good (?:catch|point|idea|find|to know)|fair (?:enough|point)|done|fixed|"
    r"noted|makes sense|my bad|you(?:'re| are) right|will (?:do|fix|change|update|drop|"
    r"remove|add|rename|move|address|send|correct)|i(?:'ll| will) (?:fix|change|update|drop|"
    r"remove|add|rename|move|do|address|send|correct|take|use|switch)))\b", re.IGNORECASE)
_AGAINST = re.compile(r"\b(but|however|though|although|not sure|don't think|do not think|"
                      r"disagree|rather not|prefer not|no,|nope|actually|instead)\b",
                      re.IGNORECASE)


_DEFER = re.compile(r"\b(?:follow[- ]?(?:up|on)|later (?:series|patch|patchset)|(?:separate|"
                    r"another|next|cleanup|future|different) (?:series|patch|patchset|cycle)|"
                    r"in the future|as a follow)", re.IGNORECASE)
_SENTENCE = re.compile(r"^(.*?(?:[.!?](?=\s|$)|$))")
_FILLER = re.compile(r"^(?:(?>(?:ah|oh|hmm|yes|sure|ok|okay|right|well),?\s+))+", re.IGNORECASE)


_PLEASANTRY = re.compile(r"^(?:(?>(?:hi|hello|hey)\b[^.!?,]{0,40}[,.!]\s*)|(?>(?:many |a lot )?"
                         r"(?:thanks|thank you|thx)\b[^.!?]{0,60}[.!]+\s*))+", re.IGNORECASE)


def agrees(text: str) -> bool:
    """Does the answer's first sentence (after "Thanks for the review.") agree ("Ack.",
    "Sure, will fix.")? A thank-you alone agrees to nothing."""
    flat = _PLEASANTRY.sub("", " ".join(text.split()))
    if _DEFER.search(flat):
        return False  # "Yes, I will do that in a follow-up series": not in this one
    m = _SENTENCE.match(flat)
    first = m.group(1) if m else flat
    rest = _FILLER.sub("", first)
    if _AGAINST.search(first):
        return False
    if _AGREE.match(first) or _AGREE.match(rest) or _LATER.search(first):
        return True
    second = _SENTENCE.match(flat[len(first):].strip())  # "Languages are hard. Fixing it."
    if second is None:
        return False
    return bool(_LATER.search(second.group(1))) and not _AGAINST.search(second.group(1))


_LATER = re.compile(r"\b(?:(?:i(?:'ll| will)|will) (?:fix|change|update|drop|remove|add|"
                    r"rename|move|do that|address|correct|switch|use)|fixing (?:it|that|this|"
                    r"the|them|those))\b", re.IGNORECASE)


def _signature(text: str) -> set[str]:
    return {k for k in (normalize(x) for x in text.split("\n")) if len(k) >= MIN_MATCH}


def answers(comments: Sequence[Comment], pool: MailPool,
            authors: set[str]) -> dict[tuple[str, int], Answer]:
    """(reply msgid, comment index) -> the first answer by one of ``authors``."""
    out: dict[tuple[str, int], Answer] = {}
    by_reply: dict[str, list[Comment]] = {}
    for c in comments:
        by_reply.setdefault(c.msgid, []).append(c)
    for msgid, group in by_reply.items():
        marks = [(c, _signature(c.text)) for c in group]
        for mail in sorted(pool.below(msgid), key=lambda m: (m.timestamp or 0.0, m.msgid)):
            if not identity(mail.author) & authors:
                continue
            for comment, text in _answered(mail, marks, single=len(group) == 1
                                           and mail.in_reply_to == msgid):
                out.setdefault((msgid, comment.index),
                               Answer(mail.msgid, text, agrees(text)))
    return out


def _answered(mail: Mail, marks: list[tuple[Comment, set[str]]],
              single: bool) -> list[tuple[Comment, str]]:
    """The comments ``mail`` answers, each with the answer's text."""
    blocks = split_blocks(mail.body)
    found: list[tuple[Comment, str]] = []
    quoted_any = False
    for i, block in enumerate(blocks):
        if block.depth == 0 or i + 1 >= len(blocks):
            continue
        keys = {normalize(x) for x in block.lines}
        hit = [c for c, sig in marks if sig & keys]
        if not hit:
            continue
        quoted_any = True
        own = blocks[i + 1]
        text = clean_comment(drop_attributions(list(own.lines)), mail.author,
                             last=i + 2 >= len(blocks), first=False)
        if text:
            found.append((hit[-1], text))
    if not found and not quoted_any and single and marks:
        mine = [ln for b in blocks if b.depth == 0 for ln in b.lines]
        text = clean_comment(drop_attributions(mine), mail.author, last=True, first=True)
        if text:
            found.append((marks[0][0], text))
    return found
