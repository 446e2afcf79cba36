"""checkpatch-style terse lines, for ``b4 prep --check`` / ``b4 am --check``.

One line per finding, ``FILE:LINE: LEVEL:RULE: message`` (checkpatch's ``--terse
--showfile --show-types`` shape). b4 treats a line holding ``ERROR:`` as a failure and
any other line as a warning; no output (and exit 0) is a pass, so nothing else is
printed: no summary, no notes. On several patches (b4 gives one at a time; a series
from the command line), each patch's lines come after its name between two dashed lines,
as checkpatch prints the name of each of several files (a patch without findings prints
nothing, so an empty output is still a pass).
"""

from __future__ import annotations

from reviewbot.findings import Finding, Review
from reviewbot.printable import printable

LEVELS = {"error": "ERROR", "warning": "WARNING", "info": "CHECK"}


def checkpatch_line(f: Finding) -> str:
    where = f" (in {f.function}())" if f.function else ""
    message = " ".join(f"{f.message}{where}".split())
    return printable(f"{f.file}:{f.line}: {LEVELS[f.severity]}:{f.rule}: {message}")


def render_checkpatch(review: Review) -> str:
    patches = [pr for sr in review.series for pr in sr.patches]
    lines: list[str] = []
    for pr in patches:
        if len(patches) > 1 and pr.findings:
            name = printable(f'"{pr.patch.label}"')  # checkpatch's name of a patch (stdin)
            lines += ["-" * len(name), name, "-" * len(name)]
        lines.extend(checkpatch_line(f) for f in pr.findings)
    return "".join(f"{line}\n" for line in lines)
