"""Symbols per patch: what each patch defines, removes, renames and uses, from its diff.

C files (``.c``, ``.h``) are read hunk by hunk on both sides (``cdefs``, ``cuses``);
Kconfig files give ``config`` definitions and expression uses, Makefiles their
``CONFIG_`` uses. Other files (documentation, Rust, scripts) give nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial

from reviewbot.cmap.scan import ScannedLine
from reviewbot.diff.model import FileDiff, Hunk, Line
from reviewbot.series.model import Patch
from reviewbot.seriesmap.cdefs import SideMap, read_side, side_lines
from reviewbot.seriesmap.changes import Change, change_groups
from reviewbot.seriesmap.cuses import declared_names, side_uses
from reviewbot.seriesmap.kconfig import (
    is_kconfig,
    is_makefile,
    kconfig_definitions,
    kconfig_uses,
    make_uses,
)
from reviewbot.seriesmap.lexer import CodeLine, Token, code_lines
from reviewbot.seriesmap.model import Definition, DefinitionSets, PatchSymbols, Rename, Use


@dataclass(frozen=True)
class HunkMap:
    """One hunk of a patch, both sides read as C (``old``/``new`` are None for files
    that are not C), and its change groups."""

    file: str  # the path the hunk is reported on (new path; old for a deleted file)
    old_path: str | None  # the file's path before the patch (None: a new file)
    position: int  # 0-based index of the hunk in its file
    hunk: Hunk
    old: SideMap | None
    new: SideMap | None
    changes: tuple[Change, ...] = ()
    # the hunk's lines as read with their side, by line (a hunk's lines differ: each has
    # its own line of the patch email)
    _code: dict[Line, CodeLine] = field(default_factory=dict, repr=False, compare=False)

    def code(self, lines: Sequence[Line]) -> list[CodeLine]:
        """``lines`` of the hunk as C: as read with the rest of their side (a comment
        opened above covers them), or read on their own for a file that is not C."""
        if self._code:
            found = [self._code.get(ln) for ln in lines]
            if all(cl is not None for cl in found):
                return found  # type: ignore[return-value]
        return list(code_lines([ln.text for ln in lines]))

    def tokens(self, lines: Sequence[Line]) -> list[Token]:
        return [t for cl in self.code(lines) for t in cl.tokens]


def _hunk_map(path: str, old_path: str | None, position: int, hunk: Hunk,
              old: SideMap | None, new: SideMap | None) -> HunkMap:
    code: dict[Line, CodeLine] = {}
    for side in (old, new):
        if side is not None:
            code.update(zip(side.lines, side.code, strict=True))
    return HunkMap(path, old_path, position, hunk, old, new, tuple(change_groups(hunk)),
                   code)


Uses = tuple[tuple[Use, ...], tuple[Use, ...], tuple[Use, ...]]  # added, removed, context
# A C hunk's post-image read by ``read_side``, from whoever keeps it, by the hunk's place:
# (patch number, file position in the patch, hunk position in the file)
NewSide = Callable[[int, int, int], SideMap]
Wanted = Callable[[], "frozenset[str] | None"]
# A hunk's post-image scan (``cmap.scan.scan_post_image``), from whoever keeps it, by the
# hunk's place, as for ``NewSide``
Scans = Callable[[int, int, int], Sequence[ScannedLine]]


@dataclass(frozen=True)
class PatchMap(DefinitionSets):
    """A patch, its hunks read as C, its definitions, and its symbols.

    The definitions (``added``, ``removed``, ``kept``) are read with the hunks; the
    names declared as locals, parameters or members (``declared``) and the uses
    (``symbols``) only when first asked for, and only of the names the series map
    wants (``SeriesMap.wanted``: a use of any other name decides nothing; none at all
    when it wants none). ``added_uses`` reads the uses of a few names on their own.
    """

    patch: Patch
    hunks: tuple[HunkMap, ...]
    added: tuple[Definition, ...]
    removed: tuple[Definition, ...]
    kept: tuple[Definition, ...]
    read_declared: Callable[[], frozenset[tuple[str, str]]] = field(repr=False,
                                                                     compare=False)
    read_uses: Callable[[frozenset[str] | None], Uses] = field(repr=False, compare=False)
    wanted: Wanted = field(default=lambda: None, repr=False, compare=False)

    @property
    def index(self) -> int:
        return self.patch.index

    @cached_property
    def declared(self) -> frozenset[tuple[str, str]]:
        """(file, name) of every name declared as a local, parameter or member in the
        patch's post-image (a use of such a name is not a use of a global of it)."""
        return self.read_declared()

    @cached_property
    def renames(self) -> tuple[Rename, ...]:
        return _renames(list(self.removed), list(self.added))

    def added_uses(self, names: frozenset[str]) -> tuple[Use, ...]:
        """The uses of ``names`` on the patch's added lines: from ``symbols`` when it has
        been read (its names include every name the series defines), else read for
        these names alone (a check about a few names reads no other patch)."""
        if "symbols" in self.__dict__:
            wanted = self.wanted()
            if wanted is None or names <= wanted:
                return tuple(u for u in self.symbols.uses if u.symbol.name in names)
        return self.read_uses(names)[0]

    @cached_property
    def symbols(self) -> PatchSymbols:
        """Everything the patch does to symbols, its uses included (read now)."""
        names = self.wanted()
        uses, removed_uses, context_uses = self.read_uses(names) \
            if names is None or names else ((), (), ())
        return PatchSymbols(self.index, self.added, self.removed, self.kept, uses,
                            removed_uses, context_uses, self.renames, self.declared)


def read_new_side(n: int, path: str, hunk: Hunk,
                  scan: Sequence[ScannedLine] | None = None) -> SideMap:
    """The post-image (context and added lines) of a hunk of patch ``n``'s C file
    ``path``, read as C (``scan``: its post-image scan, when the review has it)."""
    return read_side(n, path, side_lines(hunk.lines, "new"), hunk.section, scan)


def is_c(path: str) -> bool:
    return path.endswith((".c", ".h"))


def _renames(removed: list[Definition], added: list[Definition]) -> tuple[Rename, ...]:
    """Removed and added definitions of one kind and shape under other names: the shape
    (the header's tokens without the name) must have more than a keyword in it."""
    gone = {d.symbol.key for d in removed}
    back = {d.symbol.key for d in added}
    new = [d for d in added if d.symbol.key not in gone and not d.declaration]
    out: list[Rename] = []
    used: set[int] = set()
    for old in removed:
        if old.symbol.key in back or old.declaration or len(old.shape) < 2:
            continue
        same = [d for d in new if id(d) not in used and d.symbol.kind == old.symbol.kind
                and d.symbol.scope == old.symbol.scope and d.shape == old.shape]
        if len(same) > 1:
            same = [d for d in same if d.site.file == old.site.file]
        if len(same) == 1:
            used.add(id(same[0]))
            out.append(Rename(old, same[0]))
    return tuple(out)


def map_patch(patch: Patch, wanted: Wanted | None = None, scans: Scans | None = None,
              new_side: NewSide | None = None) -> PatchMap:
    """Read every hunk of ``patch`` and its definitions; its uses are read when first
    asked for (``PatchMap.symbols``), of the names ``wanted()`` gives (None: all).
    ``scans`` gives a hunk's post-image scan when the review has it (else it is made);
    ``new_side`` a C hunk's post-image as read already (``SeriesMap.new_side``)."""
    n = patch.index
    hunks: list[HunkMap] = []
    added: list[Definition] = []
    removed: list[Definition] = []
    kept: list[Definition] = []
    readers: list[Callable[[frozenset[str] | None], list[Use]]] = []
    c_files: list[_CFile] = []
    for f, fdiff in enumerate(patch.files):
        if fdiff.is_binary:
            continue
        path = fdiff.path
        if is_c(path):
            c_file = _CFile(n, f, fdiff, hunks, added, removed, kept, scans, new_side)
            c_files.append(c_file)
            readers.append(c_file.uses)
            continue
        for pos, hunk in enumerate(fdiff.hunks):
            hunks.append(_hunk_map(path, fdiff.old_path, pos, hunk, None, None))
            if is_kconfig(path):
                for d in kconfig_definitions(n, path, hunk.lines):
                    {"+": added, "-": removed, " ": kept}[d.site.line.kind].append(d)
                readers.append(partial(_other_uses, kconfig_uses, n, path, hunk.lines))
            elif is_makefile(path):
                readers.append(partial(_other_uses, make_uses, n, path, hunk.lines))

    def read_uses(names: frozenset[str] | None) -> Uses:
        found = [u for read in readers for u in read(names)]
        return (tuple(u for u in found if u.site.line.kind == "+"),
                tuple(u for u in found if u.site.line.kind == "-"),
                tuple(u for u in found if u.site.line.kind == " "))

    return PatchMap(patch, tuple(hunks), tuple(added), tuple(removed), tuple(kept),
                    lambda: frozenset(d for f in c_files for d in f.declared()), read_uses,
                    wanted or (lambda: None))


def _other_uses(read: Callable[[int, str, Sequence[Line]], list[Use]], n: int, path: str,
                lines: Sequence[Line], names: frozenset[str] | None) -> list[Use]:
    return [u for u in read(n, path, lines) if names is None or u.symbol.name in names]


class _CFile:
    """One C file of a patch: its hunks and definitions read at once, the declared
    names and the uses when first asked for."""

    def __init__(self, n: int, f: int, fdiff: FileDiff, hunks: list[HunkMap],
                 added: list[Definition], removed: list[Definition],
                 kept: list[Definition], scans: Scans | None = None,
                 new_side: NewSide | None = None) -> None:
        self.n, self.path = n, fdiff.path
        self.sides: list[tuple[Hunk, SideMap, SideMap]] = []
        for h, hunk in enumerate(fdiff.hunks):
            old = read_side(n, self.path, side_lines(hunk.lines, "old"), hunk.section)
            new = new_side(n, f, h) if new_side is not None else read_new_side(
                n, self.path, hunk, scans(n, f, h) if scans is not None else None)
            self.sides.append((hunk, old, new))
        for pos, (hunk, old, new) in enumerate(self.sides):
            hunks.append(_hunk_map(self.path, fdiff.old_path, pos, hunk, old, new))
            for d in new.definitions:
                (added if d.site.line.kind == "+" else kept).append(d)
            removed.extend(d for d in old.definitions if d.site.line.kind == "-")
        self._types: tuple[dict[str, str], dict[str, str]] | None = None

    def types(self) -> tuple[dict[str, str], dict[str, str]]:
        """The names the file's hunks declare, with their struct type, per side (new,
        old)."""
        if self._types is None:
            new_types: dict[str, str] = {}
            old_types: dict[str, str] = {}
            for _, old, new in self.sides:
                for types, side in ((new_types, new), (old_types, old)):
                    for name, type_ in declared_names(side).items():
                        types[name] = type_ if types.get(name, type_) == type_ else ""
            self._types = new_types, old_types
        return self._types

    def declared(self) -> list[tuple[str, str]]:
        return [(self.path, name) for name in self.types()[0]]

    def uses(self, names: frozenset[str] | None) -> list[Use]:
        new_types, old_types = self.types()
        out: list[Use] = []
        for _, old, new in self.sides:
            out += side_uses(new, "+ ", self.n, self.path, new_types, names)
            out += side_uses(old, "-", self.n, self.path, old_types, names)
        return out
