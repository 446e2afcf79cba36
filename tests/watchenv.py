"""A watch bot on real Maildirs in a temporary directory, with a clock the test moves."""

from __future__ import annotations

import email
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.bot.delivery import Sender
from reviewbot.bot.log import EventLog
from reviewbot.bot.outbox import Outbox
from reviewbot.bot.policy import Policy
from reviewbot.bot.sources import MaildirSource
from reviewbot.bot.state import Store
from reviewbot.bot.watch import Watcher
from tests import mailgen


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@dataclass
class Env:
    root: Path
    policy: Policy = field(default_factory=lambda: Policy(grace=600))
    clock: Clock = field(default_factory=lambda: Clock(mailgen.BASE_DATE + 60))
    sender: Sender | None = None
    delivered: int = 0

    def __post_init__(self) -> None:
        self.maildir = mailgen.make_maildir(self.root / "inbox")
        self.outbox_dir = self.root / "outbox"
        self.state = self.root / "state.sqlite"
        self.logs = ListHandler()
        self.logger = logging.getLogger(f"test.watch.{id(self)}")
        self.logger.addHandler(self.logs)
        self.logger.setLevel(logging.DEBUG)
        self.logger.propagate = False

    def deliver(self, msgs: list[mailgen.Msg]) -> None:
        mailgen.deliver(self.maildir, msgs, self.delivered)
        self.delivered += len(msgs)

    def run(self, cycles: int = 1,
            prepare: Callable[[Watcher], None] | None = None) -> Watcher:
        """Start a watcher (as after a restart: reconcile first) and run ``cycles``."""
        sender = self.sender
        if sender is None and self.policy.send:
            from reviewbot.bot.send import smtp_sender

            sender = smtp_sender(self.policy)
        store = Store(self.state, lock=True)
        try:
            watcher = Watcher(store, [MaildirSource(self.maildir)], Outbox(self.outbox_dir),
                              self.policy, sender=sender, clock=self.clock,
                              log=EventLog(self.logger))
            if prepare is not None:
                prepare(watcher)
            watcher.delivery.reconcile()
            for _ in range(cycles):
                watcher.cycle()
            return watcher
        finally:
            store.close()

    def store(self) -> Store:
        return Store(self.state, readonly=True)

    def series_states(self) -> dict[str, str]:
        store = self.store()
        try:
            rows = store.db.execute("SELECT subject, state FROM series").fetchall()
            return {r[0]: r[1] for r in rows}
        finally:
            store.close()

    def drafts(self) -> list[email.message.Message]:
        out = []
        for sub in ("new", "cur"):
            d = self.outbox_dir / sub
            if d.is_dir():
                out.extend(email.message_from_bytes(p.read_bytes()) for p in sorted(d.iterdir()))
        return out

    def events(self, event: str) -> list[str]:
        return [line for line in self.logs.lines if f"event={event} " in line]
