"""Hostile servers: redirects elsewhere, headers that trickle, lists whose threads stall
or are huge. Real HTTP servers on 127.0.0.1 (tests/fault_server.py), real subprocesses
where time and memory are measured. Each case ends in seconds with one clear line, or a
bounded poll."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.bot.lore import LoreSource
from reviewbot.errors import FetchError
from reviewbot.fetch.http import HttpPolicy, http_get
from tests.conftest import ROOT
from tests.fault_server import (
    BIG_ENTRIES,
    FEED_ENTRIES,
    THREAD_MSGID,
    FaultServer,
    fault_server,
    running,
)
from tests.peak_rss import run_measured
from tests.test_lore_faults import assert_one_line_error, cache_files, check

__all__ = ["fault_server"]


@pytest.fixture(scope="module")
def other_server() -> Iterator[FaultServer]:
    """A second server (another port): a redirect to it must not be followed."""
    with running() as srv:
        yield srv


# -- redirects (issue 20, item 6) -------------------------------------------------------

@pytest.mark.parametrize("where", ["other-port", "other-host"])
def test_a_redirect_to_another_server_is_refused(
        capsys: pytest.CaptureFixture[str], fault_server: FaultServer,
        other_server: FaultServer, tmp_path: Path, where: str) -> None:
    fault_server.other = other_server.url if where == "other-port" else None
    target = other_server if where == "other-port" else fault_server
    before = target.hits["ok"]
    try:
        code, out, err = check(capsys, fault_server.mode_url("redirect-away"))
    finally:
        fault_server.other = None
    other = other_server.url if where == "other-port" else fault_server.url.replace(
        "127.0.0.1", "localhost")
    assert_one_line_error(code, out, err, "redirected to", f"{other}/ok/{THREAD_MSGID}",
                          "not followed")
    assert target.hits["ok"] == before  # the other server never saw a request
    assert cache_files(tmp_path) == []


def test_a_redirect_on_the_same_server_is_followed(capsys: pytest.CaptureFixture[str],
                                                   fault_server: FaultServer) -> None:
    before = fault_server.hits["ok"]
    code, out, err = check(capsys, fault_server.mode_url("redirect-here"))
    assert code == 1, err
    assert len(json.loads(out)["patches"]) == 2
    assert fault_server.hits["ok"] == before + 1


def test_http_get_refuses_a_scheme_change(fault_server: FaultServer) -> None:
    from reviewbot.fetch.http import _redirect

    here = fault_server.url + "/x/t.mbox.gz"
    assert _redirect(here, "/y/t.mbox.gz") == fault_server.url + "/y/t.mbox.gz"
    https = here.replace("http://", "https://")
    with pytest.raises(FetchError, match=r"redirected to https://.*not followed"):
        _redirect(here, https)
    with pytest.raises(FetchError, match="without a Location"):
        _redirect(here, None)


def test_watch_refuses_a_feed_redirected_to_another_server(
        fault_server: FaultServer, other_server: FaultServer, tmp_path: Path) -> None:
    """``watch --lore-list``: the list's feed answers with a redirect to another port;
    the other server is never asked, the poll's error names the refused target."""
    fault_server.other = other_server.url
    before = sum(other_server.hits.values())
    env, policy = _watch_env(tmp_path, timeout=5, interval=60)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "reviewbot", "watch", "--lore-list",
             fault_server.mode_url("redirect-away").rstrip("/"), "--outbox",
             str(tmp_path / "out"), "--state", str(tmp_path / "s.sqlite"), "--policy",
             str(policy), "--once"], capture_output=True, text=True, env=env, timeout=60)
    finally:
        fault_server.other = None
    assert proc.returncode == 0, proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if "event=source" in ln]
    assert f"redirected to {other_server.url}/ok/new.atom" in line, line
    assert "not followed" in line and "Traceback" not in proc.stderr
    assert sum(other_server.hits.values()) == before  # never asked


# -- a deadline for the whole request (issue 20, item 7) --------------------------------

def test_trickled_headers_end_at_the_timeout(capsys: pytest.CaptureFixture[str],
                                             fault_server: FaultServer) -> None:
    """One header byte every 0.2 s: every read is well within any socket timeout; the
    request as a whole must still end at --timeout (it took 60 s for --timeout 3)."""
    start = time.monotonic()
    code, out, err = check(capsys, fault_server.mode_url("trickle"), "--timeout", "1")
    took = time.monotonic() - start
    assert_one_line_error(code, out, err, "timed out after 1 s", "--timeout")
    assert took < 2.0, took
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 0\.5 s"):
        http_get(fault_server.mode_url("trickle") + "a@b/t.mbox.gz", HttpPolicy(timeout=0.5))
    assert time.monotonic() - start < 1.5


def test_the_deadline_leaves_no_timer_or_socket_behind(fault_server: FaultServer) -> None:
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        http_get(fault_server.mode_url("ok") + "x@y/t.mbox.gz", HttpPolicy(timeout=5))
        with pytest.raises(FetchError, match="timed out"):
            http_get(fault_server.mode_url("trickle") + "a@b/t.mbox.gz",
                     HttpPolicy(timeout=0.3))
    time.sleep(0.5)  # the server's handlers notice the closed sockets
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)]
    assert len(os.listdir("/proc/self/fd")) <= fds + 2


# -- one poll of a lore list is bounded (issue 20, item 8) ------------------------------

def _watch_env(tmp_path: Path, timeout: float, interval: float) -> tuple[dict[str, str], Path]:
    """A config file with ``lore_timeout`` and a policy with ``lore_interval``."""
    cfg = tmp_path / "cfg" / "reviewbot"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text(f"lore_timeout = {timeout}\n")
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[review]\nlore_interval = {interval}\ngrace = 0\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return env, policy


def test_a_list_of_stalled_threads_does_not_hold_a_poll(fault_server: FaultServer,
                                                         tmp_path: Path) -> None:
    """100 entries whose threads never answer held one poll for 50 minutes: now the
    poll ends after lore_interval (here 3 s), says so, and the run ends normally."""
    env, policy = _watch_env(tmp_path, timeout=1, interval=3)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "reviewbot", "watch", "--lore-list",
         fault_server.mode_url("feed-stall").rstrip("/"), "--outbox", str(tmp_path / "out"),
         "--state", str(tmp_path / "s.sqlite"), "--policy", str(policy), "--once"],
        capture_output=True, text=True, env=env, timeout=40)
    took = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert "event=source" in proc.stderr and "poll stopped after" in proc.stderr
    assert f"of {FEED_ENTRIES} new threads: it took 3 s" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert took < 3 + 1 + 8, took  # the poll, one request's overrun, start-up


def test_a_thread_that_failed_is_not_asked_for_at_every_poll(fault_server: FaultServer
                                                             ) -> None:
    """The stalled threads at the head of a feed would take every poll's time, and the
    threads after them would never be fetched: one that failed waits a few polls."""
    from reviewbot.bot.lore import poll_seconds

    source = LoreSource(fault_server.mode_url("feed-stall").rstrip("/"), interval=0,
                        timeout=1)
    assert poll_seconds(0, 1) == 1  # one timeout: a poll gives one thread its chance
    asked: list[str] = []
    for _ in range(12):
        source.pending(set())
        asked += [n.split("<")[1].split(">")[0] for n in source.drain_notes()
                  if "cannot fetch" in n]
        if len(asked) >= 4:
            break
    assert len(asked) >= 4 and len(set(asked[:4])) == 4, asked  # new ones first


def _poll_in_a_subprocess(url: str, tmp_path: Path) -> tuple[str, int]:
    """One poll of ``url`` in a fresh interpreter: its summary line and peak RSS (KiB)."""
    probe = ("import sys\nfrom reviewbot.bot.lore import LoreSource\n"
             "src = LoreSource(sys.argv[1], interval=0, timeout=30)\n"
             "entries = src.pending(set())\n"
             "kept = sum(len(v) for v in src.fetched.values())\n"
             "print(len(entries), kept, src.drain_notes())\n")
    out_file, err_file = tmp_path / "poll.out", tmp_path / "poll.err"
    with out_file.open("wb") as out_f, err_file.open("wb") as err_f:
        run = run_measured([sys.executable, "-c", probe, url], tmp_path, cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(ROOT)},
                           stdout=out_f, stderr=err_f)
    assert run.returncode == 0, err_file.read_bytes()
    return out_file.read_text(), run.peak_kib


def test_a_poll_keeps_a_bounded_number_of_bytes(fault_server: FaultServer,
                                                tmp_path: Path) -> None:
    """50 entries of 12 MiB threads: every thread was kept (600 MiB, 761 MB of memory);
    a poll now keeps at most MAX_POLL_BYTES and leaves the rest for the next poll."""
    out, peak = _poll_in_a_subprocess(fault_server.mode_url("feed-big").rstrip("/"),
                                      tmp_path)
    assert peak < 350 * 1024, peak  # KiB
    from reviewbot.bot.lore import MAX_POLL_BYTES

    entries, kept, notes = out.split(" ", 2)
    assert 0 < int(kept) <= MAX_POLL_BYTES
    assert 0 < int(entries) < BIG_ENTRIES * 3
    assert "poll stopped after" in notes and "a poll keeps at most" in notes


def test_a_thread_over_its_limit_is_refused(fault_server: FaultServer) -> None:
    source = LoreSource(fault_server.mode_url("feed-big").rstrip("/"), interval=0,
                        timeout=30, max_thread_bytes=1 << 20)
    assert source.pending(set()) == []
    notes = source.drain_notes()
    assert notes and all("more than" in n for n in notes if "cannot fetch" in n)


def test_the_thread_of_a_feed_holds_the_series(fault_server: FaultServer) -> None:
    """What the feed-big server sends is a real thread (a check on the test server)."""
    data = gzip.decompress(fault_server.big_thread(7))
    assert data.count(b"\nMessage-ID: <") == 3 and b"[PATCH 2/2] feed-big 7" in data
