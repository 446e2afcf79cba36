"""From a fetched thread to the messages of one series revision, with b4's logic.

b4 (and liblore, which it is built on) decide what belongs to the series: liblore
splits the mboxrd and drops duplicate copies of cross-posted messages, b4 cuts the
thread down to the messages related to the one asked for (a standalone patch posted
inside another discussion is not taken for that series), sorts patches, cover letters
and replies into revisions, and finds the newest revision. The raw bytes of the chosen
messages then go through reviewbot's own pipeline, unchanged, so a finding's
``patch_line`` points into the message as the archive serves it.

b4 is imported here only, lazily: ``reviewbot check FILE`` never pays for it.
"""

from __future__ import annotations

import email.utils
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reviewbot.errors import InputError
from reviewbot.fetch.local import RawMessage

if TYPE_CHECKING:
    from email.message import EmailMessage

_DATE = re.compile(rb"^Date:[ \t]*([^\r\n]*)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Selection:
    """The chosen revision of the series and what the user should be told about it."""

    messages: tuple[RawMessage, ...]  # cover letter first, then patches in order
    revision: int
    other_revisions: tuple[int, ...]
    notes: tuple[str, ...]


def _quiet_loggers() -> None:
    """b4 and liblore log to the root logger; Python would print WARNINGs to stderr."""
    for name in ("b4", "liblore"):
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


def _msgid(msg: EmailMessage, header: str = "Message-ID") -> str | None:
    import liblore.utils

    value: str | None = liblore.utils.get_clean_msgid(msg, header)
    return value


def select_series(raws: list[bytes], msgid: str, version: int | None,
                  origin: str) -> Selection:
    """The revision ``version`` (default: the newest) of the series ``msgid`` is part of."""
    import b4
    import liblore.utils

    _quiet_loggers()
    parsed: list[tuple[bytes, EmailMessage]] = []
    for raw in raws:
        try:
            parsed.append((raw, liblore.utils.parse_message(raw)))
        except Exception:  # a message the email package cannot parse is left out
            continue
    by_id = {mid: raw for raw, msg in parsed if (mid := _msgid(msg)) is not None}
    if msgid not in by_id:
        raise InputError(f"the thread {origin} does not contain <{msgid}>")
    msgs = [msg for _, msg in parsed]
    strict = b4.get_strict_thread(msgs, msgid) or msgs
    box: Any = b4.LoreMailbox()
    for msg in strict:
        try:
            box.add_message(msg)
        except ValueError:  # b4: no usable Message-ID
            continue
    revisions = sorted(box.series)
    if not revisions:
        raise InputError(f"the thread of <{msgid}> holds no patch ({len(strict)} "
                         f"message{'s' if len(strict) != 1 else ''})")
    if version is None:
        revision = int(box.get_latest_revision())
    elif version in box.series:
        revision = version
    else:
        found = ", ".join(f"v{r}" for r in revisions)
        raise InputError(f"no revision v{version} of the series in the thread of "
                         f"<{msgid}> (it has {found})")
    series = box.get_series(revision, reroll=False, codereview_trailers=False)
    if series is None:
        raise InputError(f"revision v{revision} of the series has no patch in the thread")
    chosen = [m.msgid for m in series.patches if m is not None]
    messages = tuple(RawMessage(by_id[mid], f"{origin} <{mid}>") for mid in chosen
                     if mid in by_id)
    notes: list[str] = []
    asked = box.msgid_map.get(msgid)
    if asked is not None and not asked.reply and asked.msgid not in chosen and (
            asked.revision != revision):
        notes.append(f"note: <{msgid}> is part of v{asked.revision}; reviewing v{revision}"
                     + (" (the newest in the thread)" if version is None else ""))
    return Selection(messages, revision, tuple(r for r in revisions if r != revision),
                     tuple(notes))
