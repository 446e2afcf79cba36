"""How fast ``reviewbot index`` is on a real kernel tree, against Universal Ctags.

    python benchmarks/index_speed.py [--tree DIR] [--jobs N] [--changed 100] [--no-ctags]
                                     [--check]

The tree defaults to Debian's linux-source-6.12, unpacked once into
``$XDG_CACHE_HOME/reviewbot/src/`` (never into the repository); the measurements run on
a scratch copy of it (hard links, in a temporary directory: edited files are replaced,
never written through). Prints, each measured once as whole processes (CPU = user +
system of the process and its workers; peak memory = the largest resident set among
them), with the load average before and after (the machine is shared):

- the anchor: ``ctags -R`` of the same tree (one process);
- a full index (``reviewbot index --full``) into a scratch cache directory, with the
  builder's stages (list, plan, extract, merge, indexes, derive, commit);
- the index file's size, and per table (rows, MB);
- an update after ``--changed`` files of mm/ and kernel/ were edited (every other one
  gets a comment appended, the others a ``might_sleep()`` at the top of their first
  function, so the derived facts change too), and the update that puts them back;
- ``--check``: the facts of the updated index against those of a full build of the
  edited tree (another full build), and after putting the files back against the
  first full build: every row of every table, ids spelled as paths (a digest per table);
- lookups: opening the index, the median cost of each kind of lookup, and what a review
  of the four-patch hvo series would ask.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")


def default_tree() -> Path:
    from reviewbot.xdg import xdg_dir

    return xdg_dir("XDG_CACHE_HOME", ".cache") / "reviewbot" / "src" / "linux-source-6.12"


def unpack(tree: Path) -> None:
    if (tree / "Kbuild").is_file():
        return
    if not TARBALL.is_file():
        sys.exit(f"{tree} is missing and {TARBALL} is not installed (linux-source-6.12)")
    tree.parent.mkdir(parents=True, exist_ok=True)
    print(f"unpacking {TARBALL} into {tree.parent} ...", file=sys.stderr)
    subprocess.run(["tar", "-xJf", str(TARBALL), "-C", str(tree.parent)], check=True)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


_MEASURE = r"""
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True)
sys.stderr.buffer.write(proc.stderr)
sys.stdout.buffer.write(proc.stdout)
sys.stdout.flush()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, proc.returncode, file=sys.stderr)
"""


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``: wall seconds, CPU seconds (user + system of it and its children)
    and peak RSS in MB (the largest of them: measured by a wrapper process whose only
    child is ``cmd``, so an earlier command's peak does not count)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], env=env,
                          capture_output=True, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    err = proc.stderr.decode(errors="replace").strip()
    err, _, last = err.rpartition("\n")
    peak, code = (int(x) for x in last.split())
    if code != 0:
        sys.exit(f"{' '.join(cmd)} failed: {err[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss": peak / 1024,
            "out": proc.stdout.decode(errors="replace").strip(), "err": err.strip()}


def replace(path: Path, data: bytes) -> None:
    """Write ``data`` as a new file at ``path`` (a hard link to the original tree is
    broken, never written through)."""
    tmp = path.with_name(path.name + ".bench-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def change_files(tree: Path, n: int) -> list[tuple[Path, bytes]]:
    files = sorted(p for p in (tree / "mm").rglob("*.c"))
    files += sorted(p for p in (tree / "kernel").rglob("*.c"))
    step = max(len(files) // n, 1)
    chosen = files[::step][:n]
    saved = [(p, p.read_bytes()) for p in chosen]
    for i, (p, data) in enumerate(saved):
        if i % 2 and b"\n{\n" in data:  # a sleeping call at the top of the first function
            data = data.replace(b"\n{\n", b"\n{\n\tmight_sleep();\n", 1)
        replace(p, data + b"\n/* changed by benchmarks/index_speed.py */\n")
    return saved


def table_sizes(index: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE "
                                             "type = 'table' ORDER BY name")]
        out = []
        for t in tables:
            idx = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE "
                                              "tbl_name = ? AND type = 'index'", (t,))]
            rows = conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            mb = (sizes.get(t, 0) + sum(sizes.get(i, 0) for i in idx)) / 1e6
            out.append(f"{t} {rows:,} rows {mb:.0f} MB")
        return out
    except sqlite3.Error as exc:  # no dbstat in this SQLite
        return [f"(no table sizes: {exc})"]
    finally:
        conn.close()


def digest(index: Path) -> dict[str, tuple[int, str]]:
    import sqlite3

    from reviewbot.knowledge.store import fact_digest

    conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        return fact_digest(conn)
    finally:
        conn.close()


def compare(label: str, got: dict[str, tuple[int, str]], want: dict[str, tuple[int, str]]
            ) -> str:
    bad = [f"{t} ({got.get(t, (0, ''))[0]:,} rows, want {n:,})" for t, (n, h) in want.items()
           if got.get(t) != (n, h)]
    total = sum(n for n, _ in want.values())
    return f"{label}: " + (f"EQUAL ({total:,} facts in {len(want)} tables)" if not bad
                           else "DIFFERENT in " + ", ".join(bad))


def lookups(tree: Path, env: dict[str, str]) -> list[str]:
    from reviewbot.knowledge.lookup import Knowledge

    os.environ.update(env)
    times: list[float] = []
    for _ in range(20):
        t = time.perf_counter()
        know = Knowledge.open(tree, env)
        times.append(time.perf_counter() - t)
        assert know is not None
        know.close()
    know = Knowledge.open(tree, env)
    assert know is not None
    out = [f"open the index: {statistics.median(times) * 1e3:.2f} ms (median of 20)"]
    cases: dict[str, list[Any]] = {
        "may_sleep": [("mutex_lock", None), ("kmalloc", None), ("alloc_pages", "mm/x.c"),
                      ("vfree", None), ("schedule", None), ("spin_lock", None),
                      ("folio_lock", None), ("kfree", None)],
        "lock": ["<struct zone*>->lock", "hugetlb_lock", "<struct lruvec*>->lru_lock",
                 "css_set_lock", "<struct mm_struct*>->mmap_lock"],
        "member": [("struct page", "flags"), ("struct page", "private"),
                   ("struct zone", "lock"), ("struct folio", "mapping")],
        "defines": ["kmalloc", "CONFIG_MMU", "GFP_KERNEL", "struct page.flags",
                    "no_such_symbol"],
    }
    for kind, args in cases.items():
        costs: list[float] = []
        for _ in range(5):
            for a in args:
                t = time.perf_counter()
                if kind == "may_sleep":
                    know.may_sleep(*a)
                elif kind == "lock":
                    know.lock(a)
                elif kind == "member":
                    know.member(*a)
                else:
                    know.defines(a)
                costs.append(time.perf_counter() - t)
        out.append(f"{kind}(): median {statistics.median(costs) * 1e3:.2f} ms, "
                   f"max {max(costs) * 1e3:.1f} ms ({len(costs)} lookups)")
    chain = know.may_sleep("mutex_lock")
    out.append("e.g. " + (chain.describe() if chain else "mutex_lock: no evidence"))
    know.close()
    out.extend(series_lookups(tree, env))
    return out


def series_lookups(tree: Path, env: dict[str, str]) -> list[str]:
    """What a check of the four-patch hvo series would ask: in a fresh process, import
    the lookup module, open the index and, for every added line, ask may_sleep() of each
    call, defines() of each identifier, member() of each ``->member`` (as a member of
    the struct type named on the line, if any) and lock() of each lock call's argument."""
    corpus = Path(os.environ.get("REVIEWBOT_CORPUS", Path(__file__).resolve().parents[2]
                                 / "shared" / "corpus"))
    mbox = corpus / "hvo-v4-subset.mbox"
    if not mbox.is_file():
        return [f"series lookups: {mbox} not found (set REVIEWBOT_CORPUS)"]
    code = r"""
import re, sys, time
t0 = time.perf_counter()
from reviewbot.knowledge.lookup import Knowledge
t1 = time.perf_counter()
know = Knowledge.open(sys.argv[1])
t2 = time.perf_counter()
n = 0
path = ""
for line in open(sys.argv[2], encoding="utf-8", errors="replace"):
    if line.startswith("+++ b/"):
        path = line[6:].strip()
    if not line.startswith("+") or line.startswith("+++"):
        continue
    for m in re.finditer(r"\b([a-z_]\w*)\s*\(", line):
        know.may_sleep(m.group(1), path); n += 1
    for m in re.finditer(r"\b[A-Za-z_]\w+\b", line):
        know.defines(m.group()); n += 1
    struct = re.search(r"struct (\w+)", line)
    for m in re.finditer(r"->(\w+)", line):
        know.member("struct " + (struct.group(1) if struct else "page"), m.group(1)); n += 1
    for m in re.finditer(r"\bspin_lock\w*\(&?([\w>.-]+)", line):
        know.lock(m.group(1)); n += 1
t3 = time.perf_counter()
print(f"{(t1 - t0) * 1e3:.1f} {(t2 - t1) * 1e3:.1f} {(t3 - t2) * 1e3:.1f} {n}")
"""
    proc = subprocess.run([sys.executable, "-c", code, str(tree), str(mbox)],
                          capture_output=True, env={**os.environ, **env}, check=False)
    if proc.returncode != 0:
        return [f"series lookups failed: {proc.stderr.decode(errors='replace')[-300:]}"]
    imp, opened, asked, n = proc.stdout.decode().split()
    return [f"hvo-v4 series, every lookup its added lines could ask: import {imp} ms, "
            f"open {opened} ms, {n} lookups {asked} ms"]


def index_run(args: argparse.Namespace, tree: Path, env: dict[str, str],
              *extra: str) -> dict[str, Any]:
    return measure([args.reviewbot, "index", *extra, "-j", str(args.jobs), str(tree)],
                   {**env, "REVIEWBOT_INDEX_STAGES": "1"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, default=None)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--changed", type=int, default=100)
    ap.add_argument("--no-ctags", action="store_true")
    ap.add_argument("--check", action="store_true",
                    help="compare the updated index with full builds (two more builds)")
    ap.add_argument("--reviewbot", default=str(Path(sys.executable).with_name("reviewbot")))
    args = ap.parse_args(argv)
    source = args.tree or default_tree()
    unpack(source)
    scratch = Path(tempfile.mkdtemp(prefix="index-bench-"))
    cache = scratch / "cache"
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    tree = scratch / source.name
    try:
        subprocess.run(["cp", "-al", str(source), str(tree)], check=True)
        print(f"tree {source} (a scratch copy), {args.jobs} jobs, {os.cpu_count()} CPUs")
        if not args.no_ctags and shutil.which("ctags"):
            tags = scratch / "tags"
            before = load()
            r = measure(["ctags", "-R", "-f", str(tags), str(tree)])
            print(f"ctags -R (anchor): {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, "
                  f"{r['rss']:.0f} MB peak, tags {tags.stat().st_size / 1e6:.0f} MB "
                  f"(load {before} -> {load()})")
            tags.unlink()
        before = load()
        r = index_run(args, tree, env, "--full")
        index = next((cache / "reviewbot" / "index").glob("*.sqlite"))
        print(f"full index: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU, {r['rss']:.0f} MB "
              f"peak (load {before} -> {load()})")
        print(f"  {r['out']}")
        print(f"  {r['err']}")
        print(f"index size: {index.stat().st_size / 1e6:.0f} MB: "
              + "; ".join(table_sizes(index)))
        first = digest(index) if args.check else {}
        saved = change_files(tree, args.changed)
        before = load()
        r = index_run(args, tree, env)
        print(f"update after {len(saved)} changed files: {r['wall']:.1f} s wall, "
              f"{r['cpu']:.1f} s CPU, {r['rss']:.0f} MB peak (load {before} -> {load()})")
        print(f"  {r['out']}")
        print(f"  {r['err']}")
        if args.check:
            updated = digest(index)
            ref = {**env, "XDG_CACHE_HOME": str(scratch / "ref")}
            index_run(args, tree, ref, "--full")
            full = next((scratch / "ref" / "reviewbot" / "index").glob("*.sqlite"))
            print(compare("  updated index vs a full build of the edited tree", updated,
                          digest(full)))
            full.unlink()
        for p, data in saved:
            replace(p, data)
        before = load()
        r = index_run(args, tree, env)
        print(f"update putting them back: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU "
              f"(load {before} -> {load()})")
        print(f"  {r['err']}")
        if args.check:
            print(compare("  index put back vs the first full build", digest(index), first))
        for line in lookups(tree, {"XDG_CACHE_HOME": str(cache)}):
            print(line)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
