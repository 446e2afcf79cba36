"""Run a command and measure its own peak resident memory.

``os.wait4`` on a child of the test process is not enough: Linux carries the parent's
high-water RSS into a forked (or vforked) child and keeps it across ``exec``, so the
child's ``ru_maxrss`` is never below what pytest itself holds (hundreds of MB late in
the suite). A small, fresh launcher interpreter starts the command instead and reports
the ``ru_maxrss`` of *its* child, which starts from the launcher's few MB.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_LAUNCHER = """\
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


@dataclass(frozen=True)
class Measured:
    returncode: int
    peak_kib: int  # the command's own peak RSS (its waited-for children included)


def run_measured(cmd: list[str], tmp_path: Path, *, cwd: Path | None = None,
                 env: dict[str, str] | None = None,
                 stdout: IO[bytes] | int | None = None,
                 stderr: IO[bytes] | int | None = None,
                 stdin: IO[bytes] | int | None = subprocess.DEVNULL) -> Measured:
    """Run ``cmd`` to its end through the launcher; its outputs go where given."""
    result = tmp_path / f"peak-{os.getpid()}-{len(list(tmp_path.glob('peak-*')))}.txt"
    launcher = subprocess.run([sys.executable, "-c", _LAUNCHER, str(result), *cmd],
                              cwd=cwd, env=env, stdout=stdout, stderr=stderr, stdin=stdin,
                              check=False)
    assert launcher.returncode == 0 and result.exists(), "the launcher itself failed"
    code, peak = result.read_text().split()
    return Measured(int(code), int(peak))
