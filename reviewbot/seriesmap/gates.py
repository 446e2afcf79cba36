"""Whether an analysis can find anything in a series, from its diffs alone.

The series rules ask these before they import or read anything of the series map, so a
series in which a break or a misplaced change cannot happen costs nothing: a use before
the patch that adds it needs a later patch, a removal in use needs a removed line of a C
file, and a change that belongs in another patch needs another patch of the series in
the input.
"""

from __future__ import annotations

from collections.abc import Sequence

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
