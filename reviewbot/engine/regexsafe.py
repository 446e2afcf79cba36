"""Rule regexes under a time limit, so that no input can hang a run.

Rule patterns are checked when rules load (``regexcheck.risky_regex``); what that static
check cannot see is bounded here: regex-engine rules run on the third-party ``regex``
engine with a time limit per line (``RegexGuard``). A line that takes longer is skipped for
that rule, and a rule that hits the limit ``MAX_STRIKES`` times is not run again in that
run. A line just under the limit is not a strike, so each rule also has a total per
patch (``PATCH_BUDGET`` seconds of its searches): a rule that has used it up is stopped
for the rest of that patch (``RegexBudgetSpent``; the runner notes it) and starts the
next patch afresh. Lines longer than ``MAX_LINE`` are not searched by regex rules at all.
"""

from __future__ import annotations

import time
from typing import Any

MAX_LINE = 4_096  # longer diff lines are not searched by regex rules
TIMEOUT = 0.05  # seconds per search of one line
MAX_STRIKES = 3  # timeouts before a rule is dropped for the rest of the run
PATCH_BUDGET = 2.0  # seconds of one rule's searches on one patch


class RegexTimeout(Exception):
    """A rule regex took longer than the time limit on one line."""


class RegexBudgetSpent(RegexTimeout):
    """A rule's searches have used up its time on this patch."""


class RegexGuard:
    """Compiled rule regexes and their time-outs, for one run (not shared across runs)."""

    def __init__(self, timeout: float = TIMEOUT, max_line: int = MAX_LINE,
                 max_strikes: int = MAX_STRIKES, patch_budget: float = PATCH_BUDGET) -> None:
        self.timeout = timeout
        self.max_line = max_line
        self.max_strikes = max_strikes
        self.patch_budget = patch_budget
        self.strikes: dict[str, int] = {}  # rule id -> timeouts
        self.spent: dict[str, float] = {}  # rule id -> seconds searched on this patch
        self._compiled: dict[str, Any] = {}

    def begin_patch(self) -> None:
        """A new patch: every rule has its whole budget again."""
        self.spent.clear()

    def compile(self, pattern: str) -> Any:
        compiled = self._compiled.get(pattern)
        if compiled is None:
            import regex  # the third-party engine: it has a time limit

            compiled = regex.compile(pattern, flags=regex.VERSION0)
            self._compiled[pattern] = compiled
        return compiled

    def active(self, rule_id: str) -> bool:
        return self.strikes.get(rule_id, 0) < self.max_strikes

    def search(self, rule_id: str, pattern: str, text: str) -> Any:
        """``regex.search`` under the time limit; RegexTimeout (and a strike) past it,
        RegexBudgetSpent when the rule's time on this patch is used up. Lines longer than
        ``max_line`` are not searched (None)."""
        if len(text) > self.max_line:
            return None
        spent = self.spent.get(rule_id, 0.0)
        limit = min(self.timeout, self.patch_budget - spent)
        if limit <= 0:
            raise RegexBudgetSpent(self._spent_message())
        compiled = self.compile(pattern)
        start = time.perf_counter()
        try:
            return compiled.search(text, timeout=limit)
        except TimeoutError as exc:
            if limit < self.timeout:
                raise RegexBudgetSpent(self._spent_message()) from exc
            self.strikes[rule_id] = self.strikes.get(rule_id, 0) + 1
            raise RegexTimeout(f"{rule_id}: regex stopped after {self.timeout} s") from exc
        finally:
            self.spent[rule_id] = spent + time.perf_counter() - start

    def _spent_message(self) -> str:
        return (f"its regular expressions used up their {self.patch_budget:g} s per "
                "patch; not run on the rest of this patch")
