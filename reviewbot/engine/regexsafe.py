"""Rule regexes under a time limit, so that no input can hang a run.

Rule patterns are checked when rules load (``regexcheck.risky_regex``); what that static
check cannot see is bounded here: regex-engine rules run on the third-party ``regex``
engine with a time limit per line (``RegexGuard``). A line that takes longer is skipped for
that rule, and a rule that hits the limit ``MAX_STRIKES`` times is not run again in that
run. Lines longer than ``MAX_LINE`` are not searched by regex rules at all.
"""

from __future__ import annotations

from typing import Any

MAX_LINE = 4_096  # longer diff lines are not searched by regex rules
TIMEOUT = 0.05  # seconds per search of one line
MAX_STRIKES = 3  # timeouts before a rule is dropped for the rest of the run


class RegexTimeout(Exception):
    """A rule regex took longer than the time limit on one line."""


class RegexGuard:
    """Compiled rule regexes and their time-outs, for one run (not shared across runs)."""

    def __init__(self, timeout: float = TIMEOUT, max_line: int = MAX_LINE,
                 max_strikes: int = MAX_STRIKES) -> None:
        self.timeout = timeout
        self.max_line = max_line
        self.max_strikes = max_strikes
        self.strikes: dict[str, int] = {}  # rule id -> timeouts
        self._compiled: dict[str, Any] = {}

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
        """``regex.search`` under the time limit; RegexTimeout (and a strike) past it.
        Lines longer than ``max_line`` are not searched (None)."""
        if len(text) > self.max_line:
            return None
        try:
            return self.compile(pattern).search(text, timeout=self.timeout)
        except TimeoutError as exc:
            self.strikes[rule_id] = self.strikes.get(rule_id, 0) + 1
            raise RegexTimeout(f"{rule_id}: regex stopped after {self.timeout} s") from exc
