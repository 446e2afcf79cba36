"""Issue 20, items 2, 3 and 13: hostile shapes within the input limits end in a review in
seconds and bounded memory; what does not fit a budget becomes a note.

Each input is built by ``tests/shapes.py`` (nothing huge is stored). Every test here
failed on the code before the budgets: the 30 MB patch of ``;`` needed more than 8 GB,
20,000 nested ``spin_lock`` lines took 269 s (CON002), 30,000 one-line hunks 129 s
(MEM001), a slow custom regex 22 ms a line with no total, and nothing stopped a rule
that ran on and on.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from reviewbot.analysis import SeriesAnalysis
from reviewbot.cmap.build import map_file
from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.diff.parse import parse_diff
from reviewbot.engine.check import CheckSpec
from reviewbot.engine.regexsafe import RegexGuard
from reviewbot.engine.runner import run_rules
from reviewbot.fetch.local import read_bytes
from reviewbot.pipeline import review_messages, review_series, select_rules
from reviewbot.ruleset import load_rules
from reviewbot.series.build import build_series
from reviewbot.series.mail import parse_mail
from tests import shapes
from tests.test_regexsafe import _rule

GIB = 1 << 30


@pytest.fixture(scope="module")
def parser() -> CParser:
    return CParser()


@pytest.fixture(scope="module")
def rules() -> list[Any]:
    return list(select_rules(load_rules(None), Settings()))


def _review(mail: bytes, rules: list[Any], parser: CParser) -> tuple[Any, float]:
    """The review of ``mail``, and the CPU seconds it took (the wall clock of a loaded
    machine wanders too much to judge by)."""
    start = time.process_time()
    review = review_messages(read_bytes(mail, "shape", "shape"), Settings(), rules, parser)
    return review, time.process_time() - start


def _check(path: Path, memory: int = 2 * GIB, timeout: float = 120,
           options: tuple[str, ...] = ()) -> tuple[int | None, bytes, str, float, int]:
    """``reviewbot check --format json PATH`` in a process whose address space is capped
    at ``memory`` bytes (``benchmarks/hostile.py``'s ``run``): (exit status, None when
    killed at ``timeout``; stdout; stderr; CPU seconds; its peak RSS in bytes). The big
    shapes are reviewed there, not in the test process: a process forked from one that
    grew keeps its peak RSS, and other tests measure their children's."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import hostile

    out = path.with_suffix(".out")
    with out.open("wb") as o:
        _, cpu, rss, status, err = hostile.run(
            [sys.executable, "-m", "reviewbot", "check", "--no-tree", "-j", "1", "--format",
             "json", *options, str(path)], timeout, memory, o)
    return status, out.read_bytes(), err, cpu, rss * 1024


# -- item 2: the C mapping of a patch is bounded -----------------------------------------

def test_c_tokens_estimates_from_above() -> None:
    from reviewbot.cmap.budget import c_tokens

    assert c_tokens("") == 0
    assert c_tokens(";" * 10) == 10
    assert c_tokens("int x = a->b;") == 8  # int x = a - > b ;
    assert c_tokens("foo(bar_1, 2)") == 6
    assert c_tokens("  word\n\tother") == 2


@pytest.mark.slow
def test_a_30mb_patch_of_semicolons_is_not_mapped_and_reviewed(tmp_path: Path) -> None:
    """30 MB of ``;`` (inside every input limit) is reviewed in seconds under 1 GB, its
    file listed as not mapped to C with the reason; before: more than 8 GB."""
    path = tmp_path / "dense.patch"
    path.write_bytes(shapes.dense_tokens(7_500, 4_000))
    status, out, err, cpu, _ = _check(path, 2 * GIB)
    assert status == 0, err[-500:]
    (patch,) = json.loads(out)["patches"]
    (unmapped,) = patch["unmapped"]
    assert unmapped["file"] == "mm/x.c" and unmapped["line"] == 1
    assert "7,500 added lines" in unmapped["reason"]
    assert "over the budget of 500,000 per patch" in unmapped["reason"]
    assert cpu < 30


def test_dense_tokens_map_within_the_budget(parser: CParser, rules: list[Any]) -> None:
    """1,000 lines of 4,000 ``;`` took 34 s and 1.6 GB: now one note, at once."""
    review, took = _review(shapes.dense_tokens(1_000, 4_000), rules, parser)
    (pr,) = review.series[0].patches
    assert [u.line for u in pr.unmapped] == [1]
    assert "about 4,000,000 C tokens" in pr.unmapped[0].reason
    assert took < 10


def test_a_file_over_what_is_left_is_not_mapped_and_the_rest_is(parser: CParser) -> None:
    """The budget is the patch's: files are mapped in order until it runs out."""
    from reviewbot.cmap.budget import MapBudget

    small = shapes.added_file(["int f(int x)", "{", "\treturn x;", "}"], "mm/a.c")
    big = shapes.added_file([";" * 4_000] * 100, "mm/b.c")
    (a, b) = parse_diff(small + big)
    budget = MapBudget(tokens=300_000)
    first = map_file(a, parser, budget=budget)
    second = map_file(b, parser, budget=budget)
    assert [fn.name for fn in first.functions] == ["f"] and first.unmapped == ()
    assert second.fragments == () and second.functions == ()
    (note,) = second.unmapped
    assert "about 400,000 C tokens" in note.reason and "left)" in note.reason


@pytest.mark.slow
def test_the_slowest_known_shape_parses_within_the_budget(tmp_path: Path) -> None:
    """``(;`` repeated is all error recovery for tree-sitter (8 s a million tokens):
    at the budget's 500,000 tokens it is mapped in a few seconds, and past it not at all."""
    path = tmp_path / "slow.patch"
    path.write_bytes(shapes.dense_tokens(124, 2_000, "(;"))
    status, out, err, cpu, _ = _check(path)
    assert status == 0, err[-500:]
    (pr,) = json.loads(out)["patches"]
    assert not any("budget" in u["reason"] for u in pr["unmapped"])
    assert cpu < 20
    path.write_bytes(shapes.dense_tokens(126, 2_000, "(;"))
    status, out, err, _, _ = _check(path)
    (pr,) = json.loads(out)["patches"]
    (unmapped,) = pr["unmapped"]
    assert "about 504,000 C tokens" in unmapped["reason"]


def test_node_budget(parser: CParser) -> None:
    from reviewbot.cmap.budget import MapBudget

    (fdiff,) = parse_diff(shapes.added_file([";" * 1_000] * 10))
    fmap = map_file(fdiff, parser, budget=MapBudget(nodes=5_000))
    assert "syntax nodes, over the budget of 5,000 per patch" in fmap.unmapped[0].reason


# -- item 3: every check is linear -------------------------------------------------------

@pytest.mark.slow
def test_20000_nested_lock_lines_are_linear(tmp_path: Path) -> None:
    """CON002 walked from every lock region to its release (269 s before)."""
    path = tmp_path / "locks.patch"
    path.write_bytes(shapes.many_locks(10_000))
    status, out, err, cpu, _ = _check(path)
    assert status == 0, err[-500:]
    (pr,) = json.loads(out)["patches"]
    assert pr["notes"] == [] and pr["findings"] == []
    assert cpu < 30


@pytest.mark.slow
def test_30000_one_line_hunks_are_linear(tmp_path: Path) -> None:
    """MEM001 rebuilt its list of digit lines per hunk (129 s before)."""
    path = tmp_path / "hunks.patch"
    path.write_bytes(shapes.many_hunks(30_000))
    status, out, err, cpu, _ = _check(path)
    assert status == 1, err[-500:]
    (pr,) = json.loads(out)["patches"]
    assert pr["notes"] == []
    assert {f["rule"] for f in pr["findings"]} == {"MEM001"}
    assert len(pr["findings"]) == 30_000
    assert cpu < 60


def test_many_hunks_in_many_functions_are_judged_in_linear_time(tmp_path: Path) -> None:
    """SER003 (is a hunk unrelated to the rest of its patch?) joined, for each hunk, the
    words of every other hunk: 1,000 hunks took 1.7 s, 4,000 about 27 s."""
    out = ["diff --git a/mm/x.c b/mm/x.c", "--- a/mm/x.c", "+++ b/mm/x.c"]
    for i in range(4_000):
        out.append(f"@@ -{10 * i + 5},0 +{10 * i + i + 6},1 @@ static void frob_{i}(void)")
        out.append(f"+\tfrobnicate_{i}_with_a_long_name(page_{i});")
    path = tmp_path / "functions.patch"
    path.write_bytes(shapes.patch_mail("\n".join(out) + "\n"))
    status, _, err, cpu, _ = _check(path, options=("--preview", "--select", "SER003"))
    assert status == 0, err[-500:]
    assert cpu < 15


def test_many_glued_declarations_are_judged_in_linear_time(tmp_path: Path) -> None:
    """STY012 looked for the hunk of each finding among all the hunks of the file (and
    for its line among all the hunk's lines): 2,000 hunks took 4.1 s in that search,
    8,000 ran past the 30 s budget of a patch."""
    out = ["diff --git a/mm/x.c b/mm/x.c", "--- a/mm/x.c", "+++ b/mm/x.c"]
    for i in range(8_000):
        out.append(f"@@ -{7 * i + 2},4 +{7 * i + 2},4 @@ static int frob_{i}(void)")
        out += [" {", " \tint a;", "-", "+\ta = 1;", " \treturn a;"]
    path = tmp_path / "glued.patch"
    path.write_bytes(shapes.patch_mail("\n".join(out) + "\n"))
    status, out_json, err, cpu, _ = _check(path, options=("--select", "STY012"))
    assert status == 1, err[-500:]
    (pr,) = json.loads(out_json)["patches"]
    assert pr["notes"] == []
    assert len(pr["findings"]) == 8_000
    assert cpu < 20


def test_lock_regions_one_after_the_other(tmp_path: Path) -> None:
    """Every one of 3,000 test-and-set sections is found (CON002), in linear time."""
    path = tmp_path / "sections.patch"
    path.write_bytes(shapes.many_locks(3_000, nested=False))
    status, out, err, cpu, _ = _check(path)
    assert status == 1, err[-500:]
    (pr,) = json.loads(out)["patches"]
    assert [f["rule"] for f in pr["findings"]] == ["CON002"] * 3_000
    assert cpu < 20


@pytest.mark.slow
def test_a_rewritten_block_is_compared_in_linear_time(parser: CParser,
                                                      rules: list[Any]) -> None:
    """The whitespace-insensitive re-diff of a hunk (``diff.layout.edits``, read by the
    blank-line rules and SER001) ran difflib on 2,000 removed and 2,000 added lines,
    half of them ``}``, for 126 s; past the patch's allowance a hunk is compared as its
    diff pairs it."""
    review, took = _review(shapes.rewritten_block(4_000), rules, parser)
    (pr,) = review.series[0].patches
    assert pr.notes == () and pr.findings == ()
    assert took < 30


def test_hunks_share_one_comparison_allowance() -> None:
    from reviewbot.diff.layout import Comparisons, edits

    mail = shapes.rewritten_block(200)
    (fdiff,) = parse_diff(mail.decode().split("---\n", 1)[1])
    (hunk,) = fdiff.hunks
    compared = edits(hunk)  # difflib: the "}" lines pair up, the calls do not
    assert [e.kind for e in compared][:2] == ["same", "code"]
    paired = edits(hunk, Comparisons(0))  # no allowance left: the diff's own pairing
    assert [e.kind for e in paired] == ["code"]
    assert len(paired[0].pre) == len(paired[0].post) == 200
    allowance = Comparisons(5_000_000)
    assert edits(hunk, allowance) == compared and allowance.left == 3_000_000


# -- item 3: the patch's time budget in the runner ---------------------------------------

def _stuck(_patch: Any, _file: Any, _params: Any) -> Iterable[Any]:
    while True:  # a check that never ends (the path nobody has found yet)
        time.sleep(0.01)


def test_a_rule_past_the_patch_budget_is_stopped_with_a_note(
        parser: CParser, rules: list[Any]) -> None:
    mail = shapes.many_hunks(3)
    (series,) = build_series([parse_mail(mail)])
    mem = next(r for r in rules if r.id == "MEM001")
    stuck = dataclasses.replace(mem, id="TST900", check=CheckSpec(
        _stuck, mem.check.params, (), "tests.stuck"))
    after = dataclasses.replace(mem, id="TST901")
    patch = SeriesAnalysis(series, parser).patch(0)
    start = time.perf_counter()
    found = run_rules([mem, stuck, after], patch, RegexGuard(), seconds=0.5)
    assert time.perf_counter() - start < 5
    assert [f.rule for f in found] == ["MEM001"] * 3  # what ran before is kept
    assert patch.notes[0].startswith("TST900 stopped: the rules of this patch ran past "
                                     "their time budget of 0.5 s")
    assert patch.notes[1] == ("not run on this patch, past its time budget of 0.5 s: "
                              "TST901")
    # the next patch starts with a whole budget
    again = SeriesAnalysis(series, parser).patch(0)
    assert len(run_rules([mem, after], again, RegexGuard(), seconds=0.5)) == 6


def test_one_timer_per_patch_stops_only_a_running_rule() -> None:
    """The patch's rules share one interval timer: ringing between two rules stops
    none (the runner then finds the time spent), and a rule started after it is
    stopped at once, never left to run without a timer."""
    from reviewbot.engine.budget import PatchOverrun, time_limit

    with time_limit(0.05) as limit:
        assert not limit.spent()
        time.sleep(0.2)  # the timer rings here, between steps: nothing is raised
        assert limit.spent()
        with pytest.raises(PatchOverrun), limit.step():
            raise AssertionError("a step after the time ran out must not run")
    with time_limit(0.05) as limit, pytest.raises(PatchOverrun), limit.step():
        time.sleep(5)  # stopped by the timer
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_budget_leaves_sigalrm_as_it_was(parser: CParser, rules: list[Any]) -> None:
    (series,) = build_series([parse_mail(shapes.many_hunks(2))])
    before = signal.getsignal(signal.SIGALRM)
    run_rules(rules, SeriesAnalysis(series, parser).patch(0), RegexGuard())
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# -- item 13: a total regex budget per rule and patch ------------------------------------

def _commas_for(pattern: str, seconds: float) -> tuple[int, float]:
    """How many commas make one search of ``f(,,,...`` take about ``seconds`` here (the
    pattern is cubic in them), at most what a regex rule searches (4,096 characters), and
    what one such search takes. Each time is the best of three: a load spike during the
    calibration must not make the searches look slower than they are."""
    import regex

    compiled = regex.compile(pattern, flags=regex.VERSION0)

    def best(n: int) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            compiled.search("f(" + "," * n)
            times.append(time.perf_counter() - start)
        return min(times)

    n = 200
    while n < 4_000 and best(n) < seconds:
        n = int(n * 1.25)
    n = min(n, 4_000)
    return n, best(n)


def test_a_slow_custom_regex_has_a_total_per_patch(tmp_path: Path) -> None:
    """Each search stays under the per-line limit (50 ms), so no strike ever comes: the
    old guard let 12,000 such lines run 267 s. The rule's total on the patch stops it."""
    pattern = r"\((.*),(.*)\);"
    rules = load_rules([_rule(tmp_path, pattern)])
    commas, one = _commas_for(pattern, 0.01)  # 5 times under the per-line limit
    hostile = "f(" + "," * commas
    # searches that would take three times the 2 s budget at their fastest
    lines = ["x = f(a, b);", *[hostile] * min(3_000, int(6 / one) + 1)]
    mail = shapes.patch_mail(shapes.added_file(lines))
    (series,) = build_series([parse_mail(mail)])
    guard, parser = RegexGuard(), CParser()
    start = time.perf_counter()
    review = review_series(series, rules, parser, guard=guard)
    took = time.perf_counter() - start
    (pr,) = review.patches
    assert [f.line for f in pr.findings] == [1]
    (note,) = pr.notes
    assert note.startswith("TST001 stopped on this patch at mm/x.c:")
    assert "used up their 2 s per patch" in note
    assert guard.strikes == {}  # no line was over the per-line limit
    assert 2 <= guard.spent["TST001"] < 2.2
    assert took < 15  # (6 s of searches before, more on a loaded machine)


@pytest.mark.parametrize("memory", [GIB])
def test_hostile_shapes_in_one_mbox_stay_under_1gb(tmp_path: Path, memory: int) -> None:
    """The shapes of this issue, one after the other in one mbox: one process reviews
    them all in bounded memory (its peak RSS under 1 GB)."""
    sep = b"From nobody Mon Sep 17 00:00:00 2001\n"
    mails = [shapes.dense_tokens(1_000, 4_000), shapes.many_locks(3_000),
             shapes.many_hunks(5_000), shapes.deep_nesting(3_000), shapes.huge_cc(5_000)]
    path = tmp_path / "shapes.mbox"
    path.write_bytes(b"".join(sep + m.replace(b"<shape@", b"<shape%d@" % i) + b"\n"
                              for i, m in enumerate(mails)))
    status, out, err, _, peak = _check(path, 3 * GIB)
    assert status in (0, 1), err[-500:]
    assert len(json.loads(out)["patches"]) == len(mails)
    assert peak < memory
