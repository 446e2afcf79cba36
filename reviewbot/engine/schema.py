"""The rule schema: what one ``rules/<category>/<name>.toml`` file holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class Docs:
    """A rule's ``[docs]``: what it flags, why, the fix, its false positives."""

    what: str
    why: str
    fix: str
    false_positives: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """How a rule finds its lines.

    - ``query``: a tree-sitter query run over the mapped post-image; the capture named
      ``capture`` marks the flagged line; ``#eq?``/``#match?`` predicates work.
    - ``regex``: ``pattern`` searched in every line of ``scope`` (``not_pattern`` excludes).
    - ``check``: the Python check named ``check`` (see ``reviewbot/checks/__init__.py``).
    """

    engine: Engine
    query: str = ""
    capture: str = "target"
    pattern: str = ""
    not_pattern: str = ""
    scope: Scope = "added"
    check: str = ""


@dataclass(frozen=True)
class PatchSpec:
    """One patch of an example: a diff, or a before/after pair (diffed by difflib)."""

    before: str | None = None
    after: str | None = None
    code: str | None = None
    diff: str | None = None


@dataclass(frozen=True)
class Example:
    """One ``[[examples]]`` entry: what the rule must say about its patches."""

    kind: ExampleKind
    path: str
    patches: tuple[PatchSpec, ...]
    note: str = ""


@dataclass(frozen=True, eq=False)
class Rule:
    """One validated rule file."""

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
    docs: Docs
    match: Match
    paths: tuple[str, ...] = ("*.c", "*.h")
    exclude_paths: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()
    params: dict[str, object] = field(default_factory=dict)
    examples: tuple[Example, ...] = ()
    source: Path = Path()
