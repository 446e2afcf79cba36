"""The nodes of a hunk's tree that several steps look for, found by one query.

Declarations (for the map), statements that may hold a single-statement block (STY001),
member/subscript expressions (shared locations) and arithmetic (MEM001): searching the
tree once for all of them costs about what one search costs, and each step gets exactly
the list ``CParser.find`` would give it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.memo import derived

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.cmap.filemap import MappedFragment
    from reviewbot.cmap.parser import CParser

DECLARATIONS = ("declaration", "parameter_declaration", "field_declaration")
LOOPS = ("for_statement", "while_statement", "do_statement")
BLOCKS = ("if_statement", *LOOPS, "expression_statement")
LOCATIONS = ("field_expression", "subscript_expression")
OFFSETS = ("binary_expression", "subscript_expression", "assignment_expression")


@dataclass(frozen=True)
class HunkNodes:
    """``parser.find(root, KINDS)`` of a fragment for each group of kinds."""

    declarations: list[Node]
    blocks: list[Node]
    locations: list[Node]
    offsets: list[Node]  # where MEM001 looks for a literal offset


def hunk_nodes(mf: MappedFragment, parser: CParser) -> HunkNodes:
    """The nodes of ``mf`` by group, searched for once and kept with ``mf``. For a hunk's
    fragment: a whole file (tree mode) is searched on the rows a step asks for instead."""
    return derived(mf, "hunk_nodes", lambda: HunkNodes(
        *parser.find_groups(mf.root, (DECLARATIONS, BLOCKS, LOCATIONS, OFFSETS))))
