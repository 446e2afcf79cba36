"""What reviewbot prints and writes, under hostile input and hostile surroundings:
terminal escapes in what a mail carries (issue 20, item 12), ordinary failures said as
what they are (item 14), and an --output directory with things in it (item 15)."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.cli import main
from tests import mailgen
from tests.conftest import FIXTURES, ROOT
from tests.watchenv import Env

FROB = FIXTURES / "series" / "frob-v2.mbox"
ME = "R <r@example.org>"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
# what a terminal obeys: C0 (but the newline), DEL, C1, bidi overrides, line separators
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_TITLE = "\x1b]0;pwned\x07"  # sets the terminal's title
_CLEAR = "\x9b2J"  # C1 CSI: clears the screen in one character


def _hostile_patch() -> bytes:
    """A patch whose subject (RFC 2047) carries C1 and bidi controls and whose file path
    carries an OSC sequence; it has a finding (STY001) on that path."""
    subject = base64.b64encode(f"[PATCH] frob: x{_CLEAR} \u202eevil".encode()).decode()
    path = f"drivers/fr{_TITLE}ob.c"
    return (f"From: Ada <ada@example.org>\nSubject: =?utf-8?b?{subject}?=\n"
            "Message-ID: <esc@example.org>\n\nx\n---\n"
            f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
            "@@ -1,3 +1,6 @@\n int f(int x)\n {\n+\tif (x) {\n+\t\tx++;\n+\t}\n }\n").encode()


def _unparsable_patch() -> bytes:
    """A patch skipped with a reason that quotes a diff line holding a CSI sequence."""
    return (b"From: Ada <ada@example.org>\nSubject: [PATCH] frob: y\n"
            b"Message-ID: <esc2@example.org>\n\nx\n---\n--- a/x.c\n+++ b/x.c\n"
            b"+++ b/y\x1b[2J.c\n@@ -1 +1 @@\n-a\n+b\n")


# -- terminal escapes (item 12) ---------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "checkpatch", "b4-json"])
def test_no_terminal_escape_is_printed(fmt: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "esc.mbox"
    path.write_bytes(b"".join(b"From x Mon Sep 17 00:00:00 2001\n" + m + b"\n"
                              for m in (_hostile_patch(), _unparsable_patch())))
    code = main(["check", str(path), "--format", fmt])
    out, err = capsys.readouterr()
    assert code == 1, err
    text = out
    if fmt == "b4-json":  # what b4 shows: the descriptions in the details
        text = "\n".join(d["description"] for d in json.loads(json.loads(out)[0]["details"]))
    assert not _UNSAFE.search(text), ascii(text)
    assert "fr\\x1b]0;pwned\\x07ob.c:3:" in text  # shown, visibly
    if fmt != "checkpatch":  # (checkpatch lines show no subject, no skipped patch)
        assert "x\\x9b2J \\u202eevil" in text
        assert "Target without source: +++ b/y\\x1b[2J.c" in text


def test_json_carries_no_control_a_terminal_obeys(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON escapes C0 controls itself, not C1 or bidirectional ones: those are written
    as \\uXXXX too (``check --format json`` on a terminal), the values unchanged."""
    path = tmp_path / "esc.eml"
    path.write_bytes(_hostile_patch())
    assert main(["check", str(path), "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert not _UNSAFE.search(out.replace("\n", "")), ascii(out)
    data = json.loads(out)
    assert data["patches"][0]["subject"] == f"[PATCH] frob: x{_CLEAR} \u202eevil"
    assert data["patches"][0]["files"] == [f"drivers/fr{_TITLE}ob.c"]


def test_replies_on_a_terminal_are_escaped(tmp_path: Path) -> None:
    """A reply quotes the patch as mail sent it: on a terminal (``check --reply``, the
    README's first command) its controls are shown as escapes, tabs and lines kept;
    into a pipe or a file the mbox is written as it is."""
    import pty

    path = tmp_path / "esc.eml"
    path.write_bytes(_hostile_patch())
    args = [sys.executable, "-m", "reviewbot", "check", str(path), "--reply", "--from", ME,
            "--date", "2026-01-22"]
    piped = subprocess.run(args, env=ENV, capture_output=True, timeout=120)
    assert piped.returncode == 1 and _TITLE.encode() in piped.stdout  # the mbox as it is
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(args, env=ENV, stdout=secondary, stderr=subprocess.DEVNULL)
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the other end is closed
                break
            if not chunk:
                break
            shown += chunk
        assert proc.wait(timeout=120) == 1
    finally:
        os.close(primary)
    text = shown.decode().replace("\r\n", "\n")  # (the terminal's line discipline)
    assert not _UNSAFE.search(text.replace("\n", "").replace("\t", "")), ascii(text)
    assert "> diff --git a/drivers/fr\\x1b]0;pwned\\x07ob.c" in text
    assert "\n> +\tif (x) {\n" in text


def test_an_error_line_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(tmp_path / f"no{_TITLE}such")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert not _UNSAFE.search(err.rstrip("\n")) and "no\\x1b]0;pwned\\x07such" in err


def test_watch_log_and_status_are_escaped(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    env = Env(tmp_path)
    subject = f"[PATCH 1/2] frob: x{_CLEAR}\u202e forged=1"  # 2/2 missing: it waits
    env.deliver([mailgen.mail(msgid="c1@example.org", date=mailgen.BASE_DATE,
                              subject="=?utf-8?b?" + base64.b64encode(subject.encode()).decode()
                              + "?=", body=mailgen.diff_body("c1", 1, True))])
    env.run()
    lines = env.logs.lines
    assert any("x\\x9b2J\\u202e forged=1" in line for line in lines), lines
    assert not any(_UNSAFE.search(line) for line in lines)
    assert main(["watch", "--status", "--state", str(env.state)]) == 0
    out = capsys.readouterr().out
    assert not _UNSAFE.search(out) and "\\x9b2J" in out


def test_logfmt_never_leaves_a_newline_bare() -> None:
    from reviewbot.bot.log import logfmt

    line = logfmt({"a": "x\n", "b": "ok", "c": "q\"\\\x85"})
    assert "\n" not in line and line == 'a="x\\n" b=ok c="q\\"\\\\\\x85"'
    assert logging  # (the logger itself only formats what logfmt made)


# -- ordinary failures, said as what they are (item 14) ---------------------------------

def _cli(args: list[str], *, stdout: int | None = None, preexec: object = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reviewbot", *args], env=ENV, text=True,
                          stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, preexec_fn=preexec,  # type: ignore[arg-type]
                          timeout=timeout)


@pytest.mark.parametrize("fmt", ["text", "json", "reply"])
def test_stdout_on_a_full_device(fmt: str) -> None:
    with open("/dev/full", "wb") as full:
        proc = _cli(["check", str(FROB), "--format", fmt, "--from", ME], stdout=full.fileno())
    assert proc.returncode == 2
    assert proc.stderr == ("reviewbot: error: cannot write the output: No space left on "
                           "device\n")


def test_stdout_closed() -> None:
    proc = _cli(["check", str(FROB), "--format", "text"], preexec=lambda: os.close(1))
    assert proc.returncode == 2
    assert proc.stderr == "reviewbot: error: cannot write the output: standard output is closed\n"
    # with nothing to print, a closed standard output is no error
    proc = _cli(["watch", "--status", "--state", "/nonexistent/s.sqlite"],
                preexec=lambda: os.close(1))
    assert proc.returncode == 2 and "no watch state" in proc.stderr


def test_stdout_closed_is_not_reused_by_a_file(tmp_path: Path) -> None:
    """With descriptor 1 closed, the next file opened would get it: the state database
    then received what was meant for standard output."""
    md = mailgen.make_maildir(tmp_path / "md")
    mailgen.deliver(md, mailgen.series("fd", total=1))
    state = tmp_path / "s.sqlite"
    proc = _cli(["watch", "--maildir", str(md), "--outbox", str(tmp_path / "out"),
                 "--state", str(state), "--once"], preexec=lambda: os.close(1))
    assert proc.returncode == 0, proc.stderr
    assert main(["watch", "--status", "--state", str(state)]) == 0


def test_a_full_state_database_says_so(tmp_path: Path) -> None:
    """The state database cannot grow (a file size limit, as a full disk would stop
    it): one line saying which file and why, not "internal error: OperationalError"."""
    md = mailgen.make_maildir(tmp_path / "md")
    mailgen.deliver(md, mailgen.series("first", total=1))
    args = ["watch", "--maildir", str(md), "--outbox", str(tmp_path / "out"), "--state",
            str(tmp_path / "s.sqlite"), "--once"]
    assert _cli(args).returncode == 0
    mailgen.deliver(md, [m for i in range(60) for m in mailgen.series(f"s{i}", total=3)], 1)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    proc = _cli(args, preexec=limit)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith(f"reviewbot: error: cannot write the watch state {tmp_path}")
    assert "a full disk" in last and "internal error" not in proc.stderr


def test_a_deeply_nested_eval_manifest(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    assert main(["eval", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"reviewbot: error: {tmp_path}/manifest.json: nested too deeply to be a " \
                  "manifest\n"


# -- an --output directory with things in it (item 15) ---------------------------------

def _replies(out_dir: Path, *extra: str) -> tuple[int, str]:
    proc = _cli(["check", str(FROB), "--output", str(out_dir), "--from", ME, "--date",
                 "2026-01-22", *extra])
    return proc.returncode, proc.stderr


def test_a_directory_named_like_an_old_reply_is_left_alone(tmp_path: Path) -> None:
    """A directory named like a reply stopped the clean-up half way (the new replies
    written, the stale ones kept: git send-email DIR/*.eml sent them all)."""
    out = tmp_path / "out"
    assert _replies(out, "--all")[0] == 1
    assert len(list(out.glob("*.eml"))) == 3
    (out / "0005-a-directory.eml").mkdir()
    (out / "0006-mine.eml").write_text("Subject: [PATCH] written by hand\n\nkeep me\n")
    code, err = _replies(out)  # fewer replies: the stale ones must go
    assert code == 1, err
    now = sorted(p.name for p in out.glob("*.eml") if p.is_file())
    assert now == ["0001-frob-reject-negative-values.eml", "0002-frob-add-frob_reset_all.eml",
                   "0006-mine.eml"]  # 0003 (no finding: only with --all) is gone
    assert (out / "0005-a-directory.eml").is_dir()
    assert (out / "0006-mine.eml").read_text().endswith("keep me\n")


@pytest.mark.parametrize("what", ["directory", "foreign-file", "symlink"])
def test_something_in_the_way_fails_before_writing(tmp_path: Path, what: str) -> None:
    out = tmp_path / "out"
    assert _replies(out, "--all")[0] == 1
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    target = out / "0001-frob-reject-negative-values.eml"
    target.unlink()
    if what == "directory":
        target.mkdir()
    elif what == "foreign-file":
        target.write_text("From: me\n\nmy own notes\n")
    else:
        target.symlink_to(tmp_path / "elsewhere")
    code, err = _replies(out, "--all", "--date", "2026-02-01")
    assert code == 2 and err.count("\n") == 1 and "is in the way" in err, err
    assert "nothing was written" in err
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    del before[target.name]
    after.pop(target.name, None)
    assert after == before  # the other replies untouched
    assert not [p for p in out.iterdir() if p.name.startswith(".reviewbot-")]
