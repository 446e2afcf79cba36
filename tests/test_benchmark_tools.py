"""benchmarks/run.py measures the reviewbot it is given, and its watch row fails loudly.

A benchmark that silently measured another interpreter (or a backlog whose every review
failed) would print a plausible, meaningless figure: both happened once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    yield run


def _script(path: Path, first_line: str) -> Path:
    path.write_text(f"{first_line}\nimport sys\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_interpreter_of_a_console_script(bench: ModuleType, tmp_path: Path) -> None:
    script = _script(tmp_path / "reviewbot", "#!/opt/venv/bin/python3.11")
    assert bench.interpreter([str(script), "--x"]) == "/opt/venv/bin/python3.11"


def test_interpreter_of_an_env_shebang(bench: ModuleType, tmp_path: Path) -> None:
    script = _script(tmp_path / "reviewbot", "#!/usr/bin/env python3")
    assert bench.interpreter([str(script)]) == shutil.which("python3")


def test_interpreter_of_python_dash_m(bench: ModuleType) -> None:
    assert bench.interpreter(["/some/python", "-m", "reviewbot"]) == "/some/python"


def test_interpreter_falls_back_to_this_one(bench: ModuleType, tmp_path: Path) -> None:
    shell = _script(tmp_path / "wrapper", "#!/bin/sh")
    assert bench.interpreter([str(shell)]) == sys.executable
    assert bench.interpreter([str(tmp_path / "missing")]) == sys.executable


def test_watch_row_fails_when_the_reviews_fail(tmp_path: Path) -> None:
    """tree_sitter made unimportable: every review fails, so no throughput is printed."""
    broken = tmp_path / "broken" / "tree_sitter"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('tree_sitter hidden by the test')\n",
                                        encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(broken.parent), "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "watch_throughput.py"),
                           "40"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stdout
    assert "messages/s" not in proc.stdout
    assert proc.stderr.startswith("watch_throughput.py: error: ")
    assert "0 series reviewed" in proc.stderr
    assert "tree_sitter hidden by the test" in proc.stderr


def test_watch_row_measures_a_working_reviewbot(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "watch_throughput.py"),
                           "40"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import json

    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["series_reviewed"] > 0 and data["replies"] > 0


def test_big_mbox_row_measures_a_generated_mbox(tmp_path: Path) -> None:
    """benchmarks/big_mbox.py: an mbox of just under the size asked for, reviewed, and
    its peak memory and time reported (here 1 MiB; the benchmark's row is 256 MiB)."""
    out = tmp_path / "big.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "big_mbox.py"),
                           "--mib", "1", "--jobs", "1", "--json", str(out)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    import json

    data = json.loads(out.read_text())
    assert data["mib"] == 1 and data["patches"] > 100
    (row,) = data["runs"]
    assert row["peak_mib"] > 10 and row["wall_s"] > 0
    assert "MiB" in proc.stdout and "peak" in proc.stdout
