"""The ``reviewbot index`` command: build, update or describe a tree's index."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from reviewbot.knowledge.location import find_tree, index_path

EXIT_CLEAN, EXIT_NONE = 0, 1


def run_index(tree_arg: str, status: bool, full: bool, jobs: int) -> int:
    tree = find_tree(Path(tree_arg))
    if status:
        return _status(tree.top)
    from reviewbot.knowledge.build import build_index

    progress = None
    if sys.stderr.isatty():
        from reviewbot.progress import BarProgress

        progress = BarProgress(sys.stderr, minimum=1)
    result = build_index(tree, jobs, progress, full=full)
    for line in result.skipped[:10]:
        print(f"reviewbot: warning: not indexed: {line}", file=sys.stderr)
    if os.environ.get("REVIEWBOT_INDEX_STAGES"):  # for benchmarks/index_speed.py
        print("stages (wall/CPU s of the builder): " + ", ".join(
            f"{label} {wall:.1f}/{cpu:.1f}" for label, wall, cpu in result.stages),
            file=sys.stderr)
    size = result.index.stat().st_size
    what = "built" if result.full else "updated"
    print(f"index of {tree.top} {what} in {result.seconds:.1f} s: {result.files:,} files "
          f"({result.read:,} read, {result.bytes_read / 1e6:,.0f} MB; {result.removed:,} "
          f"removed), {result.functions:,} functions, {result.sleepers:,} may sleep, "
          f"{result.contexts:,} in interrupt context; {size / 1e6:,.0f} MB in "
          f"{result.index}")
    return EXIT_CLEAN


def _status(top: Path) -> int:
    from reviewbot.knowledge.location import format_age
    from reviewbot.knowledge.lookup import Knowledge

    path = index_path(top)
    know = Knowledge.open(top)
    if know is None:
        state = "an unreadable or outdated one" if path.exists() else "none"
        print(f"no index of {top} ({state}; 'reviewbot index {top}' builds it)")
        return EXIT_NONE
    try:
        from reviewbot.knowledge.build import changed_files

        meta = know.meta
        counts = know.counts()
        changed = changed_files(know, top)
        age = format_age(time.time() - know.updated)
        created = format_age(time.time() - float(meta.get("created", "0")))
        commit = meta.get("commit", "")
        print(f"index of {top} ({meta.get('kind', '?')} tree"
              f"{', commit ' + commit[:12] if commit else ''})")
        print(f"  file:     {path} ({path.stat().st_size / 1e6:,.0f} MB)")
        print(f"  updated:  {age} ago (created {created} ago)")
        print(f"  facts:    {counts['files']:,} files, {counts['functions']:,} functions, "
              f"{counts['may_sleep']:,} may sleep, {counts['contexts']:,} in interrupt "
              f"context, {counts['locks']:,} locks, {counts['definitions']:,} definitions")
        print(f"  changed:  {changed:,} files differ from the index by size or time"
              + (" ('reviewbot index' updates it)" if changed else ""))
    finally:
        know.close()
    return EXIT_CLEAN
