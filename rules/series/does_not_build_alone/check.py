"""A patch of a series that does not build on its own (SER002).

The series map's ``build_breaks`` (``reviewbot.seriesmap.bisect``): a use of a function,
macro, type, struct member or enumerator that only a later patch of the series adds
(reported on the added line that uses it), or a removal or rename of a definition that
an unchanged user still needs until a later patch changes that user (reported on the
removed definition, naming the user). The breaks are worked out once per series.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.engine.check import Hit
from reviewbot.seriesmap.gates import may_break, reviewed

from ..series_map import hit, on_file, series_map, total

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.seriesmap.bisect import BuildBreak


@dataclass(frozen=True)
class Params:
    """The reviewer's words: ``used_reply`` for a use of what a later patch adds
    (``{symbol}``, ``{patch}``: that patch, ``{total}``), ``removed_reply`` for a
    removal whose user a later patch changes (``{what}``: "removes foo()" or "renames
    foo() to bar()", ``{user}``: file:line of the user, ``{it}``: "it", or "them" for
    several symbols), ``removed_here_reply`` for one whose user this patch shows
    unchanged."""

    used_reply: str
    removed_reply: str
    removed_here_reply: str


def _breaks(patch: PatchAnalysis) -> list[BuildBreak]:
    if not may_break(reviewed(patch.series)):
        return []  # nothing imported, nothing read
    from reviewbot.seriesmap.bisect import build_breaks

    smap = series_map(patch)
    return patch.series_analysis.kept("reviewbot.rules.series.does_not_build_alone",
                                      lambda: build_breaks(smap))


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    """Flag the lines of ``file`` where the patch stops the series from building."""
    found = [b for b in _breaks(patch) if on_file(b.site, patch, file)]
    if not found:
        return []
    smap = series_map(patch)
    n = total(patch)
    out = []
    for b in found:
        name = b.symbol.spelled()
        if b.also:
            name += " (and " + ", ".join(x.spelled() for x in b.also) + ")"
        what = (f"renames {name} to {b.renamed_to.spelled()}" if b.renamed_to
                else f"removes {name}")
        values = {"message": b.message(n), "symbol": name, "total": str(n),
                  "patch": str(b.until or ""), "what": what,
                  "user": f"{b.evidence.file}:{b.evidence.number}",
                  "it": "them" if b.also else "it"}
        if b.kind == "used-before-added":
            reply = params.used_reply
        elif b.until is not None:
            reply = params.removed_reply
        else:
            reply = params.removed_here_reply
        out.append(hit(smap, b.site, values, {"reply": reply}))
    return out
