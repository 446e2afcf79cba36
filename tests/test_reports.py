"""The report formats on a real series (``git format-patch`` of a real repository):
text is the default everywhere, its series header and summary line, --verbose,
checkpatch's patch names, one exit status for every format, --summary's wording."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.cli import build_parser
from tests.conftest import run_cli as run
from tests.kernel_repo import add_series, commit, git_env, make_tree

BIN = Path(sys.executable).parent
ME = "Jane Doe <jane@example.org>"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three-patch series, then a patch whose file-scope line no C parser can place."""
    repo = make_tree(tmp_path_factory.mktemp("reports"))
    add_series(repo)
    commit(repo, "frob: a line that is not C", ("mm/frob.c", "#include <linux/frob.h>\n",
                                                "#include <linux/frob.h>\n@@ not C ( @@\n"))
    return repo


def format_patch(repo: Path, where: Path, *args: str) -> list[Path]:
    out = where / "patches"
    subprocess.run(["git", "format-patch", "-q", "-o", str(out), *args], cwd=repo,
                   env=git_env(), check=True)
    return sorted(out.iterdir())


def test_text_is_the_default_in_a_pipe(repo: Path) -> None:
    """Piped (into less, a script): the text report, never a reply mbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run([str(BIN / "reviewbot"), "check", "--git", "HEAD~4..HEAD~1"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("series: [PATCH 1/3] frob: count failed takes (v1, no "
                                  "cover letter, 3/3 patches; from git range HEAD~4..HEAD~1 "
                                  f"of {repo}, 3 messages)\n")
    assert "From " not in proc.stdout and proc.stderr == ""


def test_series_header_and_unmapped_lines(capsys: pytest.CaptureFixture[str], repo: Path,
                                          tmp_path: Path) -> None:
    files = format_patch(repo, tmp_path, "--cover-letter", "--thread", "HEAD~4..HEAD")
    code, out, _ = run(capsys, "check", "--no-tree", str(files[0].parent))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (f"series: [PATCH 0/4] *** SUBJECT HERE *** (v1, cover letter, 4/4 "
                        f"patches; from {files[0].parent}, 5 messages)")
    assert "note: not mapped to C" not in out
    assert lines[-1].endswith(" in 4 patches; 1 line not mapped to C (--verbose lists them)")
    code, verbose, _ = run(capsys, "check", "--no-tree", "--verbose", str(files[0].parent))
    assert "[PATCH 4/4] frob: a line that is not C\n  mm/frob.c:8: note: not mapped to C: " \
        in verbose
    assert verbose.splitlines()[-1].endswith("; 1 line not mapped to C")
    # the missing patches of a partial series are listed in the header
    partial = tmp_path / "partial"
    partial.mkdir()
    for f in (files[0], files[2]):
        (partial / f.name).write_bytes(f.read_bytes())
    code, out, _ = run(capsys, "check", "--no-tree", str(partial))
    assert out.startswith("series: [PATCH 0/4] *** SUBJECT HERE *** (v1, cover letter, "
                          f"1/4 patches, missing 1, 3-4; from {partial}, 2 messages)\n")


def test_checkpatch_names_each_patch_of_several(capsys: pytest.CaptureFixture[str],
                                                repo: Path, tmp_path: Path) -> None:
    files = format_patch(repo, tmp_path, "HEAD~4..HEAD~1")
    code, out, _ = run(capsys, "check", "--format", "checkpatch", "--no-tree",
                       str(files[0].parent))
    assert code == 1
    name1 = '"[PATCH 1/3] frob: count failed takes"'
    name3 = '"[PATCH 3/3] frob: warn when the pool is over its limit"'
    assert out.splitlines() == [
        "-" * len(name1), name1, "-" * len(name1),
        "mm/frob.c:65: WARNING:STY001: braces {} are not necessary for a single-statement "
        "if block (in frob_take())",
        "-" * len(name3), name3, "-" * len(name3),
        "mm/frob.c:95: WARNING:STY001: braces {} are not necessary for a single-statement "
        "if block (in frob_put())"]  # patch 2/3 has nothing to say: no name either
    # one patch (what b4 gives): the finding lines alone
    code, one, _ = run(capsys, "check", "--format", "checkpatch", "--no-tree", str(files[0]))
    assert one.splitlines() == out.splitlines()[3:4]


def test_every_format_gives_the_same_exit_status(capsys: pytest.CaptureFixture[str],
                                                 repo: Path, tmp_path: Path) -> None:
    files = format_patch(repo, tmp_path, "--cover-letter", "HEAD~4..HEAD")
    for source, fail_on in [*((f, "info") for f in files), (files[0].parent, "warning"),
                            (files[0].parent, "error"), (files[2], "never")]:
        codes = {fmt: run(capsys, "check", "--no-tree", "--format", fmt, "--fail-on", fail_on,
                          str(source))[0] for fmt in ("text", "json", "checkpatch", "b4-json")}
        assert len(set(codes.values())) == 1, (source.name, fail_on, codes)


def test_summary_never_says_comments_on_0(capsys: pytest.CaptureFixture[str], repo: Path,
                                          tmp_path: Path) -> None:
    files = format_patch(repo, tmp_path, "--cover-letter", "--thread", "HEAD~3..HEAD~2")
    code, out, _ = run(capsys, "check", "--no-tree", "--summary", "--from", ME,
                       str(files[0].parent))
    assert code == 0
    assert "reviewbot reviewed 1 of the 1 patches of this series (v1) and has no " \
        "comments." in out.replace("\n", " ")
    assert "comments on 0" not in out


def test_help_lists_every_check_option_with_its_help() -> None:
    check = build_parser()._subparsers._group_actions[0].choices["check"]  # type: ignore[union-attr]
    text = check.format_help()
    assert "--color {auto,always,never}" in text
    for action in check._actions:
        assert action.help, action.option_strings
