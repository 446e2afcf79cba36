"""A large mbox is streamed: memory follows the largest series, not the input.

The inputs are generated (never stored): many series of real-sized patches to text
files (cheap to review, so the test measures reading, grouping and keeping, not the
C mapping). ``check`` runs in a child process whose peak resident memory (its own
``ru_maxrss``, forked workers included: tests/peak_rss.py) is compared between a small
and an eight times larger input: before streaming it grew by about ten times the extra
input (every message, its parsed diff and its review were kept to the end).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from reviewbot.config import Settings
from reviewbot.fetch.local import read_source
from reviewbot.pipeline import review_messages
from reviewbot.report.json import render_json
from tests.conftest import ROOT
from tests.peak_rss import run_measured

pytestmark = pytest.mark.slow


def _patch(serial: int, i: int, total: int, lines: int, version: int = 1) -> bytes:
    path = f"Documentation/frob/part{serial}_{i}.rst"
    body = "".join(f"+Line {k} of the frob {serial} documentation, part {i} of "
                   f"{total}, long enough to be real.\n" for k in range(lines))
    v, tag = ("", "") if version == 1 else (f"v{version}", f" v{version}")
    count = f" {i}/{total}" if total > 1 else ""
    parent = f"In-Reply-To: <s{serial}{v}.0@example.org>\n" if total > 1 else ""
    return (f"From nobody Mon Sep 17 00:00:00 2001\nFrom: Ada <ada@example.org>\n"
            f"Subject: [PATCH{tag}{count}] docs: frob {serial} part {i}\n"
            f"Message-ID: <s{serial}{v}.{i}@example.org>\n{parent}"
            f"Date: Mon, {4 + version} Jan 2026 09:{serial % 60:02d}:00 +0000\n\n"
            f"Document frob {serial}.\n\nSigned-off-by: Ada <ada@example.org>\n---\n"
            f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n"
            f"+++ b/{path}\n@@ -0,0 +1,{lines} @@\n{body}\n").encode()


def _series(serial: int, version: int) -> bytes:
    total = 1 + serial % 6
    v, tag = ("", "") if version == 1 else (f"v{version}", f" v{version}")
    parts = []
    if total > 1:
        parts.append(f"From nobody Mon Sep 17 00:00:00 2001\nFrom: Ada "
                     f"<ada@example.org>\nSubject: [PATCH{tag} 0/{total}] docs: frob "
                     f"{serial}\nMessage-ID: <s{serial}{v}.0@example.org>\n\n"
                     "Cover.\n\n".encode())
    parts.extend(_patch(serial, i, total, 40, version) for i in range(1, total + 1))
    return b"".join(parts)


def _review_of_v1(serial: int) -> bytes:
    """A reviewer's inline comment on patch 1 of v1 (a v2 then answers it or not)."""
    return (f"From nobody Mon Sep 17 00:00:00 2001\nFrom: Rae <rae@example.org>\n"
            f"Subject: Re: [PATCH{' 1/' + str(1 + serial % 6) if serial % 6 else ''}] "
            f"docs: frob {serial} part 1\nMessage-ID: <r{serial}@example.org>\n"
            f"In-Reply-To: <s{serial}.1@example.org>\n"
            f"Date: Mon, 5 Jan 2026 10:{serial % 60:02d}:00 +0000\n\n"
            f"> +Line 3 of the frob {serial} documentation, part 1 of {1 + serial % 6}, "
            "long enough to be real.\n\nThis line says nothing the one above does not."
            "\n\n").encode()


def write_mbox(path: Path, mib: int, revisions: int = 0) -> int:
    """Series of 1-6 patches of ~4 KB, with cover letters, up to ``mib`` MiB. With
    ``revisions``, every ``revisions``th series is also sent again as v2, after a
    review of its v1: the revision review then compares the two."""
    size = serial = 0
    with path.open("wb") as out:
        while size < mib << 20:
            serial += 1
            data = _series(serial, 1)
            if revisions and serial % revisions == 0:
                data += _review_of_v1(serial) + _series(serial, 2)
            out.write(data)
            size += len(data)
    return serial


def peak_mib(source: Path, *options: str) -> tuple[float, bytes]:
    """The child's peak resident memory (MiB, its workers included) and its output."""
    out, err = source.with_suffix(".out"), source.with_suffix(".err")
    with out.open("wb") as stdout, err.open("wb") as stderr:
        run = run_measured([sys.executable, "-m", "reviewbot", "check", "--no-tree",
                            *options, str(source)], source.parent, cwd=ROOT,
                           stdout=stdout, stderr=stderr)
    assert run.returncode in (0, 1), err.read_text()[-2000:]
    return run.peak_kib / 1024, out.read_bytes()


def test_memory_follows_the_largest_series(tmp_path: Path) -> None:
    small, large = tmp_path / "small.mbox", tmp_path / "large.mbox"
    write_mbox(small, 2)
    n = write_mbox(large, 16)
    assert n > 1000  # series (of 1-6 patches)
    base, _ = peak_mib(small, "-j", "1", "--format", "json")
    grown, out = peak_mib(large, "-j", "2", "--format", "json")
    data = json.loads(out)
    assert len(data["series"]) == n and all(p["files"] for p in data["patches"])
    assert grown - base < 40, (base, grown)  # 14 more MiB of input: ~150 MiB before


def test_memory_follows_the_largest_series_with_revisions(tmp_path: Path) -> None:
    """With v2 series in the input, the revision review ("Since the last revision")
    looks for each v1 among every mail of the input: it files their headers and reads
    the text of only the mails it compares. It used to parse every mail of the input
    again and hold them all (a 256 MiB mbox peaked at ~880 MiB instead of ~160): on
    this 24 MiB input it added 66 MiB to the run without it, now about 17."""
    path = tmp_path / "large.mbox"
    n = write_mbox(path, 24, revisions=8)
    assert n > 1000
    without, _ = peak_mib(path, "-j", "2", "--format", "json", "--no-revisions")
    grown, out = peak_mib(path, "-j", "2", "--format", "json")
    data = json.loads(out)
    assert len(data["series"]) == n
    since = [s["since"] for s in data["series"] if s.get("since")]
    assert len(since) == n // 8 and all(s["version"] == 1 and s["comments"]
                                         for s in since), since[:2]
    assert grown - without < 35, (without, grown)


def test_streamed_review_is_the_review(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored series read back (json: every patch's files) give what a review of the
    parsed messages gives, with workers and without."""
    monkeypatch.setattr("reviewbot.fetch.local.SPOOL_MEMORY", 1 << 16)
    path = tmp_path / "m.mbox"
    write_mbox(path, 1)
    raw = read_source(str(path))
    assert raw._file is not None  # the spool moved to a file: read back with pread
    one = render_json(review_messages(raw, Settings(jobs=1)))
    two = render_json(review_messages(list(raw), Settings(jobs=2)))
    assert one == two and '"files": [' in one


def test_a_local_input_is_handed_on_as_its_store(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``check FILE`` reviews from the spool: the input keeps the store, which reads each
    message back when asked, not a tuple of every message's bytes (that held the whole
    mbox to the end of the run: 256 MiB of bytes for a 256 MiB mbox)."""
    from reviewbot.fetch.local import MessageStore
    from reviewbot.fetch.resolve import read_input

    monkeypatch.setattr("reviewbot.fetch.local.SPOOL_MEMORY", 1 << 16)
    path = tmp_path / "m.mbox"
    write_mbox(path, 1)
    got = read_input(str(path), 1 << 30)
    assert isinstance(got.messages, MessageStore)
    assert got.messages._file is not None and got.held == len(got.messages) > 100
