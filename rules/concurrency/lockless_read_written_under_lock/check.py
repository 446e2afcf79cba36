"""A plain lockless read of a member the tree writes under a lock that the reading
function takes after the read to look again (CON008, preview).

CON001's double-checked pattern with its store elsewhere in the tree: the index says
the member is written mostly under one lock (at least two writes, half of them), and
the reading function visibly takes that lock after the read, on the same object (or
a global lock), and tests the location again under it (an ``if`` or ``?:``
condition). A rule of its own, in preview (measured on mainline code at about half
right before the re-check had to be a test); CON001 keeps the evidence in the
reading function itself.

The vocabulary (marked reads and writes, assertions, RCU stores, the quiet
annotations) is CON001's: its ``[params]``, read once from its rule file, so the two
rules never disagree on what a marked access is.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.engine.check import Hit
from reviewbot.engine.params import read_params

from ..lockless_read_needs_read_once import check as con001
from ..tree_facts import knowledge_of

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis

NODE_KINDS = con001.NODE_KINDS


@cache
def vocabulary() -> con001.Params:
    """CON001's params (its rule file's ``[params]``)."""
    import tomllib

    path = Path(con001.__file__).with_name("rule.toml")
    table = tomllib.loads(path.read_text(encoding="utf-8")).get("params", {})
    params, problems = read_params(con001.Params, table)
    if params is None:  # the rule loader reports the same problems with CON001
        raise ValueError(f"{path}: [params]: {problems}")
    return params


def check(patch: PatchAnalysis, file: FileAnalysis, params: object) -> Iterable[Hit]:
    fmap = file.map
    index = knowledge_of(patch)
    if fmap is None or index is None:
        return []
    words = vocabulary()
    done = list(con001.check(patch, file, words))  # CON001's lines: not said twice
    return con001.tree_hits(patch, file, fmap, con001.sharing_of(patch, words), index, done,
                            elsewhere=True)
