"""fetch.local + series: real files on disk, a real Maildir, stdin."""

from __future__ import annotations

import mailbox
import re
from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.fetch.local import read_source, split_mbox
from reviewbot.pipeline import parse_messages
from reviewbot.series.build import build_series
from tests.conftest import FIXTURES

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
