"""Shared test helpers: where the real corpus is, golden-file comparison."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("REVIEWBOT_CORPUS", ROOT.parent / "shared" / "corpus"))
FIXTURES = ROOT / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture(autouse=True)
def _no_user_config(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's ~/.config/reviewbot (e.g. a 'tree') must not change what tests see."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "manifest.json").is_file():
        pytest.fail(f"the review corpus is missing at {CORPUS} (set REVIEWBOT_CORPUS)")
    return CORPUS


def compare_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/NAME; REVIEWBOT_UPDATE_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / name
    if os.environ.get("REVIEWBOT_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"golden file {path} missing: run with REVIEWBOT_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {path}"
