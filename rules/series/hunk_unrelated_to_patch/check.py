"""A hunk unrelated to the rest of its patch (SER003, preview).

``reviewbot.seriesmap.unrelated``: in a patch with two or more hunks of existing kernel
C files, a hunk inside a function that nothing ties to the rest of the patch (no shared
function, type or distinctive name, not named by the commit message). Only the patch
under review is read as C, and only when it has the hunks to judge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.engine.check import Hit

from ..series_map import found_on, hit, series_map

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.seriesmap.unrelated import Unrelated


@dataclass(frozen=True)
class Params:
    """The reviewer's words: ``area_reply`` for a hunk in another subsystem
    (``{owner}``: the function it changes, ``{areas}``: the rest of the patch's
    directories), ``function_reply`` for one in a function the rest does not touch."""

    area_reply: str
    function_reply: str


def _found(patch: PatchAnalysis) -> list[Unrelated]:
    from reviewbot.seriesmap.unrelated import may_have_unrelated, unrelated_in_patch

    if not may_have_unrelated(patch.patch):
        return []
    pm = series_map(patch).patch(patch.patch.index)
    return unrelated_in_patch(pm) if pm is not None else []


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    """Flag the first changed line of each unrelated hunk of ``file``."""
    found = found_on(patch, file, __name__, lambda: _found(patch))
    if not found:
        return []
    smap = series_map(patch)
    out = []
    for u in found:
        values = {"message": u.message(), "owner": u.owner or "this part of the file",
                  "areas": ", ".join(f"{a}/" for a in u.areas)}
        reply = params.area_reply if u.kind == "other-area" else params.function_reply
        out.append(hit(smap, u.site, values, {"reply": reply}))
    return out
