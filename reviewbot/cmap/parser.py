"""The tree-sitter C parser, built once at the edge and passed in."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser, Query, Tree

# Kernel annotations that tree-sitter-c does not know; they are blanked out (same width,
# so columns stay put) before parsing, because they turn declarations into ERROR nodes.
_ANNOTATIONS = re.compile(
    r"\b(__init|__exit|__meminit|__meminitdata|__initdata|__initconst|__ref|__cold|__hot|"
    r"__weak|__always_inline|__noinline|noinline|__must_check|__maybe_unused|__used|"
    r"__sched|__noreturn|__pure|__user|__iomem|__rcu|__percpu|__force|__bitwise|"
    r"__kprobes|notrace|__latent_entropy|__ro_after_init|__read_mostly|__visible|"
    r"__attribute_const__|__always_unused|__nocfi|__noclone|__net_exit|__net_init|"
    r"__acquires\([^()]*\)|__releases\([^()]*\)|__must_hold\([^()]*\))\b"
)


def blank_annotations(text: str) -> str:
    """Replace kernel annotations by spaces of the same length."""
    return _ANNOTATIONS.sub(lambda m: " " * len(m.group(0)), text)


class CParser:
    """tree-sitter-c: a parser and a query cache. Import cost is paid on first use."""

    def __init__(self) -> None:
        import tree_sitter
        import tree_sitter_c

        self._ts = tree_sitter
        self.language: Language = tree_sitter.Language(tree_sitter_c.language())
        self._parser: Parser = tree_sitter.Parser(self.language)
        self._queries: dict[str, Query] = {}

    def parse(self, text: str) -> Tree:
        return self._parser.parse(blank_annotations(text).encode("utf-8", "surrogateescape"))

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

    def find(self, node: Node, types: tuple[str, ...]) -> list[Node]:
        """Every node of one of ``types`` under ``node`` (itself included), in document
        order (outer before inner). A query runs in C: much faster than walking
        ``children`` in Python, which creates a Python object per node."""
        query = "[" + " ".join(f"({t})" for t in types) + "] @n"
        cursor: Any = self._ts.QueryCursor(self.query(query))
        found: list[Node] = cursor.captures(node).get("n", [])
        found.sort(key=lambda n: (n.start_byte, -n.end_byte))
        return found

    def matches(self, source: str, node: Node) -> list[tuple[int, dict[str, list[Node]]]]:
        cursor: Any = self._ts.QueryCursor(self.query(source))
        result: list[tuple[int, dict[str, list[Node]]]] = cursor.matches(node)
        return result
