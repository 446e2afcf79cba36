"""The precision each rule measured on judged list traffic: ``rules/measured.toml``.

The file is generated from the judged files (``benchmarks/judged/<traffic>.json``, which
hold one verdict per finding reviewbot reports on that traffic today; the real-traffic
test checks that) and shipped with the rules, so that ``reviewbot explain ID`` and
``reviewbot rules --format markdown`` (the README's table) show what was measured, in an
install that has neither the traffic nor the judged data. Regenerate it with
``python -m reviewbot.evaluate.measured benchmarks/judged/linux-block-2025-10.json``;
tests/test_traffic_eval.py fails when it differs from what the judged data says.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from reviewbot.evaluate.judged import load_judged

FILE = "measured.toml"
# Fewer findings than this on the traffic: the precision is shown, but it says little
# (one wrong finding in fewer than 10 already drops a rule under 90 %).
ENOUGH = 10


class Measure(NamedTuple):
    traffic: str
    findings: int
    tp: int
    debatable: int
    fp: int

    @property
    def precision(self) -> float | None:
        judged = self.tp + self.fp
        return self.tp / judged if judged else None


def generate(paths: Sequence[str | Path]) -> str:
    """The text of ``measured.toml`` for the judged files ``paths`` (one traffic each)."""
    out = ["# Generated from the judged list traffic by `python -m reviewbot.evaluate.measured",
           "# benchmarks/judged/<traffic>.json`: do not edit by hand (docs/precision.md).", ""]
    for path in paths:
        traffic = json.loads(Path(path).read_text()).get("traffic", Path(path).stem)
        counts: dict[str, list[int]] = {}
        for j in load_judged(path):
            c = counts.setdefault(j.rule, [0, 0, 0])
            c[("TP", "DEBATABLE", "FP").index(j.verdict)] += 1
        for rule in sorted(counts):
            tp, deb, fp = counts[rule]
            out += [f'[rules.{rule}."{traffic}"]', f"findings = {tp + deb + fp}",
                    f"tp = {tp}", f"debatable = {deb}", f"fp = {fp}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def load(rules_dir: Path) -> dict[str, list[Measure]]:
    """The measures per rule id ({} when the file is missing or unreadable)."""
    try:
        data = tomllib.loads((rules_dir / FILE).read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    out: dict[str, list[Measure]] = {}
    for rule, per in data.get("rules", {}).items():
        for traffic, m in per.items():
            out.setdefault(rule, []).append(Measure(
                traffic, int(m.get("findings", 0)), int(m.get("tp", 0)),
                int(m.get("debatable", 0)), int(m.get("fp", 0))))
    return out


def short(measures: Sequence[Measure] | None) -> str:
    """For a table cell: ``100 % (3/3)``, ``100 % (1/1), 139 debatable``, or ``no
    findings``."""
    if not measures:
        return "no findings"
    parts = []
    for m in measures:
        p = m.precision
        text = "-" if p is None else f"{p * 100:.0f} %"
        few = "" if m.findings >= ENOUGH else ", few"
        debatable = f", {m.debatable} debatable" if m.debatable else ""
        parts.append(f"{text} ({m.tp}/{m.tp + m.fp}{few}){debatable}")
    return "; ".join(parts)


def describe(measures: Sequence[Measure] | None, traffic: str) -> str:
    """For ``explain``: what the rule measured on each judged traffic."""
    if not measures:
        return (f"No findings on the judged list traffic ({traffic}): its precision "
                "there is not measured.")
    out = []
    for m in measures:
        p = m.precision
        share = "-" if p is None else f"{p * 100:.1f} %"
        note = "" if m.findings >= ENOUGH else (
            f" Fewer than {ENOUGH} findings: too few to tell much.")
        out.append(f"On {m.traffic}: {m.findings} findings, {m.tp} right, {m.debatable} "
                   f"debatable, {m.fp} wrong: precision {share}.{note}")
    return " ".join(out)


def main(argv: Sequence[str]) -> int:
    """Write ``rules/measured.toml`` for the judged files given."""
    from reviewbot.ruleset import rules_dir

    if not argv:
        sys.stderr.write("usage: python -m reviewbot.evaluate.measured JUDGED.json...\n")
        return 2
    (rules_dir() / FILE).write_text(generate(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
