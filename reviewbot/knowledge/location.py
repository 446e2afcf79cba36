"""Which tree an index belongs to, and where the index file is.

A tree is identified by the real path of its top directory (symlinks resolved): the
facts are those of the files in that directory, whatever git says about them, so two
checkouts (or two worktrees of one repository) at different paths have an index each,
and a tree that is replaced in place (another version unpacked, another branch checked
out) keeps its index, which the next ``reviewbot index`` brings up to date by content.
The index lives in ``$XDG_CACHE_HOME/reviewbot/index/`` (default ``~/.cache``), named by
a hash of that path; it records the path, the kind of tree and, for a git checkout, the
commit it was built at.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reviewbot.errors import ReviewbotError

KERNEL_MARKERS = ("MAINTAINERS", "Kbuild")


class KnowledgeError(ReviewbotError):
    """The index cannot be built or read (a one-line reason)."""


@dataclass(frozen=True)
class Tree:
    top: Path  # absolute, symlinks resolved
    git: bool  # a git work tree (its file list comes from git)


def index_dir(env: Mapping[str, str] | None = None) -> Path:
    from reviewbot.xdg import xdg_dir

    try:
        return xdg_dir("XDG_CACHE_HOME", ".cache", env) / "reviewbot" / "index"
    except RuntimeError as exc:  # Path.home(): no home directory
        raise KnowledgeError("no home directory for the index (set XDG_CACHE_HOME)") from exc


def index_path(top: Path, env: Mapping[str, str] | None = None) -> Path:
    digest = hashlib.sha256(str(top).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return index_dir(env) / f"{digest}.sqlite"


def is_kernel_top(path: Path) -> bool:
    return any((path / m).is_file() for m in KERNEL_MARKERS)


def find_tree(path: Path) -> Tree:
    """The kernel tree holding ``path`` (it, or the nearest directory above it with
    MAINTAINERS or Kbuild); KnowledgeError when there is none."""
    try:
        start = path.expanduser().resolve(strict=True)
    except OSError as exc:
        raise KnowledgeError(f"{path}: {exc.strerror or exc}") from exc
    if not start.is_dir():
        raise KnowledgeError(f"{path}: not a directory")
    for top in (start, *start.parents):
        if is_kernel_top(top):
            return Tree(top, (top / ".git").exists())
    raise KnowledgeError(f"{path}: not inside a kernel tree (no MAINTAINERS or Kbuild at "
                         "its top)")


def describe_index(meta: Mapping[str, str], now: float | None = None) -> str:
    """One line: which index (of which tree, at which commit), how old."""
    import time

    age = (time.time() if now is None else now) - float(meta.get("updated", "0"))
    commit = meta.get("commit", "")
    at = f" at {commit[:12]}" if commit else ""
    return f"index of {meta.get('tree', '')}{at}, updated {format_age(age)} ago"


def format_age(seconds: float) -> str:
    seconds = max(seconds, 0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
