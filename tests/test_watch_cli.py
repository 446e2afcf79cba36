"""``reviewbot watch`` from the command line: options, errors, --status, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewbot.cli import main
from tests import mailgen
from tests.conftest import ROOT


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    md = mailgen.make_maildir(tmp_path / "md")
    state = str(tmp_path / "s.sqlite")
    code, _, err = run(capsys, "watch", "--maildir", str(md), "--state", state)
    assert code == 2 and err.strip() == ("reviewbot: error: watch needs --outbox DIR (the "
                                         "Maildir where reply drafts go)")
    code, _, err = run(capsys, "watch", "--outbox", str(tmp_path / "o"), "--state", state)
    assert code == 2 and "at least one --maildir DIR or --lore-list URL" in err
    code, _, err = run(capsys, "watch", "--maildir", str(tmp_path), "--outbox",
                       str(tmp_path / "o"), "--state", state)
    assert code == 2 and "not a Maildir" in err
    bad = tmp_path / "p.toml"
    bad.write_text("[reply]\nsend = 1\n")
    code, _, err = run(capsys, "watch", "--maildir", str(md), "--outbox", str(tmp_path / "o"),
                       "--policy", str(bad), "--state", state)
    assert code == 2 and "send: expected true or false" in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, "watch", "--maildir", str(md), "--outbox", str(md) + "/",
                       "--state", state)
    assert code == 2 and "is also a --maildir" in err
    code, _, err = run(capsys, "watch", "--status", "--state", str(tmp_path / "none.sqlite"))
    assert code == 2 and "no watch state" in err
    code, _, err = run(capsys, "watch", "--grace", "-1", "--status")
    assert code == 2 and "--grace" in err


def test_once_then_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    md = mailgen.make_maildir(tmp_path / "md")
    mailgen.deliver(md, mailgen.series("clean", total=2, findings=False)
                    + mailgen.series("part", total=3, findings=False)[:2]
                    + [mailgen.noise(2, __import__("random").Random(1))])
    state = str(tmp_path / "s.sqlite")
    code, out, err = run(capsys, "watch", "--maildir", str(md), "--outbox",
                         str(tmp_path / "out"), "--state", state, "--once", "--grace", "1e9")
    assert code == 0 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("ts=") and "event=start" in lines[0] and "mode=drafts" in lines[0]
    assert any("event=series decision=clean" in ln and "[PATCH 0/2] clean: fixes" in ln
               for ln in lines)
    assert "event=stop" in lines[-1] and "messages=6" in lines[-1]
    assert (tmp_path / "out" / "new").is_dir()  # the outbox Maildir is created
    code, out, _ = run(capsys, "watch", "--status", "--state", state, "--grace", "1e9")
    assert code == 0
    assert "series: waiting 1, clean 1" in out
    assert "[PATCH 0/3] part: fixes" in out and "1/3 patches, cover" in out
    assert "last errors (1):" in out and "binary data, not an email" in out


def test_sigterm_stops_the_loop_cleanly(tmp_path: Path) -> None:
    md = mailgen.make_maildir(tmp_path / "md")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewbot", "watch", "--maildir", str(md), "--outbox",
         str(tmp_path / "out"), "--state", str(tmp_path / "s.sqlite"), "--interval", "0.1"],
        stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 20
        # wait for the first cycle (the state exists), then add mail while it runs
        while not (tmp_path / "s.sqlite").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        mailgen.deliver(md, mailgen.series("live", total=1, findings=False))
        while time.monotonic() < deadline:
            if subprocess.run([sys.executable, "-m", "reviewbot", "watch", "--status",
                               "--state", str(tmp_path / "s.sqlite")], env=env,
                              capture_output=True, text=True).stdout.count("clean 1"):
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "decision=clean" in err and "event=stop" in err and "interrupted=True" in err
    assert "Traceback" not in err


def test_reply_identity_from_the_policy_else_like_check(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("REVIEWBOT_CONFIG", raising=False)
    monkeypatch.setenv("REVIEWBOT_FROM", "Rev Iewer <rev@example.org>")
    md = mailgen.make_maildir(tmp_path / "md")
    mailgen.deliver(md, mailgen.series("who", total=1))
    args = ["watch", "--maildir", str(md), "--outbox", str(tmp_path / "out"), "--once"]
    code, _, err = run(capsys, *args, "--state", str(tmp_path / "a.sqlite"))
    assert code == 0, err
    [draft] = list((tmp_path / "out" / "new").iterdir())
    assert b"From: Rev Iewer <rev@example.org>" in draft.read_bytes()
    # sending needs a real identity: none configured anywhere is an error
    monkeypatch.delenv("REVIEWBOT_FROM")
    policy = tmp_path / "send.toml"
    policy.write_text('[reply]\nsend = true\n[smtp]\nserver = "127.0.0.1"\n')
    code, _, err = run(capsys, *args, "--policy", str(policy), "--state",
                       str(tmp_path / "b.sqlite"))
    assert code == 2 and "the policy sends replies but has no [reply] from" in err
    code, _, err = run(capsys, *args, "--state", str(tmp_path / "c.sqlite"))
    assert code == 0  # drafts: a placeholder From that the human replaces


def test_status_shows_the_policy_in_force(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """--status reads the policy the watcher recorded in the state: its grace times the
    waiting series, without --policy again (the default grace would call the 2023 series
    overdue)."""
    md = mailgen.make_maildir(tmp_path / "md")
    mailgen.deliver(md, mailgen.series("part", total=3, findings=False)[:2])
    policy = tmp_path / "watch.toml"
    policy.write_text('[review]\npaths = ["drivers/*"]\ngrace = 1e9\n[rules]\n'
                      'min_severity = "warning"\n[reply]\nmax_per_series = 2\n')
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("REVIEWBOT_FROM", "Rev Iewer <rev@example.org>")
    monkeypatch.chdir(tmp_path)  # --policy relative to where the watcher runs
    code, _, err = run(capsys, "watch", "--maildir", str(md), "--outbox", str(tmp_path / "o"),
                       "--policy", "watch.toml", "--once", "--interval", "7")
    assert code == 0, err
    assert (tmp_path / "state" / "reviewbot" / "watch.sqlite").is_file()
    monkeypatch.chdir(md)  # --status elsewhere names the same file
    code, out, err = run(capsys, "watch", "--status")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].startswith(f"policy: {policy} (in force: recorded by the watcher at 20")
    assert lines[2:7] == [
        "  review: lists any; paths drivers/*; authors anyone",
        "  timing: grace 1000000000s, poll every 7s, lore lists every 300s",
        "  rules: select all; ignore none; preview off; reported: warning and up, "
        "confidence low and up",
        "  replies: drafts in the outbox, from Rev Iewer <rev@example.org>, at most 2 per "
        "series",
        "  revisions: each vN compared with vN-1, looked up on the first --lore-list "
        "followed"]
    assert "1/3 patches, cover" in out and "incomplete, reviewed in" in out
    # a state no watcher recorded a policy in: what --grace says, marked as assumed
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")  # invalid: ignored (XDG spec)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    from reviewbot.bot.state import Store

    Store(tmp_path / "home" / ".local" / "state" / "reviewbot" / "watch.sqlite").close()
    code, out, _ = run(capsys, "watch", "--status", "--grace", "60")
    assert code == 0
    assert out.splitlines()[1] == ("policy: the defaults (no --policy) (no watcher has "
                                   "recorded its policy in this state; assumed)")
    assert "grace 60s" in out


def test_unknown_rule_in_the_policy_stops_the_start(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    md = mailgen.make_maildir(tmp_path / "md")
    policy = tmp_path / "watch.toml"
    policy.write_text('[rules]\nselect = ["sty001", "STY01"]\n')
    code, out, err = run(capsys, "watch", "--maildir", str(md), "--outbox", str(tmp_path / "o"),
                         "--policy", str(policy), "--once", "--state", str(tmp_path / "s"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"reviewbot: error: {policy}: [rules] select: no rule is called "
                          "'STY01' (did you mean STY001 or STY012 or STY011?)")
    assert not (tmp_path / "s").exists()  # nothing was started
