"""How much C one patch may map: tokens and tree nodes.

tree-sitter keeps about 200 bytes per token, and every node a query captures becomes a
Python object, so a patch made of nothing but tokens (30 MB of ``;``) would need gigabytes.
Each ``PatchAnalysis`` has one ``MapBudget``; ``map_file`` charges each C file's tokens
(estimated before parsing, from the text it would parse: the hunks' post-image, or the
whole file in tree mode) and its parsed trees' nodes against it. Both are counts, not
times, so whether a file is mapped does not depend on the machine or its load. They also
bound the parse time: tree-sitter parses real C at a few hundred thousand tokens a
second, and its slowest known shape (``(;`` repeated, all error recovery) at about
125,000 (4 s for the budget). A time limit on the parse itself is not used: a tree
parsed through py-tree-sitter's progress callback reads its nodes' text back through
the callback (one call per node), and returned wrong text for nodes longer than one
chunk when tried (py-tree-sitter 0.26). A file over what is left is not mapped: its
map is empty and says why, once (``Unmapped``, listed with ``--verbose`` and counted in
the summary), and the rules that need C see nothing there. The rest of the patch is
reviewed as usual.
"""

from __future__ import annotations

MAX_TOKENS = 500_000  # estimated C tokens mapped per patch (real C: ~8 a line)
MAX_NODES = 1_500_000  # tree-sitter nodes of the trees of one patch

# bytes that are part of a word (identifiers, numbers) or space, for ``c_tokens``
_WORD = bytes(range(48, 58)) + bytes(range(65, 91)) + bytes(range(97, 123)) + b"_"
_CLASSES = bytes(
    ord("a") if c in _WORD else ord(" ") if c in b" \t\r\n\f\v" else ord(".")
    for c in range(256))


def c_tokens(text: str) -> int:
    """An upper estimate of the C tokens of ``text``: each punctuation character, and
    each run of word characters (string and comment words count as tokens too). Runs in C:
    a 30 MB text takes tens of milliseconds."""
    data = text.encode("utf-8", "surrogateescape").translate(_CLASSES)
    return (data.count(b".") + data.count(b" a") + data.count(b".a")
            + (1 if data[:1] == b"a" else 0))


class OverBudget(Exception):
    """A file does not fit in what is left of the patch's budget; the message says why."""


class MapBudget:
    """What is left of one patch's C mapping budget."""

    def __init__(self, tokens: int = MAX_TOKENS, nodes: int = MAX_NODES) -> None:
        self.tokens = tokens
        self.nodes = nodes
        self._max_tokens, self._max_nodes = tokens, nodes

    def charge_tokens(self, text: str) -> None:
        """Take ``text``'s tokens; OverBudget (nothing taken) when they do not fit."""
        found = c_tokens(text)
        if found > self.tokens:
            left = "" if self.tokens == self._max_tokens else f" ({self.tokens:,} left)"
            raise OverBudget(f"about {found:,} C tokens, over the budget of "
                             f"{self._max_tokens:,} per patch{left}")
        self.tokens -= found

    def charge_nodes(self, nodes: int) -> None:
        """Take a parsed tree's ``nodes``; OverBudget when they do not fit."""
        if nodes > self.nodes:
            raise OverBudget(f"{nodes:,} syntax nodes, over the budget of "
                             f"{self._max_nodes:,} per patch")
        self.nodes -= nodes
