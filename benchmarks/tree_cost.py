#!/usr/bin/env python3
"""Measure tree mode on a kernel-sized tree: a 14-patch mm series, both ways in.

    .venv/bin/python benchmarks/tree_cost.py [--kernel DIR] [--runs N]

DIR (default ~/.cache/reviewbot/linux-6.1) is a git repository of a kernel tree; when
missing it is made from Debian's /usr/src/linux-source-6.1.tar.xz (about a minute, 1.5 GB,
never inside the reviewbot repository). The series is committed in a shared clone
(``git clone --shared``: the kernel repository does not get its objects), then reviewed

- as an mbox in the kernel repository: the series is applied in a temporary index;
- with ``--git HEAD~14..`` in the clone: the tree has every post-image blob;
- with ``--no-tree``, for comparison.

Wall-clock times are for the whole ``reviewbot check`` command (start-up included).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")
BIN = Path(sys.executable).parent
# (files) each patch touches, shaped like an mm series (hugetlb vmemmap, page flags, ...)
SERIES = [
    ["include/linux/page-flags.h", "mm/util.c"],
    ["include/linux/mmzone.h"],
    ["mm/hugetlb_vmemmap.c"],
    ["mm/hugetlb_vmemmap.c", "mm/sparse-vmemmap.c"],
    ["include/linux/mm.h", "mm/page_alloc.c"],
    ["mm/hugetlb.c"],
    ["mm/hugetlb_vmemmap.c", "include/linux/mmzone.h", "mm/sparse-vmemmap.c"],
    ["mm/hugetlb_vmemmap.c"],
    ["mm/hugetlb.c", "mm/hugetlb_vmemmap.c"],
    ["mm/internal.h", "mm/page_alloc.c"],
    ["mm/memory.c"],
    ["include/linux/page-flags.h"],
    ["mm/hugetlb.c", "mm/sparse.c"],
    ["Documentation/mm/vmemmap_dedup.rst", "mm/hugetlb_vmemmap.c"],
]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def kernel_repo(path: Path) -> Path:
    if (path / ".git").is_dir():
        return path
    if not TARBALL.is_file():
        sys.exit(f"{path} is not a kernel repository and {TARBALL} is missing "
                 "(apt-get install linux-source-6.1)")
    print(f"extracting {TARBALL} into {path} ...", file=sys.stderr)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(TARBALL) as tar:
        tar.extractall(tmp, filter="tar")
    (top,) = list(tmp.iterdir())
    for args in (["init", "-q"], ["add", "-A", "-f", "."],
                 ["-c", "user.name=reviewbot", "-c", "user.email=reviewbot@localhost",
                  "commit", "-q", "-m", "linux-source-6.1 (Debian)"]):
        git(top, *args)
    top.rename(path)
    shutil.rmtree(tmp)
    return path


def make_series(kernel: Path, work: Path) -> tuple[Path, Path]:
    clone = work / "author"
    shutil.rmtree(clone, ignore_errors=True)
    git(work, "clone", "-q", "--shared", str(kernel), str(clone))
    for k, files in enumerate(SERIES, start=1):
        for path in files:
            file = clone / path
            text = file.read_text(encoding="utf-8", errors="surrogateescape")
            if path.endswith(".rst"):
                text += f"\nBenchmark note {k}.\n"
            else:
                anchor = "\n\treturn "
                pos = -1
                for _ in range(4 * k):  # a different function for every patch
                    nxt = text.find(anchor, pos + 1)
                    if nxt < 0:
                        break
                    pos = nxt
                # braces around one statement: STY001 fires, so the rules run too
                text = (text[:pos + 1] + f"\tif (unlikely(!{k})) {{\n\t\tbarrier();\n\t}}\n"
                        + text[pos + 1:])
            file.write_text(text, encoding="utf-8", errors="surrogateescape")
        git(clone, "add", "-A")
        git(clone, "-c", "user.name=Bench", "-c", "user.email=bench@localhost", "commit", "-q",
            "-m", f"mm: benchmark change {k}")
    mbox = work / "series.mbox"
    mbox.write_text(git(clone, "format-patch", "--stdout", "--thread=shallow", "-n",
                        "--cover-letter", f"--base=HEAD~{len(SERIES)}",
                        f"HEAD~{len(SERIES)}..HEAD"), encoding="utf-8")
    return clone, mbox


def timed(args: list[str], cwd: Path, runs: int) -> tuple[float, float, str]:
    times = []
    out = ""
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([str(BIN / "reviewbot"), "check", *args], cwd=cwd,
                              capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - t0)
        if proc.returncode not in (0, 1):
            sys.exit(f"reviewbot {' '.join(args)} failed: {proc.stderr}")
        out = proc.stdout
    return min(times), statistics.median(times), out


def breakdown(kernel: Path, mbox: Path) -> str:
    """In process: applying, mapping (parses), rules, for the mbox route."""
    from reviewbot.cmap.parser import CParser
    from reviewbot.config import Settings
    from reviewbot.fetch.local import read_source
    from reviewbot.pipeline import parse_messages, review_series, select_rules
    from reviewbot.ruleset import load_rules
    from reviewbot.series.build import build_series
    from reviewbot.tree.apply import apply_series
    from reviewbot.tree.git import GitTree

    rules = select_rules(load_rules(), Settings())
    parser = CParser()
    series = build_series(parse_messages(read_source(str(mbox))))[0]
    t0 = time.perf_counter()
    applied = apply_series(GitTree.open(kernel), series)
    t1 = time.perf_counter()
    review = review_series(series, rules, parser, applied.full_text)
    t2 = time.perf_counter()
    files = sum(len(p.full_files) for p in review.patches)
    return (f"apply {t1 - t0:.2f} s ({len(applied.images)} post-images), "
            f"map + rules {t2 - t1:.2f} s ({files} files mapped whole)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", type=Path,
                    default=Path.home() / ".cache" / "reviewbot" / "linux-6.1")
    ap.add_argument("--work", type=Path,
                    default=Path.home() / ".cache" / "reviewbot" / "bench")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    kernel = kernel_repo(args.kernel.expanduser())
    args.work.mkdir(parents=True, exist_ok=True)
    clone, mbox = make_series(kernel, args.work)
    n = len(SERIES)
    print(f"kernel tree {kernel}: {len(git(kernel, 'ls-files').splitlines())} files; "
          f"series: {n} patches, {sum(len(f) for f in SERIES)} file changes")
    for label, argv, cwd in (
        ("mbox, applied in the tree", [str(mbox), "--tree", str(kernel)], kernel),
        (f"--git HEAD~{n}.. (blobs in the tree)", [f"HEAD~{n}.."], clone),
        ("mbox, --no-tree", [str(mbox), "--no-tree"], kernel),
    ):
        best, median, out = timed([*argv, "--format", "json"], cwd, args.runs)
        import json

        data = json.loads(out)
        full = sum(len(p["full_files"]) for p in data["patches"])
        print(f"{label:40s} min {best:.2f} s  median {median:.2f} s  "
              f"({full} files with whole-file context)")
    print("breakdown (in process, mbox route):", breakdown(kernel, mbox))


if __name__ == "__main__":
    main()
