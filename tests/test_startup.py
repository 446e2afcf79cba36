"""Start-up: what a local check, ``--version`` and ``--help`` import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES

# Modules a review of a local mbox has no use for: the network, b4, git, the bot.
NOT_FOR_A_LOCAL_CHECK = ("b4", "requests", "liblore", "ssl", "http.client", "subprocess", "json",
                         "sqlite3", "reviewbot.fetch.lore", "reviewbot.fetch.git",
                         "reviewbot.fetch.http", "reviewbot.tree.git", "reviewbot.tree.apply",
                         "reviewbot.bot", "reviewbot.report.reply", "reviewbot.evaluate")

_PROBE = """
import sys
from reviewbot.cli import main
status = main(sys.argv[1:])
print(" ".join(sorted(sys.modules)), file=sys.stderr)
"""


def _modules(args: list[str], cwd: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True,
                          text=True, env=env, cwd=cwd, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stderr.split("\n")[-2].split())


def test_a_local_check_imports_no_network_git_or_bot_code(tmp_path: Path) -> None:
    args = ["check", str(FIXTURES / "series" / "frob-v2.mbox"), "--format", "text",
            "--fail-on", "never"]
    loaded = _modules(args, tmp_path)
    for name in NOT_FOR_A_LOCAL_CHECK:
        assert not any(m == name or m.startswith(name + ".") for m in loaded), name
    assert "reviewbot.rules.style.braces_single_statement.check" in loaded  # it did review


def test_version_and_help_import_little(tmp_path: Path) -> None:
    probe = ("import sys\nfrom reviewbot.cli import main\ntry:\n    main(sys.argv[1:])\n"
             "except SystemExit:\n    pass\nprint(' '.join(sorted(sys.modules)), "
             "file=sys.stderr)\n")
    for args in (["--version"], ["check", "--help"]):
        proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                              text=True, cwd=tmp_path, check=False, timeout=60)
        loaded = set(proc.stderr.split("\n")[-2].split())
        assert "reviewbot 0.1.0" in proc.stdout or "usage: reviewbot check" in proc.stdout
        assert "dataclasses" not in loaded and "reviewbot.config" not in loaded, args
        if args == ["--version"]:
            assert "argparse" not in loaded


def test_a_check_imports_only_the_checks_of_the_rules_it_runs(tmp_path: Path) -> None:
    mbox = str(FIXTURES / "series" / "frob-v2.mbox")
    preview = "reviewbot.rules.concurrency.sleep_in_atomic.check"  # CON003: preview
    stable = "reviewbot.rules.style.braces_single_statement.check"  # STY001: stable
    loaded = _modules(["check", mbox, "--format", "text", "--fail-on", "never"], tmp_path)
    assert stable in loaded and preview not in loaded
    loaded = _modules(["check", mbox, "--format", "text", "--fail-on", "never",
                       "--preview"], tmp_path)
    assert stable in loaded and preview in loaded
    loaded = _modules(["check", mbox, "--format", "text", "--fail-on", "never",
                       "--select", "CON003"], tmp_path)
    assert stable not in loaded and preview in loaded


def test_no_earlier_revision_in_the_input_nothing_is_read_again(tmp_path: Path) -> None:
    """A v2 alone in a local mbox, with nowhere else to look: vN-1 cannot be found, so
    the revision review reads nothing (its modules are not even imported); with v1 in
    the same mbox it runs."""
    v1, v2 = FIXTURES / "revisions" / "widget-v1.mbox", FIXTURES / "revisions" / "widget-v2.mbox"
    both = tmp_path / "both.mbox"
    both.write_bytes(v1.read_bytes() + v2.read_bytes())
    args = ["check", "--format", "text", "--fail-on", "never"]
    assert "reviewbot.revisions.previous" not in _modules([*args, str(v2)], tmp_path)
    assert "reviewbot.revisions.previous" in _modules([*args, str(both)], tmp_path)
