"""The tree-sitter C parser, built once at the edge and passed in."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from reviewbot.cmap.blanking import blank_macro_comments, blank_macro_invocations

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser, Query, Tree

    from reviewbot.cmap.rows import Rows

# Kernel annotations that tree-sitter-c does not know; they are blanked out (same width,
# so columns stay put) before parsing, because they turn declarations into ERROR nodes.
_ANNOTATION_WORDS = frozenset((
    "__init", "__exit", "__meminit", "__meminitdata", "__initdata", "__initconst", "__ref",
    "__cold", "__hot", "__weak", "__always_inline", "__noinline", "noinline", "__must_check",
    "__maybe_unused", "__used", "__sched", "__noreturn", "__pure", "__user", "__iomem",
    "__rcu", "__percpu", "__force", "__bitwise", "__kprobes", "notrace", "__latent_entropy",
    "__ro_after_init", "__read_mostly", "__visible", "__attribute_const__",
    "__always_unused", "__nocfi", "__noclone", "__net_exit", "__net_init",
    "__packed", "__cacheline_aligned", "__cacheline_aligned_in_smp",
    "____cacheline_aligned", "____cacheline_aligned_in_smp",
))
# Patterns with a literal prefix (fast to scan for) find the candidates; the set decides.
_WITH_ARGS = re.compile(
    r"__(?:acquires|releases|must_hold|counted_by(?:_le|_be)?|aligned)\([^()]*(?:\([^()]*\)[^()]*)*\)")
_UNDERSCORED = re.compile(r"__\w+")
# no leading \b (it stops the regex engine from scanning for the literal): a match
# inside a longer word is left alone by _spaces
_PLAIN = re.compile(r"no(?:inline|trace)\b")


def _in_word(m: re.Match[str]) -> bool:
    start = m.start()
    return start > 0 and (m.string[start - 1].isalnum() or m.string[start - 1] == "_")


def _spaces(m: re.Match[str]) -> str:
    return m.group(0) if _in_word(m) else " " * len(m.group(0))


def _word(m: re.Match[str]) -> str:
    word = m.group(0)
    return " " * len(word) if word in _ANNOTATION_WORDS and not _in_word(m) else word


def blank_annotations(text: str) -> str:
    """Replace kernel annotations by spaces of the same length."""
    if "__" in text:
        text = _UNDERSCORED.sub(_word, _WITH_ARGS.sub(_spaces, text))
    return _PLAIN.sub(_spaces, text)


class CParser:
    """tree-sitter-c: a parser and a query cache. Import cost is paid on first use."""

    def __init__(self) -> None:
        import tree_sitter
        import tree_sitter_c

        self._ts = tree_sitter
        self.language: Language = tree_sitter.Language(tree_sitter_c.language())
        self._parser: Parser = tree_sitter.Parser(self.language)
        self._queries: dict[str, Query] = {}
        self._group_queries: dict[tuple[tuple[str, ...], ...], Query] = {}

    def parse(self, text: str) -> Tree:
        return self._parser.parse(self.source(text))

    @staticmethod
    def source(text: str) -> bytes:
        """The bytes tree-sitter parses for ``text``: annotations, comments in macro
        bodies and file-scope macro invocations blanked (``cmap.blanking``)."""
        text = blank_macro_invocations(blank_macro_comments(blank_annotations(text)))
        return text.encode("utf-8", "surrogateescape")

    def reparse(self, source: bytes, old: Tree) -> Tree:
        """Parse ``source`` reusing ``old`` (already ``edit()``-ed to match it)."""
        return self._parser.parse(source, old)

    def query(self, source: str) -> Query:
        """A compiled query (cached); raises ValueError when it does not compile."""
        q = self._queries.get(source)
        if q is None:
            try:
                q = self._ts.Query(self.language, source)
            except Exception as exc:  # tree_sitter.QueryError and friends
                raise ValueError(str(exc)) from exc
            self._queries[source] = q
        return q

    def find(self, node: Node, types: tuple[str, ...], rows: Rows | None = None
             ) -> list[Node]:
        """Every node of one of ``types`` under ``node`` (itself included), in document
        order (outer before inner); with ``rows`` (0-based (first, last) row ranges) only
        the nodes that overlap them. A query runs in C: much faster than walking
        ``children`` in Python, which creates a Python object per node."""
        query = self.query("[" + " ".join(f"({t})" for t in types) + "] @n")
        if rows is None:
            found: list[Node] = self._ts.QueryCursor(query).captures(node).get("n", [])
        else:
            seen: dict[int, Node] = {}
            for lo, hi in rows:
                cursor: Any = self._ts.QueryCursor(query)
                cursor.set_point_range((lo, 0), (hi + 1, 0))
                for n in cursor.captures(node).get("n", []):
                    if n.start_point[0] <= hi and n.end_point[0] >= lo:
                        seen.setdefault(n.id, n)
            found = list(seen.values())
        found.sort(key=lambda n: (n.start_byte, -n.end_byte))
        return found

    def find_groups(self, node: Node, groups: tuple[tuple[str, ...], ...]
                    ) -> tuple[list[Node], ...]:
        """``find(node, group)`` for each of ``groups``, all found by one query: the tree
        is walked once whatever the number of groups."""
        query = self._group_queries.get(groups)
        if query is None:  # (made once: a patch of 30,000 hunks asks 30,000 times)
            query = self._group_queries[groups] = self.query("\n".join(
                "[" + " ".join(f"({t})" for t in group) + f"] @g{i}"
                for i, group in enumerate(groups)))
        cursor: Any = self._ts.QueryCursor(query)
        found: dict[str, list[Node]] = cursor.captures(node)
        out = tuple(found.get(f"g{i}", []) for i in range(len(groups)))
        for nodes in out:
            nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
        return out

    def captures(self, source: str, node: Node, rows: tuple[int, int] | None = None
                 ) -> dict[str, list[Node]]:
        """Every capture of query ``source`` under ``node``, by capture name; with ``rows``
        (first, last: 0-based) only those overlapping those rows."""
        cursor: Any = self._ts.QueryCursor(self.query(source))
        if rows is not None:
            cursor.set_point_range((rows[0], 0), (rows[1] + 1, 0))
        result: dict[str, list[Node]] = cursor.captures(node)
        return result

    def matches(self, source: str, node: Node, rows: tuple[int, int] | None = None
                ) -> list[tuple[int, dict[str, list[Node]]]]:
        """Matches of query ``source`` under ``node``; with ``rows`` (first, last: 0-based)
        only those overlapping those rows."""
        cursor: Any = self._ts.QueryCursor(self.query(source))
        if rows is not None:
            cursor.set_point_range((rows[0], 0), (rows[1] + 1, 0))
        result: list[tuple[int, dict[str, list[Node]]]] = cursor.matches(node)
        return result
