"""The rule schema: what one rule folder (``rules/<category>/<rule_name>/``) holds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from reviewbot.engine.check import CheckSpec
from reviewbot.engine.vocab import (
    CLASSES,
    CONFIDENCES,
    ENGINES,
    EXAMPLE_KINDS,
    SCOPES,
    SEVERITIES,
    STATUSES,
    Confidence,
    Engine,
    ExampleKind,
    RuleClass,
    Scope,
    Severity,
    Status,
)

__all__ = [  # the vocabulary is re-exported: rule code imports it from here
    "CLASSES",
    "CONFIDENCES",
    "ENGINES",
    "EXAMPLE_KINDS",
    "SCOPES",
    "SEVERITIES",
    "STATUSES",
    "Confidence",
    "Docs",
    "Engine",
    "Example",
    "ExampleKind",
    "Match",
    "PatchSpec",
    "Rule",
    "RuleClass",
    "Scope",
    "Severity",
    "Status",
]


class Docs(NamedTuple):
    """A rule's ``[docs]``: what it flags, why, the fix, its false positives."""

    what: str
    why: str
    fix: str
    false_positives: str
    references: tuple[str, ...]


class Match(NamedTuple):
    """How a rule finds its lines.

    - ``query``: a tree-sitter query run over the mapped post-image; the capture named
      ``capture`` marks the flagged line; ``#eq?``/``#match?`` predicates work.
    - ``regex``: ``pattern`` searched in every line of ``scope`` (``not_pattern`` excludes).

    A rule with a ``check.py`` has no ``[match]``: its check finds the lines.
    """

    engine: Engine
    query: str = ""
    capture: str = "target"
    pattern: str = ""
    not_pattern: str = ""
    scope: Scope = "added"


class PatchSpec(NamedTuple):
    """One patch of an example: a diff, a new file's ``code``, or a before/after pair
    (diffed by difflib), of the example's path or its own ``path``; or several such
    ``files``. ``subject`` and ``message`` are its subject line (after ``[PATCH M/N]``)
    and commit message (a default when empty)."""

    before: str | None = None
    after: str | None = None
    code: str | None = None
    diff: str | None = None
    path: str | None = None
    subject: str = ""
    message: str = ""
    files: tuple[PatchSpec, ...] = ()

    def file_specs(self, path: str) -> tuple[tuple[str, PatchSpec], ...]:
        """(path, spec) of every file the patch changes (``path``: the example's)."""
        if self.files:
            return tuple((f.path or path, f) for f in self.files)
        return ((self.path or path, self),)


class Example(NamedTuple):
    """One ``[[examples]]`` entry: what the rule must say about its patches."""

    kind: ExampleKind
    path: str
    patches: tuple[PatchSpec, ...]
    note: str = ""
    # ``[examples.tree]``: files (path -> text) of a small kernel tree the example is
    # reviewed against, with its knowledge index (``reviewbot index``) built for it
    tree: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, eq=False)
class Rule:
    """One validated rule: its ``rule.toml``, and its ``check.py`` when it has one."""

    id: str
    name: str
    category: str
    cls: RuleClass
    severity: Severity
    confidence: Confidence
    status: Status
    since: str
    summary: str
    message: str  # terse, one line: text/checkpatch/JSON
    reply: str  # the reviewer-register text for the email
    docs: Docs | None  # None: read for a review, without [docs] and [[examples]]
    match: Match | None  # a regex or query rule
    check: CheckSpec | None  # a rule with a check.py
    params: Any  # the check's Params, read from [params] (NoParams without a check)
    paths: tuple[str, ...] = ("*.c", "*.h")
    exclude_paths: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    source: Path = Path()  # the rule.toml (or <category>/<name>.toml of a TOML-only rule)
