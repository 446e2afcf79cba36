"""The series read as symbols: every patch's map, line origins, and the tree's view."""

from __future__ import annotations

from collections.abc import Iterator

from reviewbot.series.model import Patch, Series
from reviewbot.seriesmap.cdefs import SideMap
from reviewbot.seriesmap.model import Definition, Site, Symbol
from reviewbot.seriesmap.provenance import Provenance
from reviewbot.seriesmap.scope import visible
from reviewbot.seriesmap.symbols import PatchMap, Scans, map_patch, read_new_side
from reviewbot.seriesmap.tree import TreeDefines

Key = tuple[str, str, str]


class SeriesMap:
    """What the analyses read: the series, a ``PatchMap`` per reviewed patch (in order),
    the origin of every removed or context line, and the tree's lookup if there is one.

    Everything is worked out when first asked for: a patch is read as C (``map_patch``,
    the costly part) only when an analysis asks for it (``patch``, ``later``, or every
    patch through ``patches`` and ``added``), so a check that needs one patch's map
    does not pay for the whole series.
    """

    def __init__(self, series: Series, tree: TreeDefines | None = None,
                 scans: Scans | None = None) -> None:
        self.series = series
        self.tree = tree
        self.scans = scans  # the hunks' post-image scans, when the review keeps them
        self._reviewed = {p.index: p for p in series.patches if not p.skipped}
        self._maps: dict[int, PatchMap] = {}
        self._provenance: Provenance | None = None
        self._added: dict[Key, tuple[Definition, ...]] | None = None
        self._wanted: frozenset[str] | None = None
        self._new_sides: dict[tuple[int, int, int], SideMap] = {}  # by the hunk's place

    @property
    def reviewed(self) -> tuple[Patch, ...]:
        """The reviewed patches of the series, in order (nothing read)."""
        return tuple(self._reviewed.values())

    def patch(self, index: int) -> PatchMap | None:
        """Patch ``index``'s map (None: not in the input, or skipped)."""
        found = self._maps.get(index)
        if found is None:
            p = self._reviewed.get(index)
            if p is None:
                return None
            found = self._maps[index] = map_patch(p, self.wanted, self.scans,
                                                  self.new_side)
        return found

    def new_side(self, index: int, file: int, hunk: int) -> SideMap:
        """The post-image of hunk ``hunk`` of C file ``file`` (its position) of reviewed
        patch ``index``, read as C once (an analysis may read it before the patch is
        mapped: ``map_patch`` takes it)."""
        key = (index, file, hunk)
        found = self._new_sides.get(key)
        if found is None:
            fdiff = self._reviewed[index].files[file]
            found = self._new_sides[key] = read_new_side(
                index, fdiff.path, fdiff.hunks[hunk],
                self.scans(index, file, hunk) if self.scans is not None else None)
        return found

    def wanted(self) -> frozenset[str]:
        """The names whose uses the analyses of the whole series look at (reading every
        patch's definitions, not its uses): those a patch after the first one adds (a
        use before such a patch may not build) and those any patch removes (a user
        left behind may not build). Empty for most series: no patch's uses are read."""
        if self._wanted is None:
            patches = self.patches
            first = patches[0].index if patches else 0
            self._wanted = frozenset(
                d.symbol.name for pm in patches
                for d in (*(pm.added if pm.index > first else ()), *pm.removed))
        return self._wanted

    @property
    def patches(self) -> tuple[PatchMap, ...]:
        """Every reviewed patch's map, in order."""
        return tuple(pm for i in self._reviewed if (pm := self.patch(i)) is not None)

    def later(self, index: int) -> Iterator[PatchMap]:
        """The maps of the reviewed patches after ``index``, in order, each read when the
        caller gets to it."""
        for i in self._reviewed:
            if i > index and (pm := self.patch(i)) is not None:
                yield pm

    @property
    def provenance(self) -> Provenance:
        """The origin of every removed or context line (no C reading needed)."""
        if self._provenance is None:
            self._provenance = Provenance(list(self._reviewed.values()))
        return self._provenance

    @property
    def added(self) -> dict[Key, tuple[Definition, ...]]:
        """Every definition the series adds, by symbol key, in patch order."""
        if self._added is None:
            added: dict[Key, list[Definition]] = {}
            for pm in self.patches:
                for d in pm.added:
                    added.setdefault(d.symbol.key, []).append(d)
            self._added = {k: tuple(v) for k, v in added.items()}
        return self._added

    def complete_up_to(self, index: int) -> bool:
        """Patches 1..index are all in the input and reviewed."""
        return all(i in self._reviewed for i in range(1, index + 1))

    def definitions(self, key: Key, path: str) -> Iterator[Definition]:
        """Definitions of ``key`` added by any patch and visible from ``path``, in patch
        order."""
        return (d for d in self.added.get(key, ()) if visible(d, path))

    def tree_files(self, symbol: Symbol) -> tuple[str, ...] | None:
        """Files where the tree defines ``symbol`` before the series (None: no tree)."""
        if self.tree is None:
            return None
        return tuple(self.tree(symbol))


def map_series(series: Series, tree: TreeDefines | None = None,
               scans: Scans | None = None) -> SeriesMap:
    """The series as the analyses read it; each patch is read when first asked for
    (linear in the size of the series). ``scans``: the review's post-image scan of a
    hunk (``SeriesAnalysis.post_scan``: the C mapping's), so no line is scanned twice."""
    return SeriesMap(series, tree, scans)


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
