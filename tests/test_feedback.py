"""What ``check`` tells a person on a terminal (stderr a real pty): what it reads or
fetches, how many series it reviews, a bar on long work; and that nothing of it reaches
a pipe or a ``--quiet`` run. The report on stdout is the same in every case."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.fault_server import THREAD_MSGID, FaultServer, fault_server

__all__ = ["fault_server"]

BIN = Path(sys.executable).parent


def terminal_run(args: list[str], tmp_path: Path, tty: bool = True
                 ) -> tuple[int, str, str]:
    """Run reviewbot with stderr on a pty (what a terminal shows) or a pipe; stdout goes
    to a file, as in ``reviewbot check ... > report.txt``."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "TERM": "xterm"}
    out_path = tmp_path / "stdout.txt"
    with out_path.open("wb") as out:
        if not tty:
            proc = subprocess.run([str(BIN / "reviewbot"), *args], stdin=subprocess.DEVNULL,
                                  stdout=out, stderr=subprocess.PIPE, env=env, cwd=ROOT,
                                  timeout=300, check=False)
            return proc.returncode, out_path.read_text(), proc.stderr.decode()
        master, slave = pty.openpty()
        proc2 = subprocess.Popen([str(BIN / "reviewbot"), *args], stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=slave, env=env, cwd=ROOT)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed the pty
                break
            if not data:
                break
            chunks.append(data)
        os.close(master)
        code = proc2.wait(timeout=300)
    shown = b"".join(chunks).decode().replace("\r\n", "\n")  # the pty's ONLCR
    return code, out_path.read_text(), shown


@pytest.fixture(scope="module")
def big_mbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 synthetic patches: a few seconds of work, long enough for the bar."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import synth
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    path = tmp_path_factory.mktemp("big") / "traffic.mbox"
    path.write_text(synth.mbox(600), encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_long_review_shows_context_and_a_bar(big_mbox: Path, tmp_path: Path,
                                             jobs: str) -> None:
    code, report, shown = terminal_run(["check", "--no-tree", "-j", jobs, str(big_mbox)],
                                       tmp_path)
    assert code == 1
    lines = shown.split("\n")
    assert lines[0] == f"reviewbot: reading {big_mbox}"
    assert lines[1].startswith("reviewbot: reviewing ") and lines[1].endswith(
        " series (600 patches)")
    bar = lines[2]
    assert "\rreviewing [" in bar and " diff lines" in bar
    draws = [d for d in bar.split("\r") if d.startswith("reviewing [")]
    done = [int(d.split("] ")[1].split("/")[0]) for d in draws]
    total = int(draws[0].split("/")[1].split(" ")[0])
    assert done == sorted(done) and done[-1] == total  # it moves forward, and ends full
    assert bar.endswith("\r\033[K") and len(lines) == 3  # erased: the terminal is clean
    # the report is the one a pipe gets, and the pipe gets no feedback at all
    code2, piped_report, err = terminal_run(["check", "--no-tree", "-j", jobs,
                                             str(big_mbox)], tmp_path, tty=False)
    assert (code2, piped_report, err) == (code, report, "")
    assert report.startswith("series: ")


def test_quiet_shows_nothing_on_a_terminal(big_mbox: Path, tmp_path: Path) -> None:
    code, report, shown = terminal_run(["check", "--no-tree", "--quiet", str(big_mbox)],
                                       tmp_path)
    assert code == 1 and shown == "" and report.endswith("in 600 patches\n")


def test_short_review_says_what_it_does_without_a_bar(tmp_path: Path) -> None:
    frob = FIXTURES / "series" / "frob-v2.mbox"
    code, report, shown = terminal_run(["check", "-q", str(frob)], tmp_path)
    assert shown == "" and code == 1
    code, report, shown = terminal_run(["check", str(frob)], tmp_path)
    assert code == 1 and report.startswith("series: [PATCH v2 0/3] frob: small fixes")
    assert shown == (f"reviewbot: reading {frob}\n"
                     "reviewbot: reviewing 1 series (3 patches)\n")


def test_fetch_says_which_thread_from_which_server(fault_server: FaultServer,
                                                    tmp_path: Path) -> None:
    url = fault_server.mode_url("ok")
    args = ["check", "--lore-url", url, THREAD_MSGID]
    code, report, shown = terminal_run(args, tmp_path)
    assert shown.split("\n")[:2] == [
        f"reviewbot: fetching the thread of <{THREAD_MSGID}> from {url} ...",
        "reviewbot: reviewing 1 series (2 patches)"], shown
    assert report.startswith("series: ") and f"; from {url}, " in report.split("\n")[0]
    code, again, shown = terminal_run(args, tmp_path)  # now in the cache
    assert code == 1
    assert shown.split("\n")[0] == (f"reviewbot: reading the thread of <{THREAD_MSGID}> "
                                    f"from the cache (fetched from {url})")
    assert "cached copy of " in again.split("\n")[0]
    _, _, shown = terminal_run([*args, "--quiet"], tmp_path)
    assert shown == ""
