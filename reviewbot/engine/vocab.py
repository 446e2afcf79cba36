"""The words a rule file uses for severity, confidence, status, engine and scope.

Kept apart from ``schema`` so that building the command line (``--fail-on`` choices)
does not create the rule dataclasses. A rule's class is any lower-case word (a new rule
may bring a new one); ``CLASSES`` are the review classes of the evaluation corpus.
"""

from __future__ import annotations

from typing import Literal

Severity = Literal["error", "warning", "info"]
Confidence = Literal["high", "medium", "low"]
Status = Literal["stable", "preview"]
RuleClass = str  # a lower-case word: read_once, magic_offset, braces, ...
Engine = Literal["query", "regex"]  # a rule with a check.py has no [match]
Scope = Literal["added", "removed", "context"]
ExampleKind = Literal["bad", "good", "todo"]

SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")  # low to high
CONFIDENCES: tuple[Confidence, ...] = ("low", "medium", "high")
STATUSES: tuple[Status, ...] = ("stable", "preview")
CLASSES: tuple[RuleClass, ...] = ("read_once", "magic_offset", "lock_misuse", "braces",
                                  "blank_line", "wrong_patch", "other")
# The classes about how code is written, not what it does: their rules are quiet on code
# the patch does not write (a revert or backport, moved or copied lines, ``#if 0``; see
# ``reviewbot.diff.provenance``).
STYLE_CLASSES: tuple[RuleClass, ...] = ("braces", "blank_line", "spelling", "layout")
ENGINES: tuple[Engine, ...] = ("query", "regex")
SCOPES: tuple[Scope, ...] = ("added", "removed", "context")
EXAMPLE_KINDS: tuple[ExampleKind, ...] = ("bad", "good", "todo")
