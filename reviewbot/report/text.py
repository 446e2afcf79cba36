"""The terminal report: a header per series, then findings grouped per patch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.findings import Review, SeriesReview
from reviewbot.printable import printable

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_RESET = "\033[0m"


@dataclass(frozen=True)
class Provenance:
    """Where the reviewed messages came from, for the series headers."""

    origin: str  # a file, "standard input", a server URL, a git range
    messages: int  # how many messages the input (the fetched thread) held
    detail: str = ""  # e.g. "cached copy of 2026-01-22 07:00"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def ranges(numbers: Sequence[int]) -> str:
    """``1-4, 7, 10-14``."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def series_header(sr: SeriesReview, source: Provenance | None) -> str:
    """``series: SUBJECT (revision, cover, patches; where from)``. An input of one
    message (a patch reviewed on its own, as the sendemail-validate hook does) does not
    list the patches it lacks: that it holds one patch is what was asked for."""
    s = sr.series
    single = source is not None and source.messages == 1
    title = s.cover.subject.raw if s.cover else (s.patches[0].subject if s.patches else s.id)
    parts = [f"v{s.version}"]
    if s.other_versions:
        parts[0] += f" (other revisions: {', '.join(f'v{v}' for v in s.other_versions)})"
    if single:
        if not s.patches:
            parts.append("the cover letter alone")
        else:
            parts.append(f"patch {s.patches[0].index}/{s.total}" if s.total > 1
                         else "1 patch")
    else:
        if s.total > 1:
            parts.append("cover letter" if s.cover else "no cover letter")
        parts.append(f"{len(s.patches)}/{s.total} patches" if s.total > 1 else "1 patch")
        if s.missing:
            parts.append(f"missing {ranges(s.missing)}")
    where = ""
    if source is not None:
        where = f"; from {source.origin}, {_plural(source.messages, 'message')}"
        if source.detail:
            where += f", {source.detail}"
    return f"series: {title} ({', '.join(parts)}{where})"


def render_text(review: Review, colour: bool = False, source: Provenance | None = None,
                verbose: bool = False, index: str = "") -> str:
    """The report; lines not mapped to C are listed with ``verbose``, else counted.
    ``index``: the knowledge index the checks used (one line first), if any."""
    lines: list[str] = [printable(f"using the {index}")] if index else []
    unmapped = 0
    for sr in review.series:
        lines.append(printable(series_header(sr, source)))
        lines.extend(printable(f"note: {n}") for n in sr.notes)
        for pr in sr.patches:
            p = pr.patch
            header = printable(p.label)
            if p.skipped:
                lines.append(f"{header}\n  skipped: {printable(p.skipped)}")
                continue
            unmapped += len(pr.unmapped)
            shown = pr.unmapped if verbose else ()
            if not pr.findings and not shown and not pr.notes:
                continue
            lines.append(header)
            lines.extend(printable(f"  note: {n}") for n in pr.notes)
            for f in pr.findings:
                sev: str = f.severity
                if colour:
                    sev = f"{_COLOURS.get(sev, '')}{sev}{_RESET}"
                where = f" (in {f.function}())" if f.function else ""
                lines.append(printable(f"  {f.file}:{f.line}: {f.rule} ") + sev
                             + printable(f": {f.message}{where}"))
            for u in shown:
                lines.append(printable(f"  {u.file}:{u.line}: note: not mapped to C: "
                                       f"{u.reason}"))
        if sr.since is not None:
            from reviewbot.report.since import since_lines

            lines.extend(printable(ln) for ln in since_lines(sr))
    total = len(review.findings)
    npatches = sum(len(s.patches) for s in review.series)
    summary = f"{_plural(total, 'finding')} in {npatches} patch{'es' if npatches != 1 else ''}"
    if unmapped:
        summary += (f"; {_plural(unmapped, 'line')} not mapped to C"
                    + ("" if verbose else " (--verbose lists them)"))
    lines.append(summary)
    return "\n".join(lines) + "\n"
