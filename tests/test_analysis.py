"""The per-patch analysis owns every cache of a review: the models (mails, patches,
hunks, rules) are never written to, each hunk is analysed once per patch, and what a
series keeps for its later patches is only what SER001 asked for."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import reviewbot.analysis
import reviewbot.findings
from reviewbot.analysis import SeriesAnalysis
from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.fetch.local import read_source
from reviewbot.pipeline import (
    node_kinds,
    parse_messages,
    review_messages,
    review_series,
    select_rules,
)
from reviewbot.ruleset import load_rules
from reviewbot.series.build import build_series
from reviewbot.series.model import Series
from tests.conftest import FIXTURES

RULES = select_rules(load_rules(), Settings())


def _models(series: Series) -> list[object]:
    out: list[object] = []
    for p in series.patches:
        out += [p, p.mail, *p.files]
        for f in p.files:
            out += [*f.hunks, *(ln for h in f.hunks for ln in h.lines)]
    return out


def test_a_review_writes_nothing_into_the_models(corpus: Path) -> None:
    raw = read_source(str(corpus / "hvo-v4-subset.mbox"), 1 << 26)
    parser = CParser()
    (series,) = build_series(parse_messages(raw))
    first = review_series(series, RULES, parser)
    assert any(f.rule == "SER001" for pr in first.patches for f in pr.findings)  # a later
    for obj in [*_models(series), *RULES]:                 # patch asked too
        fields = {f.name for f in dataclasses.fields(obj)} if dataclasses.is_dataclass(
            obj) else set(getattr(type(obj), "__slots__", ()))
        assert fields, type(obj).__name__
        assert set(getattr(obj, "__dict__", {})) <= fields, (
            type(obj).__name__, set(vars(obj)) - fields)
    again = review_series(series, RULES, parser)  # nothing kept between runs
    assert [pr.findings for pr in again.patches] == [pr.findings for pr in first.patches]
    streamed = review_messages(raw, Settings(), RULES, parser)  # the pipeline agrees
    assert [pr.findings for sr in streamed.series for pr in sr.patches] == [
        pr.findings for pr in first.patches]


def test_each_hunk_is_scanned_once_for_the_map_and_the_checks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = reviewbot.analysis.scan_post_image

    def counting(hunk: object) -> object:
        calls.append(hunk)
        return real(hunk)  # type: ignore[arg-type]

    monkeypatch.setattr(reviewbot.analysis, "scan_post_image", counting)
    raw = read_source(str(FIXTURES / "series" / "frob-v2.mbox"), 1 << 26)
    (series,) = build_series(parse_messages(raw))
    review_series(series, RULES, CParser())
    c_hunks = [h for p in series.patches if not p.skipped
               for f in p.files if f.maps_to_c for h in f.hunks]
    assert c_hunks and len(calls) == len(c_hunks)  # the C map and STY003-005 share it
    assert all(a is b for a, b in zip(calls, c_hunks, strict=True))


def test_a_patch_analysis_works_a_value_out_once() -> None:
    raw = read_source(str(FIXTURES / "series" / "frob-v2.mbox"), 1 << 26)
    (series,) = build_series(parse_messages(raw))
    analysis = SeriesAnalysis(series, CParser(), node_kinds(RULES))
    patch = analysis.patch(0)
    hunk = next(h for f in patch.files for h in f.hunks)
    assert hunk.edits() is hunk.edits() and hunk.layout_changes() is hunk.layout_changes()
    built: list[int] = []
    assert patch.kept("x", lambda: built.append(1) or 7) == 7
    assert patch.kept("x", lambda: built.append(2) or 8) == 7
    assert built == [1]
    assert analysis.patch(0).kept("x", lambda: 9) == 9  # a new analysis, a new value


def test_the_series_keeps_the_squashed_lines_of_earlier_patches(corpus: Path) -> None:
    raw = read_source(str(corpus / "hvo-v4-subset.mbox"), 1 << 26)
    (series,) = build_series(parse_messages(raw))
    analysis = SeriesAnalysis(series, CParser(), node_kinds(RULES))
    last = analysis.patch(len(series.patches) - 1)
    earlier = last.earlier()
    assert [e.patch.index for e in earlier] == [p.index for p in series.patches[:-1]]
    first = earlier[0].squashed(0)
    assert first is earlier[0].squashed(0)  # worked out once, kept by the series
    hunk = series.patches[0].files[0].hunks[0]
    texts, added = first[0]
    assert len(texts) == len(added) == sum(ln.kind != "-" for ln in hunk.lines)
    assert ["".join(t.split()) for t in texts] == [
        "".join(ln.text.split()) for ln in hunk.lines if ln.kind != "-"]
    assert list(added) == [ln.kind == "+" for ln in hunk.lines if ln.kind != "-"]


# Modules that use id() only for identity sets and maps that live within one call (each
# object taken once while a function runs). Every cache of a review (the
# per-patch and per-series analysis, the series map, the rules) is keyed by what it
# describes: a patch's number, a file's and a hunk's position, a line.
ID_ALLOWED = {
    "reviewbot/evaluate/judged.py", "reviewbot/fetch/http.py", "reviewbot/revisions/fate.py",
    "reviewbot/revisions/match.py", "reviewbot/series/build.py",
    "reviewbot/series/stored.py", "reviewbot/seriesmap/cuses.py",
    "reviewbot/seriesmap/misplaced.py", "reviewbot/seriesmap/nfc.py",
    "reviewbot/seriesmap/symbols.py", "reviewbot/seriesmap/unrelated.py",
}


def test_no_cache_of_a_review_is_keyed_by_id() -> None:
    import ast

    from tests.conftest import ROOT

    using = set()
    for path in [*(ROOT / "reviewbot").rglob("*.py"), *(ROOT / "rules").rglob("*.py")]:
        tree = ast.parse(path.read_text(), str(path))
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "id"
               for n in ast.walk(tree)):
            using.add(path.relative_to(ROOT).as_posix())
    assert using - ID_ALLOWED == set()
    assert "reviewbot/analysis.py" not in ID_ALLOWED  # (the check sees what it must)
    assert "reviewbot/seriesmap/misplaced.py" in using
