"""SIGTERM stops every command within seconds, at any point (issue 20, item 9), and two
watchers never share a state database (item 10). Real signals to real subprocesses."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import mailgen
from tests.conftest import ROOT
from tests.fault_server import FaultServer, fault_server

__all__ = ["fault_server"]

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
STOP_WITHIN = 3.0  # seconds from SIGTERM to the end of the process


def big_patch(functions: int, tag: str = "big") -> bytes:
    """One patch adding ``functions`` small functions (13 lines each, one STY001 finding
    each): a legitimate series whose review takes seconds (about 1.6 ms a function)."""
    body: list[str] = []
    for i in range(functions):
        body += [f"static int frob_{i}(struct frob_dev *dev, int val)", "{", "\tint ret = 0;",
                 "", f"\tif (val < {i}) {{", "\t\treturn -ERANGE;", "\t}",
                 "\tspin_lock(&dev->lock);", "\tdev->val = val;", "\tspin_unlock(&dev->lock);",
                 "\treturn ret;", "}", ""]
    diff = "".join(f"+{line}\n" for line in body)
    return (f"From: Ada <ada@example.org>\nTo: {mailgen.LIST}\nSubject: [PATCH] frob: {tag}\n"
            f"Message-ID: <{tag}@example.org>\nDate: Thu, 01 Jan 2026 00:00:00 +0000\n\n"
            "Add them.\n---\ndiff --git a/drivers/frob/big.c b/drivers/frob/big.c\n"
            "new file mode 100644\n--- /dev/null\n+++ b/drivers/frob/big.c\n"
            f"@@ -0,0 +1,{len(body)} @@\n{diff}").encode()


def _wait_for(what: Callable[[], bool], seconds: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert proc.poll() is None, "the process ended before the point of the test"
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _terminate(proc: subprocess.Popen[bytes]) -> tuple[float, int, str]:
    """SIGTERM; how long the process took to end, its status and its stderr."""
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return time.monotonic() - start, proc.returncode, err.decode()


def _attempts(state: Path) -> int | None:
    """The attempts of the (only) series, from a reader of the live database."""
    if not state.exists():
        return None
    db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT attempts FROM series").fetchone()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return None if row is None else int(row[0])


def _series(state: Path) -> tuple[str, int, int]:
    db = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        state_, attempts = db.execute("SELECT state, attempts FROM series").fetchone()
        replies = db.execute("SELECT count(*) FROM replies").fetchone()[0]
    finally:
        db.close()
    return state_, attempts, replies


# -- watch ------------------------------------------------------------------------------

@pytest.mark.slow
def test_sigterm_during_a_review_stops_at_once_and_charges_nothing(tmp_path: Path) -> None:
    """A review of several seconds, SIGTERMed five times (a service manager stopping the
    bot again and again): each time the bot ends within seconds, the series stays
    waiting with no attempt counted, and the sixth run reviews it (before: the bot
    finished the review first, and five SIGKILLs in a row marked the series failed)."""
    maildir = mailgen.make_maildir(tmp_path / "md")
    (maildir / "new" / "1.big").write_bytes(big_patch(4000))
    state = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "reviewbot", "watch", "--maildir", str(maildir), "--outbox",
           str(tmp_path / "out"), "--state", str(state), "--once", "--grace", "0"]
    for _ in range(5):
        proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        _wait_for(lambda: _attempts(state) == 1, 60, proc)  # the review has begun
        time.sleep(0.3)
        took, code, err = _terminate(proc)
        assert took < STOP_WITHIN, (took, err)
        assert code == 0, err
        assert "event=stop" in err and "interrupted=True" in err and "Traceback" not in err
        assert _series(state) == ("waiting", 0, 0)  # as a crash leaves it, uncharged
    final = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert "decision=reviewed" in final.stderr
    assert _series(state)[0] == "replied"


def test_sigterm_during_a_stalled_lore_fetch(fault_server: FaultServer,
                                             tmp_path: Path) -> None:
    """A list whose threads never answer (30 s timeout each): SIGTERM ends the poll."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewbot", "watch", "--lore-list",
         fault_server.mode_url("feed-stall").rstrip("/"), "--outbox", str(tmp_path / "out"),
         "--state", str(tmp_path / "s.sqlite"), "--once"],
        env={**ENV, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    before = fault_server.hits["feed-stall"]
    _wait_for(lambda: fault_server.hits["feed-stall"] >= before + 2, 30, proc)  # a thread
    took, code, err = _terminate(proc)
    assert took < STOP_WITHIN, (took, err)
    assert code == 0 and "interrupted=True" in err and "Traceback" not in err, err


# -- check ------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["review", "fetch"])
def test_check_stops_on_sigterm(where: str, fault_server: FaultServer,
                                tmp_path: Path) -> None:
    if where == "review":
        path = tmp_path / "big.eml"
        path.write_bytes(big_patch(6000))
        args = [str(path), "--format", "text", "-j", "1"]
    else:
        args = ["--lore-url", fault_server.mode_url("slow"), "--timeout", "60", "a@b"]
    proc = subprocess.Popen([sys.executable, "-m", "reviewbot", "check", *args],
                            env={**ENV, "XDG_CACHE_HOME": str(tmp_path / "c")},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(2.5)
    assert proc.poll() is None
    took, code, err = _terminate(proc)
    assert took < STOP_WITHIN and code == 128 + signal.SIGTERM, (took, code, err)
    assert err == ""


_STUCK = textwrap.dedent("""
    import signal, sys, time
    from reviewbot.cli import _terminated
    from reviewbot.signals import install_backstop
    signal.signal(signal.SIGTERM, _terminated)
    install_backstop()
    print("ready", flush=True)
    if sys.argv[1] == "c":  # a minute inside one C loop that holds the interpreter
        sum(range(10**9))  # and never looks for signals (as a tree-sitter query does)
    else:  # the handler runs, then the command takes its time to clean up
        try:
            time.sleep(30)
        except SystemExit:
            time.sleep(7)
            raise
""")


@pytest.mark.parametrize("kind", ["c", "python"])
def test_the_backstop_kills_only_a_command_stuck_in_c(kind: str) -> None:
    """SIGTERM arrives while the command is inside one long call into C: its handler
    cannot run, so the backstop process kills it 5 s later. A command whose handler
    runs is left to finish its clean-up, however long it takes."""
    proc = subprocess.Popen([sys.executable, "-c", _STUCK, kind], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    time.sleep(0.5)
    took, code, err = _terminate(proc)
    if kind == "c":
        assert code == -signal.SIGKILL and 4.5 < took < 8, (code, took, err)
    else:
        assert code == 128 + signal.SIGTERM and took > 6.5, (code, took, err)


# -- one watcher per state database (item 10) --------------------------------------------

def test_a_second_watcher_through_a_link_refuses_to_start(tmp_path: Path) -> None:
    """The lock was named after the path given: through a symbolic link two watchers
    ran on one database and 62 of 65 replies went out twice."""
    maildir = mailgen.make_maildir(tmp_path / "md")
    mailgen.deliver(maildir, mailgen.series("lock", total=1))
    state = tmp_path / "real" / "watch.sqlite"
    common = ["--maildir", str(maildir), "--outbox", str(tmp_path / "out")]
    first = subprocess.Popen([sys.executable, "-m", "reviewbot", "watch", *common, "--state",
                              str(state), "--interval", "0.2"],
                             env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(lambda: _attempts(state) is not None, 60, first)  # it is running
        (tmp_path / "link.sqlite").symlink_to(state)
        (tmp_path / "dir-link").symlink_to(state.parent)
        os.link(state, tmp_path / "hard.sqlite")
        for other in (tmp_path / "link.sqlite", tmp_path / "dir-link" / "watch.sqlite",
                      tmp_path / "hard.sqlite", state.parent / "." / "watch.sqlite"):
            second = subprocess.run([sys.executable, "-m", "reviewbot", "watch", *common,
                                     "--state", str(other), "--once"],
                                    env=ENV, capture_output=True, text=True, timeout=60)
            assert second.returncode == 2, (other, second.stderr)
            assert "another 'reviewbot watch' is using" in second.stderr
            assert second.stderr.count("\n") == 1
    finally:
        _, code, err = _terminate(first)
    assert code == 0, err
