"""A clone without ``../shared`` passes the README's test command: the tests that read
the real corpus skip, saying why; CI (``REVIEWBOT_REQUIRE_CORPUS=1``, set by .ci/run)
fails them instead, so they cannot all be skipped there unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# corpus tests of three kinds: the ``corpus`` fixture, corpus_path() for one file of it,
# a module fixture of its own
TESTS = ["tests/test_cli.py::test_golden_json_on_corpus",
         "tests/test_revisions_judged.py::test_every_verdict_on_the_traffic_is_judged",
         "tests/test_seriesmap_placement.py::test_the_seed_review_change_stays_found"]


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rsf",
                           *TESTS], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False, env={**clean, **env})


@pytest.mark.parametrize("require", [False, True], ids=["clone", "ci"])
def test_corpus_tests_skip_without_the_corpus(tmp_path: Path, require: bool) -> None:
    absent = tmp_path / "no-shared" / "corpus"
    proc = _pytest(tmp_path, REVIEWBOT_CORPUS=str(absent),
                   **({"REVIEWBOT_REQUIRE_CORPUS": "1"} if require else {}))
    out = proc.stdout
    why = f"the review corpus is not at {absent}"
    if require:
        assert proc.returncode == 1 and "passed" not in out and "skipped" not in out, out
        assert out.count("REVIEWBOT_REQUIRE_CORPUS=1 requires it") == len(TESTS), out
    else:
        assert proc.returncode == 0 and f"{len(TESTS)} skipped" in out, out
        assert out.count(why) == len(TESTS) and "set REVIEWBOT_CORPUS" in out, out
