"""The wheel ships the top-level rules/ as reviewbot.rules, checks included, and a rule
added as one folder (in a new category, with a check.py) is in it without touching
anything else: the installed reviewbot lists it and runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import FIXTURES, ROOT

_SKIP = shutil.ignore_patterns(".venv", "build", "dist", "*.egg-info", ".git", "__pycache__",
                               ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis")


def _add_rule(src: Path) -> None:
    """A new rule in a new category: STY001's folder, renamed, with its own id."""
    folder = src / "rules" / "packaging" / "braces_again"
    shutil.copytree(src / "rules" / "style" / "braces_single_statement", folder)
    toml = folder / "rule.toml"
    toml.write_text(toml.read_text().replace('id = "STY001"', 'id = "PKG001"', 1)
                    .replace('name = "braces-single-statement"', 'name = "braces-again"', 1))


def test_the_wheel_runs_every_rule_a_folder_adds(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=_SKIP)
    _add_rule(src)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "wheel"), str(src)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    wheel = next((tmp_path / "wheel").glob("reviewbot-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (src / "rules").rglob("*"):
        if path.suffix in (".toml", ".py"):
            assert f"reviewbot/rules/{path.relative_to(src / 'rules')}" in names, path

    site = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--target", str(site), str(wheel)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}

    def reviewbot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "reviewbot", *args], cwd=tmp_path,
                              env=env, capture_output=True, text=True, check=False)

    where = subprocess.run([sys.executable, "-c", "import reviewbot.ruleset as r; "
                            "print(r.__file__); print(r.rules_dir())"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(p.startswith(str(site)) for p in where), where  # the installed copy runs
    listed = reviewbot("rules")
    assert listed.returncode == 0, listed.stderr
    assert "PKG001" in listed.stdout and "braces-again" in listed.stdout
    checked = reviewbot("check", "--no-tree", "-j", "1", "--format", "json",
                        str(FIXTURES / "series" / "frob-v2.mbox"))
    assert checked.returncode == 1, checked.stderr
    rules = [f["rule"] for p in json.loads(checked.stdout)["patches"] for f in p["findings"]]
    assert "STY001" in rules and rules.count("PKG001") == rules.count("STY001")
