"""Real git repositories for the tree-mode tests, built from fixtures/tree.

Every git command runs with a fixed identity and dates and without the user's global
config, so the repositories (and the patches made from them) are the same everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import FIXTURES

TREE = FIXTURES / "tree"


def git_env(home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig") if home else os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Ada Example", "GIT_AUTHOR_EMAIL": "ada@example.org",
        "GIT_COMMITTER_NAME": "Ada Example", "GIT_COMMITTER_EMAIL": "ada@example.org",
        "GIT_AUTHOR_DATE": "2026-01-21T16:22:46+0000",
        "GIT_COMMITTER_DATE": "2026-01-21T16:22:46+0000",
    })
    return env


def git(repo: Path, *args: str, stdin: bytes | None = None, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True,
                          env=git_env(), check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode()


def make_tree(where: Path, name: str = "linux") -> Path:
    """A git work tree holding fixtures/tree, one commit ("base"), branch master."""
    repo = where / name
    shutil.copytree(TREE, repo)
    git(repo, "init", "-q", "-b", "master")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def edit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert text.count(old) == 1, f"{old!r} not once in {path}"
    file.write_text(text.replace(old, new))


def commit(repo: Path, subject: str, *edits: tuple[str, str, str]) -> str:
    for path, old, new in edits:
        edit(repo, path, old, new)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", subject, "-m", "Signed-off-by: Ada Example "
        "<ada@example.org>")
    return git(repo, "rev-parse", "HEAD").strip()


# The series the tests review: three patches on top of "base".
P1 = ("mm/frob.c", "\tif (tries > 16)\n",
      "\tif (!page) {\n\t\tfrob_failed++;\n\t}\n\n\tif (tries > 16)\n")
P1_GLOBAL = ("mm/frob.c", "static unsigned long frob_taken;\n",
             "static unsigned long frob_taken;\nstatic unsigned long frob_failed;\n")
P2 = ("drivers/misc/widget.c", "\tpr_info(\"widget %d ready\\n\", id);\n",
      "\tpr_info(\"widget %d ready, limit %lu\\n\", id, frob_limit(&widget_pool));\n")
P3 = ("mm/frob.c",
      "\tif (frob_over_limit(pool))\n\t\tpr_debug(\"frob: pool over its limit\\n\");\n",
      "\tif (frob_over_limit(pool)) {\n\t\tpr_warn_once(\"frob: pool over its limit\\n\");\n"
      "\t}\n")
SUBJECTS = ("frob: count failed takes", "widget: report the pool limit",
            "frob: warn when the pool is over its limit")


def add_series(repo: Path) -> list[str]:
    """Commit the three-patch series on the current branch; returns the commit ids."""
    return [commit(repo, SUBJECTS[0], P1_GLOBAL, P1), commit(repo, SUBJECTS[1], P2),
            commit(repo, SUBJECTS[2], P3)]


def series_mbox(repo: Path, where: Path, base: bool = True) -> Path:
    """The series made in a clone of ``repo`` (so ``repo`` lacks its objects), as an
    mbox from git format-patch (with ``base-commit:`` unless ``base`` is False)."""
    author = where / "author-clone"
    if not author.exists():
        git(where, "clone", "-q", str(repo), str(author))
        add_series(author)
    out = git(author, "format-patch", "--stdout", "--thread=shallow", "-n",
              *(["--base=HEAD~3"] if base else []), "HEAD~3..HEAD")
    mbox = where / ("series.mbox" if base else "series-nobase.mbox")
    mbox.write_text(out)
    return mbox
