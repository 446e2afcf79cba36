"""Paths from a patch are never trusted: refuse ``..``, absolute paths, ``.git`` and
symlinks that lead out of the tree, before anything is written anywhere."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping

from reviewbot.errors import InputError
from reviewbot.tree.headers import FileHeader


class UnsafePathError(InputError):
    """A patch names a path outside the tree (refused before anything is written)."""


def path_problem(path: str) -> str | None:
    """Why ``path`` (relative to the tree top) is unsafe, or None when it is fine."""
    if not path:
        return "is empty"
    if "\x00" in path or any(ord(c) < 32 for c in path):
        return "holds control characters"
    if path.startswith("/"):
        return "is absolute"
    parts = path.split("/")
    if ".." in parts:
        return "leaves the tree (..)"
    if any(p.lower() == ".git" for p in parts):
        return "points into .git"
    return None


def symlink_leaves(link: str, target: str) -> bool:
    """True when the symlink at ``link`` (tree-relative) points outside the tree."""
    if not target or target.startswith("/"):
        return True
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(link), target))
    return resolved == ".." or resolved.startswith("../")


def check_header(header: FileHeader, where: str) -> None:
    """Refuse a file block whose paths or new symlink are unsafe."""
    for raw in header.raw_paths:
        if raw == "/dev/null":
            continue
        if raw.startswith("/"):
            raise UnsafePathError(f"{where}: path {raw!r} is absolute; refusing to apply it "
                                  "(use --no-tree to review the patch alone)")
        if ".." in raw.split("/"):
            raise UnsafePathError(f"{where}: path {raw!r} leaves the tree; refusing to "
                                  "apply it (use --no-tree to review the patch alone)")
    for path in (header.old_path, header.new_path):
        if path is None:
            continue
        problem = path_problem(path)
        if problem:
            raise UnsafePathError(f"{where}: path {path!r} {problem}; refusing to apply it "
                                  "(use --no-tree to review the patch alone)")
    if header.is_symlink and header.new_path is not None:
        target = header.added[0] if header.added else ""
        if symlink_leaves(header.new_path, target):
            raise UnsafePathError(f"{where}: {header.new_path!r} becomes a symlink to "
                                  f"{target!r}, outside the tree; refusing to apply it "
                                  "(use --no-tree to review the patch alone)")


def prefixes(path: str) -> list[str]:
    """``a/b/c.c`` -> ``["a", "a/b"]``: the directories a path goes through."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def check_through_symlinks(paths: Iterable[str], symlinks: Mapping[str, str],
                           where: str) -> None:
    """Refuse a path that goes through a symlink (in the tree or made by the series)
    leading outside the tree."""
    for path in paths:
        for pre in prefixes(path):
            target = symlinks.get(pre)
            if target is not None and symlink_leaves(pre, target):
                raise UnsafePathError(f"{where}: path {path!r} goes through the symlink "
                                      f"{pre!r} -> {target!r}, outside the tree; refusing "
                                      "to apply it (use --no-tree to review the patch "
                                      "alone)")
