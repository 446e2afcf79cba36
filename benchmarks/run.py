#!/usr/bin/env python3
"""Benchmark reviewbot against the kernel's checkpatch.pl, on one machine, in one run.

    python benchmarks/run.py [--corpus DIR] [--kernel-tree PATH] [--checkpatch PATH]
                             [--runs N] [--patches N] [--sample N] [--json FILE]

Every figure is the median of several runs of a whole process (interpreter start
included), timed with os.wait4 so each child's own CPU time and peak memory
(``ru_maxrss``) are known too. Inputs: the review corpus (``../shared/corpus``), a large
synthetic mbox and three big synthetic patches (``benchmarks/synth.py``, seeded, written
to a temporary directory). checkpatch.pl comes from ``--checkpatch``, from
``--kernel-tree``, or is extracted once from Debian's linux-source tarball into
``$XDG_CACHE_HOME/reviewbot/bench`` (never into the repository). See README.md,
"Benchmarks".
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402  (benchmarks/synth.py, next to this script)

TARGET_SERIES_S = 0.3
TARGET_SPEEDUP = 10.0
TARGET_PATCHES_PER_S = 200.0
TARGET_50K_S = 5.0
FLOOR = "reviewbot check, a 3-line patch (its floor)"
CHECKPATCH_FILES = ("scripts/checkpatch.pl", "scripts/spelling.txt",
                    "scripts/const_structs.checkpatch",
                    # read only with --verbose, but it is what checkpatch looks for
                    "Documentation/dev-tools/checkpatch.rst")


class BenchError(Exception):
    """Something the benchmark needs is missing or a tool failed: one line, exit 2."""


@dataclass
class Timing:
    """Medians over ``runs`` runs of one command."""

    wall: float  # seconds
    cpu: float  # user + system seconds of the child
    rss_kb: int  # largest peak resident set size over the runs
    runs: int
    walls: list[float] = field(default_factory=list)


def run_once(cmd: Sequence[str], cwd: Path | None, env: dict[str, str],
             ok: Sequence[int] = (0, 1)) -> tuple[float, float, int]:
    """(wall, cpu, maxrss KiB) of one run of ``cmd``; stdout is discarded."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, cwd=cwd, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in ok:
            err.seek(0)
            msg = err.read().decode("utf-8", "replace").strip().splitlines()
            raise BenchError(f"{' '.join(cmd)[:120]} exited {proc.returncode}: "
                             f"{msg[-1] if msg else 'no message'}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def measure(cmd: Sequence[str], runs: int, cwd: Path | None, env: dict[str, str],
            ok: Sequence[int] = (0, 1)) -> Timing:
    samples = [run_once(cmd, cwd, env, ok) for _ in range(runs)]
    walls = [s[0] for s in samples]
    return Timing(statistics.median(walls), statistics.median(s[1] for s in samples),
                  max(s[2] for s in samples), runs, walls)


# ---------------------------------------------------------------------------- tools

@dataclass
class Tools:
    reviewbot: list[str]
    reviewbot_env: dict[str, str]
    python: str  # the interpreter that runs reviewbot (start-up row, watch)
    checkpatch: list[str] | None
    checkpatch_cwd: Path
    checkpatch_env: dict[str, str]
    checkpatch_origin: str
    tree: Path | None  # kernel tree for reviewbot's tree mode (None: n/a)
    tree_note: str


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reviewbot" / "bench"


def extract_checkpatch(tarball: Path, dest_root: Path) -> Path:
    """checkpatch.pl and the files it reads, from a linux-source tarball, cached."""
    name = tarball.name.split(".tar")[0]
    dest = dest_root / name
    script = dest / "scripts" / "checkpatch.pl"
    if script.is_file():
        return script
    dest_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest_root))
    try:
        members = [f"{name}/{f}" for f in CHECKPATCH_FILES]
        print(f"extracting checkpatch.pl from {tarball} into {dest} (once) ...",
              file=sys.stderr)
        if shutil.which("tar"):
            proc = subprocess.run(["tar", "-xf", str(tarball), "-C", str(tmp), *members],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise BenchError(f"tar could not extract checkpatch from {tarball}: "
                                 f"{proc.stderr.strip().splitlines()[-1:]}")
        else:
            import tarfile

            with tarfile.open(tarball) as tar:
                for member in members:
                    tar.extract(member, tmp, filter="data")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp / name, dest)  # whole tree appears at once
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return script


def find_checkpatch(args: argparse.Namespace) -> tuple[Path | None, str]:
    if args.checkpatch:
        path = Path(args.checkpatch)
        if not path.is_file():
            raise BenchError(f"--checkpatch {path}: no such file")
        return path, str(path)
    if args.kernel_tree:
        path = Path(args.kernel_tree) / "scripts" / "checkpatch.pl"
        if not path.is_file():
            raise BenchError(f"--kernel-tree {args.kernel_tree}: no scripts/checkpatch.pl")
        return path, str(path)
    tarballs = sorted(glob.glob("/usr/src/linux-source-*.tar.xz"))
    if not tarballs:
        return None, "no checkpatch: install linux-source-6.1 or pass --checkpatch PATH"
    tarball = Path(tarballs[-1])
    return extract_checkpatch(tarball, cache_dir()), f"{tarball.name} (cached)"


def reviewbot_tools(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    # As on a user's machine: byte code is cached after the first run (a session
    # environment with PYTHONDONTWRITEBYTECODE would recompile every module every run).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("NO_COLOR", "1")
    if args.reviewbot:
        return args.reviewbot.split(), env
    probe = subprocess.run([sys.executable, "-c", "import reviewbot"], capture_output=True,
                           env=env)
    if probe.returncode != 0:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO),
                                                          env.get("PYTHONPATH")]))
    return [sys.executable, "-m", "reviewbot"], env


def interpreter(cmd: Sequence[str]) -> str:
    """The Python that runs the reviewbot command ``cmd``: PY of ``PY -m reviewbot``, or
    the interpreter of a console script's ``#!`` line; else this one."""
    if len(cmd) >= 3 and list(cmd[1:3]) == ["-m", "reviewbot"]:
        return cmd[0]
    script = shutil.which(cmd[0]) if cmd else None
    line = b""
    if script:
        try:
            with open(script, "rb") as f:
                line = f.readline(1024)
        except OSError:
            pass
    words = line[2:].decode("utf-8", "replace").split() if line.startswith(b"#!") else []
    if words and Path(words[0]).name == "env" and len(words) > 1:
        words = [shutil.which(words[1]) or ""]
    if words and words[0] and Path(words[0]).name.startswith("python"):
        return words[0]
    return sys.executable


def make_tools(args: argparse.Namespace, work: Path) -> Tools:
    rb, rb_env = reviewbot_tools(args)
    cp_cwd = work / "checkpatch-cwd"  # no .git, no .checkpatch.conf: plain --no-tree
    cp_cwd.mkdir()
    cp_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cp_cwd),
              "LC_ALL": "C.UTF-8"}
    checkpatch: list[str] | None = None
    origin = "skipped (--no-checkpatch)"
    if not args.no_checkpatch:
        script, origin = find_checkpatch(args)
        if script is not None:
            if shutil.which("perl") is None:
                raise BenchError("perl is needed to run checkpatch.pl")
            checkpatch = ["perl", str(script), "--no-tree", "--terse"]
    tree: Path | None = None
    note = "n/a (no --kernel-tree)"
    if args.kernel_tree:
        helptext = subprocess.run([*rb, "check", "--help"], capture_output=True, text=True,
                                  env=rb_env).stdout
        if "--tree" in helptext:
            tree = Path(args.kernel_tree)
            note = f"--tree {tree}"
        else:
            note = "n/a (this reviewbot has no --tree option)"
    return Tools(rb, rb_env, interpreter(rb), checkpatch, cp_cwd, cp_env, origin, tree,
                 note)


# ---------------------------------------------------------------------------- sections

@dataclass
class Row:
    name: str
    patches: int
    rb: Timing
    tree: Timing | None = None
    cp: Timing | None = None

    @property
    def ratio(self) -> float | None:
        """reviewbot / checkpatch, wall time (lower is better)."""
        return self.rb.wall / self.cp.wall if self.cp else None


class Bench:
    def __init__(self, args: argparse.Namespace, tools: Tools, work: Path) -> None:
        self.args = args
        self.tools = tools
        self.work = work
        self.results: dict[str, object] = {}

    def rb(self, source: Path, runs: int, tree: bool = False,
           extra: Sequence[str] = ()) -> Timing:
        cmd = [*self.tools.reviewbot, "check", str(source), "--fail-on", "never", *extra]
        if tree:
            assert self.tools.tree is not None
            cmd += ["--tree", str(self.tools.tree)]
        run_once(cmd, None, self.tools.reviewbot_env)  # warm-up: byte code, page cache
        return measure(cmd, runs, None, self.tools.reviewbot_env)

    def cp(self, files: Sequence[Path], runs: int) -> Timing | None:
        if self.tools.checkpatch is None:
            return None
        cmd = [*self.tools.checkpatch, *map(str, files)]
        return measure(cmd, runs, self.tools.checkpatch_cwd, self.tools.checkpatch_env)

    def row(self, name: str, source: Path, files: Sequence[Path], patches: int,
            runs: int) -> Row:
        tree = self.rb(source, runs, tree=True) if self.tools.tree else None
        return Row(name, patches, self.rb(source, runs), tree, self.cp(files, runs))

    def corpus(self) -> list[Row]:
        corpus = Path(self.args.corpus)
        mbox = corpus / "hvo-v4-subset.mbox"
        patches = sorted(corpus.glob("*.patch"))
        if not mbox.is_file() or not patches:
            raise BenchError(f"{corpus}: no corpus here (hvo-v4-subset.mbox, *.patch); "
                             "pass --corpus DIR")
        runs = self.args.runs
        rows = [self.row("hvo-v4-subset.mbox (series)", mbox, [mbox], 4, runs)]
        rows += [self.row(p.name, p, [p], 1, runs) for p in patches]
        batch = self.work / "corpus-patches"
        batch.mkdir()
        for p in patches:
            (batch / p.name).symlink_to(p)
        rows.append(self.row(f"all {len(patches)} corpus patches, one process", batch,
                             sorted(batch.iterdir()), len(patches), runs))
        return rows

    def startup(self) -> list[tuple[str, Timing]]:
        runs = self.args.runs
        out = [("python -c pass (reviewbot's interpreter)",
                measure([self.tools.python, "-c", "pass"], runs, None,
                        self.tools.reviewbot_env, ok=(0,)))]
        out.append(("reviewbot --version",
                    measure([*self.tools.reviewbot, "--version"], runs, None,
                            self.tools.reviewbot_env, ok=(0,))))
        tiny = self.work / "tiny.patch"  # a 3-line new C file: start-up plus a first patch
        tiny.write_text(synth.big_patch(3), encoding="utf-8")
        out.append((FLOOR, self.rb(tiny, runs)))
        if self.tools.checkpatch is not None:
            empty = self.work / "empty.patch"
            empty.write_text("", encoding="utf-8")
            out.append(("checkpatch.pl on an empty file",
                        measure([*self.tools.checkpatch, str(empty)], runs,
                                self.tools.checkpatch_cwd, self.tools.checkpatch_env)))
        return out

    def throughput(self) -> tuple[Row, Row, Row | None, int]:
        n = self.args.patches
        path = self.work / f"synthetic-{n}.mbox"
        msgs = list(synth.messages(n))
        path.write_text("\n".join(msgs), encoding="utf-8")
        runs = max(1, min(self.args.runs, 3))
        big = Row(f"synthetic mbox, {n} patches ({path.stat().st_size >> 20} MiB)", n,
                  self.rb(path, runs))
        # the same in one process: what one CPU does (the default forks one per CPU)
        single = Row(f"{big.name}, -j 1", n, self.rb(path, runs, extra=("-j", "1")))
        sample: Row | None = None
        k = self.args.sample
        if k > 0:
            patch_msgs = [m for m in msgs if not synth.is_cover(m)][:k]
            sdir = self.work / "sample"
            sdir.mkdir()
            files = []
            for i, m in enumerate(patch_msgs):
                f = sdir / f"{i:04d}.patch"
                f.write_text(m.split("\n", 1)[1], encoding="utf-8")  # no "From " line
                files.append(f)
            smbox = self.work / "sample.mbox"
            smbox.write_text("\n".join(patch_msgs), encoding="utf-8")
            sample = self.row(f"synthetic sample, {len(files)} patches", smbox, files,
                              len(files), runs)
        return big, single, sample, len(msgs)

    def growth(self) -> list[Row]:
        rows = []
        runs = max(1, min(self.args.runs, 3))
        for n in (1_000, 10_000, 50_000):
            path = self.work / f"big-{n}.patch"
            path.write_text(synth.big_patch(n), encoding="utf-8")
            # checkpatch needs ~4 s per 1k lines: only the smallest, unless asked
            cp = self.cp([path], runs) if n == 1_000 or self.args.growth_checkpatch else None
            tree = self.rb(path, runs, tree=True) if self.tools.tree else None
            rows.append(Row(f"one patch, {n // 1000}k added lines", 1, self.rb(path, runs),
                            tree, cp))
        return rows

    def watch(self) -> dict[str, object] | str:
        """benchmarks/watch_throughput.py, run by reviewbot's own interpreter."""
        cmd = [self.tools.python, str(HERE / "watch_throughput.py"),
               str(self.args.watch_messages)]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env=self.tools.reviewbot_env, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            return f"error: {lines[-1] if lines else f'exit status {proc.returncode}'}"
        try:
            data: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return "error: watch_throughput.py printed no JSON"
        return data


# ---------------------------------------------------------------------------- output

def ms(t: Timing | None) -> str:
    return f"{t.wall * 1000:8.0f}" if t else "     n/a"


def cpu_ms(t: Timing | None) -> str:
    return f"{t.cpu * 1000:7.0f}" if t else "    n/a"


def print_rows(title: str, rows: Sequence[Row], tree_note: str) -> None:
    print(f"\n{title}")
    head = (f"  {'input':<46} {'reviewbot':>8} {'cpu':>7} {'tree':>8} {'checkpatch':>10} "
            f"{'rb/cp':>6} {'faster':>7}")
    print(head)
    print(f"  {'':<46} {'wall ms':>8} {'ms':>7} {'wall ms':>8} {'wall ms':>10}")
    for r in rows:
        ratio = f"{r.ratio:6.3f}" if r.ratio is not None else "   n/a"
        faster = f"{1 / r.ratio:6.1f}x" if r.ratio else "    n/a"
        print(f"  {r.name[:46]:<46} {ms(r.rb)} {cpu_ms(r.rb)} {ms(r.tree)} {ms(r.cp):>10} "
              f"{ratio} {faster}")
    if any(r.tree is None for r in rows):
        print(f"  tree: {tree_note}")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main(argv: Sequence[str] | None = None) -> int:
    default_corpus = os.environ.get("REVIEWBOT_CORPUS") or str(REPO.parent / "shared" / "corpus")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--corpus", default=default_corpus,
                    help="the review corpus (default: ../shared/corpus from the repo, or "
                         "$REVIEWBOT_CORPUS)")
    ap.add_argument("--kernel-tree", metavar="PATH",
                    help="a kernel tree: its scripts/checkpatch.pl, and reviewbot's tree "
                         "mode (--tree) when this reviewbot has it")
    ap.add_argument("--checkpatch", metavar="PATH", help="checkpatch.pl to run")
    ap.add_argument("--no-checkpatch", action="store_true", help="skip checkpatch.pl")
    ap.add_argument("--reviewbot", metavar="CMD",
                    help="command that runs reviewbot (default: this python -m reviewbot)")
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement (median; "
                    "at most 3 for the synthetic inputs; default 5)")
    ap.add_argument("--patches", type=int, default=2000,
                    help="patches in the synthetic mbox (default 2000)")
    ap.add_argument("--sample", type=int, default=200,
                    help="synthetic patches also run through checkpatch, in one process "
                         "each (default 200; checkpatch needs about 40 ms a patch)")
    ap.add_argument("--growth-checkpatch", action="store_true",
                    help="run checkpatch on the 10k and 50k line patches too (minutes)")
    ap.add_argument("--watch-messages", type=int, default=500,
                    help="backlog size for the watch throughput (default 500)")
    ap.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.patches < 1:
        ap.error("--runs and --patches must be at least 1")
    try:
        return _run(args)
    except BenchError as exc:
        print(f"run.py: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="reviewbot-bench-") as tmp:
        work = Path(tmp)
        tools = make_tools(args, work)
        bench = Bench(args, tools, work)
        print(f"reviewbot benchmarks: {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.2f}, python {sys.version.split()[0]}, "
              f"median of {args.runs} runs (synthetic inputs: "
              f"{max(1, min(args.runs, 3))})")
        print(f"reviewbot: {' '.join(tools.reviewbot)}; checkpatch: "
              f"{' '.join(tools.checkpatch[2:]) if tools.checkpatch else 'n/a'} from "
              f"{tools.checkpatch_origin}")

        startup = bench.startup()
        print("\nStart-up (nothing to review)")
        for name, t in startup:
            print(f"  {name:<46} {ms(t)} ms wall {cpu_ms(t)} ms cpu")

        corpus = bench.corpus()
        print_rows("Corpus: whole process per input", corpus, tools.tree_note)

        big, single, sample, n_msgs = bench.throughput()
        pps = big.patches / big.rb.wall
        print(f"\nThroughput: {big.name}, {n_msgs} messages with the cover letters")
        for label, r in (("default -j", big), ("-j 1", single)):
            print(f"  reviewbot {label:<10} {r.rb.wall:.2f} s wall, {r.rb.cpu:.2f} s cpu: "
                  f"{r.patches / r.rb.wall:.0f} patches/s wall, "
                  f"{r.patches / r.rb.cpu:.0f} patches/s cpu; "
                  f"peak memory {r.rb.rss_kb / 1024:.0f} MiB")
        if sample is not None:
            print_rows("Same synthetic patches through both tools", [sample], tools.tree_note)
            if sample.cp:
                print(f"  checkpatch: {sample.patches / sample.cp.wall:.1f} patches/s, "
                      f"reviewbot: {sample.patches / sample.rb.wall:.0f} patches/s")

        growth = bench.growth()
        print_rows("Growth with patch size", growth, tools.tree_note)
        base = growth[0].rb.wall
        per_k = [r.rb.wall / k for r, k in zip(growth, (1, 10, 50), strict=True)]
        print("  reviewbot ms per 1k lines: " + ", ".join(f"{x * 1000:.0f}" for x in per_k)
              + f"; 50k/1k time ratio {growth[2].rb.wall / base:.1f} for 50x the lines")

        watch = bench.watch()
        print("\nwatch throughput (benchmarks/watch_throughput.py)")
        if isinstance(watch, dict):
            for k, v in watch.items():
                print(f"  {k}: {v}")
        else:
            print(f"  {watch}")

        series = corpus[0]
        same = [r for r in (series, corpus[-1], sample) if r is not None and r.cp]
        print("\nTargets")
        print(f"  four-patch series under {TARGET_SERIES_S} s: {series.rb.wall:.3f} s "
              f"-> {verdict(series.rb.wall < TARGET_SERIES_S)}")
        floor = dict(startup)[FLOOR].wall
        for r in same:
            assert r.cp is not None
            speed = r.cp.wall / r.rb.wall
            why = "" if speed >= TARGET_SPEEDUP else (
                f" (10x allows {r.cp.wall / TARGET_SPEEDUP * 1000:.0f} ms for the whole "
                f"process; reviewbot's floor is {floor * 1000:.0f} ms)")
            print(f"  >= {TARGET_SPEEDUP:.0f}x faster than checkpatch ({r.name}): "
                  f"{speed:.1f}x -> {verdict(speed >= TARGET_SPEEDUP)}{why}")
        print(f"  >= {TARGET_PATCHES_PER_S:.0f} patches/s in batch: {pps:.0f} -> "
              f"{verdict(pps >= TARGET_PATCHES_PER_S)}")
        print(f"  50k added lines under {TARGET_50K_S} s: {growth[2].rb.wall:.2f} s -> "
              f"{verdict(growth[2].rb.wall < TARGET_50K_S)}")

        if args.json:
            data = {"startup": {n: asdict(t) for n, t in startup},
                    "corpus": [asdict(r) for r in corpus],
                    "throughput": {**asdict(big), "patches_per_s": pps,
                                   "messages": n_msgs},
                    "throughput_one_process": {
                        **asdict(single), "patches_per_s": single.patches / single.rb.wall},
                    "sample": asdict(sample) if sample else None,
                    "growth": [asdict(r) for r in growth],
                    "watch": watch, "checkpatch": tools.checkpatch_origin,
                    "load": os.getloadavg()[0]}
            Path(args.json).write_text(json.dumps(data, indent=2, default=str) + "\n",
                                       encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
