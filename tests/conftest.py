"""Shared test helpers: where the real corpus is (tests that need it skip without it),
golden-file comparison."""

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


def corpus_path(need: str = "manifest.json") -> Path:
    """The real review corpus (``../shared/corpus``, or ``$REVIEWBOT_CORPUS``), holding
    ``need``; the test calling it is skipped, saying why, when it is not there (a clone
    without ``../shared``). CI has it and sets ``REVIEWBOT_REQUIRE_CORPUS=1``: there the
    test fails instead, so that these tests cannot all be skipped unnoticed."""
    if not (CORPUS / need).is_file():
        why = (f"the review corpus is not at {CORPUS} (no {need}: a clone without "
               "../shared; set REVIEWBOT_CORPUS to run the tests that read it)")
        if os.environ.get("REVIEWBOT_REQUIRE_CORPUS") == "1":
            pytest.fail(f"{why}; REVIEWBOT_REQUIRE_CORPUS=1 requires it", pytrace=False)
        pytest.skip(why)
    return CORPUS


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real review corpus; see :func:`corpus_path`."""
    return corpus_path()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``reviewbot ARGV`` in process: (exit status, stdout, stderr)."""
    from reviewbot.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def compare_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/NAME; REVIEWBOT_UPDATE_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / name
    if os.environ.get("REVIEWBOT_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
        return
    assert path.is_file(), f"golden file {path} missing: run with REVIEWBOT_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {path}"
