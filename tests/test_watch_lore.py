"""``reviewbot watch --lore-list``: a real public-inbox server (Debian's public-inbox) on
127.0.0.1, its new.atom feed polled, new series fetched by thread."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.bot.log import EventLog
from reviewbot.bot.lore import LoreSource, parse_feed
from reviewbot.bot.outbox import Outbox
from reviewbot.bot.policy import Policy
from reviewbot.bot.state import Store
from reviewbot.bot.watch import Watcher
from reviewbot.cli import main
from reviewbot.errors import FetchError
from tests import mailgen
from tests.pi_server import PublicInboxServer
from tests.watchenv import Env

INBOX = "linux-frob"


@pytest.fixture(scope="module")
def lore(public_inbox_bin: None,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicInboxServer]:
    """A public-inbox server of its own (one list), so the feed holds only our mail."""
    with PublicInboxServer(tmp_path_factory.mktemp("watch-lore"),
                           {INBOX: mailgen.LIST}).running() as server:
        yield server


def _run(env: Env, source: LoreSource) -> Watcher:
    store = Store(env.state)
    store.lock()
    try:
        watcher = Watcher(store, [source], Outbox(env.outbox_dir), env.policy,
                          clock=env.clock, log=EventLog(env.logger))
        watcher.cycle()
        return watcher
    finally:
        store.close()


def _deliver(server: PublicInboxServer, msgs: list[mailgen.Msg], parallel: int = 1) -> None:
    if parallel == 1:
        server.deliver_many([(m.data, INBOX, "x <x@example.org>") for m in msgs])
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=parallel) as pool:  # the inbox lock orders them
        for future in [pool.submit(server.deliver, m.data, INBOX) for m in msgs]:
            future.result()


def test_feed_parsing_of_a_real_feed(lore: PublicInboxServer) -> None:
    from reviewbot.fetch.http import HttpPolicy, http_get

    _deliver(lore, mailgen.series("feedtest", total=1))
    url = lore.inbox_url(INBOX) + "new.atom"
    entries = parse_feed(http_get(url, HttpPolicy()).data, url)
    assert any(e.msgid == "1.feedtest.v1@example.org" and e.title ==
               "[PATCH] feedtest: part 1" for e in entries)
    with pytest.raises(FetchError, match="not an Atom feed"):
        parse_feed(b"<html><body>hi</body></html>", "x")
    with pytest.raises(FetchError, match="not an Atom feed"):
        parse_feed(b"\x00\x01garbage", "x")


def test_lore_list_new_series_and_revisions_reviewed_once(lore: PublicInboxServer,
                                                          tmp_path: Path) -> None:
    env = Env(tmp_path, policy=Policy(grace=600))
    source = LoreSource(lore.inbox_url(INBOX), interval=0)
    v1 = mailgen.series("wlore", total=3, date=mailgen.BASE_DATE + 10)
    _deliver(lore, [*v1, mailgen.reply_to(v1[1], 1), mailgen.noise(0, random.Random(0))])
    _run(env, source)
    got = Counter(str(m["In-Reply-To"]).strip("<>") for m in env.drafts())
    assert {k: v for k, v in got.items() if "wlore" in k} == {m.msgid: 1 for m in v1[1:]}
    # v2 in the same thread: the thread is fetched again, only v2 is new
    v2 = mailgen.series("wlore", version=2, total=3, date=mailgen.BASE_DATE + 20,
                        in_reply_to=v1[0].msgid)
    _deliver(lore, v2)
    _run(env, source)
    _run(env, source)
    got = Counter(str(m["In-Reply-To"]).strip("<>") for m in env.drafts())
    assert {k: v for k, v in got.items() if "wlore" in k} == {
        m.msgid: 1 for m in (*v1[1:], *v2[1:])}
    states = {k: v for k, v in env.series_states().items() if "wlore" in k}
    assert states == {"[PATCH 0/3] wlore: fixes": "replied",
                      "[PATCH v2 0/3] wlore: fixes": "replied"}
    store = env.store()
    try:  # replies and discussion in the feed were never fetched
        assert "ignored" not in store.message_counts()
    finally:
        store.close()


def test_thread_fills_what_the_feed_window_misses(lore: PublicInboxServer,
                                                  tmp_path: Path) -> None:
    big = mailgen.series("wbig", total=26, findings=False, date=mailgen.BASE_DATE + 30)
    _deliver(lore, big, parallel=4)
    url = lore.inbox_url(INBOX) + "new.atom"
    from reviewbot.fetch.http import HttpPolicy, http_get

    in_feed = {e.msgid for e in parse_feed(http_get(url, HttpPolicy()).data, url)}
    assert not {m.msgid for m in big} <= in_feed  # the feed shows only the newest entries
    env = Env(tmp_path, policy=Policy(grace=10**9))
    _run(env, LoreSource(lore.inbox_url(INBOX), interval=0))
    assert env.series_states()["[PATCH 0/26] wbig: fixes"] == "clean"
    line = next(e for e in env.events("series") if "wbig" in e and "decision=clean" in e)
    assert "trigger=complete" in line and "patches=26/26" in line


def test_watch_cli_with_lore_list_and_a_dead_server(lore: PublicInboxServer, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _deliver(lore, mailgen.series("wcli", total=1, date=mailgen.BASE_DATE + 40))
    state = str(tmp_path / "s.sqlite")
    code = main(["watch", "--lore-list", lore.inbox_url(INBOX).rstrip("/"), "--outbox",
                 str(tmp_path / "out"), "--state", state, "--once"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "decision=drafted" in err and "wcli" in err
    # a list that does not answer: recorded, logged, the run still ends normally
    dead = f"http://127.0.0.1:{mailgen_port()}/nothing"
    code = main(["watch", "--lore-list", dead, "--outbox", str(tmp_path / "out"),
                 "--state", state, "--once"])
    err = capsys.readouterr().err
    assert code == 0 and "event=source" in err and "cannot reach" in err
    main(["watch", "--status", "--state", state])
    out = capsys.readouterr().out
    assert "source lore:" in out and "cannot reach 127.0.0.1" in out


def mailgen_port() -> int:
    from tests.watch_smtp import free_port

    return free_port()


def test_lore_interval_limits_polling(lore: PublicInboxServer) -> None:
    now = [1000.0]
    source = LoreSource(lore.inbox_url(INBOX), interval=300, clock=lambda: now[0])
    start = time.monotonic()
    source.pending(set())
    assert source.last_poll == 1000.0
    now[0] += 100
    assert source.pending(set()) == [] and source.last_poll == 1000.0
    now[0] += 201
    source.pending(set())
    assert source.last_poll == 1301.0
    assert time.monotonic() - start < 30
