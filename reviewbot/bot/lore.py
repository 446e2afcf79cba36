"""Follow a public-inbox list over HTTP (``--lore-list https://lore.kernel.org/linux-mm``).

Every ``lore_interval`` seconds the list's ``new.atom`` feed is read; for each new entry
that is a patch or a cover letter, its thread is fetched (``t.mbox.gz``, with the lore
code of ``reviewbot.fetch.lore``) and the messages of the same series revision are
handed to the watcher: the feed only shows the newest entries, the thread fills the gaps.
Replies and discussion in the feed are not fetched at all.
"""

from __future__ import annotations

import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Set
from dataclasses import dataclass

from reviewbot.bot.sources import Arrival, Entry
from reviewbot.bot.trigger import group_key
from reviewbot.errors import FetchError, ReviewbotError
from reviewbot.series.mail import parse_mail
from reviewbot.series.subject import parse_subject

_ATOM = "{http://www.w3.org/2005/Atom}"
MAX_FEED_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class FeedEntry:
    msgid: str
    title: str


def parse_feed(data: bytes, origin: str) -> list[FeedEntry]:
    """The entries of a public-inbox Atom feed, oldest first."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise FetchError(f"{origin}: not an Atom feed ({exc})") from exc
    if root.tag != f"{_ATOM}feed":
        raise FetchError(f"{origin}: not an Atom feed (root element {root.tag[:60]!r})")
    out: list[FeedEntry] = []
    for entry in root.iter(f"{_ATOM}entry"):
        title = " ".join((entry.findtext(f"{_ATOM}title") or "").split())
        for link in entry.iter(f"{_ATOM}link"):
            href = link.get("href") or ""
            if link.get("rel", "alternate") != "alternate" or not href:
                continue
            segment = urllib.parse.urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
            msgid = urllib.parse.unquote(segment)
            if msgid and "@" in msgid and len(msgid) < 1000:
                out.append(FeedEntry(msgid, title))
            break
    out.reverse()
    return out


class LoreSource:
    """A Source (see ``reviewbot.bot.sources``) reading a public-inbox list."""

    def __init__(self, url: str, interval: float = 300.0, timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        from reviewbot.fetch.lore import normalize_base_url

        self.base = normalize_base_url(url)
        self.name = f"lore:{self.base}"
        self.interval, self.timeout, self.clock = interval, timeout, clock
        self.last_poll: float | None = None
        self.fetched: dict[str, bytes] = {}
        self.notes: list[str] = []

    @staticmethod
    def key(msgid: str) -> str:
        return "lore:" + msgid

    def pending(self, seen: Set[str]) -> list[Entry]:
        now = self.clock()
        if self.last_poll is not None and now - self.last_poll < self.interval:
            return []
        from reviewbot.fetch.http import HttpPolicy, http_get

        feed_url = self.base + "new.atom"
        answer = http_get(feed_url, HttpPolicy(timeout=self.timeout, max_bytes=MAX_FEED_BYTES))
        self.last_poll = now
        entries = parse_feed(answer.data, feed_url)
        self.fetched.clear()
        out: list[Entry] = []
        for item in entries:
            subject = parse_subject(item.title)
            key = self.key(item.msgid)
            if not subject.is_patch or subject.is_reply or key in seen or key in self.fetched:
                continue
            try:
                out.extend(self._series_of(item.msgid, seen))
            except ReviewbotError as exc:
                self.notes.append(f"cannot fetch the thread of <{item.msgid}>: {exc}")
        return out

    def _series_of(self, msgid: str, seen: Set[str]) -> list[Entry]:
        """The unseen messages of the series revision ``msgid`` belongs to."""
        from reviewbot.fetch.lore import LoreOptions, fetch_thread

        thread = fetch_thread(self.base, msgid, LoreOptions(url=self.base, use_cache=False))
        mails = {}
        for raw in thread.messages:
            mail = parse_mail(raw)
            mails[mail.msgid] = (mail, raw)
        if msgid not in mails:
            raise FetchError(f"the thread from {self.base} does not hold <{msgid}>")
        want = group_key(mails[msgid][0]).key
        out: list[Entry] = []
        for mid, (mail, raw) in mails.items():
            key = self.key(mid)
            if key in seen or key in self.fetched:
                continue
            if mail.subject.is_reply or not mail.subject.is_patch or group_key(mail).key != want:
                continue
            self.fetched[key] = raw
            out.append(Entry(key, mid))
        return out

    def read(self, entry: Entry, max_bytes: int) -> Arrival | None:
        raw = self.fetched.pop(entry.key, None)
        if raw is None:
            return None  # listed by an earlier poll: it will be listed again
        if len(raw) > max_bytes:
            return Arrival(entry, None, f"message larger than {max_bytes} bytes ({len(raw)})")
        return Arrival(entry, raw)

    def drain_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes
