"""The series read as symbols: every patch's map, line origins, and the tree's view."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from reviewbot.series.model import Series
from reviewbot.seriesmap.model import Definition, Site, Symbol
from reviewbot.seriesmap.provenance import Provenance
from reviewbot.seriesmap.scope import visible
from reviewbot.seriesmap.symbols import PatchMap, map_patch
from reviewbot.seriesmap.tree import TreeDefines

Key = tuple[str, str, str]


@dataclass(frozen=True)
class SeriesMap:
    """What the analyses read: the series, a ``PatchMap`` per reviewed patch (in order),
    the origin of every removed or context line, and the tree's lookup if there is one.
    """

    series: Series
    patches: tuple[PatchMap, ...]
    provenance: Provenance = field(repr=False)
    tree: TreeDefines | None = field(default=None, repr=False)
    added: dict[Key, tuple[Definition, ...]] = field(default_factory=dict, repr=False)

    def patch(self, index: int) -> PatchMap | None:
        for p in self.patches:
            if p.index == index:
                return p
        return None

    def complete_up_to(self, index: int) -> bool:
        """Patches 1..index are all in the input and reviewed."""
        have = {p.index for p in self.patches}
        return all(i in have for i in range(1, index + 1))

    def definitions(self, key: Key, path: str) -> Iterator[Definition]:
        """Definitions of ``key`` added by any patch and visible from ``path``, in patch
        order."""
        return (d for d in self.added.get(key, ()) if visible(d, path))

    def tree_files(self, symbol: Symbol) -> tuple[str, ...] | None:
        """Files where the tree defines ``symbol`` before the series (None: no tree)."""
        if self.tree is None:
            return None
        return tuple(self.tree(symbol))


def map_series(series: Series, tree: TreeDefines | None = None) -> SeriesMap:
    """Read every reviewed patch of ``series`` (linear in the size of the series)."""
    reviewed = [p for p in series.patches if not p.skipped]
    maps = tuple(map_patch(p) for p in reviewed)
    added: dict[Key, list[Definition]] = {}
    for pm in maps:
        for d in pm.symbols.added:
            added.setdefault(d.symbol.key, []).append(d)
    return SeriesMap(series, maps, Provenance(reviewed), tree,
                     {k: tuple(v) for k, v in added.items()})


def placement(smap: SeriesMap, site: Site) -> tuple[str, int]:
    """Where a finding about ``site`` goes, as the engine places findings: ``("new",
    line)`` for an added or context line; for a removed line ``("old", n)`` with ``n``
    the next post-image line of its hunk (or one past the previous one at the end)."""
    line = site.line
    if line.new is not None:
        return "new", line.new
    pm = smap.patch(site.patch)
    for hm in pm.hunks if pm is not None else ():
        lines = hm.hunk.lines
        for i, ln in enumerate(lines):
            if ln is not line:
                continue
            nxt = next((x.new for x in lines[i + 1:] if x.new is not None), None)
            if nxt is None:
                prev = next((x.new for x in reversed(lines[:i]) if x.new is not None), None)
                nxt = (prev or hm.hunk.new_start - 1) + 1
            return "old", nxt
    return "old", line.old or 0
