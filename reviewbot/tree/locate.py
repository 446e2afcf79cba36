"""Which kernel tree to use: ``--tree``, the current directory, or the config file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the git wrapper (and subprocess) is imported only when git is run
    from reviewbot.config import UserConfig
    from reviewbot.tree.git import GitTree

KERNEL_MARKERS = ("MAINTAINERS", "Kbuild")


def work_tree_top(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, or None."""
    from reviewbot.tree.git import run_git

    if not path.is_dir():
        return None
    res = run_git(path, ["rev-parse", "--show-toplevel"])
    if res.code != 0 or not res.out.strip():
        return None
    return Path(res.out.decode("utf-8", "surrogateescape").rstrip("\n"))


def is_kernel_top(top: Path) -> bool:
    return any((top / m).is_file() for m in KERNEL_MARKERS)


def _marker_above(path: Path) -> bool:
    """Whether ``path`` or a directory above it is a kernel top. The top of the work
    tree holding ``path`` is one of these directories, so when none is, asking git
    (a process, a few ms) cannot find a kernel tree."""
    return any(is_kernel_top(d) for d in (path, *path.parents))


def _open(path: Path) -> GitTree | None:
    """The git tree at ``path``; None for a kernel tree without git (unpacked from a
    tarball: no whole files, but its index serves the checks)."""
    from reviewbot.tree.git import GitTree, TreeError

    try:
        return GitTree.open(path)
    except TreeError:
        if path.is_dir() and not (path / ".git").exists() and _marker_above(path.resolve()):
            return None
        raise


def find_tree(option: str | None, no_tree: bool, cwd: Path,
              config: UserConfig | None = None) -> GitTree | None:
    """The tree for tree mode, or None for patch-only review.

    ``--no-tree`` wins; then ``--tree PATH``; then the current directory when it is a
    git work tree with MAINTAINERS or Kbuild at its top; then ``tree`` in the config. A
    kernel tree that is not a git work tree gives None (its index is used, not its files).
    """
    if no_tree:
        return None
    if option:
        return _open(Path(option).expanduser())
    top = work_tree_top(cwd) if _marker_above(cwd) else None
    if top is not None and is_kernel_top(top):
        return _open(top)
    if config is not None and config.tree is not None:
        from reviewbot.tree.git import TreeError

        try:
            return _open(config.tree)
        except TreeError as exc:
            raise TreeError(f"{exc} (the 'tree' set in {config.path})") from exc
    return None


def find_repo(option: str | None, cwd: Path) -> GitTree:
    """The repository ``--git`` reads commits from: ``--tree PATH`` or the current one."""
    from reviewbot.tree.git import GitTree, TreeError

    if option:
        return GitTree.open(Path(option).expanduser())
    top = work_tree_top(cwd)
    if top is None:
        raise TreeError(f"{cwd}: not inside a git work tree (--git needs one, or --tree)")
    return GitTree.open(top)
