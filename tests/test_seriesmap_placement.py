"""Changes in the wrong patch, hunks unrelated to their patch, behaviour changes under a
no-functional-change claim; and the measurement on real traffic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from reviewbot.errors import InputError
from reviewbot.evaluate.judged import load_judged
from reviewbot.fetch.local import split_mbox
from reviewbot.pipeline import parse_messages
from reviewbot.series.build import build_series
from reviewbot.seriesmap.bisect import build_breaks
from reviewbot.seriesmap.misplaced import misplaced_changes, provides
from reviewbot.seriesmap.nfc import claims_nfc, nfc_changes
from reviewbot.seriesmap.series import map_series, placement
from reviewbot.seriesmap.unrelated import unrelated_hunks
from tests.conftest import ROOT, corpus_path
from tests.seriesmap_helpers import PatchSpec, fixture, load, mapped
from tests.strategies import examples, mbox

FUNC = ("static int foo_grow(struct foo *f, int by)\n{\n\tu16 total = f->size + by;\n\n"
        "\tif (total > f->limit)\n\t\treturn -ENOSPC;\n\n\tf->size += by;\n\treturn 0;\n}\n")
SETUP = "static int foo_setup(struct foo *f)\n{\n\tf->size = 4096;\n\treturn 0;\n}\n\n"


def _misplaced(*patches: PatchSpec
               ) -> list[tuple[str, int, int, str]]:
    smap = mapped(*patches)
    return [(m.kind, m.site.patch, m.target, m.detail) for m in misplaced_changes(smap)]


def test_the_whole_series_examples() -> None:
    smap = fixture("misplaced-bad")
    found = misplaced_changes(smap)
    assert [(m.kind, m.site.patch, m.site.file, m.site.number, m.target)
            for m in found] == [
        ("fixup", 2, "drivers/misc/foo.c", 13, 1),
        ("reformat", 2, "drivers/misc/foo.c", 18, 1),
        ("revert", 2, "drivers/misc/foo.c", 24, 1),
        ("only-used-later", 3, "include/linux/foo.h", 5, 4)]
    assert found[0].message(4) == ("changes only `u16` to `u32` in lines that patch 1/4 "
                                   "added: fold this into patch 1")
    assert found[0].evidence.patch == 1 and found[0].evidence.line.text == "\tu16 total = " \
        "f->size + by;"
    assert found[3].symbol is not None and found[3].symbol.spelled() == "struct foo.grown"
    assert found[3].evidence.patch == 4
    assert misplaced_changes(fixture("misplaced-good")) == []


def test_the_change_a_patch_needs_is_its_own() -> None:
    """Patch 2 changes a line patch 1 added, but brings in a name it uses elsewhere:
    that is its own work, not a fix-up."""
    two = SETUP.replace("\treturn 0;", "\tf->max = 8;\n\treturn 0;") + FUNC.replace(
        "f->limit", "f->max")
    assert _misplaced(("grow", "Add foo_grow().", [("drivers/a.c", SETUP, SETUP + FUNC)]),
                      ("max", "Use a max.", [("drivers/a.c", SETUP + FUNC, two)])) == []


def test_a_fixup_of_a_name_is_reported_but_not_of_a_number_or_keyword() -> None:
    one = ("grow", "Add foo_grow().", [("drivers/a.c", SETUP, SETUP + FUNC)])

    def then(new: str) -> PatchSpec:
        return ("other", "Something else in foo_setup().", [
            ("drivers/a.c", SETUP + FUNC,
             SETUP.replace("4096", "8192") + new)])

    assert _misplaced(one, then(FUNC.replace("u16", "u32"))) == [
        ("fixup", 2, 1, "`u16` to `u32`")]
    assert _misplaced(one, then(FUNC.replace("f->limit", "f->limit + 1"))) == []
    assert _misplaced(one, then("static " + FUNC.replace("static ", "const ", 1))) == []


def test_a_revert_and_a_reformat_of_an_earlier_patch() -> None:
    one = FUNC.replace("\tf->size += by;", "\tf->size += by * 2;")
    assert _misplaced(
        ("grow", "Add foo_grow().", [("drivers/a.c", SETUP + FUNC, SETUP + one)]),
        ("tidy", "Other things.", [("drivers/a.c", SETUP + one,
                                    SETUP.replace("4096", "1") + FUNC)])) == [
        ("revert", 2, 1, "")]
    spaced = FUNC.replace("\tf->size += by;", "\tf->size\t+= by;")
    assert _misplaced(
        ("grow", "Add foo_grow().", [("drivers/a.c", SETUP, SETUP + FUNC)]),
        ("tidy", "Other things.", [("drivers/a.c", SETUP + FUNC,
                                    SETUP.replace("4096", "1") + spaced)])) == [
        ("reformat", 2, 1, "")]


def test_a_preparatory_patch_is_not_misplaced() -> None:
    assert provides("blktrace: add definitions for struct blk_io_trace2")
    assert provides("cpu: Provide lockdep check for CPU hotplug lock write-held")
    assert not provides("nvme-pci: migrate to dma_map_phys instead of map_page")


def test_unrelated_and_nfc_examples() -> None:
    smap = fixture("nfc-unrelated")
    assert [(u.kind, u.site.patch, u.site.file, u.owner) for u in unrelated_hunks(smap)] == [
        ("other-area", 3, "drivers/net/baz.c", "baz_wait()")]
    found = nfc_changes(smap)
    assert [(c.kind, c.site.patch, c.site.number) for c in found] == [
        ("operator", 1, 15), ("lock", 1, 21)]
    assert found[0].message().endswith("changes `>` to `>=` in `if (n >= limit)`")
    assert found[1].message().endswith("removes spin_lock()/spin_unlock()")
    assert placement(smap, found[1].site) == ("old", 22)  # on the line after the removal


def test_nfc_claims() -> None:
    assert claims_nfc("block: reorganize struct x", "No functional changes.")
    assert claims_nfc("mm: NFC: rename foo", "")
    assert claims_nfc("x: tidy", "This is a pure refactor.")
    assert claims_nfc("x: tidy", "No functional change intended.")
    assert not claims_nfc("x: fix the lock", "This changes behaviour on purpose.")
    assert not claims_nfc("x: y", "This is not a pure refactor: the lock moves.")


def test_nfc_quiet_for_a_rename_and_a_helper_conversion() -> None:
    body = ("static int bar_get(void)\n{\n\tint n;\n\n\tspin_lock(&bar_lock);\n"
            "\tn = bar_count;\n\tspin_unlock(&bar_lock);\n\treturn n;\n}\n")
    helper = body.replace("\tspin_lock(&bar_lock);\n\tn = bar_count;\n"
                          "\tspin_unlock(&bar_lock);\n", "\tn = bar_read_locked();\n")
    smap = mapped(("rename", "No functional change.", [
        ("drivers/a.c", body, body.replace("bar_count", "bar_users"))]),
        ("helper", "Use the helper. No functional change.", [
            ("drivers/a.c", body.replace("bar_count", "bar_users"),
             helper.replace("bar_count", "bar_users"))]))
    assert nfc_changes(smap) == []


@pytest.fixture(scope="module")
def shared() -> Path:
    return corpus_path("traffic/linux-block-2025-10.mbox")


def test_the_seed_review_change_stays_found(shared: Path) -> None:
    """'Those two-line changes should go into patch 8' (hvo v4 09/14)."""
    smap = load(shared / "hvo-v4-subset.mbox")
    found = [m for m in misplaced_changes(smap) if m.site.patch == 9]
    assert [(m.kind, m.site.file, m.site.number, m.target) for m in found] == [
        ("reformat", "mm/hugetlb_vmemmap.c", 418, 8)]
    assert found[0].site.line.text == "\tvmemmap_start\t+= HUGETLB_VMEMMAP_RESERVE_SIZE;"


def test_precision_on_the_traffic(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every candidate on the traffic is judged, no judged TP is lost, every analysis
    with candidates is at or above 90 %; SER001's judged TPs are found too."""
    from benchmarks import seriesorg

    judged = ROOT / "benchmarks" / "judged" / "seriesorg-linux-block-2025-10.json"
    sources = [str(shared / "traffic" / "linux-block-2025-10.mbox"),
               str(shared / "hvo-v4-subset.mbox"), str(shared)]
    found = seriesorg.gather(sources)
    assert seriesorg.main([*sources, "--judged", str(judged)], found) == 0
    out = capsys.readouterr().out
    assert "unjudged" not in out and "LOST" not in out
    table, _, _ = seriesorg.score(found, load_judged(str(judged)))
    for rule, counts in table.items():
        p = seriesorg.precision(counts)
        assert p is None or p >= 0.9, (rule, counts)
    ser001 = json.loads((ROOT / "benchmarks" / "judged" / "linux-block-2025-10.json")
                        .read_text())["findings"]
    for f in (f for f in ser001 if f["rule"] == "SER001" and f["verdict"] == "TP"):
        assert any(c.msgid == f["msgid"] and c.file == f["file"] and c.rule ==
                   "misplaced/reformat" and abs(c.line - f["line"]) <= 3 for c in found), f


@settings(max_examples=examples(60), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mbox())
def test_any_series_is_analysed_without_error(raw: bytes) -> None:
    """Hostile mailboxes (lying hunks, broken encodings, odd C): every series maps and
    every analysis runs; every finding sits on a line of its own patch."""
    mails = parse_messages(split_mbox(raw, "hostile"))
    try:
        found = build_series(mails)
    except InputError:
        return  # too many patches in a series: refused before any analysis
    for series in found:
        smap = map_series(series)
        sites = [b.site for b in build_breaks(smap)] + \
            [m.site for m in misplaced_changes(smap)] + \
            [u.site for u in unrelated_hunks(smap)] + [c.site for c in nfc_changes(smap)]
        for site in sites:
            pm = smap.patch(site.patch)
            assert pm is not None
            assert any(ln is site.line for hm in pm.hunks for ln in hm.hunk.lines)
            placement(smap, site)
