#!/usr/bin/env python3
"""What the revision review adds to a local run: ``check`` with it and with ``--no-revisions``.

    python benchmarks/revisions_cost.py [--runs N] [--mbox MBOX] [--json FILE]

The budget (issue 19): for a local mbox, comparing each series with its previous
revision adds at most 50 % to the run time. Whole processes (``python -m reviewbot
check --no-tree -j 1``), the two commands run alternately, each figure the median of
``--runs`` runs (CPU time: user + system of the child, less disturbed by other load
than wall time; both are printed). Inputs:

- the traffic mbox (``../shared/corpus/traffic/linux-block-2025-10.mbox``: list traffic,
  some series with an earlier revision in it), ``--format json``;
- the multi-revision part of it: only the threads of the series compared and of their
  earlier revisions (every series here has a vN-1 to compare with);
- the fixture series ``fixtures/revisions/`` (widget v1 and v2), ``--format text``: a
  start-up-bound run.

Prints one line per input and ``met``/``MISSED``; exits 1 when an input misses.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import run_once  # noqa: E402  (benchmarks/run.py, next to this script)

DEFAULT_MBOX = ROOT.parent / "shared" / "corpus" / "traffic" / "linux-block-2025-10.mbox"
BUDGET = 0.5  # added run time, as a share of the run without the revision review


def multi_revision_part(mbox: Path, out: Path) -> int:
    """Write the threads of the series of ``mbox`` that have an earlier revision in it,
    and of those revisions, to ``out``; the number of series compared."""
    from reviewbot.fetch.local import read_source, split_mbox
    from reviewbot.findings import Review, SeriesReview
    from reviewbot.pipeline import parse_messages
    from reviewbot.report.mbox import mbox_entry
    from reviewbot.revisions.lookup import Lookup, attach
    from reviewbot.series.build import build_series

    raw = list(read_source(str(mbox), 1 << 30))
    mails = parse_messages(raw)
    review = attach(Review(tuple(SeriesReview(s, ()) for s in build_series(mails))),
                    mails, Lookup())
    roots: set[str] = set()
    compared = 0
    for sr in review.series:
        if sr.since is None or sr.since.review is None:
            continue
        compared += 1
        for s in (sr.series, sr.since.review.previous):
            for m in ([s.cover] if s.cover else []) + [p.mail for p in s.patches]:
                roots.add(m.thread_root or m.msgid)
    keep = [r.data for r, m in zip(raw, mails, strict=True)
            if (m.thread_root or m.msgid) in roots]
    out.write_bytes(b"".join(mbox_entry(d) for d in keep))
    assert len(split_mbox(out.read_bytes(), "mbox")) == len(keep)
    return compared


def measure(source: Path, fmt: str, runs: int) -> dict[str, float]:
    """Medians of alternating runs with and without the revision review."""
    base = [sys.executable, "-m", "reviewbot", "check", "--no-tree", "-j", "1",
            "--format", fmt, "--fail-on", "never", str(source)]
    env = dict(os.environ)
    run_once(base, ROOT, env)  # warm-up: byte code, page cache
    on: list[tuple[float, float, int]] = []
    off: list[tuple[float, float, int]] = []
    for _ in range(runs):
        on.append(run_once(base, ROOT, env, ok=(0,)))
        off.append(run_once([*base, "--no-revisions"], ROOT, env, ok=(0,)))
    med: dict[str, float] = {}
    for kind, samples in (("on", on), ("off", off)):
        med[f"{kind}_wall"] = statistics.median(s[0] for s in samples)
        med[f"{kind}_cpu"] = statistics.median(s[1] for s in samples)
    med["added_cpu"] = med["on_cpu"] / med["off_cpu"] - 1
    med["added_wall"] = med["on_wall"] / med["off_wall"] - 1
    return med


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    ap.add_argument("--mbox", type=Path, default=DEFAULT_MBOX)
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="reviewbot-revisions-") as tmp:
        work = Path(tmp)
        widget = work / "widget-v1-v2.mbox"
        widget.write_bytes(b"".join((ROOT / "fixtures" / "revisions" / name).read_bytes()
                                    for name in ("widget-v1.mbox", "widget-v2.mbox")))
        inputs: list[tuple[str, Path, str]] = []
        if args.mbox.is_file():
            part = work / "multi-revision.mbox"
            n = multi_revision_part(args.mbox, part)
            inputs += [(f"{args.mbox.name}", args.mbox, "json"),
                       (f"its {n} series with vN-1, and vN-1", part, "json")]
        else:
            print(f"{args.mbox}: missing, only the fixture is measured", file=sys.stderr)
        inputs.append(("fixtures/revisions (widget v1 + v2)", widget, "text"))
        print(f"revision review on vs --no-revisions: median of {args.runs} runs, load "
              f"average {os.getloadavg()[0]:.2f}, budget +{BUDGET:.0%}")
        missed = False
        for name, path, fmt in inputs:
            med = measure(path, fmt, args.runs)
            results[name] = med
            ok = med["added_cpu"] <= BUDGET
            missed |= not ok
            print(f"  {name[:44]:<44} cpu {med['on_cpu']:6.2f} s vs {med['off_cpu']:6.2f} s "
                  f"({med['added_cpu']:+.0%}), wall {med['on_wall']:6.2f} s vs "
                  f"{med['off_wall']:6.2f} s ({med['added_wall']:+.0%}): "
                  f"{'met' if ok else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
