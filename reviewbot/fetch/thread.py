"""From a fetched thread to the messages of one series revision.

liblore (the library b4 is built on) splits the thread's mboxrd and drops duplicate
copies of cross-posted messages. The series are then found the way a local mbox of the
same messages is read (``reviewbot.series.build``: threads, revisions, format-patch
batches, families of revisions), so a fetched thread and a local mbox of its messages
give the same series: a cover letter sent in reply to someone else's patch starts its
own series, and an unrelated series in the thread is not taken for an older revision.
The series the asked message belongs to is chosen (for a reply or a discussion
message: the series it replies to, else the first series below it), and its newest
revision (or ``-v N``). The raw bytes of the chosen messages then go through
reviewbot's own pipeline, unchanged, so a finding's ``patch_line`` points into the
message as the archive serves it.

liblore is imported here only, lazily: ``reviewbot check FILE`` never pays for it.
"""

from __future__ import annotations

import email.utils
import logging
import re
from dataclasses import dataclass

from reviewbot.errors import InputError
from reviewbot.fetch.local import RawMessage
from reviewbot.limits import Limits
from reviewbot.series.build import SeriesPlan, choose, group_heads, head_of
from reviewbot.series.mail import parse_mail
from reviewbot.series.model import Mail

_DATE = re.compile(rb"^Date:[ \t]*([^\r\n]*)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Selection:
    """The chosen revision of the series and what the user should be told about it."""

    messages: tuple[RawMessage, ...]  # cover letter first, then patches in order
    revision: int
    other_revisions: tuple[int, ...]
    notes: tuple[str, ...]


def _quiet_loggers() -> None:
    """liblore logs to the root logger; Python would print WARNINGs to stderr."""
    for name in ("liblore",):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


def split_thread(mbox: bytes) -> list[bytes]:
    """The messages of a public-inbox thread mbox (mboxrd), duplicates dropped."""
    import liblore.utils

    _quiet_loggers()
    return list(liblore.utils.split_and_dedupe_as_bytes(mbox))


def newest_date(raws: list[bytes]) -> float | None:
    """The latest ``Date:`` among the messages (header block only), or None."""
    newest: float | None = None
    for raw in raws:
        end = raw.find(b"\n\n")
        match = _DATE.search(raw, 0, end if end >= 0 else len(raw))
        if not match:
            continue
        try:
            when = email.utils.parsedate_to_datetime(match.group(1).decode("ascii",
                                                                           "replace"))
            stamp = when.timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
        newest = stamp if newest is None else max(newest, stamp)
    return newest


def _family_of(families: list[list[SeriesPlan]], mails: list[Mail], msgid: str
               ) -> list[SeriesPlan] | None:
    """The family of series revisions ``msgid`` belongs to: its own, else that of the
    nearest message it replies to, else the first one with a message below it."""
    where: dict[str, list[SeriesPlan]] = {}
    for family in families:
        for plan in family:
            for h in plan.heads():
                where.setdefault(h.msgid, family)
    if msgid in where:
        return where[msgid]
    asked = next(m for m in mails if m.msgid == msgid)
    for parent in (asked.in_reply_to, *reversed(asked.references)):
        if parent is not None and parent in where:
            return where[parent]
    for family in families:
        for plan in family:
            if any(msgid in (mails[h.n].in_reply_to, *mails[h.n].references)
                   for h in plan.heads()):
                return family
    return None


def select_series(raws: list[bytes], msgid: str, version: int | None,
                  origin: str) -> Selection:
    """The revision ``version`` (default: the newest) of the series ``msgid`` is part of."""
    mails = [parse_mail(raw, Limits().message_bytes) for raw in raws]
    if all(m.msgid != msgid for m in mails):
        raise InputError(f"the thread {origin} does not contain <{msgid}>")
    heads = [h for n, m in enumerate(mails) if (h := head_of(m, n)) is not None]
    family = _family_of(group_heads(heads), mails, msgid)
    if family is None:
        raise InputError(f"the thread of <{msgid}> holds no patch ({len(mails)} "
                         f"message{'s' if len(mails) != 1 else ''})")
    revisions = sorted({g.version for g in family})
    if version is not None and version not in revisions:
        found = ", ".join(f"v{r}" for r in revisions)
        raise InputError(f"no revision v{version} of the series in the thread of "
                         f"<{msgid}> (it has {found})")
    chosen = choose([family], version)
    revision = chosen[0].version
    picked = [h for plan in chosen for h in plan.heads()]
    messages = tuple(RawMessage(raws[h.n], f"{origin} <{h.msgid}>") for h in picked)
    notes: list[str] = []
    asked = next((h for plan in family for h in plan.heads() if h.msgid == msgid), None)
    if asked is not None and asked.subject.version != revision and asked not in picked:
        notes.append(f"note: <{msgid}> is part of v{asked.subject.version}; reviewing "
                     f"v{revision}" + (" (the newest in the thread)" if version is None else ""))
    return Selection(messages, revision, tuple(r for r in revisions if r != revision),
                     tuple(notes))
