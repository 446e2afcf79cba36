"""``map_file``: the C map of one file of a patch, from its whole post-image (tree mode)
when that holds the patch's hunks, else from the hunks alone."""

from __future__ import annotations

from collections.abc import Sequence

from reviewbot.cmap.budget import MapBudget, OverBudget
from reviewbot.cmap.filemap import FileMap, file_map
from reviewbot.cmap.hunks import map_hunks
from reviewbot.cmap.linemap import locate
from reviewbot.cmap.model import Unmapped
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.scan import ScannedLine
from reviewbot.cmap.whole import ParseCache, map_whole
from reviewbot.diff.model import FileDiff


def map_file(fdiff: FileDiff, parser: CParser, full_text: str | None = None,
             cache: ParseCache | None = None, blob: str | None = None,
             kinds: Sequence[tuple[str, ...]] = (),
             scans: Sequence[tuple[ScannedLine, ...]] | None = None,
             budget: MapBudget | None = None) -> FileMap:
    """Map a C file's changed lines.

    ``full_text`` (tree mode) is the whole post-image: it is parsed once per blob
    (``cache``, keyed by ``blob`` or the text's git blob id) and every function, lock
    region and declaration of the file is known. A post-image that does not hold the
    patch's hunks is ignored (the map is then built from the hunks alone). A patch
    applied at an offset keeps its own line numbers (see ``cmap.linemap``).

    ``kinds`` are the groups of node kinds the checks look for (``MappedFragment.nodes``);
    ``scans`` the hunks' post-image scans when the caller has them already.

    ``budget`` (one per patch, ``cmap/budget.py``) is charged the tokens of the text
    parsed and the nodes of its trees; a file that does not fit is not mapped: its map
    is empty and holds one ``Unmapped`` saying why.
    """
    budget = budget or MapBudget()
    try:
        if full_text is not None:
            budget.charge_tokens(full_text)
            whole = (cache or ParseCache(parser)).get(full_text, blob, fdiff.path)
            budget.charge_nodes(whole.tree.root_node.descendant_count)
            lm = locate(fdiff, whole.lines)
            if lm is not None:
                return map_whole(fdiff, whole, lm)
        budget.charge_tokens("\n".join(ln.text for h in fdiff.hunks for ln in h.lines
                                        if ln.kind != "-"))
        return map_hunks(fdiff, parser, kinds, scans, budget)
    except OverBudget as exc:
        return not_mapped(fdiff, parser, str(exc))


def not_mapped(fdiff: FileDiff, parser: CParser, why: str) -> FileMap:
    """The map of a file left unmapped: no fragment, function, lock or declaration, and
    one ``Unmapped`` on its first added line saying ``why`` and how many lines that is."""
    text = {ln.new: ln.text for h in fdiff.hunks for ln in h.lines
            if ln.kind != "-" and ln.new is not None}
    added = frozenset(ln.new for h in fdiff.hunks for ln in h.lines
                      if ln.kind == "+" and ln.new is not None)
    first = min(added, default=min(text, default=0))
    lines = f"{len(added):,} added line{'s' if len(added) != 1 else ''}"
    note = Unmapped(fdiff.path, first, f"the file is not mapped to C ({lines}): {why}")
    return file_map(fdiff.path, (), (), (), (), text, added, (note,), parser)
