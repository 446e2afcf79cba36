"""Whether an analysis can find anything in a series, from its diffs alone.

The series rules ask these before they import or read anything of the series map, so a
series in which a break or a misplaced change cannot happen costs nothing: a use before
the patch that adds it needs a later patch, a removal in use needs a removed line of a C
file, and a change that belongs in another patch needs another patch of the series in
the input. A use before the patch that adds it also needs a name that a later patch's
added lines may define on an earlier patch's added lines (``may_use_before_added``),
and a removal in use a removed line that may define something
(``may_remove_definition``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from reviewbot.diff.model import Hunk, Line
from reviewbot.series.model import Patch, Series


def reviewed(series: Series) -> tuple[Patch, ...]:
    """The patches of the series that are reviewed (not skipped), in order."""
    return tuple(p for p in series.patches if not p.skipped)


def removes_c(patch: Patch) -> bool:
    """The patch removes a line of a C file (the only way to remove a definition a user
    needs: a Kconfig symbol removed breaks no build)."""
    return any(ln.kind == "-" for f in patch.files if f.is_c and not f.is_binary
               for h in f.hunks for ln in h.lines)


def may_break(patches: Sequence[Patch]) -> bool:
    """A patch of these may not build on its own: there are two of them, or one removes
    a line of a C file."""
    return len(patches) > 1 or any(removes_c(p) for p in patches)


def has_others(patches: Sequence[Patch], patch: Patch) -> bool:
    """Another reviewed patch of the series is in the input besides ``patch``."""
    return any(p.index != patch.index for p in patches)


_NAME = re.compile(r"[A-Za-z_]\w*")


def _defining_lines(section: str, lines: Sequence[Line], kind: str) -> list[str]:
    """The added (``kind`` "+") or removed ("-") lines of one hunk of a C file that may
    hold a definition, as the reader of definitions (``cdefs``) finds them on that
    side: outside a body, a declaration starts at a column-0 line, and inside one only
    a struct, union or enum body (known from a column-0 line of the side or from git's
    heading) defines anything; a ``#define`` defines anywhere. Without a column-0 line
    or a type in the heading, only the lines that say ``define`` can."""
    from reviewbot.seriesmap.cdefs import heading_type

    other = "-" if kind == "+" else "+"
    changed = [ln.text for ln in lines if ln.kind == kind]
    if changed and (heading_type(section) is not None or any(
            ln.kind != other and ln.text[:1] not in (" ", "\t", "") for ln in lines)):
        return changed
    return [t for t in changed if "define" in t]


def _c_hunks(patch: Patch) -> Iterator[Hunk]:
    return (h for f in patch.files if f.is_c and not f.is_binary for h in f.hunks)


def may_remove_definition(patch: Patch) -> bool:
    """A removed line of ``patch`` may hold a definition (see ``_defining_lines``)."""
    return any(_defining_lines(h.section, h.lines, "-") for h in _c_hunks(patch))


def added_names(patch: Patch) -> set[str]:
    """Every name on an added line of a C file of ``patch`` (a use there is one of
    them)."""
    return set(_NAME.findall("\n".join(ln.text for h in _c_hunks(patch) for ln in h.lines
                                       if ln.kind == "+")))


def may_use_before_added(patches: Sequence[Patch]) -> bool:
    """A patch of these may use a name that only a later one adds: a name that an added
    line of a later patch may define (see ``_defining_lines``; never a keyword, which
    names nothing) appears on an added line of an earlier patch. One regex per hunk:
    most series, whose later patches define nothing their earlier ones mention, are
    not read as C for it."""
    from reviewbot.seriesmap.cdefs import NOT_NAMES

    mentioned: set[str] = set()
    for p in patches:
        defined: set[str] = set()
        for h in _c_hunks(p):
            defined.update(_NAME.findall("\n".join(_defining_lines(h.section, h.lines,
                                                                   "+"))))
        if not mentioned.isdisjoint(defined - NOT_NAMES):
            return True
        mentioned.update(added_names(p))
    return False
