"""fetch.local + series: real files on disk, a real Maildir, stdin."""

from __future__ import annotations

import contextlib
import mailbox
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reviewbot.errors import InputError, LimitError
from reviewbot.fetch.local import read_source, split_mbox
from reviewbot.pipeline import parse_messages
from reviewbot.series.build import build_series
from tests.conftest import FIXTURES, ROOT

FROB = FIXTURES / "series" / "frob-v2.mbox"


def test_mbox_series_is_ordered_with_cover() -> None:
    series = build_series(parse_messages(read_source(str(FROB))))
    assert len(series) == 1
    s = series[0]
    assert s.version == 2 and s.total == 3 and s.missing == ()
    assert s.cover is not None and "frob: small fixes" in s.cover.subject.raw
    assert [p.index for p in s.patches] == [1, 2, 3]
    assert all(p.skipped is None for p in s.patches)
    assert s.patches[0].mail.author is not None
    assert s.patches[0].mail.author.email == "ada@example.org"


def test_mboxrd_from_escaping_is_undone() -> None:
    data = (b"From x@y Thu Jan  1 00:00:00 1970\nSubject: a\n\nbody\n>From here\n"
            b">>From there\n\nFrom x@y Thu Jan  1 00:00:00 1970\nSubject: b\n\nB\n")
    msgs = split_mbox(data, "t")
    assert len(msgs) == 2
    assert b"\nFrom here\n>From there\n" in msgs[0].data


def test_maildir_and_directory(tmp_path: Path) -> None:
    md = mailbox.Maildir(str(tmp_path / "md"), create=True)
    for raw in split_mbox(FROB.read_bytes(), "frob"):
        md.add(raw.data)
    s1 = build_series(parse_messages(read_source(str(tmp_path / "md"))))
    assert [p.index for p in s1[0].patches] == [1, 2, 3]
    d = tmp_path / "patches"
    d.mkdir()
    for i, raw in enumerate(split_mbox(FROB.read_bytes(), "frob")):
        (d / f"{i:04d}.patch").write_bytes(raw.data)
    s2 = build_series(parse_messages(read_source(str(d))))
    assert [p.index for p in s2[0].patches] == [1, 2, 3]


def test_revisions_newest_by_default_and_pick(tmp_path: Path) -> None:
    v2 = FROB.read_bytes()
    v1 = v2.replace(b"[PATCH v2", b"[PATCH")
    v1 = re.sub(rb"^(Message-I[dD]|In-Reply-To|References): <", rb"\1: <v1-", v1,
                flags=re.MULTILINE)
    path = tmp_path / "both.mbox"
    path.write_bytes(v1 + v2)
    msgs = parse_messages(read_source(str(path)))
    newest = build_series(msgs)
    assert [s.version for s in newest] == [2]
    assert newest[0].other_versions == (1,)
    assert [s.version for s in build_series(msgs, version=1)] == [1]
    with pytest.raises(InputError):
        build_series(msgs, version=7)


def test_version_only_in_cover_letter(tmp_path: Path) -> None:
    """``[PATCH v2 0/3]`` with ``[PATCH 1/3]``..: one v2 series of three patches."""
    data = re.sub(rb"\[PATCH v2 ([1-9])/3\]", rb"[PATCH \1/3]", FROB.read_bytes())
    assert data.count(b"[PATCH v2") == 1
    path = tmp_path / "cover-only-v2.mbox"
    path.write_bytes(data)
    (s,) = build_series(parse_messages(read_source(str(path))))
    assert s.version == 2 and s.cover is not None
    assert [p.index for p in s.patches] == [1, 2, 3]
    assert all(p.version == 2 and p.files for p in s.patches)
    assert s.missing == ()


def test_v2_in_reply_to_v1_stays_two_revisions(tmp_path: Path) -> None:
    """A v2 (with its cover) posted in v1's thread is not merged into v1."""
    v2 = FROB.read_bytes()
    v1 = re.sub(rb"^(Message-I[dD]|In-Reply-To|References): <", rb"\1: <v1-",
                v2.replace(b"[PATCH v2", b"[PATCH"), flags=re.MULTILINE)
    v2 = re.sub(rb"^(In-Reply-To|References): <cover", rb"\1: <v1-cover", v2,
                flags=re.MULTILINE)
    v2 = v2.replace(b"Subject: [PATCH v2 0/3]",
                    b"In-Reply-To: <v1-cover.1795644580.git.ada@example.org>\n"
                    b"Subject: [PATCH v2 0/3]")
    path = tmp_path / "threaded.mbox"
    path.write_bytes(v1 + v2)
    (s,) = build_series(parse_messages(read_source(str(path))))
    assert s.version == 2 and s.other_versions == (1,)
    assert [p.version for p in s.patches] == [2, 2, 2]
    assert s.cover is not None and s.cover.subject.version == 2


def test_missing_patches_and_replies_ignored(tmp_path: Path) -> None:
    msgs = split_mbox(FROB.read_bytes(), "frob")
    reply = (b"From: R <r@example.org>\nSubject: Re: [PATCH v2 2/3] frob: add\n"
             b"Message-ID: <r1@example.org>\n\n> quoted\nLooks fine.\n")
    path = tmp_path / "partial.mbox"
    path.write_bytes(b"".join(b"From x Thu Jan  1 00:00:00 1970\n" + m.data + b"\n"
                              for m in (msgs[0], msgs[1], msgs[3])) +
                     b"From x Thu Jan  1 00:00:00 1970\n" + reply)
    s = build_series(parse_messages(read_source(str(path))))[0]
    assert s.missing == (2,)
    assert [p.index for p in s.patches] == [1, 3]


def test_headerless_mail_degrades() -> None:
    raw = FROB.read_bytes().split(b"\nFrom ")[1]
    body = raw.split(b"\n\n", 1)[1]
    msgs = parse_messages(read_source_bytes(b"Subject: [PATCH] x\n\n" + body))
    s = build_series(msgs)[0]
    assert s.patches[0].mail.author is None and s.patches[0].mail.date is None
    assert s.patches[0].files


def read_source_bytes(data: bytes) -> list:  # type: ignore[type-arg]
    return split_mbox(data, "bytes")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty input"),
        (b"\x00\x01\x02garbage\xff" * 100, "binary data"),
        (b"just some words\nand more\n", "not an email"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_source(str(path))


def test_missing_path() -> None:
    with pytest.raises(InputError, match="no such file"):
        read_source("/nonexistent/x.mbox")


def test_bare_diff_file(tmp_path: Path) -> None:
    path = tmp_path / "fix.diff"
    path.write_text("diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1,2 +1,3 @@\n int a;\n"
                    "+int b;\n int c;\n")
    s = build_series(parse_messages(read_source(str(path))))[0]
    assert s.patches[0].files[0].path == "a.c"
    assert s.patches[0].subject == "[PATCH] fix"


# --- one message whose body quotes a git format-patch (issue 15, item 4) ----------------

INNER = (b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
         b"From: Ada Example <ada@example.org>\nDate: Wed, 21 Jan 2026 16:22:46 +0000\n"
         b"Subject: [PATCH] frob: the inner subject\n\n")


def _forwarded() -> bytes:
    """A mail (headers first) whose body carries a git format-patch: its ``From <sha>``
    line after an empty line, as a forwarded or pasted patch has it."""
    patch = FROB.read_bytes().split(b"\nFrom ")[2]  # patch 1/3 with its own headers
    diff = patch[patch.index(b"\n---\n"):]
    return (b"From: Ada Example <ada@example.org>\nTo: list@example.org\n"
            b"Subject: [PATCH] frob: the outer subject\nMessage-ID: <outer@example.org>\n"
            b"Date: Thu, 22 Jan 2026 10:00:00 +0000\n\nAs asked, the patch again:\n\n"
            + INNER + b"Why it is needed." + diff)


@pytest.mark.parametrize("where", ["file", "maildir"])
def test_a_mail_quoting_a_format_patch_is_one_message(tmp_path: Path, where: str) -> None:
    data = _forwarded()
    if where == "file":
        path = tmp_path / "forwarded.eml"
        path.write_bytes(data)
    else:
        path = tmp_path / "md"
        md = mailbox.Maildir(str(path), create=True)
        md.add(data)
    msgs = read_source(str(path))
    assert [m.data for m in msgs] == [data]
    (s,) = build_series(parse_messages(msgs))
    (p,) = s.patches
    assert p.msgid == "outer@example.org" and p.subject == "[PATCH] frob: the outer subject"
    assert p.files and p.skipped is None


def test_the_reply_to_it_is_threaded(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from reviewbot.cli import main

    path = tmp_path / "forwarded.eml"
    path.write_bytes(_forwarded().replace(b"if (val < 0)\n", b"if (val < 0) {\n", 1))
    assert main(["check", str(path), "--reply", "--all", "--from", "R <r@example.org>",
                 "--date", "2026-01-22T12:00:00Z"]) in (0, 1)
    out = capsys.readouterr().out
    assert "\nSubject: Re: [PATCH] frob: the outer subject\n" in out
    assert "\nIn-Reply-To: <outer@example.org>\n" in out
    assert "\nReferences: <outer@example.org>\n" in out


def test_an_mbox_still_splits_at_a_from_line_after_an_empty_line(tmp_path: Path) -> None:
    path = tmp_path / "two.mbox"
    path.write_bytes(b"From x Thu Jan  1 00:00:00 1970\n" + _forwarded())
    assert len(read_source(str(path))) == 2  # an mbox: the inner From line separates


# --- every source through one bounded reader (issue 20, item 1) -------------------------

def _fifo_writer(path: Path, data: bytes) -> threading.Thread:
    def write() -> None:
        with contextlib.suppress(BrokenPipeError), path.open("wb") as fifo:
            fifo.write(data)
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_fifo_is_read_up_to_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    mbox = FROB.read_bytes()
    writer = _fifo_writer(fifo, mbox * (3_000_000 // len(mbox)))  # 3 MB
    with pytest.raises(LimitError, match="larger than the limit of 1048576"):
        read_source(str(fifo), 1 << 20)
    writer.join(10)
    writer = _fifo_writer(fifo, mbox)
    assert len(read_source(str(fifo), 1 << 20)) == 4  # within the limit: read as a file
    writer.join(10)


def test_process_substitution_and_stdin_are_bounded(tmp_path: Path) -> None:
    """``check <(cmd)`` (a pipe under /dev/fd) and ``check -``: the limit holds."""
    script = ("import sys\nfrom reviewbot.cli import main\n"
              "sys.exit(main(['check', sys.argv[1], '--limit', 'input-bytes=1M']))\n")
    gen = "yes 'From x Thu Jan  1 00:00:00 1970' | head -c 3000000"
    for source in ("<(GEN)", "- < <(GEN)"):
        cmd = f"{sys.executable} -c \"$SCRIPT\" {source.replace('GEN', gen)}"
        proc = subprocess.run(["bash", "-c", cmd], env={**os.environ, "SCRIPT": script},
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert proc.returncode == 2, proc.stderr
        assert "larger than the limit of 1048576" in proc.stderr, proc.stderr


def test_dev_zero_stops_at_once() -> None:
    """/dev/zero is endless: read as any file, it is binary data after its first bytes
    (no memory grows: the child may map 1 GiB in all, start-up included)."""
    script = ("import resource, sys\nfrom reviewbot.cli import main\n"
              "soft, hard = resource.getrlimit(resource.RLIMIT_AS)\n"
              "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, hard))\n"
              "sys.exit(main(['check', '/dev/zero']))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and "binary data" in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1
