"""The terminal report: findings grouped per patch, one line each."""

from __future__ import annotations

from reviewbot.findings import Review
from reviewbot.printable import printable

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_RESET = "\033[0m"


def render_text(review: Review, colour: bool = False) -> str:
    lines: list[str] = []
    for sr in review.series:
        s = sr.series
        if s.missing:
            lines.append(printable(f"series v{s.version} <{s.id}>: missing patches: ")
                         + ", ".join(str(i) for i in s.missing))
        lines.extend(printable(f"note: {n}") for n in sr.notes)
        for pr in sr.patches:
            p = pr.patch
            header = printable(p.label)
            if p.skipped:
                lines.append(f"{header}\n  skipped: {printable(p.skipped)}")
                continue
            if not pr.findings and not pr.unmapped and not pr.notes:
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
            for u in pr.unmapped:
                lines.append(printable(f"  {u.file}:{u.line}: note: not mapped to C: {u.reason}"))
    total = len(review.findings)
    npatches = sum(len(s.patches) for s in review.series)
    lines.append(f"{total} finding{'s' if total != 1 else ''} in {npatches} "
                 f"patch{'es' if npatches != 1 else ''}")
    return "\n".join(lines) + "\n"
