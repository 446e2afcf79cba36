"""Reviews in forked workers (``check --jobs``) are exactly the single-process reviews.

Real processes: the tests fork, make children fail in the ways a child can fail
(exception, signal, garbage on the pipe), and check that the parent then reviews those
series itself, that no child ever returns into the caller, and that the output is byte
for byte the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.fetch.local import read_source
from reviewbot.findings import Review, SeriesReview
from reviewbot.pipeline import parse_messages, review_series
from reviewbot.report.json import render_json
from reviewbot.ruleset import load_rules
from reviewbot.series.build import build_series
from reviewbot.series.model import Series
from reviewbot.workers import deal, review_all, weight
from tests.conftest import ROOT

RULES = load_rules(None)
PARSER = CParser()


def _synthetic(tmp_path: Path, patches: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import synth
    finally:
        sys.path.pop(0)
    path = tmp_path / "synthetic.mbox"
    path.write_text(synth.mbox(patches), encoding="utf-8")
    return path


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the children ``os.fork`` makes during the test (real forks)."""
    pids: list[int] = []
    real_fork = os.fork

    def counted() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid
    monkeypatch.setattr(os, "fork", counted)
    return pids


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> list[Series]:
    path = _synthetic(tmp_path_factory.mktemp("workers"), 60)
    series = build_series(parse_messages(read_source(str(path), 1 << 30)), None)
    assert len(series) >= 8
    return series


def _review(s: Series) -> SeriesReview:
    return review_series(s, RULES, PARSER)


def _json(reviews: list[SeriesReview]) -> str:
    return render_json(Review(tuple(reviews)))


def _single(series: list[Series]) -> str:
    return _json([_review(s) for s in series])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 500), max_size=30), st.integers(1, 6))
def test_deal_shares_out_every_index_once_and_evenly(weights: list[int], shares: int) -> None:
    groups = deal(weights, shares)
    flat = [i for g in groups for i in g]
    assert sorted(flat) == list(range(len(weights)))
    assert all(g == sorted(g) and g for g in groups)
    assert len(groups) <= shares
    if len(groups) > 1:  # greedy: no group exceeds another by more than its heaviest item
        totals = [sum(weights[i] for i in g) for g in groups]
        heaviest = max(weights)
        assert max(totals) - min(totals) <= heaviest


def test_workers_give_the_single_process_review(many: list[Series]) -> None:
    parent = os.getpid()
    for jobs in (2, 3, 5):
        reviews = review_all(many, _review, jobs, min_lines=0)
        assert os.getpid() == parent
        assert [r.series for r in reviews] == many  # the parent's own objects, in order
        assert all(p.patch is q for r, s in zip(reviews, many, strict=True)
                   for p, q in zip(r.patches, s.patches, strict=True))
        assert _json(reviews) == _single(many)
    assert sum(len(p.findings) for r in reviews for p in r.patches) > 0  # not vacuous


def _failing_in_children(how: Callable[[], None]) -> Callable[[Series], SeriesReview]:
    parent = os.getpid()

    def review(s: Series) -> SeriesReview:
        if os.getpid() != parent:
            how()
        return _review(s)
    return review


def _raise() -> None:
    raise RuntimeError("a child's review failed")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _exit_zero_without_writing() -> None:
    os._exit(0)


@pytest.mark.parametrize("how", [_raise, _die, _exit_zero_without_writing],
                         ids=["exception", "sigkill", "silent-exit"])
def test_what_a_child_fails_to_deliver_is_reviewed_here(
        many: list[Series], how: Callable[[], None], tmp_path: Path) -> None:
    marker = tmp_path / "returned"
    reviews = review_all(many, _failing_in_children(how), 3, min_lines=0)
    with marker.open("a") as fh:  # a child that returned into the caller writes too
        fh.write(f"{os.getpid()}\n")
    assert marker.read_text().split() == [str(os.getpid())]
    assert _json(reviews) == _single(many)


def test_an_error_in_the_review_surfaces_as_without_workers(many: list[Series]) -> None:
    def broken(s: Series) -> SeriesReview:
        raise RuntimeError("rule crashed")
    with pytest.raises(RuntimeError, match="rule crashed"):
        review_all(many, broken, 2, min_lines=0)


def test_small_inputs_stay_in_one_process(many: list[Series]) -> None:
    parent = os.getpid()
    seen: set[int] = set()

    def review(s: Series) -> SeriesReview:
        seen.add(os.getpid())
        return _review(s)
    total = sum(weight(s) for s in many)
    review_all(many, review, 4, min_lines=total + 1)
    assert seen == {parent}
    review_all(many[:1], review, 4, min_lines=0)  # one series: nothing to share out
    assert seen == {parent}


def test_check_jobs_output_is_byte_identical(tmp_path: Path) -> None:
    path = _synthetic(tmp_path, 120)
    outs = []
    for jobs in ("1", "2"):
        proc = subprocess.run([sys.executable, "-m", "reviewbot", "check", str(path),
                               "--format", "json", "--jobs", jobs],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 1, proc.stderr  # findings
        outs.append(proc.stdout)
    assert outs[0] == outs[1]
    assert '"rule": "' in outs[0]


def test_jobs_must_be_positive() -> None:
    proc = subprocess.run([sys.executable, "-m", "reviewbot", "check", "-", "--jobs", "0"],
                          capture_output=True, text=True, input="", check=False)
    assert proc.returncode == 2
    assert "at least 1" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_default_settings_review_in_one_process() -> None:
    assert Settings().jobs == 1


def test_review_messages_forks_with_jobs(tmp_path: Path, forks: list[int]) -> None:
    from reviewbot.pipeline import review_messages

    raw = read_source(str(_synthetic(tmp_path, 60)), 1 << 30)
    one = render_json(review_messages(raw, Settings(jobs=1), rules=RULES, parser=PARSER))
    assert forks == []
    three = render_json(review_messages(raw, Settings(jobs=3), rules=RULES, parser=PARSER))
    assert len(forks) == 2  # two children; this process reviews the third share
    assert three == one


def test_an_interrupted_parent_does_not_wait_for_its_children(
        many: list[Series], forks: list[int]) -> None:
    import time

    parent = os.getpid()

    def review(s: Series) -> SeriesReview:
        if os.getpid() != parent:
            time.sleep(60)  # a long share
        raise KeyboardInterrupt
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        review_all(many, review, 3, min_lines=0)
    assert time.monotonic() - start < 20  # killed and reaped, not waited for
    assert len(forks) == 2
    for pid in forks:  # no child left behind, not even a zombie
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_worker_sends_back_every_field_of_a_patch_review(many: list[Series]) -> None:
    """``_pack``/``_unpack`` carry a PatchReview's fields by position: a field added to
    PatchReview must be added there too, or ``-j`` would silently drop it."""
    import dataclasses

    from reviewbot.findings import PatchReview
    from reviewbot.workers import _pack

    names = [f.name for f in dataclasses.fields(PatchReview)]
    assert names == ["patch", "findings", "unmapped", "full_files", "notes"]
    review = _review(many[0])
    _notes, packed = _pack(review)
    assert [tuple(getattr(p, n) for n in names[1:]) for p in review.patches] == list(packed)
