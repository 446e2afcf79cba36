#!/usr/bin/env python3
"""Patch-only vs tree mode on ../shared/corpus, scored as corpus/README.md says.

    .venv/bin/python benchmarks/corpus_modes.py [--kernel DIR] [--corpus DIR]

DIR is a kernel git tree (default ~/.cache/reviewbot/linux-6.1, made by
benchmarks/tree_cost.py). For each corpus patch: does it apply there, how many files got
whole-file context, the findings of each mode, and the reviewer comments each mode
found (a finding of the comment's category on one of its lines).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


def review(source: Path, *extra: str) -> dict[str, object]:
    proc = subprocess.run([str(BIN / "reviewbot"), "check", str(source), "--format", "json",
                           *extra], capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{source.name}: {proc.stderr.strip()}")
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def findings(data: dict[str, object]) -> list[tuple[str, str, int, str]]:
    patches = data["patches"]
    assert isinstance(patches, list)
    return [(p["subject"], f["file"], f["line"], f["class"]) for p in patches
            for f in p["findings"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernel", type=Path,
                    default=Path.home() / ".cache" / "reviewbot" / "linux-6.1")
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = ap.parse_args()
    manifest = json.loads((args.corpus / "manifest.json").read_text())
    sources = [*sorted(args.corpus.glob("*.patch")), args.corpus / "hvo-v4-subset.mbox"]
    found = {"patch": Counter[str](), "tree": Counter[str]()}
    total = Counter(c["category"] for c in manifest if c["category"] != "negative")
    counts = {"patch": 0, "tree": 0}
    print(f"{'source':45s} {'tree':28s} findings patch/tree")
    for src in sources:
        modes = {"patch": review(src, "--no-tree"), "tree": review(src, "--tree",
                                                                   str(args.kernel))}
        tree = modes["tree"]
        notes = [n for s in tree["series"] for n in s["notes"]]  # type: ignore[attr-defined]
        full = sum(len(p["full_files"]) for p in tree["patches"])  # type: ignore[attr-defined]
        applied = next((n.split(": ", 1)[1].split(" (")[0] for n in notes
                        if n.startswith("kernel tree")), "-")
        status = f"{applied}; {full} whole files" if full else "does not apply"
        per = {m: findings(d) for m, d in modes.items()}
        print(f"{src.name:45s} {status[:28]:28s} {len(per['patch'])}/{len(per['tree'])}")
        for mode, fs in per.items():
            counts[mode] += len(fs)
            for c in manifest:
                if c["patch_file"] != src.name or c["category"] == "negative":
                    continue
                if any(f[1] == c["file"] and f[2] in c.get("lines", []) and f[3] == c["category"]
                       for f in fs):
                    found[mode][c["category"]] += 1
        if per["patch"] != per["tree"]:
            print(f"    differs: patch-only {per['patch']}\n             tree {per['tree']}")
    for mode in ("patch", "tree"):
        cats = ", ".join(f"{k} {found[mode][k]}/{n}" for k, n in sorted(total.items()))
        print(f"{mode:5s}: {counts[mode]} findings; comments found: {cats}")


if __name__ == "__main__":
    main()
