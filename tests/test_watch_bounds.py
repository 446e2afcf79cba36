"""What the watch state keeps is what the bot needs (issue 20, item 8: a 50-entry feed
made a 1.4 GB database), and one watcher per database file, however it is named
(item 10)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewbot.bot.policy import Policy
from reviewbot.bot.state import StateError, Store
from tests import mailgen
from tests.strategies import address_list
from tests.watchenv import Env


def _raw_bytes(env: Env) -> int:
    store = env.store()
    try:
        return int(store.db.execute("SELECT coalesce(sum(length(raw)), 0) FROM messages")
                   .fetchone()[0])
    finally:
        store.close()


def test_a_decided_series_keeps_no_message_bytes(tmp_path: Path) -> None:
    env = Env(tmp_path, policy=Policy(grace=600))
    env.deliver(mailgen.series("kept", total=3) + mailgen.series("waits", total=3)[:2])
    env.run()
    states = env.series_states()
    assert states == {"[PATCH 0/3] kept: fixes": "replied",
                      "[PATCH 0/3] waits: fixes": "waiting"}
    waiting = sum(len(m.data) for m in mailgen.series("waits", total=3)[:2])
    assert _raw_bytes(env) == waiting  # only the series still to review keeps its mail
    env.clock.now += 601
    env.run()
    assert _raw_bytes(env) == 0


def test_the_database_file_shrinks_when_bytes_are_dropped(tmp_path: Path) -> None:
    env = Env(tmp_path, policy=Policy(grace=0))
    big = mailgen.series("big", total=1, findings=False)[0]
    padding = b"\n".join(b"+\tfrob_table[%d] = %d;" % (i, i) for i in range(100_000))
    env.deliver([mailgen.Msg(big.msgid, big.data.replace(b"\n-- \n", b"\n" + padding
                                                         + b"\n-- \n"))])
    env.run()
    assert _raw_bytes(env) == 0
    store = env.store()
    try:
        pages, size = (store.db.execute(f"PRAGMA {p}").fetchone()[0]
                       for p in ("page_count", "page_size"))
    finally:
        store.close()
    assert pages * size < 1 << 20  # the 2.5 MB message is not kept, not even as free pages


def test_a_series_keeps_a_bounded_recipient_list(tmp_path: Path) -> None:
    """Every To/Cc address of every patch was stored with its series (a JSON list
    rewritten at each patch); now at most MAX_RECIPIENTS, the policy's lists first."""
    from reviewbot.bot.state import MAX_RECIPIENTS

    env = Env(tmp_path, policy=Policy(grace=600, lists=("frob-team@example.net",)))
    msgs = mailgen.series("cc", total=2, findings=False)
    many = address_list(5000)
    for n, m in enumerate(msgs):  # the policy's list only on the last patch, at the end
        extra = ",\n frob-team@example.net" if n == len(msgs) - 1 else ""
        data = m.data.replace(b"\nSubject:", f"\nCc: {many}{extra}\nSubject:".encode(), 1)
        env.deliver([mailgen.Msg(m.msgid, data)])
    env.run()
    store = env.store()
    try:
        [row] = store.series_in(["waiting", "clean", "replied"])
    finally:
        store.close()
    assert len(row.recipients) == MAX_RECIPIENTS
    assert row.recipients[0] == "frob-team@example.net" and mailgen.LIST in row.recipients
    assert env.series_states() == {"[PATCH 0/2] cc: fixes": "clean"}  # not skipped


def test_errors_are_kept_bounded(tmp_path: Path) -> None:
    from reviewbot.bot.state import MAX_ERRORS

    store = Store(tmp_path / "s.sqlite")
    try:
        with store.transaction():
            for n in range(MAX_ERRORS + 550):
                store.add_error("source", "lore:x", f"problem {n}", float(n))
        count = store.db.execute("SELECT count(*) FROM errors").fetchone()[0]
        assert MAX_ERRORS <= count < MAX_ERRORS + 100
        assert store.errors(1)[0].reason == f"problem {MAX_ERRORS + 549}"
    finally:
        store.close()


@pytest.mark.parametrize("how", ["symlink", "hard-link", "directory-symlink", "dot-path"])
def test_one_watcher_per_database_file(tmp_path: Path, how: str) -> None:
    real = tmp_path / "real" / "watch.sqlite"
    first = Store(real, lock=True)
    try:
        if how == "symlink":
            other = tmp_path / "link.sqlite"
            other.symlink_to(real)
        elif how == "hard-link":
            other = tmp_path / "hard.sqlite"
            os.link(real, other)
        elif how == "directory-symlink":
            (tmp_path / "dir").symlink_to(real.parent)
            other = tmp_path / "dir" / "watch.sqlite"
        else:
            other = real.parent / "." / ".." / "real" / "watch.sqlite"
        with pytest.raises(StateError, match="another 'reviewbot watch' is using"):
            Store(other, lock=True)
        assert not Path(f"{other}-wal").exists() or how != "hard-link"  # SQLite never saw it
    finally:
        first.close()
    Store(real, lock=True).close()  # released on close
