"""The revision review on real list traffic, against the verdicts judged by hand
(benchmarks/judged/revisions-linux-block-2025-10.json; see benchmarks/revisions_judged.py).

Every verdict reviewbot gives on the traffic must have been judged (a new or changed
verdict is judged before it is committed), and at least 90 % of the "not addressed"
verdicts must be right.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import CORPUS, ROOT, corpus_path

MBOX = CORPUS / "traffic" / "linux-block-2025-10.mbox"
JUDGED = ROOT / "benchmarks" / "judged" / "revisions-linux-block-2025-10.json"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("revisions_judged",
                                                  ROOT / "benchmarks" / "revisions_judged.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scored() -> tuple[ModuleType, Any]:
    corpus_path("traffic/linux-block-2025-10.mbox")
    script = _script()
    found = script.verdicts(MBOX)
    return script, script.score(found, script.load(JUDGED))


def test_every_verdict_on_the_traffic_is_judged(scored: tuple[ModuleType, Any]) -> None:
    counts, unjudged, _wrong = scored[1]
    assert not unjudged, "judge these (benchmarks/revisions_judged.py --dump): " + "; ".join(
        f"{v.verdict} {v.key}" for v in unjudged)
    assert sum(sum(c.values()) for c in counts.values()) >= 100


def test_not_addressed_verdicts_are_right(scored: tuple[ModuleType, Any]) -> None:
    script, (counts, _unjudged, _wrong) = scored
    got = script.precision(counts, "not_addressed")
    assert got is not None and got >= script.NOT_ADDRESSED_PRECISION
    assert counts["not_addressed"]["right"] >= 1


def test_judgments_copy_no_review_text() -> None:
    """The judgments name comments by a hash; reasons are short and our own."""
    import json

    entries = json.loads(JUDGED.read_text(encoding="utf-8"))["entries"]
    assert all(len(e["reason"]) <= 160 for e in entries)
    assert all(e["judgment"] in ("right", "wrong", "unclear") for e in entries)


def test_the_revision_review_parses_each_patch_of_vn_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Reviewed series are kept in their stored form (series.stored) and read back when
    asked for. The revision review reads every vN patch many times (patch matching,
    each comment's fate, trailers): it reads each back once, not once per look (through
    the stored form's small cache, a series of more than 8 patches was parsed again for
    every comment and every match: 1,155 parses for the 228 patches compared on this
    mbox, half the run time of the revision review)."""
    from reviewbot import pipeline
    from reviewbot.config import Settings
    from reviewbot.fetch.local import read_source
    from reviewbot.revisions.lookup import Lookup

    if not MBOX.is_file():
        pytest.skip(f"the traffic corpus is missing at {MBOX} (set REVIEWBOT_CORPUS)")
    raw = list(read_source(str(MBOX), 1 << 30))
    parsed: list[int] = []
    real = pipeline._Input.patch

    def counting(self: Any, n: int, index: int, total: int, version: int) -> Any:
        parsed.append(n)
        return real(self, n, index, total, version)

    monkeypatch.setattr(pipeline._Input, "patch", counting)
    review = pipeline.review_messages(raw, Settings(), revisions=Lookup())
    compared = [sr for sr in review.series if sr.since is not None and sr.since.review]
    assert len(compared) >= 30
    # reviewed series are stored without reading anything back; what is read back is
    # read for the revision review (vN's patches, or the first patch of a vN without a
    # cover letter, for its change-id), each patch once
    assert sorted(parsed) == sorted(set(parsed))
    assert sum(len(sr.series.patches) for sr in compared) <= len(parsed) <= sum(
        len(sr.series.patches) for sr in review.series if sr.series.version > 1)


def test_the_cost_benchmark_measures_a_multi_revision_input(tmp_path: Path) -> None:
    """benchmarks/revisions_cost.py: its multi-revision input holds only series with an
    earlier revision (each compared again when the part is reviewed alone), and a run on
    the fixture prints a figure against the budget."""
    import subprocess

    spec = importlib.util.spec_from_file_location("revisions_cost",
                                                  ROOT / "benchmarks" / "revisions_cost.py")
    assert spec is not None and spec.loader is not None
    cost = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cost)
    if MBOX.is_file():
        from reviewbot.config import Settings
        from reviewbot.fetch.local import read_source
        from reviewbot.pipeline import review_messages
        from reviewbot.revisions.lookup import Lookup

        part = tmp_path / "part.mbox"
        n = cost.multi_revision_part(MBOX, part)
        assert n >= 30
        review = review_messages(read_source(str(part)), Settings(), revisions=Lookup())
        compared = [sr for sr in review.series if sr.since is not None and sr.since.review]
        assert len(compared) >= n and all(sr.series.version > 1 for sr in compared)
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "revisions_cost.py"),
                          "--runs", "1", "--mbox", str(tmp_path / "none.mbox"), "--json",
                          str(tmp_path / "cost.json")], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert run.returncode in (0, 1), run.stderr
    assert "fixtures/revisions (widget v1 + v2)" in run.stdout
    figures = json.loads((tmp_path / "cost.json").read_text(encoding="utf-8"))
    (widget,) = figures.values()
    assert widget["on_cpu"] > 0 and widget["off_cpu"] > 0
