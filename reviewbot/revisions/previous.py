"""Find vN-1 of a series among mails, the way b4 relates revisions.

A patch mail of an earlier version belongs to the series when (in b4's order of trust)
it carries the same ``change-id:``, is in the ``In-Reply-To``/``References`` chain of vN
(or shares its thread) and shares vN's author or a title, is named by a link in vN's
cover letter ("v4: https://lore.kernel.org/r/<msgid>"), or has one of vN's titles and
vN's author (the same address, or the same full name: authors move between
addresses). The ``In-Reply-To`` chain is followed up through the mails at hand (a v2
sent in reply to a review of v1). The patches of a related cover letter's thread come
along. Of the revisions found, the newest one older than vN is vN-1 (a series that went
from v3 to v5 is compared with v3).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from dataclasses import dataclass, replace

from reviewbot.errors import ReviewbotError
from reviewbot.limits import Limits
from reviewbot.revisions.model import FoundBy, Previous
from reviewbot.revisions.pool import MailPool, change_id, identity, title_key
from reviewbot.series.build import build_series
from reviewbot.series.model import Mail, Series

_PRIORITY: dict[FoundBy, int] = {"change-id": 0, "in-reply-to": 1, "link": 2, "subject": 3}
# a link to a message in an archive: lore.kernel.org/<list>/<msgid>/, /r/<msgid>,
# patch.msgid.link/<msgid>, on any host
_LINK = re.compile(r"https?://[^\s/<>]+/(?:[^\s/<>]+/)?([^\s/<>@]+(?:%40|@)[^\s/<>#?]+)")
MAX_LINKS = 20
MAX_CHAIN = 200  # Message-IDs taken from the In-Reply-To/References chain of vN's mails


@dataclass(frozen=True)
class Wanted:
    """What identifies vN when looking for vN-1."""

    version: int  # vN's version
    own: frozenset[str]  # vN's Message-IDs
    refs: frozenset[str]  # what vN's mails reply to (minus vN's own mails)
    change_id: str | None
    links: tuple[str, ...]  # Message-IDs linked from the cover letter
    author: str | None  # the address a subject search asks for (lower case)
    authors: frozenset[str]  # what identifies vN's author (pool.identity of each mail's)
    titles: frozenset[str]  # title keys of the cover and the patches
    title: str  # the title a subject search uses (cover, else first patch)
    date: float | None  # vN's earliest Date


def _mails(series: Series) -> list[Mail]:
    return ([series.cover] if series.cover else []) + [p.mail for p in series.patches]


def cover_links(text: str) -> tuple[str, ...]:
    """Message-IDs of archive links in ``text`` (a cover letter's changelog)."""
    found: list[str] = []
    for m in _LINK.finditer(text):
        mid = urllib.parse.unquote(m.group(1)).strip("<>")
        if mid not in found:
            found.append(mid)
        if len(found) >= MAX_LINKS:
            break
    return tuple(found)


def wanted(series: Series) -> Wanted:
    mails = _mails(series)
    own = frozenset(m.msgid for m in mails)
    refs = frozenset(r for m in mails for r in (*m.references, m.in_reply_to or "")
                     if r and r not in own)
    head = series.cover or (series.patches[0].mail if series.patches else None)
    cid = change_id(head) if head is not None else None
    links: tuple[str, ...] = ()
    if head is not None:
        links = tuple(x for x in cover_links(head.body) if x not in own)
    author = next((m.author.email.lower() for m in mails if m.author), None)
    authors = frozenset(key for m in mails for key in identity(m.author))
    titles = frozenset(title_key(m.subject.title) for m in mails if m.subject.title)
    stamps = [m.timestamp for m in mails if m.timestamp is not None]
    return Wanted(series.version, own, refs, cid, links, author, authors, titles,
                  head.subject.title if head is not None else "",
                  min(stamps) if stamps else None)


def chain(want: Wanted, pool: MailPool) -> Wanted:
    """``want`` with its references followed up the thread through the mails ``pool``
    holds: a v2 sent in reply to a review of v1 names only that review, which replies
    to v1 (b4 follows the In-Reply-To chain the same way). At most MAX_CHAIN ids."""
    seen = set(want.refs)
    level = sorted(want.refs)
    while level and len(seen) < MAX_CHAIN:
        up: list[str] = []
        for mid in level:
            mail = pool.by_msgid.get(mid)
            if mail is None:
                continue
            for ref in (mail.in_reply_to or "", *reversed(mail.references)):
                if ref and ref not in seen and ref not in want.own and len(seen) < MAX_CHAIN:
                    seen.add(ref)
                    up.append(ref)
        level = up
    return want if len(seen) == len(want.refs) else replace(want, refs=frozenset(seen))


def relation(mail: Mail, want: Wanted, pool: MailPool) -> FoundBy | None:
    """How a patch mail of an earlier version is related to vN, if it is."""
    if want.change_id is not None and pool.change_id(mail) == want.change_id:
        return "change-id"
    root = mail.thread_root
    if mail.msgid in want.refs or (root is not None and root in want.refs):
        return "in-reply-to"
    if mail.msgid in want.links or (root is not None and root in want.links):
        return "link"
    if identity(mail.author) & want.authors and (
            title_key(mail.subject.title) in want.titles):
        return "subject"
    return None


def find_previous(series: Series, pool: MailPool, where: str,
                  limits: Limits | None = None) -> Previous | None:
    """vN-1 of ``series`` in ``pool`` (None when the pool holds no earlier revision)."""
    want = wanted(series)
    if want.version <= 1:
        return None
    want = chain(want, pool)

    def older(m: Mail) -> bool:
        return m.subject.version < want.version and m.msgid not in want.own

    # only mails filed under what relation() compares can be related (MailPool.patches_by)
    ids = (*want.refs, *want.links)
    keys: list[tuple[str, ...]] = [(kind, x) for x in ids for kind in ("msgid", "root")]
    if want.change_id is not None:
        keys.append(("change-id", want.change_id))
    keys += [("subject", who, t) for who in sorted(want.authors) for t in want.titles]
    anchors: dict[str, FoundBy] = {}
    for m in pool.patches_by(keys):
        rel = relation(m, want, pool) if older(m) else None
        if rel is not None:
            anchors[m.msgid] = rel
    if not anchors:
        return None
    roots: dict[str, FoundBy] = {}
    for m in pool.patches_by(("msgid", a) for a in anchors):
        rel = anchors.get(m.msgid) if older(m) else None
        if rel is None:
            continue
        for key in (m.msgid, m.thread_root):
            if key is not None and _better(rel, roots.get(key)):
                roots[key] = rel
    members: list[Mail] = []
    how: dict[str, FoundBy] = {}
    near = [*(("msgid", a) for a in anchors), *(("msgid", r) for r in roots),
            *(("root", r) for r in roots)]
    for m in pool.patches_by(near):
        if not older(m):
            continue
        rel = anchors.get(m.msgid) or roots.get(m.msgid) or (
            roots.get(m.thread_root) if m.thread_root else None)
        if rel is not None:
            members.append(m)
            how[m.msgid] = rel
    try:
        # read whole once each (a pool may hold mails without their text)
        candidates = build_series([pool.whole(m) for m in members], None, limits)
    except ReviewbotError:
        return None
    best: tuple[tuple[int, int, float], Series, FoundBy] | None = None
    for cand in candidates:
        rels = [how[m.msgid] for m in _mails(cand) if m.msgid in how]
        if not rels or cand.version >= want.version:
            continue
        how_found = min(rels, key=lambda r: _PRIORITY[r])
        if how_found == "in-reply-to" and not _same_family(cand, want):
            continue  # a thread relation alone: someone else's series in the thread
        stamps = [m.timestamp for m in _mails(cand) if m.timestamp is not None]
        rank = (cand.version, -_PRIORITY[how_found], max(stamps) if stamps else 0.0)
        if best is None or rank > best[0]:
            best = (rank, cand, how_found)
    if best is None:
        return None
    return Previous(best[1], best[2], where)


def _same_family(cand: Series, want: Wanted) -> bool:
    """A series related to vN by its thread only is an earlier revision when it shares
    vN's author or one of its titles, as revisions are grouped (``series.build``): a
    cover letter sent in reply to another author's patch does not make that patch's
    series "v1" of it."""
    for m in _mails(cand):
        if identity(m.author) & want.authors:
            return True
        if m.subject.title and title_key(m.subject.title) in want.titles:
            return True
    return False


def _better(new: FoundBy, old: FoundBy | None) -> bool:
    return old is None or _PRIORITY[new] < _PRIORITY[old]


MAX_SEARCH_IDS = 10  # Message-IDs (links, In-Reply-To) named in one search
SEARCH_DAYS = 365  # a subject search looks this far back (as b4 does)


def search_query(series: Series) -> str | None:
    """One public-inbox search that finds vN-1 of ``series`` however it is related: its
    change-id, the Message-IDs vN links to or replies to, or its title and author in the
    year before vN (b4's fallback). None when there is nothing to search for."""
    want = wanted(series)
    terms: list[str] = []
    if want.change_id:
        terms.append(f'nq:"change-id: {_plain(want.change_id)}"')
    for mid in [*want.links, *sorted(want.refs)][:MAX_SEARCH_IDS]:
        if _SEARCHABLE_ID.fullmatch(mid):
            terms.append(f"m:{mid}")
    title = _plain(want.title)
    if title and want.author and _SEARCHABLE_ID.fullmatch(want.author):
        subject = f's:"{title}" AND f:"{want.author}"'
        if want.date is not None:
            start = time.strftime("%Y%m%d", time.gmtime(want.date - SEARCH_DAYS * 86400))
            end = time.strftime("%Y%m%d", time.gmtime(want.date + 86400))
            subject += f" AND d:{start}..{end}"
        terms.append(f"({subject})")
    return " OR ".join(terms) if terms else None


_SEARCHABLE_ID = re.compile(r"[^\s\"()<>]{1,250}")


def _plain(text: str) -> str:
    """Text for a quoted search phrase: no double quotes, no control characters."""
    return " ".join(text.replace('"', " ").replace("\\", " ").split())[:200]
