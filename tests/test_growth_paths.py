"""The lookups that keep a huge patch linear answer what their definitions say: lock
regions at a line, regions acquired in a span, row subtraction, CON001's stores across
added functions, and its reads of some locations (worked out only where a location's
word is spelled: the same reads as filtering all of them)."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from reviewbot.rules.concurrency.lockless_read_needs_read_once.check import (
    Sharing,
    _added_reads,
    knowledge,
)

from reviewbot.analysis import PatchAnalysis, SeriesAnalysis
from reviewbot.cmap.filemap import FileMap, file_map
from reviewbot.cmap.model import LockRegion
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.rows import merge, subtract
from reviewbot.config import Settings
from reviewbot.fetch.local import RawMessage, read_source
from reviewbot.pipeline import node_kinds, parse_messages, review_messages
from reviewbot.ruleset import load_rules
from reviewbot.series.build import build_series
from tests.conftest import FIXTURES, ROOT, corpus_path

RULES = load_rules()


@pytest.fixture(scope="module")
def parser() -> CParser:
    return CParser()


def _sources(tmp: Path) -> list[Path]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import synth  # benchmarks/synth.py: the benchmark's generator
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    big = tmp / "big.patch"
    big.write_text(synth.big_patch(1500), encoding="utf-8")
    many = tmp / "synthetic.mbox"
    many.write_text("\n".join(synth.messages(60)), encoding="utf-8")
    mixed = tmp / "mixed.patch"
    mixed.write_text(MIXED, encoding="utf-8")
    corpus = corpus_path()  # the test skips, saying why, without the corpus
    return [*sorted(corpus.glob("*.patch")), corpus / "hvo-v4-subset.mbox",
            *sorted((FIXTURES / "series").glob("*.mbox")), big, many, mixed]


def _function(name: str, body: list[str], sign: str) -> list[str]:
    return [f"{sign}static void {name}(struct frob *f)", f"{sign}{{",
            *(f"{sign}\t{line}" for line in body), f"{sign}}}", f"{sign}"]


def _hunk(old: int, new: int, lines: list[str]) -> str:
    n_old = sum(not ln.startswith("+") for ln in lines)
    n_new = sum(not ln.startswith("-") for ln in lines)
    return f"@@ -{old},{n_old} +{new},{n_new} @@\n" + "\n".join(lines) + "\n"


def _mixed_file(path: str) -> str:
    """Added functions that store f->count before and after a changed old function
    that stores it too (its stores are not the added ones: they must be merged)."""
    locked = ["spin_lock(&f->lock);", "f->count = 1;", "f->other = 2;",
              "spin_unlock(&f->lock);"]
    first = _function("frob_new_a", locked, "+")
    old_fn = [" static void frob_old(struct frob *f)", " {", "+\tif (f->count > 3)",
              "+\t\treturn;", " \tspin_lock(&f->lock);", " \tf->count = 4;",
              " \tf->other = f->count;", " \tspin_unlock(&f->lock);", " }", " "]
    last = _function("frob_new_b", ["cmpxchg(&f->count, 0, 1);", "if (f->other)",
                                    "\tf->other = 0;"], "+")
    return (f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
            + _hunk(10, 10, [" ", *first])
            + _hunk(40, 47, old_fn)
            + _hunk(60, 69, [" ", *last]))


MIXED = ("From: Ada <ada@example.org>\nSubject: [PATCH] frob: count\n\n"
         "Count.\n---\n" + _mixed_file("drivers/frob/a.c") + _mixed_file("drivers/frob/b.c"))


def _patches(parser: CParser, tmp: Path) -> Iterator[PatchAnalysis]:
    for source in _sources(tmp):
        for series in build_series(parse_messages(read_source(str(source)))):
            analysis = SeriesAnalysis(series, parser, node_kinds(RULES))
            for i, patch in enumerate(series.patches):
                if not patch.skipped:
                    yield analysis.patch(i)


def _maps(parser: CParser, tmp: Path) -> list[FileMap]:
    return [f.map for patch in _patches(parser, tmp) for f in patch.files
            if f.map is not None]


def _holds(r: LockRegion, line: int) -> bool:
    return r.start < line < r.end or (r.start == line and not r.start_known)


def test_lock_lookups_answer_what_a_scan_answers(parser: CParser, tmp_path: Path) -> None:
    maps = _maps(parser, tmp_path)
    assert sum(len(m.locks) for m in maps) > 50  # the inputs do take locks
    for fmap in maps:
        last = max(fmap.text, default=0) + 2
        for line in range(-1, last):
            assert fmap.locks_at(line) == tuple(r for r in fmap.locks if _holds(r, line))
        for fn in fmap.functions:
            assert fmap.index.locks_starting(fn.start, fn.end) == [
                r for r in sorted(fmap.locks, key=lambda r: r.start)
                if fn.start <= r.start <= fn.end]


def test_lock_lookup_of_huge_regions(parser: CParser) -> None:
    """Regions with an unknown end (up to the end of a file) do not cost a cell per
    line: the lookup keeps one entry per stretch between two region boundaries."""
    regions = (LockRegion("a", "spin_lock", 5, 10**6, "f"),
               LockRegion("b", "mutex_lock", 7, 9, "f", start_known=False),
               LockRegion("c", "spin_lock", 7, 8, "f"))
    fmap = file_map("x.c", (), (), regions, (), {n: "" for n in range(1, 20)}, frozenset(),
                    (), parser)
    for line in (4, 5, 6, 7, 8, 9, 10, 999_999, 10**6):
        assert fmap.locks_at(line) == tuple(r for r in regions if _holds(r, line)), line


def test_subtract_rows() -> None:
    rng = random.Random(7)
    for _ in range(500):
        a = merge((lo, lo + rng.randrange(6)) for lo in rng.sample(range(60), 6))
        b = merge((lo, lo + rng.randrange(6)) for lo in rng.sample(range(60), 6))
        want = {r for lo, hi in a for r in range(lo, hi + 1)} - \
            {r for lo, hi in b for r in range(lo, hi + 1)}
        got = subtract(a, b)
        assert {r for lo, hi in got for r in range(lo, hi + 1)} == want
        assert got == merge(got) or got == ()  # sorted, disjoint, not adjacent


def test_con001_reads_stores_across_added_functions_in_patch_order() -> None:
    """In MIXED each file adds two functions that store f->count (under the lock, with
    cmpxchg) around an old one that reads it unlocked before it takes the lock: the
    read races with the stores of the added functions, and the first of them in patch
    order (file a.c's, for the reader in b.c too) is the evidence named."""
    review = review_messages([RawMessage(MIXED.encode(), "mixed")], Settings(),
                             [r for r in RULES if r.id == "CON001"])
    assert [(f.file, f.line, f.function, f.message) for f in review.findings] == [
        ("drivers/frob/a.c", 49, "frob_old", "plain lockless read of f->count, which is "
         "written under f->lock in frob_new_a(): use READ_ONCE()"),
        ("drivers/frob/b.c", 49, "frob_old", "plain lockless read of f->count, which is "
         "written under f->lock in frob_new_a() (drivers/frob/a.c): use READ_ONCE()")]


def test_con001_evidence_keys_and_their_reads(parser: CParser, tmp_path: Path) -> None:
    """Every store ``stores`` finds has a key of ``evidence_keys``, and the added reads
    of some keys are those of ``_added_reads`` with those keys, in the same order."""
    (rule,) = [r for r in RULES if r.id == "CON001"]
    know = knowledge(rule.params)
    asked = reads = 0
    for patch in _patches(parser, tmp_path):
        keys = Sharing(patch, know).evidence_keys()
        assert keys is not None  # hunk mode
        sharing = Sharing(patch, know)
        for i, f in enumerate(patch.files):
            if f.map is None:
                continue
            full = _added_reads(f.map, sharing.accesses[i])
            for name in sorted({fn.name for fn in f.map.functions}):
                for key in sorted({a.key for a in full} - keys):
                    assert sharing.stores(f.path, name, key) == []
                    asked += 1
            every = sorted({a.key for a in full})
            for chosen in [keys, frozenset(every), *(frozenset({k}) for k in every),
                           frozenset(every[::2]) | {"<struct frob*>->nothing"}]:
                want = [a for a in full if a.key in chosen]
                assert _added_reads(f.map, sharing.accesses[i], frozenset(chosen)) == want
                reads += len(want)
    assert asked > 300 and reads > 300
