"""Reviewed-by, Acked-by and Tested-by across revisions.

- *carried*: a trailer of a vN patch that vN-1 already had (in the patch, or given on
  the list for it), on a patch that changed substantially since (see
  ``match.SUBSTANTIAL_*``): maintainers ask for such trailers to be dropped;
- *missing*: a trailer given on the list for a vN-1 patch (in any reply below the patch,
  or below the cover letter for the whole series) that the vN patch lacks although it
  did not change substantially.

Two trailers are the same when their kind and address agree (or, without an address,
their name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.revisions.model import PatchDelta, TrailerIssue
from reviewbot.revisions.pool import MailPool, identity
from reviewbot.revisions.quoting import GIVEN_LINE, canonical_kind, given_trailers, parse_person
from reviewbot.series.model import Patch, Person, Series


@dataclass(frozen=True)
class Trailer:
    kind: str  # "Reviewed-by", "Acked-by", "Tested-by"
    person: Person
    msgid: str | None  # the reply that gave it; None: in the patch itself

    @property
    def text(self) -> str:
        return f"{self.kind}: {self.person.formatted()}"

    def same(self, other: Trailer) -> bool:
        if self.kind != other.kind:
            return False
        if self.person.email and other.person.email:
            return self.person.email.lower() == other.person.email.lower()
        return bool(self.person.name) and self.person.name.lower() == other.person.name.lower()


def in_patch(patch: Patch) -> list[Trailer]:
    """The review trailers in a patch's commit message."""
    out = []
    for line in patch.commit_message.split("\n"):
        m = GIVEN_LINE.match(line)
        if m:
            person = parse_person(m.group(2))
            if person is not None:
                out.append(Trailer(canonical_kind(m.group(1)), person, None))
    return out


def on_list(previous: Series, pool: MailPool,
            before: float | None = None) -> dict[int, list[Trailer]]:
    """vN-1 patch number -> the trailers given for it in replies (the cover's: to all),
    by others than the author, before ``before`` (when vN was posted)."""
    author = _author(previous)

    def given(msgid: str) -> list[Trailer]:
        out: list[Trailer] = []
        for mail in pool.below(msgid):
            if identity(mail.author) & author:
                continue
            if before is not None and mail.timestamp is not None and mail.timestamp > before:
                continue
            out.extend(Trailer(kind, person, mail.msgid)
                       for kind, person in given_trailers(mail.body))
        return out

    series_wide = given(previous.cover.msgid) if previous.cover is not None else []
    return {p.index: [*given(p.msgid), *series_wide] for p in previous.patches}


def _author(series: Series) -> set[str]:
    return {key for mail in ([series.cover] if series.cover else [])
            + [p.mail for p in series.patches] for key in identity(mail.author)}


def check_trailers(deltas: Sequence[PatchDelta], previous: Series, current: Series,
                   given: dict[int, list[Trailer]]) -> list[TrailerIssue]:
    old_by = {p.index: p for p in previous.patches}
    new_by = {p.index: p for p in current.patches}
    v_old = f"v{previous.version}"
    out: list[TrailerIssue] = []
    for d in deltas:
        if d.kind not in ("unchanged", "changed") or d.old is None or d.new is None:
            continue
        old, new = old_by[d.old], new_by[d.new]
        before = in_patch(old) + given.get(d.old, [])
        now = in_patch(new)
        if d.substantial:
            for t in now:
                if any(t.same(b) for b in before):
                    out.append(TrailerIssue(
                        "carried", t.text, d.new, d.old, None,
                        f"carried from {v_old}, but the patch changed substantially: "
                        f"{d.lines_differ} of {d.lines} changed lines differ, the code is "
                        f"{round(d.alike * 100)}% the same"))
            continue
        own = in_patch(old)
        if own and not any(t.same(n) for t in own for n in now):
            continue  # every trailer vN-1 had is gone: the author reset them on purpose
        seen: list[Trailer] = []
        for t in given.get(d.old, []):
            if any(t.same(s) for s in seen):
                continue
            seen.append(t)
            if not any(t.same(n) for n in now):
                change = "unchanged" if d.kind == "unchanged" else (
                    f"changed little: {d.lines_differ} of {d.lines} changed lines differ, the "
                    f"code is {round(d.alike * 100)}% the same")
                out.append(TrailerIssue("missing", t.text, d.new, d.old, t.msgid,
                                        f"given on the list for {v_old}, not in the patch "
                                        f"although it is {change}"))
    return out
