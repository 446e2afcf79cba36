"""The README's sendemail-validate hook, installed in a real repository."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.kernel_repo import add_series, make_tree

BIN = Path(sys.executable).parent
NO_REVIEWBOT_PATH = "/usr/local/bin:/usr/bin:/bin"  # git, perl, sh; reviewbot is not here


def readme_install() -> str:
    """The README's install block: run in the reviewbot directory, it writes the hook."""
    text = (ROOT / "README.md").read_text()
    m = re.search(r"```sh\n(# Run in the reviewbot directory.*?)```", text, re.S)
    assert m, "the hook's install block is missing from README.md"
    return m.group(1)


def install(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The README's way: reviewbot in .venv of its directory, not on PATH; the block run
    there, for the tree ~/linux."""
    repo = make_tree(tmp_path)  # ~/linux, HOME being tmp_path
    add_series(repo)
    checkout = tmp_path / "reviewbot"
    checkout.mkdir()
    (checkout / ".venv").symlink_to(BIN.parent)  # the set-up command's .venv
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "XDG_", "REVIEWBOT_", "VIRTUAL_ENV"))}
    env.update({"PATH": NO_REVIEWBOT_PATH, "HOME": str(tmp_path),
                "XDG_CONFIG_HOME": str(tmp_path / "config"),
                "GIT_CONFIG_GLOBAL": str(tmp_path / ".gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_NAME": "Ada Example", "GIT_AUTHOR_EMAIL": "ada@example.org",
                "GIT_COMMITTER_NAME": "Ada Example",
                "GIT_COMMITTER_EMAIL": "ada@example.org"})
    assert shutil.which("reviewbot", path=env["PATH"]) is None
    subprocess.run(["sh", "-e", "-c", readme_install()], cwd=checkout, env=env, check=True,
                   timeout=60)
    hook = repo / ".git" / "hooks" / "sendemail-validate"
    assert hook.stat().st_mode & stat.S_IXUSR
    assert f"exec '{checkout}/.venv/bin/reviewbot' check" in hook.read_text()
    return repo, env


def has_send_email() -> bool:
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                               check=False).stdout.strip()
    return (Path(exec_path) / "git-send-email").is_file()


@pytest.mark.skipif(not has_send_email(), reason="git send-email is not installed "
                    "(Debian: git-email; .ci/run installs it)")
def test_send_email_dry_run_is_stopped_by_findings(tmp_path: Path) -> None:
    repo, env = install(tmp_path)
    args = ["git", "send-email", "--dry-run", "--confirm=never", "--quiet",
            "--to=linux-mm@kvack.example", "--from=Ada Example <ada@example.org>",
            "--suppress-cc=all", "--smtp-server=127.0.0.1", "--smtp-server-port=9"]
    bad = subprocess.run([*args, "HEAD~3..HEAD"], cwd=repo, env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    output = bad.stdout + bad.stderr  # git >= 2.36 runs it via "git hook run" (stderr)
    assert bad.returncode != 0
    assert "0001-frob-count-failed-takes.patch: rejected by sendemail-validate hook" in output
    assert "mm/frob.c:65: STY001 warning: braces {} are not necessary" in output
    assert "(in frob_take())" in output and "Dry-Sent" not in output
    assert "series: [PATCH 1/3] frob: count failed takes (v1, patch 1/3; from " in output
    assert "missing patches" not in output and ", missing " not in output
    good = subprocess.run([*args, "HEAD~2..HEAD~1"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert good.returncode == 0, good.stderr
    assert "Dry-Sent [PATCH] widget: report the pool limit" in good.stdout


def test_hook_invoked_as_git_invokes_it(tmp_path: Path) -> None:
    """git-send-email runs the hook in the work tree's top, GIT_DIR set, the email's
    absolute path as $1 (git-send-email.perl, validate_patch)."""
    repo, env = install(tmp_path)
    out = tmp_path / "patches"
    subprocess.run(["git", "format-patch", "-q", "-o", str(out), "HEAD~3..HEAD"], cwd=repo,
                   env=env, check=True)
    files = sorted(out.iterdir())
    hook = repo / ".git" / "hooks" / "sendemail-validate"
    env_hook = {**env, "GIT_DIR": str(repo / ".git")}
    results = []
    for patch in files:
        proc = subprocess.run([str(hook), str(patch.resolve())], cwd=repo, env=env_hook,
                              capture_output=True, text=True, timeout=60, check=False)
        results.append((proc.returncode, proc.stdout, proc.stderr))
    assert [code for code, _, _ in results] == [1, 0, 1]
    assert all(err == "" for _, _, err in results)
    first = results[0][1]
    # one mail at a time: the header names the patch, no "missing patches" line
    assert first.startswith("series: [PATCH 1/3] frob: count failed takes (v1, patch 1/3; "
                            f"from {files[0].resolve()}, 1 message)\n")
    assert "missing" not in "".join(o for _, o, _ in results)
    # whole-file context: the tree has the commit's blobs
    assert "note: kernel tree" in first and "nothing to apply" in first
    assert "(in frob_take())" in first
