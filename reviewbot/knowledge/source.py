"""Which index a review uses, opened lazily once per process.

``find_knowledge`` picks the tree a review is against (``--tree PATH``, else the kernel
tree holding the current directory, else ``tree`` in the config file; a tree without
git will do) and returns a ``KnowledgeSource`` when that tree has an index. The source
is what settings and analyses carry: it opens the SQLite file the first time a check
asks, in the process that asks (a connection never crosses a fork: the review's
worker processes each open their own), and only then.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.knowledge.lookup import Knowledge


class KnowledgeSource:
    """The index of one tree, opened on first use in each process."""

    def __init__(self, tree: Path, env: Mapping[str, str] | None = None) -> None:
        self.tree = tree
        self.env = dict(env) if env is not None else None
        self._pid = -1
        self._open: Knowledge | None = None
        self._line = ""

    @classmethod
    def find(cls, tree: Path, env: Mapping[str, str] | None = None) -> KnowledgeSource | None:
        """The source for ``tree`` when it has a readable index, else None. Only the
        index's metadata is read (for the one line that names it): the lookups are
        imported and the index opened when a check first asks."""
        import sqlite3

        from reviewbot.knowledge.location import KnowledgeError, describe_index, find_tree
        from reviewbot.knowledge.location import index_path as path_of
        from reviewbot.knowledge.store import SCHEMA_VERSION, read_meta

        try:
            path = path_of(find_tree(tree).top, env)
        except KnowledgeError:  # not a kernel tree, or no home directory: no index
            return None
        if not path.is_file():
            return None
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                meta = read_meta(conn)
            finally:
                conn.close()
        except sqlite3.Error:
            return None
        if meta.get("schema") != SCHEMA_VERSION:
            return None
        source = cls(tree, env)
        source._line = describe_index(meta)
        return source

    def get(self) -> Knowledge | None:
        """The open index (None when it cannot be opened), this process's connection."""
        if self._pid != os.getpid():
            from reviewbot.knowledge.lookup import Knowledge

            self._pid = os.getpid()  # a fork drops the parent's connection unused
            self._open = Knowledge.open(self.tree, self.env)
        return self._open

    def describe(self) -> str:
        """The one line the reports show: ``index of TREE at COMMIT, updated 3 h ago``."""
        if not self._line:
            know = self.get()
            self._line = know.describe() if know is not None else ""
        return self._line

    def __getstate__(self) -> dict[str, object]:  # never pickle a connection
        return {"tree": self.tree, "env": self.env, "_pid": -1, "_open": None,
                "_line": self._line}


def find_knowledge(option: str | None, no_tree: bool, cwd: Path, config_tree: Path | None,
                   env: Mapping[str, str] | None = None) -> KnowledgeSource | None:
    """The index a review uses: ``--no-tree`` none; ``--tree PATH``'s; else the kernel
    tree holding ``cwd`` when it has one; else the config file's ``tree``."""
    if no_tree:
        return None
    if option:
        return KnowledgeSource.find(Path(option).expanduser(), env)
    from reviewbot.knowledge.location import KnowledgeError, find_tree

    try:
        top = find_tree(cwd).top
    except KnowledgeError:
        top = None
    found = KnowledgeSource.find(top, env) if top is not None else None
    if found is None and config_tree is not None:
        found = KnowledgeSource.find(config_tree, env)
    return found
