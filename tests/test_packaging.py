"""The wheel ships the top-level rules/ so an installed reviewbot finds its rules."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_contains_rules(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("reviewbot-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    bundled = {Path(n).name for n in names if n.startswith("reviewbot/rules/")}
    expected = {p.name for p in (ROOT / "rules").glob("*/*.toml")}
    assert expected and expected <= bundled
