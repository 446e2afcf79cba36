#!/usr/bin/env python3
"""Time and peak memory of ``reviewbot check`` on hostile shapes of patch (issue 20).

    python benchmarks/hostile.py [--reviewbot BIN] [--timeout S] [--only NAME ...]

Each input is built by ``tests/shapes.py`` into a temporary directory (nothing huge is
stored) and reviewed by one whole process (``check --no-tree -j 1 --format json``),
timed with ``os.wait4`` for its CPU time and peak RSS. A run still going after
``--timeout`` seconds (default 60) is killed and shown as ``> TIMEOUT``; each run's
address space is capped (``--memory``, default 4 GiB: a run past it fails with its
allocation error, shown in the last column). The target:
every case under 10 s and 1 GB, or one line at an input limit (exit 2). Run it with
``--reviewbot`` of an install of main for the "before" column of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import shapes  # noqa: E402

CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "dense-30mb": ("30 MB of `;` (7,500 lines of 4,000)",
                   lambda: shapes.dense_tokens(7_500, 4_000)),
    "dense-4mb": ("1,000 lines of 4,000 `;`", lambda: shapes.dense_tokens(1_000, 4_000)),
    "locks-20k": ("20,000 nested `spin_lock` lines (10,000 regions)",
                  lambda: shapes.many_locks(10_000)),
    "lock-seq-10k": ("10,000 lock regions one after the other",
                     lambda: shapes.many_locks(10_000, nested=False)),
    "hunks-30k": ("30,000 one-line hunks", lambda: shapes.many_hunks(30_000)),
    "rewrite-8k": ("one hunk rewriting 4,000 lines (half `}`) into 4,000 others",
                   lambda: shapes.rewritten_block(4_000)),
    "deep-3k": ("blocks nested 3,000 deep", lambda: shapes.deep_nesting(3_000)),
    "cc-32k": ("a Cc of 32,000 addresses", lambda: shapes.huge_cc(32_000)),
}


def _limit(memory: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return apply


def run(argv: list[str], timeout: float, memory: int, stdout: IO[bytes] | int | None = None
        ) -> tuple[float, float, int, int | None, str]:
    """Run ``argv`` with its address space capped at ``memory`` bytes, killed after
    ``timeout`` seconds: (wall s, CPU s, its own peak RSS in KiB from ``os.wait4``,
    exit status or None when killed at the timeout, its standard error). Standard
    output goes to ``stdout`` (a binary file; by default nowhere)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL if stdout is None else stdout,
                                stderr=err, start_new_session=True, preexec_fn=_limit(memory))
        deadline = start + timeout
        status: int | None = None
        while True:
            pid, raw, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(raw)
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                _, raw, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
        proc.returncode = -9 if status is None else status  # (reaped by wait4)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, status, text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reviewbot", default=shutil.which("reviewbot") or "reviewbot")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--memory", type=float, default=4.0,
                    help="address-space cap of each run, GiB (default 4)")
    ap.add_argument("--only", nargs="*", choices=sorted(CASES))
    args = ap.parse_args()
    print("| input | size | wall | CPU | peak RSS | exit | last stderr line |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory(prefix="reviewbot-hostile-") as tmp:
        for name, (what, make) in CASES.items():
            if args.only and name not in args.only:
                continue
            path = Path(tmp) / f"{name}.patch"
            path.write_bytes(make())
            size = path.stat().st_size
            wall, cpu, rss, status, err = run(
                [args.reviewbot, "check", "--no-tree", "-j", "1", "--format", "json",
                 str(path)], args.timeout, int(args.memory * (1 << 30)))
            path.unlink()
            lines = err.strip().splitlines()
            last = lines[-1] if lines else ""
            shown = f"> {args.timeout:.0f} s (killed)" if status is None else f"{wall:.2f} s"
            print(f"| {what} | {size / 1e6:.1f} MB | {shown} | {cpu:.2f} s | "
                  f"{rss / 1024:.0f} MiB | {status if status is not None else '-'} | "
                  f"{last[:80]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
