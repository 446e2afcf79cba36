"""Deliver recorded replies exactly once: drafts into the outbox, or SMTP when the policy
says so, within the policy's embargo, quiet hours and hourly cap.

The order of writes is what makes a crash harmless:

- a reply is recorded (``pending``, with its outbox file name) before anything leaves;
- a draft is written under that name, then marked ``drafted``: a crash in between is
  found on restart because the name is already in the outbox;
- an SMTP send is marked ``sending`` before the transaction starts and ``sent`` after
  the server accepted it. A reply still ``sending`` on restart may or may not have been
  delivered: it is never sent again; it becomes ``uncertain`` and a copy goes into the
  outbox for a human to check.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
from collections.abc import Callable
from dataclasses import dataclass

from reviewbot.bot.log import EventLog
from reviewbot.bot.outbox import Outbox, set_headers
from reviewbot.bot.policy import Policy
from reviewbot.bot.state import ReplyRow, ReplyStatus, Store
from reviewbot.errors import ReviewbotError
from reviewbot.series.model import Person

Sender = Callable[[ReplyRow], None]  # raises NotSent, or ReviewbotError when unsure
MAX_SEND_ATTEMPTS = 4
RETRY_DELAY = 60.0  # seconds, doubled after every failed attempt
FINAL = ("drafted", "sent", "uncertain", "failed")
DRAFT_BATCH = 100  # drafts made durable and marked together


def address_header(people: tuple[Person, ...]) -> str | None:
    if not people:
        return None
    return ", ".join(email.utils.formataddr((p.name, p.email), "utf-8") for p in people)


class NotSent(ReviewbotError):
    """A send failed and the reply certainly did not go out (safe to try again, unless
    ``permanent``). Any other error from a Sender leaves it unknown."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass
class Delivery:
    store: Store
    outbox: Outbox
    policy: Policy
    sender: Sender | None
    clock: Callable[[], float]
    log: EventLog
    # around an SMTP send: a signal ends it at once (the reply stays ``sending``, as if
    # the process had died: ``uncertain`` on the next start)
    interruptible: Callable[[], contextlib.AbstractContextManager[None]] = (
        contextlib.nullcontext)

    # -- on start -----------------------------------------------------------------------
    def reconcile(self) -> None:
        """Settle what a previous run left half done (see the module docstring)."""
        for reply in self.store.replies_in(["sending"]):
            now = self.clock()
            note = ("sending was interrupted; this reply may already have been delivered "
                    "- check before sending it")
            self.outbox.write(reply.filename, set_headers(
                reply.data, {}, {"X-Reviewbot-Uncertain": note}))
            with self.store.transaction():
                self.store.set_reply(reply.id, "uncertain", now, reason=note)
                self.store.add_error("reply", reply.msgid, note, now)
                self._settle(reply.series_id, now)
            self.log.event(now, "reply", logging.WARNING, decision="uncertain",
                           series=reply.series_id, msgid=reply.msgid, outbox=reply.filename)
        for row in self.store.series_in(["reviewed"]):
            now = self.clock()
            with self.store.transaction():
                state = self._settle(row.id, now)
            if state:
                self._log_settled(row.id, state, now)

    # -- every cycle --------------------------------------------------------------------
    def deliver(self, stop: Callable[[], bool]) -> int:
        """Deliver what may go now; returns how many replies went out."""
        done = 0
        pending = self.store.replies_in(["pending"])
        if self.sender is None and any(r.channel == "smtp" for r in pending):
            self._unsend(pending)
            pending = self.store.replies_in(["pending"])
        drafts = [r for r in pending if r.channel == "draft"]
        for start in range(0, len(drafts), DRAFT_BATCH):
            if stop():
                return done
            done += self._drafts(drafts[start:start + DRAFT_BATCH])
        for reply in pending:
            if stop():
                break
            if reply.channel == "smtp" and self._gate(reply) and self._send(reply):
                done += 1
        return done

    def _unsend(self, pending: list[ReplyRow]) -> None:
        """Replies queued for SMTP while the policy no longer sends: they become drafts."""
        now = self.clock()
        with self.store.transaction():
            for reply in pending:
                if reply.channel == "smtp":
                    self.store.set_channel(reply.id, "draft")
        for reply in pending:
            if reply.channel == "smtp":
                self.log.event(now, "reply", logging.WARNING, decision="to-draft",
                               series=reply.series_id, msgid=reply.msgid,
                               reason="queued for SMTP, but the policy does not send")

    def _drafts(self, replies: list[ReplyRow]) -> int:
        """Write drafts, make them durable, then mark them (one transaction)."""
        written = {r.id: self.outbox.write(r.filename, r.data, sync=False) for r in replies}
        self.outbox.sync()
        now = self.clock()
        settled: dict[int, str] = {}
        with self.store.transaction():
            for reply in replies:
                self.store.set_reply(reply.id, "drafted", now)
            for series_id in dict.fromkeys(r.series_id for r in replies):
                state = self._settle(series_id, now)
                if state:
                    settled[series_id] = state
        for reply in replies:
            self.log.event(now, "reply", decision="drafted", series=reply.series_id,
                           msgid=reply.msgid, outbox=reply.filename,
                           note=None if written[reply.id] else "already in the outbox")
        for series_id, state in settled.items():
            self._log_settled(series_id, state, now)
        return len(replies)

    def _gate(self, reply: ReplyRow) -> bool:
        """True when the reply may be sent now; else record (and log once) why not."""
        now = self.clock()
        held: str | None = None
        if now < reply.not_before:
            held = f"embargo until {email.utils.formatdate(reply.not_before, usegmt=True)}"
        elif self.policy.is_quiet(now):
            held = "quiet hours"
        elif self.store.sent_since(now - 3600) >= self.policy.max_per_hour:
            held = f"hourly cap of {self.policy.max_per_hour} replies reached"
        if held != reply.held:
            with self.store.transaction():
                self.store.set_held(reply.id, held)
            if held:
                self.log.event(now, "reply", decision="held", series=reply.series_id,
                               msgid=reply.msgid, reason=held)
        return held is None

    def _send(self, reply: ReplyRow) -> bool:
        assert self.sender is not None  # deliver() turned SMTP replies into drafts
        now = self.clock()
        attempts = reply.attempts + 1
        with self.store.transaction():
            self.store.set_reply(reply.id, "sending", now, attempts=attempts)
        try:
            with self.interruptible():
                self.sender(reply)
        except ReviewbotError as exc:
            self._send_failed(reply, attempts, exc)
            return False
        now = self.clock()
        with self.store.transaction():
            self.store.set_reply(reply.id, "sent", now)
            state = self._settle(reply.series_id, now)
        self.log.event(now, "reply", decision="sent", series=reply.series_id,
                       msgid=reply.msgid, to=address_header(reply.to),
                       cc=address_header(reply.cc))
        if state:
            self._log_settled(reply.series_id, state, now)
        return True

    def _send_failed(self, reply: ReplyRow, attempts: int, exc: ReviewbotError) -> None:
        now = self.clock()
        reason = " ".join(str(exc).split())
        not_sent = isinstance(exc, NotSent)
        if isinstance(exc, NotSent) and not exc.permanent and attempts < MAX_SEND_ATTEMPTS:
            retry = now + RETRY_DELAY * 2 ** (attempts - 1)
            with self.store.transaction():
                self.store.set_reply(reply.id, "pending", now, reason=reason, not_before=retry)
                self.store.add_error("reply", reply.msgid, f"send failed, will retry: {reason}",
                                     now)
            self.log.event(now, "reply", logging.WARNING, decision="retry",
                           series=reply.series_id, msgid=reply.msgid, attempt=attempts,
                           reason=reason)
            return
        status: ReplyStatus = "failed" if not_sent else "uncertain"
        if not_sent:
            note = f"not sent ({attempts} attempt{'s' if attempts > 1 else ''}): {reason}"
            header = "X-Reviewbot-Not-Sent"
        else:
            note = (f"sending failed without telling whether the server took it: {reason}; "
                    "not sent again - check before sending it")
            header = "X-Reviewbot-Uncertain"
        self.outbox.write(reply.filename, set_headers(reply.data, {}, {header: note}))
        with self.store.transaction():
            self.store.set_reply(reply.id, status, now, reason=note)
            self.store.add_error("reply", reply.msgid, note, now)
            state = self._settle(reply.series_id, now)
        self.log.event(now, "reply", logging.ERROR, decision=status, series=reply.series_id,
                       msgid=reply.msgid, reason=note, outbox=reply.filename)
        if state:
            self._log_settled(reply.series_id, state, now)

    def _settle(self, series_id: int, now: float) -> str | None:
        """Move a reviewed series on once all its replies are final; the new state."""
        row = self.store.get_series(series_id)
        if row.state != "reviewed":
            return None
        replies = self.store.series_replies(series_id)
        if any(r.status not in FINAL for r in replies):
            return None
        bad = [r for r in replies if r.status in ("uncertain", "failed")]
        if bad:
            reason = f"{len(bad)} of {len(replies)} replies not delivered for sure " \
                     f"({', '.join(sorted({r.status for r in bad}))}); copies in the outbox"
            self.store.set_state(series_id, "failed", reason, now)
            self.store.add_error("series", row.subject, reason, now)
            return "failed"
        self.store.set_state(series_id, "replied", None, now)
        return "replied"

    def _log_settled(self, series_id: int, state: str, now: float) -> None:
        row = self.store.get_series(series_id)
        self.log.event(now, "series", logging.INFO if state == "replied" else logging.ERROR,
                       decision=state, series=series_id, subject=row.subject,
                       reason=row.reason)
