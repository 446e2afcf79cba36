"""Shared test helpers: where the real corpus is, golden-file comparison."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.pi_server import public_inbox, public_inbox_bin

__all__ = ["public_inbox", "public_inbox_bin"]  # session fixtures: a public-inbox server

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("REVIEWBOT_CORPUS", ROOT.parent / "shared" / "corpus"))
FIXTURES = ROOT / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's config, writes the user's cache, or reaches the real lore:
    the default server becomes a closed port on 127.0.0.1."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("REVIEWBOT_CONFIG", raising=False)
    monkeypatch.setattr("reviewbot.fetch.lore.DEFAULT_LORE_URL", "http://127.0.0.1:9/all/")


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
