"""Where a definition can be seen from: the C visibility rules the analyses rely on.

A definition in a ``.c`` file that is ``static`` (or a macro, type or enumerator there)
is seen only in that file; a non-static function or variable in a ``.c`` file is seen
elsewhere only through a header's declaration, so it counts for its own file only too.
A header in ``include/`` (or an architecture's ``include/``) is seen from anywhere; any
other header from the files of the same area (an architecture's headers only from
that architecture) (its first two path components,
``drivers/nvme``), which is where it is included from. User-space code (``tools/``,
``scripts/``, ``samples/``, ``usr/``) is a world of its own. Kconfig symbols are global.
"""

from __future__ import annotations

import os

from reviewbot.seriesmap.model import Definition

_USER_SPACE = ("tools/", "scripts/", "samples/", "usr/")


def world(path: str) -> str:
    """``kernel``, or the user-space tree a path belongs to."""
    for prefix in _USER_SPACE:
        if path.startswith(prefix):
            return prefix
    return "kernel"


def area(path: str) -> str:
    """The first two path components (``drivers/nvme``; ``block`` for ``block/x.c``)."""
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


def is_global_header(path: str) -> bool:
    return path.endswith(".h") and (path.startswith("include/") or (
        path.startswith("arch/") and "/include/" in path))


def visible(defn: Definition, path: str) -> bool:
    """Can code in ``path`` see ``defn``?"""
    where = defn.site.file
    if defn.symbol.kind == "config":
        return True
    if world(where) != world(path):
        return False
    if where.startswith("arch/") and not path.startswith("/".join(where.split("/")[:2]) + "/"):
        return False  # one architecture's definition: generic code cannot rely on it
    if where == path:
        return True
    if not where.endswith(".h"):
        return False
    if is_global_header(where):
        return True
    return area(where) == area(path) or os.path.dirname(where) == os.path.dirname(path)
