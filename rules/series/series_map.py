"""What the series rules share (SER001-SER004): the series read as symbols, once per
series, and a finding placed on a line of it.

The series map (``reviewbot.seriesmap``) is imported and built the first time a
selected rule asks for it (each check imports its analysis when it first runs: a run
without these rules imports none of them) and kept by the series' analysis for its later
patches; it reads a patch as C only when an analysis asks for that patch.
With the index of the kernel tree the series applies to (``PatchAnalysis.knowledge``, a
``reviewbot.knowledge`` ``Knowledge``), what the tree defines before the series is known;
without it the analyses say only what the series itself proves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from reviewbot.engine.check import Hit, render

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.knowledge.lookup import Knowledge
    from reviewbot.seriesmap.model import Site
    from reviewbot.seriesmap.series import SeriesMap


def series_map(patch: PatchAnalysis) -> SeriesMap:
    """The map of the series ``patch`` belongs to, shared by its patches and rules."""
    from reviewbot.seriesmap.series import map_series
    from reviewbot.seriesmap.tree import index_defines

    analysis = patch.series_analysis

    def build() -> SeriesMap:
        known = knowledge(patch)
        return map_series(analysis.series,
                          index_defines(known) if known is not None else None,
                          analysis.post_scan)

    return analysis.kept("reviewbot.rules.series.series_map", build)


def knowledge(patch: PatchAnalysis) -> Knowledge | None:
    """The index of the kernel tree the review runs with: ``PatchAnalysis.knowledge``,
    which the index work (``check --tree``) gives the per-patch analysis; None where the
    review has none (then the analyses say only what the series itself proves)."""
    return cast("Knowledge | None", getattr(patch, "knowledge", None))


def on_file(site: Site, patch: PatchAnalysis, file: FileAnalysis) -> bool:
    """``site`` is a line of the file being checked, in the patch under review."""
    return site.patch == patch.patch.index and site.file == file.path


class Found(Protocol):
    @property
    def site(self) -> Site: ...


F = TypeVar("F", bound=Found)


def found_on(patch: PatchAnalysis, file: FileAnalysis, key: str,
             build: Callable[[], Sequence[F]]) -> list[F]:
    """What ``build()`` finds in the patch under review (worked out once per patch,
    kept under ``key``, the check's module name) on the lines of ``file``."""
    return [x for x in patch.kept(key, build) if on_file(x.site, patch, file)]


def hit(smap: SeriesMap, site: Site, values: Mapping[str, str],
        templates: Mapping[str, str]) -> Hit:
    """A finding on ``site``'s line: an added or context line where it is, a removed
    one before the next line of its hunk (as the engine places removed lines). The
    ``templates`` (``message``, ``reply``) are filled from ``values``."""
    from reviewbot.seriesmap.series import placement

    filled = dict(values)
    for key, template in templates.items():
        filled[key] = render(template, values)
    side, line = placement(smap, site)
    if side == "old":
        return Hit(site.file, line, tuple(filled.items()), "old", site.line.old)
    return Hit(site.file, line, tuple(filled.items()))


def total(patch: PatchAnalysis) -> int:
    """The number of patches of the series, as its subjects say (``M/T``)."""
    return patch.series.total
