"""The command line, in process: formats, exit codes, errors as one line."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.cli import main
from tests.conftest import FIXTURES, compare_golden

FROB = FIXTURES / "series" / "frob-v2.mbox"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(FROB), "--format", "text")
    assert code == 1
    assert "[PATCH v2 1/3] frob: reject negative values" in out
    assert "drivers/misc/frob.c:13: STY001 warning:" in out
    assert "(in frob_one())" in out


def test_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", str(FROB), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["series"][0]["version"] == 2 and data["series"][0]["total"] == 3
    assert data["series"][0]["missing"] == []
    patch = data["patches"][0]
    assert {"series", "index", "total", "version", "subject", "msgid", "skipped",
            "findings"} <= set(patch)
    f = patch["findings"][0]
    assert {"rule", "name", "class", "severity", "confidence", "file", "line", "text",
            "function", "message", "patch_line"} <= set(f)
    assert f["class"] == "braces" and f["text"] == "\tif (val < 0) {"
    # patch_line points at the line inside the email
    lines = FROB.read_text().split("\nFrom ")[1].splitlines()
    assert lines[f["patch_line"]][1:] == f["text"]  # [1:]: the From_ line was split off


def test_golden_json_on_corpus(capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    code, out, _ = run(capsys, "check", str(corpus / "hvo-v4-subset.mbox"), "--format", "json")
    assert code in (0, 1)
    compare_golden("hvo-v4-subset.json", out)


def test_fail_on_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", str(FROB), "--fail-on", "error")[0] == 0
    assert run(capsys, "check", str(FROB), "--fail-on", "never")[0] == 0
    assert run(capsys, "check", str(FROB), "--fail-on", "warning")[0] == 1


def test_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    one = FROB.read_bytes().split(b"\nFrom ")[1]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"From " + one)))
    code, out, _ = run(capsys, "check", "-", "--format", "json")
    assert code == 1 and json.loads(out)["patches"][0]["index"] == 1


@pytest.mark.parametrize("content", [b"", b"\x00\xff" * 50, b"hello\n"])
def test_bad_input_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   content: bytes) -> None:
    path = tmp_path / "in"
    path.write_bytes(content)
    code, out, err = run(capsys, "check", str(path))
    assert code == 2 and out == ""
    assert err.startswith("reviewbot: error: ") and err.count("\n") == 1


def test_bad_patch_is_skipped_rest_reviewed(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    data = FROB.read_bytes().replace(b"@@ -23,3 +23,13 @@", b"@@ -23,3 +23,99 @@")
    path = tmp_path / "broken.mbox"
    path.write_bytes(data)
    code, out, _ = run(capsys, "check", str(path), "--format", "json")
    patches = json.loads(out)["patches"]
    assert patches[1]["skipped"] and "does not parse" in patches[1]["skipped"]
    assert patches[0]["findings"] and patches[0]["skipped"] is None
    assert code == 1


def test_rules_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "STY001" in out and "braces-single-statement" in out
    code, out, _ = run(capsys, "explain", "STY001")
    assert code == 0 and "coding-style.rst" in out and "Example 1 (bad" in out
    code, _, err = run(capsys, "explain", "NOPE999")
    assert code == 2 and "no rule" in err


def test_rules_check(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules", "--check")
    assert code == 0 and " passed, 0 failed" in out


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "reviewbot", "check", str(FROB),
                           "--format", "json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["patches"]
