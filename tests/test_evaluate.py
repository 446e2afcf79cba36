"""``reviewbot eval DIR``: a synthetic corpus with known answers, bad corpora, the real one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reviewbot.cli import main
from tests.conftest import FIXTURES

DEMO = FIXTURES / "eval-corpus"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report_on_the_synthetic_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "eval", str(DEMO))
    assert code == 0 and err == ""
    assert "4 patches (1 negative), 3 comments; 2 patches reviewed together" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line.split() and line.split()[0] in ("blank_line", "wrong_patch", "other",
                                                    "overall")}
    assert rows == {"blank_line": ["1/1", "1/2", "0.00"], "wrong_patch": ["1/1", "1/1", "0.00"],
                    "other": ["0/1", "0/0", "0.00"], "overall": ["2/3", "2/3", "0.00"]}
    assert "D02-wrong-patch  02-demo-v2-2-teardown.patch  drivers/misc/demo.c:24  SER001  " \
           "Those two-line changes should go into patch 1." in out
    assert "misses (1):\n  D04-dev-dbg  04-demo-dump.patch  drivers/misc/demo.c:31  other" in out
    assert "unmatched findings (1):\n  04-demo-dump.patch  drivers/misc/demo.c:33  STY003  " \
           "multiple blank lines" in out


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", str(DEMO), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["schema"] == 1 and data["patches"] == 4 and data["negative_patches"] == 1
    assert data["overall"] == {"comments": 3, "found": 2, "findings": 3, "matched": 2,
                               "negative_findings": 0, "findings_per_negative_patch": 0.0}
    assert data["classes"]["wrong_patch"]["found"] == 1
    assert [m["id"] for m in data["misses"]] == ["D04-dev-dbg"]
    assert [(u["rule"], u["line"]) for u in data["unmatched"]] == [("STY003", 33)]
    together = {r["patch_file"]: r["reviewed_with"] for r in data["reviews"]}
    assert together["02-demo-v2-2-teardown.patch"] == ["01-demo-v2-1-setup.patch"]
    assert together["04-demo-dump.patch"] == []


def test_per_patch_reviews_each_file_alone(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "eval", str(DEMO), "--format", "json", "--per-patch")
    data = json.loads(out)
    (wrong,) = [f for f in data["found"] if f["id"] == "D02-wrong-patch"]
    assert "patch 1" not in wrong["reply"] and wrong["reply"].startswith("Unrelated")
    assert all(r["reviewed_with"] == [] for r in data["reviews"])


def test_findings_on_negative_patches_are_counted(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    shutil.copytree(DEMO, corpus)
    manifest = json.loads((corpus / "manifest.json").read_text())
    for entry in manifest:
        if entry["id"] == "D04-dev-dbg":  # make the patch with a double blank line negative
            entry["category"] = "negative"
            del entry["lines"]
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    _, out, _ = run(capsys, "eval", str(corpus), "--format", "json")
    data = json.loads(out)
    assert data["negative_patches"] == 2
    assert data["overall"]["negative_findings"] == 1
    assert data["overall"]["findings_per_negative_patch"] == 0.5
    assert data["classes"]["blank_line"]["negative_findings"] == 1


def test_rule_selection_applies(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "eval", str(DEMO), "--format", "json", "--ignore", "SER001")
    data = json.loads(out)
    # without SER001, STY006 is no longer superseded on the re-aligned line
    assert [m["id"] for m in data["misses"]] == ["D02-wrong-patch", "D04-dev-dbg"]
    assert ("STY006", 24) in [(u["rule"], u["line"]) for u in data["unmatched"]]


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda d: (d / "manifest.json").unlink(), "no manifest.json"),
    (lambda d: (d / "manifest.json").write_text("[{"), "not valid JSON"),
    (lambda d: (d / "manifest.json").write_text("{}"), "must be a JSON array"),
    (lambda d: (d / "manifest.json").write_text(
        '[{"id": "x", "patch_file": "../../etc/passwd", "category": "other", '
        '"file": "a.c", "lines": [1]}]'), "relative path inside the corpus"),
    (lambda d: (d / "manifest.json").write_text(
        '[{"id": "x", "patch_file": "/etc/passwd", "category": "other", '
        '"file": "a.c", "lines": [1]}]'), "relative path inside the corpus"),
    (lambda d: (d / "manifest.json").write_text(
        '[{"id": "x", "patch_file": "nope.patch", "category": "other", '
        '"file": "a.c", "lines": [1]}]'), "not found"),
    (lambda d: (d / "manifest.json").write_text(
        '[{"id": "x", "patch_file": "04-demo-dump.patch", "category": "other", '
        '"file": "a.c"}]'), "needs file and lines"),
    (lambda d: (d / "manifest.json").write_text(
        '[{"id": "x", "patch_file": "04-demo-dump.patch", "category": "typo", '
        '"file": "a.c", "lines": [1]}]'), "category 'typo'"),
    (lambda d: (d / "manifest.json").write_text(
        '[{"id": "x", "patch_file": "04-demo-dump.patch", "category": "other", '
        '"file": "a.c", "lines": ["3"]}]'), "positive line numbers"),
])
def test_bad_corpus_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                           mutate: object, needle: str) -> None:
    corpus = tmp_path / "c"
    shutil.copytree(DEMO, corpus)
    assert callable(mutate)
    mutate(corpus)
    code, out, err = run(capsys, "eval", str(corpus))
    assert code == 2 and out == ""
    assert err.startswith("reviewbot: error: ") and needle in err
    assert len(err.strip().splitlines()) == 1


def test_not_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "eval", str(tmp_path / "missing"))
    assert code == 2 and "not a directory" in err


def test_real_corpus(capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    code, out, _ = run(capsys, "eval", str(corpus), "--format", "json")
    assert code == 0
    data = json.loads(out)
    found = {f["id"] for f in data["found"]}
    # the seed review's blank-line and wrong-patch comments, and the two other blank lines
    assert {"A09-blank-line", "A09-wrong-patch", "A08-vmemmap-walk-blank-line",
            "B04-spi-geni-blank-line"} <= found
    (wrong,) = [f for f in data["found"] if f["id"] == "A09-wrong-patch"]
    assert wrong["reply"] == "Those two-line changes should go into patch 8."
    for cls in ("blank_line", "wrong_patch"):
        assert data["classes"][cls]["negative_findings"] == 0
    assert data["patches"] == len({e["patch_file"] for e in json.loads(
        (corpus / "manifest.json").read_text())})
