"""False-positive probe: review every function of a kernel tree as if a patch added it.

Mainline code has been reviewed, so what a rule reports here is mostly what reviewers
accepted: a rough upper bound of a rule's noise per added function. Each top-level
function definition of each ``*.c`` file under the given directories becomes one
new-file patch email holding only that function (so cross-function evidence is out of
reach and each function is judged on its own).

    tar -xJf /usr/src/linux-source-6.1.tar.xz -C /tmp linux-source-6.1/mm
    python benchmarks/kernel_functions.py /tmp/linux-source-6.1 mm --rules CON001,CON002

With ``--index`` the checks use the tree's knowledge index (``reviewbot index TREE``
first), as ``reviewbot check --tree TREE`` does: what the rules that use the index
(CON003, CON004) say about mainline code.

    reviewbot index ~/linux-source-6.12
    python benchmarks/kernel_functions.py ~/linux-source-6.12 mm kernel block fs net/core \
        --recursive --rules CON003,CON004 --index

Prints one line per finding, then a summary line on stderr (with the count per rule).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.fetch.local import RawMessage
from reviewbot.pipeline import review_messages
from reviewbot.ruleset import load_rules


def function_patch(rel: str, code: list[str], n: int) -> RawMessage:
    head = ["From: Probe <probe@example.org>", f"Subject: [PATCH] {rel}",
            "Date: Thu, 01 Jan 2026 00:00:00 +0000", f"Message-ID: <probe-{n}@example.org>",
            "", "probe", "", "Signed-off-by: Probe <probe@example.org>", "---",
            f"diff --git a/{rel} b/{rel}", "new file mode 100644", "index 0000000..1111111",
            "--- /dev/null", f"+++ b/{rel}", f"@@ -0,0 +1,{len(code)} @@"]
    text = "\n".join([*head, *("+" + c for c in code), "-- ", "2.43.0", ""])
    return RawMessage(text.encode("utf-8", "surrogateescape"), rel)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("tree", type=Path, help="root of a kernel source tree")
    ap.add_argument("dirs", nargs="+", help="directories under the tree")
    ap.add_argument("--recursive", action="store_true",
                    help="also the directories below them (default: their own files only)")
    ap.add_argument("--rules", required=True, help="comma-separated rule ids")
    ap.add_argument("--index", action="store_true",
                    help="use the tree's knowledge index (built by 'reviewbot index TREE')")
    args = ap.parse_args(argv)
    wanted = set(args.rules.split(","))
    rules = [r for r in load_rules() if r.id in wanted]
    if not rules:
        print(f"no rule among {args.rules}", file=sys.stderr)
        return 2
    knowledge = None
    if args.index:
        from reviewbot.knowledge.source import KnowledgeSource

        knowledge = KnowledgeSource.find(args.tree)
        if knowledge is None:
            print(f"{args.tree} has no index: run 'reviewbot index {args.tree}'",
                  file=sys.stderr)
            return 2
        print(f"using the {knowledge.describe()}", file=sys.stderr)
    parser = CParser()
    per_rule: dict[str, int] = dict.fromkeys(sorted(wanted), 0)
    start = time.monotonic()
    functions = findings = 0
    pattern = "**/*.c" if args.recursive else "*.c"
    files = sorted(p for d in args.dirs for p in (args.tree / d).glob(pattern))
    for path in files:
        rel = str(path.relative_to(args.tree))
        src = path.read_text(encoding="utf-8", errors="replace")
        lines = src.split("\n")
        for node in parser.parse(src).root_node.children:
            if node.type != "function_definition":
                continue
            functions += 1
            first = node.start_point[0]
            raw = function_patch(rel, lines[first:node.end_point[0] + 1], functions)
            review = review_messages([raw], Settings(), rules=rules, parser=parser,
                                     knowledge=knowledge)
            for f in (f for s in review.series for p in s.patches for f in p.findings):
                findings += 1
                per_rule[f.rule] = per_rule.get(f.rule, 0) + 1
                print(f"{rel}:{first + f.line}: {f.rule} [{f.function}] {f.message}")
    rates = ", ".join(f"{r} {n} ({1000 * n / max(functions, 1):.2f} per 1,000)"
                      for r, n in per_rule.items())
    print(f"{findings} findings in {functions} functions of {len(files)} files "
          f"({time.monotonic() - start:.0f}s): {rates}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
