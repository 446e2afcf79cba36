"""Tree mode on a real kernel tree: Debian's linux-source-6.1 (slow; skipped without it).

Only the files the test needs are extracted from /usr/src/linux-source-6.1.tar.xz, into
~/.cache/reviewbot/linux-6.1-files (a git repository made once per machine; never inside
the reviewbot repository). benchmarks/tree_cost.py makes a whole-tree repository for timing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.cmap.build import map_file
from reviewbot.cmap.parser import CParser
from reviewbot.fetch.local import read_source
from reviewbot.pipeline import parse_messages
from reviewbot.series.build import build_series
from reviewbot.tree.apply import apply_series
from reviewbot.tree.git import GitTree

TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")
CACHE = Path.home() / ".cache" / "reviewbot" / "linux-6.1-files"
FILES = ("MAINTAINERS", "Kbuild", "mm/vmalloc.c")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not TARBALL.is_file(), reason=f"{TARBALL} is not installed "
                                 "(Debian package linux-source-6.1)")]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=reviewbot", "-c", "user.email=reviewbot@localhost",
                    *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture(scope="module")
def kernel() -> Path:
    if (CACHE / ".git").is_dir():
        return CACHE
    tmp = CACHE.with_name(CACHE.name + ".tmp")
    subprocess.run(["rm", "-rf", str(tmp)], check=True)
    tmp.mkdir(parents=True)
    subprocess.run(["tar", "-xJf", str(TARBALL), "-C", str(tmp),
                    *(f"linux-source-6.1/{f}" for f in FILES)], check=True)
    repo = tmp / "linux-source-6.1"
    _git(repo, "init", "-q")
    _git(repo, "add", "-A", "-f", ".")
    _git(repo, "commit", "-q", "-m", "linux-source-6.1 (Debian), a few files")
    repo.rename(CACHE)
    subprocess.run(["rm", "-rf", str(tmp)], check=True)
    return CACHE


def test_corpus_patch_applies_at_an_offset_on_6_1(kernel: Path, corpus: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """14-neg-vmalloc (a 2023 patch) applies on 6.1 at an offset of 76 lines: tree mode
    keeps the patch's line numbers, maps the whole function, and finds nothing (the
    patch only got Reviewed-by)."""
    patch = corpus / "14-neg-vmalloc-replace-bug-on.patch"
    code = main(["check", str(patch), "--tree", str(kernel), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["patches"][0]["findings"] == []
    assert data["patches"][0]["full_files"] == ["mm/vmalloc.c"]
    series = build_series(parse_messages(read_source(str(patch))))[0]
    applied = apply_series(GitTree.open(kernel), series)
    p = series.patches[0]
    fdiff = p.files[0]
    full = map_file(fdiff, CParser(), applied.full_text(p, fdiff))
    assert full.full_file and sorted(full.added) == [1590, 1591]  # the patch's numbers
    fn = full.function_at(1590)
    assert fn is not None and fn.name == "alloc_vmap_area" and fn.complete
    assert fn.start < 1587 and fn.end > 1600  # beyond the hunk
    assert full.locks_at(1590) == ()  # preload_this_cpu_lock() comes later
    assert [(r.lock, r.call) for r in full.locks][:1] == [
        ("free_vmap_area_lock", "preload_this_cpu_lock")]
