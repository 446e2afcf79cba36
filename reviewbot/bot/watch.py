"""The watch loop: read new messages, review the series that are due, deliver replies.

Every step is recorded in the state before the next one starts, so the loop can be
stopped at any point (SIGINT/SIGTERM, or kill -9 anywhere) and resumed: a message is
ingested in the same transaction that marks it seen; a series is reviewed again only if
its replies were never recorded; delivery is described in ``delivery``. A signal ends
the loop between two steps, and ends at once the steps that can be long (a review, a
poll of a lore list, an SMTP send: see :class:`Stop`), leaving the state as a crash
would, except that the interrupted review is not counted as an attempt.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reviewbot.bot.delivery import Delivery, Sender, address_header
from reviewbot.bot.log import EventLog, NoProgress, Progress
from reviewbot.bot.outbox import Outbox, draft_name, set_headers
from reviewbot.bot.policy import Policy
from reviewbot.bot.review import SeriesReviewer
from reviewbot.bot.sources import Arrival, Entry, Source
from reviewbot.bot.state import MAX_RECIPIENTS, NewReply, SeriesRow, SeriesState, StateError, Store
from reviewbot.bot.trigger import Incoming, bad_message, classify, due_reason
from reviewbot.errors import ReviewbotError
from reviewbot.report.lists import ListMatcher
from reviewbot.series.build import starts_new_batch
from reviewbot.signals import handled

if TYPE_CHECKING:
    from reviewbot.knowledge.source import KnowledgeSource
    from reviewbot.report.reply import Reply

MAX_REVIEW_ATTEMPTS = 5  # a series whose review kills the process this often is failed
BATCH = 200  # messages ingested per transaction
BATCH_BYTES = 32 * 1024 * 1024  # ... or fewer, when they hold this much


class Interrupted(BaseException):
    """A signal asked the watcher to stop in the middle of a long step."""


class Stop(threading.Event):
    """Set when the watcher is to stop (``on_signal`` is the SIGTERM/SIGINT handler).

    Between two steps the loop sees the event and ends. A step that can take long (a
    review, a poll of a lore list, an SMTP send) runs inside ``interruptible()``: a
    signal then raises :class:`Interrupted` where the step is, which ends it at once."""

    def __init__(self) -> None:
        super().__init__()
        self._long_steps = 0

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        self._long_steps += 1
        try:
            if self.is_set():
                raise Interrupted
            yield
        finally:
            self._long_steps -= 1

    def on_signal(self, signum: int, frame: object) -> None:
        handled()
        self.set()
        if self._long_steps:
            raise Interrupted


@dataclass
class Totals:
    """What one run did (for the final log line and the benchmark)."""

    messages: int = 0
    series_reviewed: int = 0
    replies: int = 0
    cycles: int = 0


@dataclass
class Watcher:
    store: Store
    sources: Sequence[Source]
    outbox: Outbox
    policy: Policy
    sender: Sender | None = None
    clock: Callable[[], float] = time.time
    log: EventLog = field(default_factory=EventLog)
    progress: Progress = field(default_factory=NoProgress)
    stop: threading.Event = field(default_factory=Stop)
    totals: Totals = field(default_factory=Totals)
    knowledge: KnowledgeSource | None = None  # the tree's index the checks use, if any

    def __post_init__(self) -> None:
        self.seen = self.store.seen_keys()
        self.reviewer = SeriesReviewer(self.policy, [s.name.removeprefix("lore:") for s in
                                                     self.sources if s.name.startswith("lore:")],
                                       self.knowledge)
        self.delivery = Delivery(self.store, self.outbox, self.policy, self.sender,
                                 self.clock, self.log, self.interruptible)
        self._lists, self._known = {x.lower() for x in self.policy.lists}, ListMatcher()

    def _needed(self, addr: str) -> bool:
        """A recipient the policy's list check needs (or a mailing list)."""
        return addr in self._lists or self._known.is_list(addr)

    def interruptible(self) -> contextlib.AbstractContextManager[None]:
        """A long step: a signal ends it at once (a plain Event: only between steps)."""
        if isinstance(self.stop, Stop):
            return self.stop.interruptible()
        return contextlib.nullcontext()

    # -- the loop -----------------------------------------------------------------------
    def run(self, once: bool = False) -> Totals:
        fields: dict[str, object] = {"once": once, "sources": len(self.sources),
                                     "mode": "send" if self.policy.send else "drafts"}
        if self.knowledge is not None:  # the tree's index the checks use
            fields["index"] = self.knowledge.describe()
        self.log.event(self.clock(), "start", logging.INFO, **fields)
        try:
            self.delivery.reconcile()
            while not self.stop.is_set():
                self.cycle()
                if once:
                    break
                self.stop.wait(self.policy.poll_interval)
        except Interrupted:
            pass  # a long step was cut short: the state is as a crash leaves it
        except sqlite3.Error as exc:  # a read (writes are StateErrors already)
            raise StateError(f"cannot read the watch state {self.store.path}: {exc}") from exc
        t = self.totals
        self.log.event(self.clock(), "stop", messages=t.messages, reviewed=t.series_reviewed,
                       replies=t.replies, interrupted=self.stop.is_set() or None)
        return t

    def cycle(self) -> None:
        self.totals.cycles += 1
        for source in self.sources:
            if self.stop.is_set():
                return
            self.ingest(source)
        if not self.stop.is_set():
            self.review_due()
            self.store.compact()
        if not self.stop.is_set():
            self.totals.replies += self.delivery.deliver(self.stop.is_set)

    # -- ingest -------------------------------------------------------------------------
    def ingest(self, source: Source) -> None:
        try:
            with self.interruptible():
                entries = source.pending(self.seen)
        except ReviewbotError as exc:
            self._source_problem(source, str(exc))
            return
        finally:
            for note in source.drain_notes():
                self._source_problem(source, note)
        if not entries:
            return
        self.progress.start("reading messages", len(entries))
        pending = iter(entries)
        try:
            while not self.stop.is_set():
                arrivals = self._batch(source, pending)
                if not arrivals:
                    break
                done: list[str] = []
                logs: list[Callable[[], None]] = []
                with self.store.transaction():
                    for arrival in arrivals:
                        if arrival is not None:
                            logs.extend(self._ingest_one(arrival))
                            done.append(arrival.entry.key)
                self.seen.update(done)
                self.totals.messages += len(done)
                for emit in logs:
                    emit()
                self.progress.advance(len(arrivals))
        finally:
            self.progress.finish()

    def _batch(self, source: Source, entries: Iterator[Entry]) -> list[Arrival | None]:
        """The next messages to ingest in one transaction: at most BATCH of them, and
        no more once they hold BATCH_BYTES (the message limit allows 10 MiB each)."""
        out: list[Arrival | None] = []
        size = 0
        for entry in entries:
            arrival = source.read(entry, self.policy.max_message_bytes)
            out.append(arrival)
            size += len(arrival.data) if arrival is not None and arrival.data else 0
            if len(out) >= BATCH or size >= BATCH_BYTES:
                break
        return out

    def _source_problem(self, source: Source, problem: str) -> None:
        now = self.clock()
        with self.store.transaction():
            self.store.add_error("source", source.name, problem, now)
        self.log.event(now, "source", logging.ERROR, source=source.name, error=problem)

    def _ingest_one(self, arrival: Arrival) -> list[Callable[[], None]]:
        """Record one message (inside the caller's transaction); log calls for later."""
        now = self.clock()
        entry = arrival.entry
        if arrival.data is None:
            reason = arrival.problem or "unreadable"
            inc = bad_message(reason)
            self.store.add_message(entry.key, inc, "bad", reason, None, None, now)
            self.store.add_error("message", entry.locator, reason, now)
            return [self._logger(now, "message", logging.WARNING, decision="bad",
                                 key=entry.key, reason=reason)]
        inc = classify(arrival.data, self.policy.max_message_bytes)
        if inc.kind == "bad":
            self.store.add_message(entry.key, inc, "bad", inc.reason, None, None, now)
            self.store.add_error("message", entry.locator, inc.reason or "bad message", now)
            return [self._logger(now, "message", logging.WARNING, decision="bad",
                                 key=entry.key, msgid=inc.msgid, reason=inc.reason)]
        if inc.kind == "ignored" or inc.group is None:
            self.store.add_message(entry.key, inc, "ignored", inc.reason, None, None, now)
            return []
        if self.store.msgid_status(inc.msgid) is not None:
            self.store.add_message(entry.key, inc, "duplicate", "Message-ID seen before",
                                   None, None, now)
            return []
        return self._join_series(entry, inc, arrival.data, now)

    def _join_series(self, entry: Entry, inc: Incoming, raw: bytes,
                     now: float) -> list[Callable[[], None]]:
        assert inc.group is not None
        logs: list[Callable[[], None]] = []
        series = self._series_for(inc)
        everyone = tuple(dict.fromkeys((*(series.recipients if series else ()),
                                        *inc.recipients)))
        needed = [addr for addr in everyone if self._needed(addr)]  # the policy's lists
        inc = dataclasses.replace(  # the series' recipients, what the policy needs first
            inc, recipients=tuple(dict.fromkeys((*needed, *everyone)))[:MAX_RECIPIENTS])
        if series is None:
            series = self.store.get_series(self.store.new_series(inc, now))
            batch = inc.group.batch if inc.group is not None else None
            if batch is not None:
                self.store.add_batch(series.id, batch)
            logs.append(self._logger(now, "series", decision="new", series=series.id,
                                     version=series.version, total=series.total,
                                     subject=inc.subject))
        if series.state != "waiting":
            self.store.add_message(entry.key, inc, "late", f"series already {series.state}",
                                   series.id, None, now)
            logs.append(self._logger(now, "message", decision="late", series=series.id,
                                     msgid=inc.msgid, state=series.state))
            return logs
        self.store.add_part(series, inc, now, recipients=inc.recipients)
        self.store.add_message(entry.key, inc, inc.kind, inc.reason, series.id, raw, now)
        return logs

    def _series_for(self, inc: Incoming) -> SeriesRow | None:
        """The series ``inc`` joins, as ``series.build`` groups an input: a numbered
        mail in no thread joins the open batch of its identity unless its number is
        there already (then it starts the next one); a mail in a thread joins its root's
        series, also when the root is a later mail of a batch (same revision and count)."""
        group = inc.group
        assert group is not None
        if group.batch is not None:
            batch = self.store.open_batch(group.batch)
            if batch is not None and not starts_new_batch(batch.parts, inc.index):
                return batch
        series = self.store.series_by_key(group.key)
        if series is None and group.root is not None and group.root != inc.msgid:
            joined = self.store.series_of(group.root)
            if joined is not None and (joined.version, joined.total) == (group.version,
                                                                          group.total):
                return joined
        return series

    def _logger(self, now: float, event: str, level: int = logging.INFO,
                **fields: object) -> Callable[[], None]:
        return lambda: self.log.event(now, event, level, **fields)

    # -- review -------------------------------------------------------------------------
    def review_due(self) -> None:
        now = self.clock()
        due = [(row, why) for row in self.store.waiting()
               if (why := due_reason(row.total, set(row.parts), row.last_seen, row.last_date,
                                     now, self.policy.grace))]
        if not due:
            return
        self._warm_up()
        self.progress.start("reviewing series", len(due))
        try:
            for row, why in due:
                if self.stop.is_set():
                    break
                self.review_one(row, why)
                self.progress.advance()
        finally:
            self.progress.finish()

    def _warm_up(self) -> None:
        """Load the rules and the C parser, and review a small built-in series
        (``bot.warmup``), before any series is charged an attempt.

        That start-up work is most of the first review in a process (ten times a later
        one); done inside ``review_one`` it made every process that died early count as
        an attempt of the series at the head of the queue, which is the same series again
        after each restart, until it was marked failed (a lost review). A failure here is
        not recorded: the review of each series meets it again and records it.
        """
        with contextlib.suppress(Exception), self.interruptible():
            self.reviewer.prepare()

    def _decide(self, row: SeriesRow, state: SeriesState, reason: str | None, now: float,
                level: int = logging.INFO, findings: int | None = None,
                **fields: object) -> None:
        with self.store.transaction():
            self.store.set_state(row.id, state, reason, now, findings=findings)
            if state == "failed":
                self.store.add_error("series", row.subject, reason or "failed", now)
        self.log.event(now, "series", level, decision=state, series=row.id,
                       subject=row.subject, version=row.version, reason=reason,
                       findings=findings, **fields)

    def review_one(self, row: SeriesRow, why: str) -> None:
        """Review one due series and record its replies (nothing is delivered here)."""
        now = self.clock()
        with self.store.transaction():
            attempts = self.store.bump_attempts(row.id)
        if attempts > MAX_REVIEW_ATTEMPTS:
            self._decide(row, "failed", f"the review did not finish in {MAX_REVIEW_ATTEMPTS} "
                         "attempts (the process died while reviewing it)", now, logging.ERROR)
            return
        reason = self.policy.skip_reason(row.author, row.subject, row.recipients)
        if reason is None and (twin := self.store.twin(row)) is not None:
            reason = f"resend of series {twin.id} ({twin.state})"
        if reason is not None:
            self._decide(row, "skipped", reason, now)
            return
        try:
            with self.interruptible():
                verdict = self.reviewer.review(self.store.raw_messages(row.id), row.version)
                replies = [] if verdict.review is None or (
                    verdict.findings == 0 and not verdict.not_addressed
                    and not self.policy.summary) else (
                    self.reviewer.render(verdict.review, now))
            if verdict.skipped is not None:
                self._decide(row, "skipped", verdict.skipped, now)
                return
            if verdict.findings == 0 and not verdict.not_addressed and not self.policy.summary:
                self._decide(row, "clean", None, now, findings=0, trigger=why, since=verdict.since,
                             patches=f"{verdict.patches}/{row.total}",
                             missing=",".join(map(str, verdict.missing)) or None)
                return
        except Interrupted:  # not the review's fault: this attempt does not count
            with self.store.transaction():
                self.store.bump_attempts(row.id, -1)
            raise
        except ReviewbotError as exc:
            self._decide(row, "failed", str(exc), now, logging.ERROR)
            return
        except Exception as exc:  # a bug on one series must not block the queue
            logging.getLogger(__name__).debug("review of series %s failed", row.id,
                                              exc_info=True)
            self._decide(row, "failed", f"internal error: {type(exc).__name__}: {exc}", now,
                         logging.ERROR)
            return
        kept = replies[: self.policy.max_per_series]
        if not kept:
            self._decide(row, "clean", "no reply rendered", now, findings=verdict.findings)
            return
        records = [self._record(row, n, r, now) for n, r in enumerate(kept, 1)]
        with self.store.transaction():
            for rec in records:
                self.store.add_reply(row.id, rec, now)
            self.store.set_state(row.id, "reviewed", None, now, findings=verdict.findings)
        self.totals.series_reviewed += 1
        self.log.event(now, "series", decision="reviewed", series=row.id, subject=row.subject,
                       version=row.version, trigger=why, patches=f"{verdict.patches}/{row.total}",
                       missing=",".join(map(str, verdict.missing)) or None,
                       findings=verdict.findings, since=verdict.since, replies=len(kept),
                       dropped=len(replies) - len(kept) or None,
                       cc_dropped=sum(r.dropped_cc for r in kept) or None,
                       channel="smtp" if self.policy.send else "draft")

    def _record(self, row: SeriesRow, seq: int, reply: Reply, now: float) -> NewReply:
        """A rendered reply as it will be stored: recipients cut down for SMTP."""
        to, cc, data = reply.to, reply.cc, reply.data
        if self.policy.send:
            lists = {x.lower() for x in self.policy.cc_lists}
            cc = tuple(p for p in reply.cc if p.email.lower() in lists)
            data = set_headers(data, {"To": address_header(to), "Cc": address_header(cc)})
        posted = min(row.first_seen, row.first_date) if row.first_date else row.first_seen
        return NewReply(seq, reply.msgid, reply.in_reply_to, reply.subject, to, cc,
                        "smtp" if self.policy.send else "draft",
                        draft_name(reply.msgid, now), data, posted + self.policy.embargo)
