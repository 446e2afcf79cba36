"""Follow a public-inbox list over HTTP (``--lore-list https://lore.kernel.org/linux-mm``).

Every ``lore_interval`` seconds the list's ``new.atom`` feed is read; for each new entry
that is a patch or a cover letter, its thread is fetched (``t.mbox.gz``, with the lore
code of ``reviewbot.fetch.lore``) and the messages of the same series revision are
handed to the watcher: the feed only shows the newest entries, the thread fills the gaps.
Replies and discussion in the feed are not fetched at all.

One poll is bounded in time and memory, whatever the server does: every request within
the lore timeout (``lore_timeout`` in the config file, else 30 s), the whole poll within
:func:`poll_seconds`; a thread within MAX_THREAD_BYTES, the messages kept from one poll
within MAX_POLL_BYTES. What does not fit is left for the next poll (said in a note). A
thread that failed is asked for again after the new ones, and only after 1, 2, 4, ...
polls: a list of stalled threads does not starve the others.
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
MAX_THREAD_BYTES = 32 * 1024 * 1024  # one thread, decompressed
MAX_POLL_BYTES = 64 * 1024 * 1024  # messages kept from one poll (until the watcher reads them)
POLL_TIMEOUTS = 4  # a poll takes at most this many request timeouts (and lore_interval)
MAX_BACKOFF_POLLS = 32  # a thread that keeps failing is asked for once in this many polls


def poll_seconds(interval: float, timeout: float) -> float:
    """How long one poll may take: ``POLL_TIMEOUTS`` request timeouts, and no longer
    than the interval between two polls, but at least one timeout."""
    return max(timeout, min(interval, POLL_TIMEOUTS * timeout))


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

    def __init__(self, url: str, interval: float = 300.0, timeout: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 max_poll_bytes: int = MAX_POLL_BYTES,
                 max_thread_bytes: int = MAX_THREAD_BYTES) -> None:
        from reviewbot.fetch.lore import lore_options, normalize_base_url

        self.base = normalize_base_url(url)
        self.name = f"lore:{self.base}"
        if timeout is None:  # the default of `check` (the front end passes the config's)
            timeout = lore_options().http.timeout
        self.interval, self.timeout, self.clock = interval, timeout, clock
        self.max_poll_bytes, self.max_thread_bytes = max_poll_bytes, max_thread_bytes
        self.last_poll: float | None = None
        self.fetched: dict[str, bytes] = {}
        self.notes: list[str] = []
        self.polls = 0
        self.failed: dict[str, tuple[int, int]] = {}  # msgid: (failures, next poll to try)

    @staticmethod
    def key(msgid: str) -> str:
        return "lore:" + msgid

    def pending(self, seen: Set[str]) -> list[Entry]:
        now = self.clock()
        if self.last_poll is not None and now - self.last_poll < self.interval:
            return []
        from reviewbot.fetch.http import HttpPolicy, http_get

        budget = poll_seconds(self.interval, self.timeout)
        end = time.monotonic() + budget
        feed_url = self.base + "new.atom"
        answer = http_get(feed_url, HttpPolicy(timeout=self.timeout, max_bytes=MAX_FEED_BYTES))
        self.last_poll = now
        self.polls += 1
        entries = parse_feed(answer.data, feed_url)
        self.fetched.clear()
        kept = 0
        wanted = [item for item in entries if self._wanted(item, seen)]
        listed = {item.msgid for item in wanted}
        self.failed = {m: f for m, f in self.failed.items() if m in listed}
        wanted.sort(key=lambda item: item.msgid in self.failed)  # new threads first
        out: list[Entry] = []
        for n, item in enumerate(wanted):
            if self.key(item.msgid) in self.fetched:
                continue
            failures, retry = self.failed.get(item.msgid, (0, 0))
            if retry > self.polls:
                continue
            left = end - time.monotonic()
            if left <= 0:
                self._stopped(n, len(wanted), f"it took {budget:g} s")
                break
            try:
                got = self._series_of(item.msgid, seen, min(self.timeout, left))
            except ReviewbotError as exc:
                self.failed[item.msgid] = (failures + 1, self.polls + 1 + min(
                    2 ** failures, MAX_BACKOFF_POLLS))  # skip 1, 2, 4, ... polls
                self.notes.append(f"cannot fetch the thread of <{item.msgid}>: {exc}")
                continue
            self.failed.pop(item.msgid, None)
            size = sum(len(raw) for _, raw in got)
            if kept and kept + size > self.max_poll_bytes:
                self._stopped(n, len(wanted), f"{kept} bytes of messages were fetched "
                              f"(a poll keeps at most {self.max_poll_bytes})")
                break
            for key, raw in got:
                self.fetched[key] = raw
                kept += len(raw)
                out.append(Entry(key, key[len("lore:"):]))
        return out

    def _stopped(self, done: int, total: int, why: str) -> None:
        self.notes.append(f"poll stopped after {done} of {total} new threads: {why}; the "
                          "others are fetched by the next poll")

    def _wanted(self, item: FeedEntry, seen: Set[str]) -> bool:
        subject = parse_subject(item.title)
        return subject.is_patch and not subject.is_reply and self.key(item.msgid) not in seen

    def _series_of(self, msgid: str, seen: Set[str],
                   timeout: float) -> list[tuple[str, bytes]]:
        """The unseen messages of the series revision ``msgid`` belongs to (keys and
        bytes)."""
        from reviewbot.fetch.http import HttpPolicy
        from reviewbot.fetch.lore import LoreOptions, fetch_thread

        opts = LoreOptions(url=self.base, use_cache=False, http=HttpPolicy(timeout=timeout),
                           max_thread_bytes=self.max_thread_bytes)
        thread = fetch_thread(self.base, msgid, opts)
        mails = {}
        for raw in thread.messages:  # the headers say which series a message is in
            head, sep, _ = raw.partition(b"\n\n")
            mail = parse_mail(head + sep) if sep else parse_mail(raw)
            mails[mail.msgid] = (mail, raw)
        if msgid not in mails:
            raise FetchError(f"the thread from {self.base} does not hold <{msgid}>")
        want = group_key(mails[msgid][0]).key
        out: list[tuple[str, bytes]] = []
        for mid, (mail, raw) in mails.items():
            key = self.key(mid)
            if key in seen or key in self.fetched:
                continue
            if mail.subject.is_reply or not mail.subject.is_patch or group_key(mail).key != want:
                continue
            out.append((key, raw))
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
