"""``git format-patch`` output as a new user hands it over: a directory, the files on
stdin, an mbox; git's default (no ``--thread``: no Message-ID, no In-Reply-To).

Real patches from a real repository (tests/kernel_repo.py); every form must be one
series, with its cover letter, in order, nothing missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reviewbot.fetch.local import read_source
from reviewbot.pipeline import parse_messages
from reviewbot.series.build import build_series
from tests.conftest import ROOT
from tests.kernel_repo import add_series, git, make_tree


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_tree(tmp_path_factory.mktemp("fp"))
    add_series(repo)
    return repo


def check(source: str, *args: str, stdin: bytes | None = None) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "reviewbot", "check", "--no-tree",
                           "--format", "json", *args, source], cwd=ROOT, input=stdin,
                          capture_output=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def one_series(data: dict[str, Any], version: int = 1) -> dict[str, Any]:
    assert len(data["series"]) == 1, [s["subject"] for s in data["series"]]
    (s,) = data["series"]
    assert s["version"] == version and s["total"] == 3 and s["missing"] == []
    assert s["cover"] is not None and "0/3" in s["subject"]
    assert [p["index"] for p in data["patches"]] == [1, 2, 3]
    assert {p["series"] for p in data["patches"]} == {s["id"]}
    return s


@pytest.mark.parametrize("version", [[], ["-v2"]], ids=["v1", "v2"])
def test_directory_stdin_and_mbox_are_one_series(repo: Path, tmp_path: Path,
                                                 version: list[str]) -> None:
    out = tmp_path / "out"
    git(repo, "format-patch", "-q", "-o", str(out), "--cover-letter", *version, "HEAD~3..")
    files = sorted(out.iterdir())
    assert len(files) == 4
    raw = [f.read_bytes() for f in files]
    assert not any(b"\nMessage-ID:" in r or b"\nIn-Reply-To:" in r for r in raw)
    n = 2 if version else 1
    by_dir = one_series(check(str(out)), n)
    by_stdin = one_series(check("-", stdin=b"".join(raw)), n)
    mbox = tmp_path / "series.mbox"
    mbox.write_text(git(repo, "format-patch", "--stdout", "--cover-letter", *version,
                        "HEAD~3.."))
    by_mbox = one_series(check(str(mbox)), n)
    assert by_dir["subject"] == by_stdin["subject"] == by_mbox["subject"]


def test_two_runs_are_two_revisions(repo: Path, tmp_path: Path) -> None:
    """v1 and v2 made by two format-patch runs in one directory: two revisions of one
    series; the newest is reviewed, v1 is named as another version."""
    out = tmp_path / "out"
    git(repo, "format-patch", "-q", "-o", str(out), "--cover-letter", "HEAD~3..")
    git(repo, "format-patch", "-q", "-o", str(out), "--cover-letter", "-v2", "HEAD~3..")
    s = one_series(check(str(out)), 2)
    assert s["other_versions"] == [1]


def test_a_run_ends_where_a_number_comes_again(repo: Path, tmp_path: Path) -> None:
    """The same run twice (the same numbers from the same author): two series, not one
    with every patch replaced by its copy."""
    text = git(repo, "format-patch", "--stdout", "--cover-letter", "HEAD~3..")
    other = text.replace("frob: count failed takes", "frob: count failed gets")
    mbox = tmp_path / "twice.mbox"
    mbox.write_text(text + other)
    series = build_series(parse_messages(read_source(str(mbox))))
    assert [len(s.patches) for s in series] == [3, 3]
    assert [s.missing for s in series] == [(), ()]
    assert all(s.cover is not None for s in series)


def test_threaded_output_is_grouped_the_same(repo: Path, tmp_path: Path) -> None:
    """--thread (what git send-email sends): the same one series."""
    mbox = tmp_path / "threaded.mbox"
    mbox.write_text(git(repo, "format-patch", "--stdout", "--thread", "--cover-letter",
                        "HEAD~3.."))
    one_series(check(str(mbox)))


BOB = "Bob Other <bob@example.com>"
SOB_ADA = "Signed-off-by: Ada Example <ada@example.org>"


@pytest.fixture(scope="module")
def carried(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ada's three-patch series whose second patch is Bob's, carried by Ada: its
    ``From:`` is Bob (format-patch writes the commit's author), Ada's sign-off last, as
    Documentation/process/submitting-patches.rst has it."""
    from tests.kernel_repo import P1, P1_GLOBAL, P2, P3, SUBJECTS, commit, edit

    repo = make_tree(tmp_path_factory.mktemp("carried"))
    commit(repo, SUBJECTS[0], P1_GLOBAL, P1)
    edit(repo, *P2)
    git(repo, "commit", "-qam", SUBJECTS[1], "--author", BOB, "-m",
        f"Signed-off-by: {BOB}\n{SOB_ADA}")
    commit(repo, SUBJECTS[2], P3)
    return repo


def test_a_carried_patch_of_another_author_is_in_the_series(carried: Path,
                                                            tmp_path: Path) -> None:
    """git format-patch of a series that carries someone else's patch (no --thread):
    one series, whether a directory, stdin or an mbox."""
    out = tmp_path / "out"
    git(carried, "format-patch", "-q", "-o", str(out), "--cover-letter", "HEAD~3..")
    raw = [f.read_bytes() for f in sorted(out.iterdir())]
    assert [r.count(b"\nFrom: " + BOB.encode()) for r in raw] == [0, 0, 1, 0]
    one_series(check(str(out)))
    one_series(check("-", stdin=b"".join(raw)))
    mbox = tmp_path / "series.mbox"
    mbox.write_bytes(b"".join(raw))
    one_series(check(str(mbox)))


def test_another_authors_own_patch_does_not_join(carried: Path, tmp_path: Path) -> None:
    """Bob's own unthreaded patch with the same [PATCH 2/3] prefix (his sign-off only)
    between Ada's: not part of her series."""
    text = git(carried, "format-patch", "--stdout", "--cover-letter", "HEAD~3..")
    bobs = text.split("\nFrom ")[2].replace(f"\n{SOB_ADA}", "")
    assert f"From: {BOB}" in bobs and "ada@example.org" not in bobs.split("\n---\n")[0]
    parts = text.split("\nFrom ")
    mbox = tmp_path / "mixed.mbox"
    mbox.write_text("\nFrom ".join([*parts[:2], bobs.replace("widget: report",
                                                              "widget: log"), *parts[2:]]))
    series = build_series(parse_messages(read_source(str(mbox))))
    assert sorted((len(s.patches), s.cover is not None) for s in series) == [(1, False),
                                                                           (3, True)]


def test_the_carried_authors_next_patch_does_not_join(carried: Path, tmp_path: Path) -> None:
    """After Ada's series that carries Bob's patch, Bob's own unthreaded [PATCH 3/3]
    starts nothing in her series: the carried patch leaves it open to Ada only."""
    text = git(carried, "format-patch", "--stdout", "--cover-letter", "HEAD~3..")
    parts = text.split("\nFrom ")
    bobs = parts[3].replace("From: Ada Example <ada@example.org>", f"From: {BOB}").replace(
        SOB_ADA, f"Signed-off-by: {BOB}").replace("frob: warn", "frob: complain")
    mbox = tmp_path / "mixed.mbox"
    mbox.write_text("\nFrom ".join([*parts[:3], bobs, parts[3]]))
    series = build_series(parse_messages(read_source(str(mbox))))
    got = sorted(([p.subject for p in s.patches], s.cover is not None) for s in series)
    assert got == [(["[PATCH 1/3] frob: count failed takes",
                     "[PATCH 2/3] widget: report the pool limit",
                     "[PATCH 3/3] frob: warn when the pool is over its limit"], True),
                   (["[PATCH 3/3] frob: complain when the pool is over its limit"], False)]


def test_one_patch_with_a_cover_letter(repo: Path, tmp_path: Path) -> None:
    """format-patch --cover-letter of one commit: [PATCH 0/1] and [PATCH 1/1], one
    series with its cover letter, whatever the form of the input."""
    out = tmp_path / "out"
    git(repo, "format-patch", "-q", "-o", str(out), "--cover-letter", "HEAD~1..")
    raw = [f.read_bytes() for f in sorted(out.iterdir())]
    assert [r.count(b"\nSubject: [PATCH 0/1]") + r.count(b"\nSubject: [PATCH 1/1]")
            for r in raw] == [1, 1]
    mbox = tmp_path / "one.mbox"
    mbox.write_bytes(b"".join(raw))
    for data in (check(str(out)), check("-", stdin=b"".join(raw)), check(str(mbox))):
        (s,) = data["series"]
        assert (s["total"], s["missing"], "0/1" in s["subject"]) == (1, [], True)
        assert s["cover"] is not None and [p["index"] for p in data["patches"]] == [1]


def test_single_patches_of_one_author_stay_apart(repo: Path, tmp_path: Path) -> None:
    """format-patch -1 of two commits, one after the other ([PATCH] each, no thread):
    two series, the number 1 coming again."""
    one = git(repo, "format-patch", "--stdout", "-1", "HEAD")
    two = git(repo, "format-patch", "--stdout", "-1", "HEAD~1")
    data = check("-", stdin=(one + two).encode())
    assert [(s["total"], s["missing"]) for s in data["series"]] == [(1, []), (1, [])]
