"""A behaviour change in a patch that says it changes no behaviour (SER004, preview).

``reviewbot.seriesmap.nfc``: a patch whose subject or commit message claims no
functional change ("NFC", "no functional change", "pure refactor", ...) and that
changes a comparison, a constant, a lock, or adds or removes a call. Only such a patch
is read as C.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.engine.check import Hit

from ..series_map import found_on, hit, series_map

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.seriesmap.nfc import NfcChange


@dataclass(frozen=True)
class Params:
    """The reviewer's words (``{detail}``: what the line changes, "changes `<` to
    `<=` in `...`", "adds a call to foo()")."""

    reply: str


def _found(patch: PatchAnalysis) -> list[NfcChange]:
    from reviewbot.seriesmap.nfc import claims_nfc, nfc_in_patch

    p = patch.patch
    if not claims_nfc(p.mail.subject.title, p.commit_message):
        return []
    pm = series_map(patch).patch(p.index)
    return nfc_in_patch(pm) if pm is not None else []


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    """Flag the lines of ``file`` that change behaviour in a patch claiming none."""
    found = found_on(patch, file, __name__, lambda: _found(patch))
    if not found:
        return []
    smap = series_map(patch)
    return [hit(smap, c.site, {"message": c.message(), "detail": c.detail},
                {"reply": params.reply}) for c in found]
