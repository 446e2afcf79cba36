"""The words a rule file uses for severity, confidence, status, class, engine and scope.

Kept apart from ``schema`` so that building the command line (``--fail-on`` choices)
does not create the rule dataclasses.
"""

from __future__ import annotations

from typing import Literal

Severity = Literal["error", "warning", "info"]
Confidence = Literal["high", "medium", "low"]
Status = Literal["stable", "preview"]
RuleClass = Literal["read_once", "magic_offset", "lock_misuse", "braces", "blank_line",
                    "wrong_patch", "other"]
Engine = Literal["query", "regex", "check"]
Scope = Literal["added", "removed", "context"]
ExampleKind = Literal["bad", "good", "todo"]

SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")  # low to high
CONFIDENCES: tuple[Confidence, ...] = ("low", "medium", "high")
STATUSES: tuple[Status, ...] = ("stable", "preview")
CLASSES: tuple[RuleClass, ...] = ("read_once", "magic_offset", "lock_misuse", "braces",
                                  "blank_line", "wrong_patch", "other")
ENGINES: tuple[Engine, ...] = ("query", "regex", "check")
SCOPES: tuple[Scope, ...] = ("added", "removed", "context")
EXAMPLE_KINDS: tuple[ExampleKind, ...] = ("bad", "good", "todo")
