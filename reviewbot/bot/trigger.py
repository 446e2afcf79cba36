"""Which series a message belongs to, and when a series is ready to be reviewed.

A message is classified once, when it arrives: a patch or a cover letter joins a series
group keyed like ``reviewbot.series.build`` groups (thread root, revision, patch count;
by author when there is no thread), everything else is recorded and ignored. A group is
due when it is complete (all T patches, plus the cover letter when T > 1) or when its
grace period has passed. What a resend has in common with the posting it repeats is
``resend_title``: the title and the subject's tags but ``RESEND`` (a backport to another
stable tree is another posting).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Literal

from reviewbot.series.build import batch_identity, is_patch_mail
from reviewbot.series.mail import parse_mail
from reviewbot.series.model import Mail, Subject
from reviewbot.series.subject import identity_tags

Kind = Literal["patch", "cover", "ignored", "bad"]
_HAS_DIFF = re.compile(r"^(diff --git |\+\+\+ )", re.MULTILINE)
_LIST_ID = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class GroupKey:
    """What makes messages one series: same thread (or author), revision and size."""

    key: str  # stable text form, unique per group
    root: str | None
    version: int
    total: int
    # a numbered mail in no thread: the format-patch batch it may join (stable text
    # form of ``series.build.batch_identity``); its key is then that of a batch it starts
    batch: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One arriving message, classified."""

    kind: Kind
    reason: str | None  # why it is ignored or bad; a decoding problem for a patch
    msgid: str
    subject: str
    title: str  # what a resend has in common: see resend_title
    author: str | None  # address, lower case
    index: int  # 0 for the cover letter
    date: float | None
    recipients: tuple[str, ...]  # To, Cc and List-Id addresses, lower case
    group: GroupKey | None


def group_key(mail: Mail) -> GroupKey:
    """The series group of a patch or cover mail (same rules as ``build_series``): its
    thread root's, or for a mail in no thread a group it starts. A mail in no thread
    also names its batch (``git format-patch`` without ``--thread``), which the watcher
    joins while it is open (``series.build.starts_new_batch``)."""
    subj = mail.subject
    total = subj.total or 1
    author = mail.author.email.lower() if mail.author else None
    root = mail.thread_root
    batch: str | None = None
    if root is None:
        batch = json.dumps(batch_identity(author, subj), separators=(",", ":"))
        root = mail.msgid
    parts: list[object] = ["thread", root, subj.version, total]
    return GroupKey(json.dumps(parts, separators=(",", ":")), root, subj.version, total,
                    batch)


def _recipients(mail: Mail) -> tuple[str, ...]:
    addrs = [p.email.lower() for p in (*mail.to, *mail.cc)]
    head = BytesHeaderParser(policy=compat32).parsebytes(mail.raw[:65536])
    for value in head.get_all("List-Id", []):
        addrs.extend(m.lower() for m in _LIST_ID.findall(str(value)))
    return tuple(dict.fromkeys(addrs))


def classify(raw: bytes, max_bytes: int) -> Incoming:
    """Classify one message; never raises (a problem makes it ``bad``)."""
    if len(raw) > max_bytes:
        return bad_message(f"message larger than {max_bytes} bytes", raw)
    if b"\x00" in raw[:4096]:
        return bad_message("binary data, not an email", raw)
    try:
        mail = parse_mail(raw)
    except Exception as exc:  # a mail the email package cannot take must not stop the bot
        return bad_message(f"unparsable message: {type(exc).__name__}: {exc}", raw)
    if not mail.subject.raw and not mail.body.strip():
        return bad_message("no subject and no body: not an email", raw, mail)
    if mail.subject.is_reply:
        return _incoming(mail, "ignored", "a reply", 0, None)
    if not is_patch_mail(mail):
        return _incoming(mail, "ignored", "not a patch", 0, None)
    index = mail.subject.index if mail.subject.index is not None else 1
    kind: Kind = "patch"
    if index == 0:
        if _HAS_DIFF.search(mail.body):
            index = 1  # a "0/N" carrying a diff is reviewed as patch 1 (as build_series does)
        else:
            kind = "cover"
    return _incoming(mail, kind, mail.error, index, group_key(mail))


def _incoming(mail: Mail, kind: Kind, reason: str | None, index: int,
              group: GroupKey | None) -> Incoming:
    return Incoming(kind, reason, mail.msgid, mail.subject.raw, resend_title(mail.subject),
                    mail.author.email.lower() if mail.author else None, index,
                    mail.timestamp, _recipients(mail), group)


def resend_title(subject: Subject) -> str:
    """The title a resend of this patch has too, lower case: the subject without its
    prefix, behind the prefix's tags other than RESEND. ``[PATCH 5.15.y] X`` and
    ``[PATCH 6.1.y] X`` (backports to two stable trees), ``[PATCH AUTOSEL 7.0-6.6] X``
    and ``[PATCH AUTOSEL 7.0-6.1] X``, ``[PATCH net] X`` and ``[PATCH net-next] X`` are
    different postings; ``[PATCH RESEND] X`` is ``[PATCH] X`` again."""
    tags = "".join(f"[{t}] " for t in identity_tags(subject))
    return (tags + subject.title).lower()


def bad_message(reason: str, raw: bytes = b"", mail: Mail | None = None) -> Incoming:
    """A message recorded as bad (and skipped) with ``reason``."""
    msgid = mail.msgid if mail else "reviewbot-" + hashlib.sha1(raw).hexdigest()[:16] + "@local"
    return Incoming("bad", reason, msgid, mail.subject.raw if mail else "", "", None, 0,
                    None, (), None)


def is_complete(total: int, indices: set[int]) -> bool:
    """All ``total`` patches are there, plus the cover letter (index 0) when total > 1."""
    need = set(range(1, total + 1)) | ({0} if total > 1 else set())
    return need <= indices


def due_reason(total: int, indices: set[int], last_seen: float, last_date: float | None,
               now: float, grace: float) -> str | None:
    """``"complete"``, ``"grace"`` (incomplete but waited long enough), or None (wait).

    The grace period runs from the newest message of the series: from when it was sent
    (its Date) or when the bot saw it, whichever is earlier, so a backlog of old mail is
    not held back while a Date in the future cannot hold a series forever.
    """
    if is_complete(total, indices):
        return "complete"
    newest = min(last_seen, last_date) if last_date is not None else last_seen
    if now - newest >= grace:
        return "grace"
    return None
