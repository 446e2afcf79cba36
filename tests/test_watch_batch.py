"""``watch`` ingests a backlog in batches bounded by bytes as well as by count: 200
messages of 10 MiB (the message limit) would hold 2 GB before one transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.bot import watch
from reviewbot.bot.sources import Arrival, Entry, MaildirSource
from reviewbot.bot.state import Store
from tests import mailgen
from tests.watchenv import Env


def test_a_batch_stops_at_its_byte_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    env = Env(tmp_path)
    msgs = [mailgen.mail(msgid=f"big{i}@example.org", subject=f"chat {i}",
                         body="x" * 2000 + "\n", date=mailgen.BASE_DATE + i)
            for i in range(30)]
    env.deliver(msgs)
    monkeypatch.setattr(watch, "BATCH_BYTES", 5000)
    held: list[int] = []  # messages read and not yet written, at each transaction
    reads = [0]
    real_read, real_transaction = MaildirSource.read, Store.transaction

    def read(self: MaildirSource, entry: Entry, max_bytes: int) -> Arrival | None:
        reads[0] += 1
        return real_read(self, entry, max_bytes)

    @contextlib.contextmanager
    def transaction(self: Store) -> Iterator[None]:
        held.append(reads[0])
        reads[0] = 0
        with real_transaction(self):
            yield
    monkeypatch.setattr(MaildirSource, "read", read)
    monkeypatch.setattr(Store, "transaction", transaction)
    env.run()
    assert max(held) == 3  # 3 x ~2.3 KB passes 5000 bytes: the batch ends there
    store = env.store()
    try:
        assert store.message_counts()["ignored"] == 30  # every message still ingested
    finally:
        store.close()
