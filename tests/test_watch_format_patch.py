"""``watch`` on ``git format-patch`` output sent without ``--thread`` (git's default):
each patch its own thread, the same ``[PATCH vN M/T]`` numbering, one author, arriving
together. The watcher groups them as ``check`` does (``series.build``'s batches), one
series per format-patch run; real patches from a real git repository, delivered into a
real Maildir (issue 15 item 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import mailgen
from tests.conftest import ROOT
from tests.kernel_repo import add_series, git, make_tree
from tests.watchenv import Env


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_tree(tmp_path_factory.mktemp("wfp"))
    add_series(repo)
    return repo


def format_patch(repo: Path, out: Path, *args: str) -> list[bytes]:
    """``git format-patch --cover-letter`` of the three-patch series, as files."""
    git(repo, "format-patch", "-q", "-o", str(out), "--cover-letter", *args, "HEAD~3..")
    files = sorted(out.iterdir())
    assert len(files) == 4
    return [f.read_bytes() for f in files]


def sent(raw: bytes, n: int, run: str) -> bytes:
    """What ``git send-email --no-thread`` puts on the wire for a format-patch file: the
    ``From <sha>`` line dropped, a Message-ID of its own, no In-Reply-To."""
    head, body = raw.split(b"\n", 1)
    assert head.startswith(b"From ") and b"\nIn-Reply-To:" not in raw
    return f"Message-ID: <{run}.{n}@example.org>\n".encode() + body


def msgs(raws: list[bytes]) -> list[mailgen.Msg]:
    return [mailgen.Msg(f"m{i}", r) for i, r in enumerate(raws)]


def rows(env: Env) -> list[tuple[str, str, list[int]]]:
    store = env.store()
    try:
        return [(r[0], r[1], json.loads(r[2])) for r in store.db.execute(
            "SELECT subject, state, parts FROM series ORDER BY id")]
    finally:
        store.close()


def test_unthreaded_format_patch_files_are_one_series(repo: Path, tmp_path: Path) -> None:
    raws = format_patch(repo, tmp_path / "out")
    assert not any(b"\nMessage-ID:" in r or b"\nIn-Reply-To:" in r for r in raws)
    env = Env(tmp_path)
    env.deliver(msgs(raws))
    env.run()
    ((subject, state, parts),) = rows(env)
    assert "[PATCH 0/3]" in subject and parts == [0, 1, 2, 3]
    assert state != "waiting"
    line = next(e for e in env.events("series") if "trigger=" in e)
    assert "trigger=complete" in line and "patches=3/3" in line


def test_sent_without_thread_arriving_in_two_polls(repo: Path, tmp_path: Path) -> None:
    raws = [sent(r, n, "run1") for n, r in enumerate(format_patch(repo, tmp_path / "o",
                                                                  "-v2"))]
    env = Env(tmp_path)
    env.deliver(msgs(raws[:2]))  # the cover letter and patch 1
    env.run()
    assert [(s, p) for s, st, p in rows(env)] == [(rows(env)[0][0], [0, 1])]
    env.deliver(msgs(raws[2:]))
    env.run()
    ((subject, state, parts),) = rows(env)
    assert "[PATCH v2 0/3]" in subject and parts == [0, 1, 2, 3] and state != "waiting"


def test_two_runs_are_two_series_and_threads_stay_threads(repo: Path, tmp_path: Path
                                                          ) -> None:
    # the same series formatted twice (a new run numbers from 1/3 again), then a
    # threaded v3 whose patches answer its cover letter
    first = [sent(r, n, "a") for n, r in enumerate(format_patch(repo, tmp_path / "a"))]
    second = [sent(r, n, "b") for n, r in enumerate(format_patch(repo, tmp_path / "b"))]
    git(repo, "format-patch", "-q", "-o", str(tmp_path / "c"), "--cover-letter", "-v3",
        "--thread=shallow", "HEAD~3..")
    threaded = [f.read_bytes() for f in sorted((tmp_path / "c").iterdir())]
    assert b"\nIn-Reply-To:" in threaded[1]
    env = Env(tmp_path)
    env.deliver(msgs(first + second + threaded))
    env.run()
    got = rows(env)
    assert [p for _, _, p in got] == [[0, 1, 2, 3]] * 3
    assert [s.split("]")[0] for s, _, _ in got] == ["[PATCH 0/3", "[PATCH 0/3",
                                                   "[PATCH v3 0/3"]
    states = [st for _, st, _ in got]
    assert states[1] == "skipped"  # the second run repeats the first: a resend


def test_watch_and_check_agree_on_the_batch(repo: Path, tmp_path: Path) -> None:
    raws = format_patch(repo, tmp_path / "out")
    env = Env(tmp_path)
    env.deliver(msgs(raws))
    env.run()
    store = env.store()
    try:
        (findings,) = store.db.execute("SELECT findings FROM series").fetchone()
    finally:
        store.close()
    proc = subprocess.run([sys.executable, "-m", "reviewbot", "check", "--no-tree",
                           "--format", "json", str(env.maildir)], cwd=ROOT,
                          capture_output=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    data = json.loads(proc.stdout)
    assert len(data["series"]) == 1 and data["series"][0]["missing"] == []
    assert findings == sum(len(p["findings"]) for p in data["patches"]) > 0


@pytest.mark.parametrize("order", ["cover first", "patch first"])
def test_one_patch_with_its_cover_letter_is_one_series(repo: Path, tmp_path: Path,
                                                       order: str) -> None:
    """--cover-letter of one commit, sent without --thread: [PATCH 0/1] and [PATCH 1/1]
    are one series, reviewed with its cover letter, as check reads them."""
    git(repo, "format-patch", "-q", "-o", str(tmp_path / "o"), "--cover-letter", "HEAD~1..")
    raws = [sent(f.read_bytes(), n, "one")
            for n, f in enumerate(sorted((tmp_path / "o").iterdir()))]
    env = Env(tmp_path)
    env.deliver(msgs(raws if order == "cover first" else raws[::-1]))
    env.run()
    ((subject, state, parts),) = rows(env)
    assert "[PATCH 0/1]" in subject and parts == [0, 1] and state != "waiting"
