"""The mails a revision is looked for in, indexed once: by Message-ID, replies by parent.

Built once per pool (the input, a fetched thread, search results), so that finding
vN-1 and the replies to it stays linear in the number of mails. What relates one mail to
another (Message-ID, In-Reply-To/References, subject, author, date, whether it is a
patch mail, its change-id) is filed when the pool is built; the pool of a large input
holds each mail without its text (``MailPool.filed``), and a mail's body is read again
only for the few mails a revision review compares (vN-1 and the replies to it).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from reviewbot.series.build import is_patch_mail
from reviewbot.series.model import Mail, Person
from reviewbot.series.stored import unstored

_CHANGE_ID = re.compile(r"^change-id:[ \t]*(\S{1,200})[ \t]*$", re.IGNORECASE | re.MULTILINE)
MAX_DEPTH = 50  # replies followed below a message (a thread deeper than this is cut)
# text of the mails last read whole that a pool keeps (a review reads vN-1's replies
# several times: its comments, the answers to them, the trailers given)
WHOLE_BYTES = 16 << 20


def change_id(mail: Mail) -> str | None:
    """The ``change-id:`` b4 writes into a cover letter (or a single patch's notes)."""
    if "change-id:" not in mail.body.lower():
        return None
    m = _CHANGE_ID.search(mail.body)
    return m.group(1) if m else None


def identity(person: Person | None) -> set[str]:
    """What identifies a person across mails: the address, and a full name (an author
    often answers from another address than the one the series went out from)."""
    if person is None:
        return set()
    keys = {person.email.lower()}
    name = " ".join(person.name.lower().split())
    if len(name.split()) >= 2:
        keys.add(name)
    return keys


def title_key(title: str) -> str:
    """A patch title compared across revisions: lower case, single blanks, no final dot."""
    return " ".join(title.lower().split()).rstrip(".")


@dataclass
class MailPool:
    """Mails by Message-ID, and the replies to each (mutable while built, then read)."""

    mails: tuple[Mail, ...]
    by_msgid: dict[str, Mail] = field(default_factory=dict)
    children: dict[str, list[Mail]] = field(default_factory=dict)
    patches: list[Mail] = field(default_factory=list)  # patch mails and cover letters
    _change_ids: dict[str, str | None] = field(default_factory=dict)
    _related: dict[tuple[str, ...], list[int]] | None = None
    # the mails of ``patches`` by Message-ID (a list: two mails may share one)
    _patch_mails: dict[str, list[Mail]] = field(default_factory=dict)
    # the last mails read whole, by Message-ID: (the mail as kept, the mail whole)
    _whole: OrderedDict[str, tuple[Mail, Mail]] = field(default_factory=OrderedDict)
    _whole_bytes: int = 0

    @classmethod
    def of(cls, mails: Iterable[Mail]) -> MailPool:
        """The pool of ``mails``, held as they are."""
        return cls.filed((m, m) for m in mails)

    @classmethod
    def filed(cls, mails: Iterable[tuple[Mail, Mail]]) -> MailPool:
        """The pool of ``(full, kept)`` pairs, read one at a time: whether a mail is a
        patch mail and its change-id are worked out from ``full`` (its body) when it is
        filed, and the pool holds ``kept``, the same mail in a form that may read its
        body again only when asked for (a ``series.stored.StoredMail``): the headers of
        every mail are held, the text of none."""
        kept: list[Mail] = []
        pool = cls(())
        for full, m in mails:
            kept.append(m)
            pool.by_msgid.setdefault(m.msgid, m)
            if m.in_reply_to and m.in_reply_to != m.msgid:
                pool.children.setdefault(m.in_reply_to, []).append(m)
            if is_patch_mail(full):
                pool.patches.append(m)
                pool._patch_mails.setdefault(m.msgid, []).append(m)
                pool._change_ids.setdefault(m.msgid, change_id(full))
        pool.mails = tuple(kept)
        return pool

    def is_patch(self, mail: Mail) -> bool:
        """``series.build.is_patch_mail(mail)`` for a mail of the pool, as filed."""
        return any(m is mail for m in self._patch_mails.get(mail.msgid, ()))

    def whole(self, mail: Mail) -> Mail:
        """``mail`` of the pool with its text: a mail held without it is read again from
        the input, at most once while it is among the last read (WHOLE_BYTES)."""
        hit = self._whole.get(mail.msgid)
        if hit is not None and hit[0] is mail:
            self._whole.move_to_end(mail.msgid)
            return hit[1]
        full = unstored(mail)
        if full is mail:
            return mail
        if hit is not None:  # another mail of the same Message-ID: this one replaces it
            self._whole_bytes -= len(hit[1].raw) + len(hit[1].body)
        self._whole[mail.msgid] = (mail, full)
        self._whole.move_to_end(mail.msgid)
        self._whole_bytes += len(full.raw) + len(full.body)
        while self._whole_bytes > WHOLE_BYTES and len(self._whole) > 1:
            dropped = self._whole.popitem(last=False)[1][1]
            self._whole_bytes -= len(dropped.raw) + len(dropped.body)
        return full

    def change_id(self, mail: Mail) -> str | None:
        """``change_id(mail)``, worked out once per mail."""
        if mail.msgid not in self._change_ids:
            self._change_ids[mail.msgid] = change_id(mail)
        return self._change_ids[mail.msgid]

    def patches_by(self, keys: Iterable[tuple[str, ...]]) -> list[Mail]:
        """The patch mails filed under any of ``keys``, each once, in pool order. A mail
        is filed under ``("msgid", its Message-ID)``, ``("root", its thread root)``,
        ``("change-id", its change-id)`` and ``("subject", each key of its author's
        identity (address, full name), its title_key)``: what relates it to another
        revision (the index is built once, so looking up each series' vN-1 stays linear
        in the pool)."""
        if self._related is None:
            self._related = {}
            for i, m in enumerate(self.patches):
                found: list[tuple[str, ...]] = [("msgid", m.msgid)]
                if m.thread_root:
                    found.append(("root", m.thread_root))
                cid = self.change_id(m)
                if cid is not None:
                    found.append(("change-id", cid))
                title = title_key(m.subject.title)
                found += [("subject", who, title) for who in sorted(identity(m.author))]
                for key in found:
                    self._related.setdefault(key, []).append(i)
        related = self._related
        return [self.patches[i] for i in sorted({i for k in keys for i in related.get(k, ())})]

    def replies(self, msgid: str) -> list[Mail]:
        """Direct replies to ``msgid`` that are not patches (a v2 sent in reply is not),
        with their text."""
        return [self.whole(m) for m in self.children.get(msgid, ()) if not self.is_patch(m)]

    def below(self, msgid: str) -> Iterator[Mail]:
        """Every reply under ``msgid`` (breadth first, each once, depth bounded), with
        its text."""
        seen = {msgid}
        level = [msgid]
        for _ in range(MAX_DEPTH):
            nxt: list[str] = []
            for mid in level:
                for child in self.children.get(mid, ()):
                    if child.msgid in seen or self.is_patch(child):
                        continue
                    seen.add(child.msgid)
                    nxt.append(child.msgid)
                    yield self.whole(child)
            if not nxt:
                return
            level = nxt

