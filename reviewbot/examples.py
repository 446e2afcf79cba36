"""Run a rule's ``[[examples]]`` through the whole pipeline, as real patch emails.

Each example becomes a series of patch emails, one per ``[[examples.patches]]`` entry
(with its own subject and commit message when it gives them), each changing one file or
several (``files``): a new file for ``code``, a difflib diff for ``before``/``after``,
or the given ``diff``. A line ending in ``// expect`` (the
marker is removed; a line holding only the marker becomes an empty line) must be
flagged by the rule; no other line may be. Good examples must be silent.

An example with ``[examples.tree]`` (file paths to their text) is reviewed against that
small tree: it is written to a temporary directory (with a MAINTAINERS file, so it is a
kernel tree), indexed (``reviewbot index``, in a temporary cache), and its index is what
the checks look facts up in, as ``check --tree`` does; the directory goes when the
example is done. Without one, an example is reviewed without an index.
"""

from __future__ import annotations

import difflib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.cmap.parser import CParser
from reviewbot.engine.schema import Example, PatchSpec, Rule
from reviewbot.fetch.local import RawMessage
from reviewbot.pipeline import review_messages

if TYPE_CHECKING:
    from reviewbot.findings import Review
    from reviewbot.knowledge.source import KnowledgeSource

MARKER = "// expect"


@dataclass(frozen=True)
class ExampleResult:
    rule: str
    index: int
    kind: str
    ok: bool
    detail: str


def _strip(lines: list[str]) -> tuple[list[str], set[int]]:
    out: list[str] = []
    marked: set[int] = set()
    for i, line in enumerate(lines):
        pos = line.find(MARKER)
        if pos >= 0:
            line = line[:pos].rstrip()
            marked.add(i)
        out.append(line)
    return out, marked


def _diff_for(spec: PatchSpec, path: str) -> tuple[list[str], set[int]]:
    """Diff lines (without newline) and the indices of lines that must be flagged."""
    header = [f"diff --git a/{path} b/{path}"]
    if spec.diff is not None:
        lines, marked = _strip(spec.diff.splitlines())
        if not lines or not lines[0].startswith("diff --git"):
            return header + lines, {i + 1 for i in marked}
        return lines, marked
    if spec.code is not None:
        code, marked = _strip(spec.code.splitlines())
        head = [*header, "new file mode 100644", "index 0000000..1111111", "--- /dev/null",
                f"+++ b/{path}", f"@@ -0,0 +1,{len(code)} @@"]
        return head + ["+" + c for c in code], {len(head) + i for i in marked}
    assert spec.after is not None
    after, marked_after = _strip(spec.after.splitlines())
    before = (spec.before or "").splitlines()
    body = list(difflib.unified_diff(before, after, f"a/{path}", f"b/{path}", n=3,
                                     lineterm=""))
    flagged: set[int] = set()
    new = 0
    for i, line in enumerate(body):
        if line.startswith("@@"):
            new = int(line.split("+", 1)[1].split(",")[0].split(" ")[0]) - 1
        elif line.startswith(("+++", "---")):
            continue
        elif line.startswith(("+", " ")):
            if new in marked_after:
                flagged.add(len(header) + 1 + i)
            new += 1
    return [*header, "index 1111111..2222222 100644", *body], flagged


def example_emails(rule: Rule, n: int,
                   ex: Example) -> tuple[list[RawMessage], dict[int, set[int]]]:
    """The example as patch emails, and per patch index the email lines to be flagged."""
    total = len(ex.patches)
    expected: dict[int, set[int]] = {}
    out: list[RawMessage] = []
    root = f"<example-{rule.id}-{n}-1@reviewbot.invalid>"
    for i, spec in enumerate(ex.patches, start=1):
        diff: list[str] = []
        marked: set[int] = set()
        for path, file_spec in spec.file_specs(ex.path):
            lines, flagged = _diff_for(file_spec, path)
            marked.update(len(diff) + m for m in flagged)
            diff += lines
        subject = " ".join(spec.subject.split()) or f"example {n} of {rule.id}"
        head = [
            "From: Example Author <author@example.org>",
            "To: list@example.org",
            f"Subject: [PATCH {i}/{total}] {subject}",
            "Date: Thu, 01 Jan 2026 00:00:00 +0000",
            f"Message-ID: <example-{rule.id}-{n}-{i}@reviewbot.invalid>",
        ]
        if i > 1:
            head += [f"In-Reply-To: {root}", f"References: {root}"]
        message = spec.message.strip("\n").splitlines() or ["An example patch."]
        body = ["", *message, "", "Signed-off-by: Example Author "
                "<author@example.org>", "---"]
        first = len(head) + len(body) + 1  # email line number of the first diff line
        expected[i] = {first + m for m in marked}
        text = "\n".join([*head, *body, *diff, "-- ", "2.43.0", ""])
        out.append(RawMessage(text.encode("utf-8"), f"{rule.source} example {n}"))
    return out, expected


def _with_tree(ex: Example, review: Callable[[KnowledgeSource | None], Review]) -> Review:
    """``review`` with the index of the example's tree (None without one)."""
    if not ex.tree:
        return review(None)
    from reviewbot.knowledge.build import build_index
    from reviewbot.knowledge.location import find_tree
    from reviewbot.knowledge.source import KnowledgeSource

    with tempfile.TemporaryDirectory(prefix="reviewbot-example-") as tmp:
        top = Path(tmp) / "tree"
        for name, text in (("MAINTAINERS", "example tree\n"), *ex.tree):
            file = top / name
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text, encoding="utf-8")
        env = {"XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        build_index(find_tree(top), jobs=1, env=env)
        source = KnowledgeSource.find(top, env)
        try:
            return review(source)
        finally:
            know = source.get() if source is not None else None
            if know is not None:
                know.close()


def run_example(rule: Rule, n: int, ex: Example, parser: CParser) -> ExampleResult:
    from reviewbot.config import Settings

    messages, expected = example_emails(rule, n, ex)
    review = _with_tree(ex, lambda knowledge: review_messages(
        messages, Settings(), rules=[rule], parser=parser, knowledge=knowledge))
    found: dict[int, set[int]] = {}
    skipped: list[str] = []
    for s in review.series:
        for pr in s.patches:
            if pr.patch.skipped:
                skipped.append(f"patch {pr.patch.index}: {pr.patch.skipped}")
            found.setdefault(pr.patch.index, set()).update(f.patch_line for f in pr.findings)
    if skipped:
        return ExampleResult(rule.id, n, ex.kind, False, "; ".join(skipped))
    want = expected if ex.kind == "bad" else {}
    problems = []
    for i in sorted(set(want) | set(found)):
        missing = sorted(want.get(i, set()) - found.get(i, set()))
        extra = sorted(found.get(i, set()) - want.get(i, set()))
        if missing:
            problems.append(f"patch {i}: not flagged at email line(s) {missing}")
        if extra:
            problems.append(f"patch {i}: flagged at unmarked email line(s) {extra}")
    if ex.kind == "bad" and not any(want.values()):
        problems.append("a bad example needs at least one '// expect' marker")
    if ex.kind == "todo":
        return ExampleResult(rule.id, n, ex.kind, True, "todo: " + ("; ".join(problems)
                                                                     or "now passes"))
    return ExampleResult(rule.id, n, ex.kind, not problems, "; ".join(problems) or "ok")


def run_examples(rules: list[Rule], parser: CParser | None = None) -> list[ExampleResult]:
    parser = parser or CParser()
    return [run_example(rule, n, ex, parser) for rule in rules
            for n, ex in enumerate(rule.examples, start=1)]
