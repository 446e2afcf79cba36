"""What an index costs ``check``: the four-patch hvo series reviewed without and with
the knowledge index of a kernel tree (issue 17's budget: at most 50 ms more).

    reviewbot index ~/linux-source-6.12
    python benchmarks/index_check_cost.py --tree ~/linux-source-6.12 [--runs 15]

Each measurement is a whole ``reviewbot check`` process (interpreter start included),
the two commands alternated run by run so that the machine's load hits both alike;
the medians of wall and CPU time (user + system of the process, less sensitive to a
shared machine's load) and their differences are printed, with the default rules and with
``--preview`` (the rules that use the index, CON003 and CON004, are preview). With an
unpacked tree that is not a git checkout ``--tree`` gives the index and nothing else,
so the difference is the index's cost alone: opening it, the one line that names it,
and the lookups the checks make.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _time(cmd: list[str]) -> tuple[float, float]:
    """(wall, CPU: user + system) seconds of one run of ``cmd``."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    default = os.environ.get("REVIEWBOT_CORPUS") or str(REPO.parent / "shared" / "corpus")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", required=True, type=Path, help="a kernel tree with an index")
    ap.add_argument("--corpus", default=default, type=Path)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    mbox = args.corpus / "hvo-v4-subset.mbox"
    if not mbox.is_file():
        print(f"no {mbox}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    from reviewbot.knowledge.source import KnowledgeSource

    source = KnowledgeSource.find(args.tree)
    if source is None:
        print(f"{args.tree} has no index: run 'reviewbot index {args.tree}'", file=sys.stderr)
        return 2
    print(f"load average {os.getloadavg()[0]:.2f}; using the {source.describe()}")
    base = [sys.executable, "-m", "reviewbot", "check", str(mbox), "--fail-on", "never",
            "--no-revisions"]
    for label, extra in (("default rules", []), ("--preview", ["--preview"])):
        without = [*base, *extra, "--no-tree"]
        with_ = [*base, *extra, "--tree", str(args.tree)]
        _time(without), _time(with_)  # warm-up: byte code, page cache
        a: list[tuple[float, float]] = []
        b: list[tuple[float, float]] = []
        for _ in range(args.runs):
            a.append(_time(without))
            b.append(_time(with_))
        for i, what in ((0, "wall"), (1, "CPU")):
            ma = statistics.median(x[i] for x in a)
            mb = statistics.median(x[i] for x in b)
            print(f"hvo-v4 series, {label}, {what}: without an index {ma * 1000:.0f} ms, "
                  f"with {mb * 1000:.0f} ms: {(mb - ma) * 1000:+.0f} ms "
                  f"(median of {args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
