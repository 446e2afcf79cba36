"""Finding functions in parsed C, for both builders (from hunks, from whole files)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reviewbot.cmap.filemap import MappedFragment
from reviewbot.cmap.fragment import SYNTHETIC
from reviewbot.cmap.model import FunctionSpan
from reviewbot.cmap.scan import ScannedLine

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

# why a line is listed as not mapped to C
NO_FUNCTION = "tree-sitter could not parse this line and no enclosing function was found"
_COL0_FUNC = re.compile(r"^(?:[A-Za-z_][\w\s\*]*?[\s\*])?([A-Za-z_]\w*)\s*\(")


def function_name(node: Node) -> str | None:
    decl = node.child_by_field_name("declarator")
    while decl is not None and decl.type in ("pointer_declarator", "function_declarator",
                                             "parenthesized_declarator",
                                             "attributed_declarator"):
        inner = decl.child_by_field_name("declarator")
        if inner is None:
            break
        if inner.type == "identifier":
            return (inner.text or b"").decode("utf-8", "replace")
        decl = inner
    return None


def header(mf: MappedFragment, node: Node) -> str:
    """A function definition's text up to its body: type, annotations, name, parameters."""
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None else node.end_byte
    raw = mf.fragment.text.encode("utf-8", "surrogateescape")[node.start_byte:end]
    return " ".join(raw.decode("utf-8", "replace").split())


def tree_functions(mf: MappedFragment, section: str) -> list[FunctionSpan]:
    """Functions tree-sitter found; ``section`` (the hunk heading) stands in for a header
    that is above the visible lines."""
    out: list[FunctionSpan] = []
    rows = mf.fragment.rows
    # the outermost definitions (found by a query: a walk in Python made an object per
    # node), last first as the depth-first walk this replaces found them
    outermost: list[Node] = []
    for node in mf.parser.find(mf.root, ("function_definition",)):
        if not outermost or node.start_byte >= outermost[-1].end_byte:
            outermost.append(node)
    for node in reversed(outermost):
        name = function_name(node)
        real = [r for r in range(node.start_point[0], node.end_point[0] + 1)
                if r < len(rows) and rows[r] is not None]
        if name and name != SYNTHETIC and real:
            first, last = rows[real[0]], rows[real[-1]]
            assert first is not None and last is not None
            start_seen = rows[node.start_point[0]] is not None
            complete = start_seen and (
                node.end_point[0] < len(rows) and rows[node.end_point[0]] is not None)
            signature = header(mf, node) if start_seen else section
            out.append(FunctionSpan(name, first, last, "tree-sitter", complete,
                                    signature))
    return out


def scan_functions(texts: list[str], scanned: list[ScannedLine], numbers: list[int],
                    start_depth: int, heading_fn: str | None,
                    section: str = "") -> list[FunctionSpan]:
    """Kernel-style fallback: functions open with ``{`` and close with ``}`` at column 0."""
    out: list[FunctionSpan] = []
    depth = start_depth
    current: str | None = heading_fn if start_depth > 0 else None
    start = numbers[0] if numbers else 0
    complete_start = False
    candidate: tuple[str, int, int] | None = None
    header = section
    for i, (number, s) in enumerate(zip(numbers, scanned, strict=True)):
        if depth == 0:
            m = _COL0_FUNC.match(s.code)
            if m and not s.code.rstrip().endswith(";"):
                candidate = (m.group(1), number, i)
            if s.code.startswith("{") and candidate is not None:
                current, start, first = candidate
                header = " ".join(" ".join(texts[first:i]).split())
                complete_start = True
        depth += s.opens - s.closes
        if depth <= 0 and current is not None:
            out.append(FunctionSpan(current, start, number, "heuristic"
                                    if complete_start else "heading", complete_start, header))
            current, candidate, complete_start = None, None, False
            depth = 0
    if current is not None and numbers:
        out.append(FunctionSpan(current, start, numbers[-1],
                                "heuristic" if complete_start else "heading", False, header))
    return out


def error_lines(mf_tree: Tree, rows: tuple[int | None, ...]) -> frozenset[int]:
    out: set[int] = set()
    root = mf_tree.root_node
    if not root.has_error:
        return frozenset()
    stack = [root]
    while stack:
        node = stack.pop()
        if not node.has_error:
            continue
        if node.type == "ERROR" or node.is_missing:
            for r in range(node.start_point[0], node.end_point[0] + 1):
                if r < len(rows) and rows[r] is not None:
                    out.add(rows[r])  # type: ignore[arg-type]
            continue
        stack.extend(node.children)
    return frozenset(out)
