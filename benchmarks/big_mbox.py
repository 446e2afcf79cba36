"""Peak memory and time of ``reviewbot check`` on a large mbox of real-sized patches.

    python benchmarks/big_mbox.py [--mib 256] [--jobs N] [--format text]
                                  [--reviewbot CMD ...]

The mbox is generated (``benchmarks/synth.py``: series of 1-12 patches with cover
letters, about 2.8 KB a patch, seeded) into a temporary directory, never stored, then
each ``--reviewbot`` command (default: this interpreter's ``-m reviewbot``; give two to
compare a before and an after) reviews it once, timed with ``os.wait4`` for the child's
peak resident memory (``ru_maxrss``: the largest of the process and the ``-j`` workers
it forked and waited for). The issue's target: a 256 MiB mbox
under 500 MB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import synth  # noqa: E402


def write_mbox(path: Path, mib: int) -> tuple[int, int]:
    """An mbox of just under ``mib`` MiB (within the default input limit); (bytes,
    patches)."""
    want = mib << 20
    size = patches = 0
    with path.open("wb") as out:
        for text in synth.messages(10**9, seed=3):
            data = text.encode() + b"\n"
            if size + len(data) > want:
                break
            out.write(data)
            size += len(data)
            patches += not synth.is_cover(text)
    return size, patches


def run(cmd: list[str], mbox: Path, jobs: int, fmt: str) -> dict[str, float]:
    """One review of ``mbox``: wall seconds, CPU seconds, peak RSS (MiB)."""
    argv = [*cmd, "check", "--no-tree", "-j", str(jobs), "--format", fmt, str(mbox)]
    env = {**os.environ, "XDG_CACHE_HOME": tempfile.mkdtemp(prefix="rb-bench-")}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace").strip()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {err[-500:]}")
    return {"wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_mib": round(usage.ru_maxrss / 1024)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--mib", type=int, default=256, help="size of the mbox (default 256)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="check -j (default: the CPUs)")
    ap.add_argument("--format", default="text", help="check --format (default text)")
    ap.add_argument("--reviewbot", action="append", metavar="CMD",
                    help="command that runs reviewbot (repeatable; default: "
                         f"{sys.executable} -m reviewbot)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    commands = [shlex.split(c) for c in args.reviewbot or []] or [
        [sys.executable, "-m", "reviewbot"]]
    with tempfile.TemporaryDirectory(prefix="reviewbot-big-") as tmp:
        mbox = Path(tmp) / "big.mbox"
        size, patches = write_mbox(mbox, args.mib)
        print(f"{mbox.name}: {size / (1 << 20):.0f} MiB, {patches} patches, "
              f"-j {args.jobs}, --format {args.format}")
        rows = []
        for cmd in commands:
            figures = run(cmd, mbox, args.jobs, args.format)
            rows.append({"reviewbot": " ".join(cmd), **figures})
            print(f"  {' '.join(cmd)}: {figures['wall_s']} s wall, {figures['cpu_s']} s "
                  f"cpu, peak {figures['peak_mib']} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps({"mib": args.mib, "patches": patches,
                                               "jobs": args.jobs, "runs": rows}, indent=2)
                                   + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
