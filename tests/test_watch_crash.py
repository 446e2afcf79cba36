"""kill -9 at random points, restart, and every patch with findings still gets exactly
one reply; a backlog of 1,000+ messages is processed without duplicates."""

from __future__ import annotations

import email
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from reviewbot.bot.policy import Policy
from reviewbot.bot.state import Store
from tests import mailgen
from tests.conftest import ROOT
from tests.watch_smtp import SmtpServer
from tests.watchenv import Env

SEED = 20240607
KILLS = 12  # SIGKILLs per crash test (each run gets a wave of fresh work)


def _drafts(outbox: Path) -> list[email.message.Message]:
    return [email.message_from_bytes(p.read_bytes())
            for sub in ("new", "cur") if (outbox / sub).is_dir()
            for p in sorted((outbox / sub).iterdir())]


def _watch(tmp: Path, policy: Path) -> list[str]:
    return [sys.executable, "-m", "reviewbot", "watch", "--maildir", str(tmp / "inbox"),
            "--outbox", str(tmp / "outbox"), "--state", str(tmp / "state.sqlite"),
            "--policy", str(policy), "--once"]


def _chunks() -> list[mailgen.Backlog]:
    """The traffic, in KILLS waves: each run of the bot gets a wave of fresh work."""
    return [mailgen.backlog(24, seed=SEED + n, huge=200_000, prefix=f"w{n}")
            for n in range(KILLS)]


def _work_time(tmp: Path, policy_text: str, wave: mailgen.Backlog) -> float:
    """Seconds an uninterrupted run spends on one wave (after its imports), here."""
    mailgen.deliver(mailgen.make_maildir(tmp / "inbox"), wave.messages)
    (tmp / "policy.toml").write_text(policy_text)
    proc = subprocess.Popen(_watch(tmp, tmp / "policy.toml"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stderr is not None
    proc.stderr.readline()
    start = time.monotonic()
    proc.stderr.read()
    assert proc.wait() == 0
    return time.monotonic() - start


def _crash_run(tmp: Path, policy_text: str, waves: list[mailgen.Backlog],
               rng: random.Random, after_probe: Callable[[], None] = lambda: None) -> int:
    """Deliver a wave, run watch --once, SIGKILL it at a random point of its work;
    KILLS times; then let it finish. Returns how many kills hit a running process.

    The length of a run's work is first measured by a probe run; a run that finishes
    before its kill gives a new measure. (One probe is one sample of a noisy time, and
    the first process tends to be the slowest: under CPU load it took 1.0-1.1 s where
    the runs took 0.6-0.9 s, so too many kills came after the run had ended.)"""
    work = _work_time(tmp / "probe", policy_text, waves[0])
    after_probe()
    policy = tmp / "policy.toml"
    policy.write_text(policy_text)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = _watch(tmp, policy)
    maildir = mailgen.make_maildir(tmp / "inbox")
    hits = delivered = 0
    for wave in waves:
        mailgen.deliver(maildir, wave.messages, delivered)
        delivered += len(wave.messages)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=env)
        assert proc.stderr is not None
        proc.stderr.readline()  # "event=start": the imports are done, the work begins
        start = time.monotonic()
        try:
            proc.wait(timeout=rng.uniform(0, work))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            hits += 1
            proc.wait()
        else:
            work = time.monotonic() - start
        proc.stderr.close()
    final = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert final.returncode == 0, final.stderr
    assert "Traceback" not in final.stderr
    return hits


def _expected(waves: list[mailgen.Backlog]) -> set[str]:
    """The Message-IDs of the patches with findings (each must get exactly one reply)."""
    out = set()
    for m in (m for b in waves for m in b.messages):
        text = m.data.decode("utf-8", "replace")
        if "RESEND" not in text.split("\n\n", 1)[0] and "{\n+\t\treturn -ERANGE;" in text:
            out.add(m.msgid)
    return out


def test_sigkill_anywhere_drafts_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    waves = _chunks()
    hits = _crash_run(tmp_path, "[review]\ngrace = 0\n", waves, rng)
    assert hits >= KILLS // 2, "the kills must land while the bot works"
    counts = Counter(str(m["In-Reply-To"]).strip("<>") for m in _drafts(tmp_path / "outbox"))
    assert set(counts) == _expected(waves)
    assert max(counts.values()) == 1
    assert sum(counts.values()) == sum(b.patches_with_findings for b in waves)
    store = Store(tmp_path / "state.sqlite", readonly=True)
    try:
        states = store.state_counts()
        assert "waiting" not in states and "reviewed" not in states and "failed" not in states
        assert store.replies_in(["pending", "sending"]) == []
    finally:
        store.close()


def test_sigkill_during_smtp_never_duplicates_never_loses(tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    waves = _chunks()
    with SmtpServer() as smtp:
        smtp.recorder.delay = 0.01  # a send takes a little while: kills land inside some
        table = smtp.policy_table()
        hits = _crash_run(
            tmp_path, "[review]\ngrace = 0\n[reply]\nsend = true\nmax_per_hour = 100000\n"
            f'[smtp]\nserver = "127.0.0.1"\nport = {table.port}\n', waves, rng,
            smtp.recorder.delivered.clear)
        delivered = smtp.recorder.by_header("In-Reply-To")
    assert hits >= KILLS // 2
    uncertain = Counter(str(m["In-Reply-To"]).strip("<>") for m in _drafts(tmp_path / "outbox")
                        if m["X-Reviewbot-Uncertain"])
    assert all(n == 1 for n in delivered.values()), "a reply was sent twice"
    assert all(n == 1 for n in uncertain.values())
    # every reply went out once, or (killed mid-send) is in the outbox for a human
    assert set(delivered) | set(uncertain) == _expected(waves)
    assert not set(uncertain) - _expected(waves)
    assert len(delivered) >= len(_expected(waves)) - KILLS


def test_load_1000_messages_without_duplicates(tmp_path: Path) -> None:
    b = mailgen.backlog(1000, seed=SEED)
    assert len(b.messages) >= 1000
    env = Env(tmp_path, policy=Policy(grace=0))
    env.deliver(b.messages)
    start = time.monotonic()
    env.run()
    elapsed = time.monotonic() - start
    counts = Counter(str(m["In-Reply-To"]).strip("<>") for m in env.drafts())
    assert max(counts.values()) == 1 and sum(counts.values()) == b.patches_with_findings
    store = env.store()
    try:
        messages = store.message_counts()
        states = store.state_counts()
    finally:
        store.close()
    assert sum(messages.values()) == len(b.messages)
    assert messages["duplicate"] == b.duplicates
    assert states.get("waiting", 0) == 0 and states.get("failed", 0) == 0
    assert sum(v for k, v in states.items() if k in ("replied", "clean")) >= b.series
    assert states["skipped"] == b.resends
    env.run()  # a second pass finds nothing new
    assert len(env.drafts()) == b.patches_with_findings
    assert elapsed < 60, f"{len(b.messages)} messages took {elapsed:.1f} s"


@pytest.mark.parametrize("n", [100])
def test_benchmark_measure_is_importable(n: int) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import watch_throughput
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    result = watch_throughput.measure(n)
    assert result["messages"] >= n and result["messages_per_s"] > 0
    assert result["replies"] > 0
