"""The per-patch analysis: what the checks of one patch share, each worked out once.

The pipeline makes a ``SeriesAnalysis`` for each series it reviews and, for each patch
in turn, a ``PatchAnalysis``: the patch's files (``FileAnalysis``: the diff, its C map,
the analysis of each hunk), handed to every check and dropped when the patch's findings
are made. Every cache of a patch's review lives in it: nothing is written into the
models (patches, hunks, rules), and nothing outlives the patch but what the series
keeps on purpose for its later patches (``SeriesAnalysis.squashed``: the lines SER001
compares with; ``SeriesAnalysis.facts``: what each patch says about the functions it
touches, for the knowledge view of the patches after it).

Knowledge of the tree (``reviewbot index``): ``PatchAnalysis.knowledge`` is the index
the review runs with (a ``reviewbot.knowledge.lookup.Knowledge``; None without one),
and ``PatchAnalysis.view()`` the ``reviewbot.knowledge.overlay.KnowledgeView`` a check
asks: the index with the facts this patch and the series' earlier patches add or
remove over it (a function a patch makes call msleep() may sleep whatever the index
says; one whose sleeping call a patch removes no longer sleeps by that evidence). The
view works without an index too, from the sleeping primitives and the patches alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, NamedTuple, TypeVar, cast

from reviewbot.cmap.budget import MapBudget
from reviewbot.cmap.build import map_file
from reviewbot.cmap.filemap import FileMap
from reviewbot.cmap.model import Unmapped
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.scan import ScannedLine, scan_post_image
from reviewbot.cmap.whole import ParseCache
from reviewbot.diff.layout import (
    Comparisons,
    Edit,
    LayoutChange,
    announces_layout,
    changes_code,
    edits,
    layout_changes,
    squash,
)
from reviewbot.diff.model import FileDiff, Hunk, Line
from reviewbot.diff.provenance import (
    added_windows,
    disabled_lines,
    is_backport,
    is_revert,
    removed_windows,
    repeated_lines,
)
from reviewbot.series.model import Patch, Series

if TYPE_CHECKING:
    from reviewbot.knowledge.lookup import Knowledge
    from reviewbot.knowledge.overlay import KnowledgeView, PatchFacts
    from reviewbot.knowledge.source import KnowledgeSource

T = TypeVar("T")
# Tree mode: the whole post-image text of a file after a patch, or None.
FullText = Callable[[Patch, FileDiff], "str | None"]
# One hunk's post-image (context and added lines), squashed, and which lines are added.
PostImage = tuple[tuple[str, ...], tuple[bool, ...]]


def _memo(store: dict[str, object], key: str, build: Callable[[], T]) -> T:
    if key not in store:
        store[key] = build()
    return cast(T, store[key])


class HunkAnalysis:
    """One hunk, and what the checks work out from it, once each."""

    def __init__(self, hunk: Hunk, comparisons: Comparisons | None = None,
                 scan: Callable[[], tuple[ScannedLine, ...]] | None = None) -> None:
        self.hunk = hunk
        self._comparisons = comparisons  # the patch's allowance for ``edits``
        self._scan_of = scan  # where the post-image scan comes from (the series keeps it)
        self._scan: tuple[ScannedLine, ...] | None = None
        self._edits: tuple[Edit, ...] | None = None
        self._changes: tuple[LayoutChange, ...] | None = None

    def post_scan(self) -> tuple[ScannedLine, ...]:
        """The post-image's lines, comments and literals blanked (``scan_post_image``)."""
        if self._scan is None:
            self._scan = self._scan_of() if self._scan_of is not None \
                else scan_post_image(self.hunk)
        return self._scan

    def edits(self) -> tuple[Edit, ...]:
        """The hunk re-diffed without whitespace (``reviewbot.diff.layout``)."""
        if self._edits is None:
            self._edits = edits(self.hunk, self._comparisons)
        return self._edits

    def layout_changes(self) -> tuple[LayoutChange, ...]:
        """The whitespace-only changes of the hunk, in order."""
        if self._changes is None:
            self._changes = layout_changes(self.hunk, self.edits())
        return self._changes

    def changes_code(self) -> bool:
        """The hunk changes some tokens (it is not only a layout change)."""
        return changes_code(self.edits())


class FileAnalysis:
    """One file of the patch: its diff, its C map (None for other files) and hunks;
    ``position`` is its place in ``patch.files`` (what per-file caches are keyed by)."""

    def __init__(self, diff: FileDiff, hunks: tuple[HunkAnalysis, ...],
                 fmap: FileMap | None, position: int = 0) -> None:
        self.position = position
        self.diff = diff
        self.hunks = hunks
        self.map = fmap
        self._by_new: dict[int, Line] | None = None

    @property
    def path(self) -> str:
        return self.diff.path

    def added_lines(self) -> tuple[Line, ...]:
        return tuple(ln for h in self.diff.hunks for ln in h.lines if ln.kind == "+")

    def new_line(self, number: int) -> Line | None:
        """The visible post-image line ``number`` (added or context)."""
        if self._by_new is None:  # built once: a search per finding was quadratic
            self._by_new = {}
            for h in self.diff.hunks:
                for ln in h.lines:
                    if ln.new is not None:
                        self._by_new.setdefault(ln.new, ln)
        return self._by_new.get(number)


class EarlierPatch(NamedTuple):
    """A patch of the series before the one under review, as a check sees it."""

    patch: Patch
    position: int  # in ``Series.patches``
    series: SeriesAnalysis

    def squashed(self, file: int) -> tuple[PostImage, ...]:
        """The post-images of the hunks of ``patch.files[file]`` (kept by the series)."""
        return self.series.squashed(self.position, file)


class PatchAnalysis:
    """One patch under review: its files mapped to C, and the values its checks keep."""

    def __init__(self, series: SeriesAnalysis, position: int) -> None:
        self.series_analysis = series
        self.series: Series = series.series
        self.patch: Patch = series.series.patches[position]
        self.position = position
        self.parser = series.parser
        self.unmapped: list[Unmapped] = []
        self.full_files: list[str] = []  # C files mapped from their whole post-image
        self.notes: list[str] = []
        self.budget = MapBudget()  # the C mapping of the patch's files, all together
        self.comparisons = Comparisons()  # difflib's work on the patch's hunks (edits)
        self.files = tuple(self._file(i, fdiff) for i, fdiff in enumerate(self.patch.files))
        self._expected: bool | None = None
        self._kept: dict[str, object] = {}
        self._not_written: dict[int, frozenset[int]] = {}
        self._view: KnowledgeView | None = None

    def _file(self, position: int, fdiff: FileDiff) -> FileAnalysis:
        scans = self.series_analysis.post_scan
        hunks = tuple(HunkAnalysis(h, self.comparisons,
                                   partial(scans, self.patch.index, position, i))
                      for i, h in enumerate(fdiff.hunks))
        fmap = None
        if fdiff.maps_to_c:
            series = self.series_analysis
            text = series.full_text(self.patch, fdiff) if series.full_text else None
            fmap = map_file(fdiff, self.parser, text, series.parse_cache,
                            kinds=series.node_kinds, scans=[h.post_scan() for h in hunks],
                            budget=self.budget)
            self.unmapped.extend(fmap.unmapped)
            if fmap.full_file:
                self.full_files.append(fdiff.path)
            elif text is not None and fmap.fragments:  # (else: over the budget)
                self.notes.append(f"{fdiff.path}: the tree's file does not hold this "
                                  "patch's hunks; mapped from the patch alone")
        return FileAnalysis(fdiff, hunks, fmap, position)

    def earlier(self) -> tuple[EarlierPatch, ...]:
        """The patches of the series that come before this one (those in the input)."""
        return tuple(EarlierPatch(p, i, self.series_analysis)
                     for i, p in enumerate(self.series.patches)
                     if p.index < self.patch.index)

    def layout_changes_expected(self) -> bool:
        """Whitespace changes are the patch's purpose: it changes no code, or its subject
        or commit message announces layout work."""
        if self._expected is None:
            self._expected = not any(h.changes_code() for f in self.files for h in f.hunks) \
                or announces_layout(self.patch)
        return self._expected

    def takes_code_as_is(self) -> bool:
        """The patch reverts a commit (it restores old code) or backports one to a stable
        tree (it must match upstream): it does not write the code it adds."""
        if "as_is" not in self._kept:
            msg = self.patch.commit_message
            self._kept["as_is"] = is_revert(self.patch.mail.subject.title, msg) \
                or is_backport(msg)
        return bool(self._kept["as_is"])

    def not_written(self, file: FileAnalysis) -> frozenset[int]:
        """The added lines of ``file`` (post-image numbers) that the patch does not write
        but takes over (``reviewbot.diff.provenance``): code it moves (the same lines are
        removed elsewhere in the patch), code an earlier patch of the series already added,
        and dead code under ``#if 0``. Style rules leave them alone."""
        i = file.position
        found = self._not_written.get(i)
        if found is None:
            if "removed" not in self._kept:
                self._kept["removed"] = removed_windows(self.patch.files)
            removed = cast("frozenset[tuple[str, ...]]", self._kept["removed"])
            found = disabled_lines(file.diff)
            if removed:
                found |= repeated_lines(file.diff, removed.__contains__)
            if self.position:  # the patches before it in the series
                found |= repeated_lines(file.diff,
                                        self.series_analysis.added_before(self.position))
            self._not_written[i] = found
        return found
    @property
    def knowledge(self) -> Knowledge | None:
        """The index of the tree the review runs against (None without one)."""
        return self.series_analysis.knowledge()

    def facts(self) -> PatchFacts:
        """What this patch says about the functions it touches (worked out once, and
        kept by the series for the patches after it)."""
        return self.series_analysis.facts(self.position, self)

    def view(self) -> KnowledgeView:
        """The index with the facts of this patch and the earlier ones over it."""
        if self._view is None:
            from reviewbot.knowledge.overlay import KnowledgeView

            series = self.series_analysis
            earlier = [series.facts(e.position) for e in self.earlier()]
            self._view = KnowledgeView(self.knowledge, [*earlier, self.facts()])
        return self._view

    def kept(self, key: str, build: Callable[[], T]) -> T:
        """``build()`` the first time ``key`` is asked for this patch, the same value
        after: what a check works out once per patch and uses for every file (key it by
        the check's module name)."""
        return _memo(self._kept, key, build)


class SeriesAnalysis:
    """The review of one series: what its patches share, and what later patches need
    of earlier ones."""

    def __init__(self, series: Series, parser: CParser,
                 node_kinds: Sequence[tuple[str, ...]] = (),
                 full_text: FullText | None = None,
                 knowledge: KnowledgeSource | None = None) -> None:
        self.series = series
        self.source = knowledge
        self.parser = parser
        self.node_kinds = tuple(node_kinds)  # the groups the checks look for
        self.full_text = full_text
        self.parse_cache = ParseCache(parser)  # tree mode: each file text parsed once
        self._squashed: dict[tuple[int, int], tuple[PostImage, ...]] = {}
        self._patches = {p.index: p for p in series.patches}  # by number in the series
        self._scans: dict[tuple[int, int, int], tuple[ScannedLine, ...]] = {}
        self._first_added: dict[tuple[str, ...], int] | None = None
        self._facts: dict[int, PatchFacts] = {}
        self._kept: dict[str, object] = {}

    def knowledge(self) -> Knowledge | None:
        """The index the review runs with (opened on first use, in this process)."""
        return self.source.get() if self.source is not None else None

    def facts(self, position: int, patch: PatchAnalysis | None = None) -> PatchFacts:
        """What patch ``position`` says about the functions it touches, worked out from
        ``patch`` (its analysis; a new one when not given) the first time."""
        found = self._facts.get(position)
        if found is None:
            from reviewbot.knowledge.overlay import patch_facts

            patch = patch or self.patch(position)
            found = self._facts[position] = patch_facts(
                (f.diff, f.map) for f in patch.files if f.map is not None)
        return found

    def kept(self, key: str, build: Callable[[], T]) -> T:
        """``build()`` the first time ``key`` is asked for this series, the same value
        after: what checks work out once for the whole series and share between its
        patches (key it by the module that builds it)."""
        return _memo(self._kept, key, build)

    def patch(self, position: int) -> PatchAnalysis:
        """The analysis of ``series.patches[position]`` (a new one each time)."""
        return PatchAnalysis(self, position)

    def post_scan(self, patch: int, file: int, hunk: int) -> tuple[ScannedLine, ...]:
        """``scan_post_image`` of hunk ``hunk`` of file ``file`` of patch ``patch`` (its
        number in the series), scanned once and kept for the series: the C mapping of
        its patch (``HunkAnalysis.post_scan``) and the series map (``seriesmap``, the
        post-image side of a hunk) read the same scan."""
        key = (patch, file, hunk)
        found = self._scans.get(key)
        if found is None:
            found = self._scans[key] = scan_post_image(
                self._patches[patch].files[file].hunks[hunk])
        return found

    def squashed(self, position: int, file: int) -> tuple[PostImage, ...]:
        """The hunks' post-images of file ``file`` of patch ``position``, squashed (see
        ``reviewbot.diff.layout.squash``), worked out when first asked and kept for the
        series: SER001 compares later patches' layout changes with them."""
        key = (position, file)
        found = self._squashed.get(key)
        if found is None:
            hunks = self.series.patches[position].files[file].hunks
            found = self._squashed[key] = tuple(
                (tuple(squash(ln.text) for ln in h.lines if ln.kind != "-"),
                 tuple(ln.kind == "+" for ln in h.lines if ln.kind != "-")) for h in hunks)
        return found

    def added_before(self, position: int) -> Callable[[tuple[str, ...]], bool]:
        """Whether a window of added lines (``provenance.added_windows``) was added by a
        patch of the series before ``patches[position]`` (the windows of the whole
        series are worked out once, each with the first patch that adds it)."""
        if self._first_added is None:
            self._first_added = {}
            for p in self.series.patches:
                for w in added_windows(p.files):
                    if self._first_added.get(w, p.index + 1) > p.index:
                        self._first_added[w] = p.index
        first, index = self._first_added, self.series.patches[position].index
        return lambda w: first.get(w, index) < index
