"""``map_file``: the C map of one file of a patch, from its whole post-image (tree mode)
when that holds the patch's hunks, else from the hunks alone."""

from __future__ import annotations

from collections.abc import Sequence

from reviewbot.cmap.filemap import FileMap
from reviewbot.cmap.hunks import map_hunks
from reviewbot.cmap.linemap import locate
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.scan import ScannedLine
from reviewbot.cmap.whole import ParseCache, map_whole
from reviewbot.diff.model import FileDiff


def map_file(fdiff: FileDiff, parser: CParser, full_text: str | None = None,
             cache: ParseCache | None = None, blob: str | None = None,
             kinds: Sequence[tuple[str, ...]] = (),
             scans: Sequence[tuple[ScannedLine, ...]] | None = None) -> FileMap:
    """Map a C file's changed lines.

    ``full_text`` (tree mode) is the whole post-image: it is parsed once per blob
    (``cache``, keyed by ``blob`` or the text's git blob id) and every function, lock
    region and declaration of the file is known. A post-image that does not hold the
    patch's hunks is ignored (the map is then built from the hunks alone). A patch
    applied at an offset keeps its own line numbers (see ``cmap.linemap``).

    ``kinds`` are the groups of node kinds the checks look for (``MappedFragment.nodes``);
    ``scans`` the hunks' post-image scans when the caller has them already.
    """
    if full_text is not None:
        whole = (cache or ParseCache(parser)).get(full_text, blob, fdiff.path)
        lm = locate(fdiff, whole.lines)
        if lm is not None:
            return map_whole(fdiff, whole, lm)
    return map_hunks(fdiff, parser, kinds, scans)
