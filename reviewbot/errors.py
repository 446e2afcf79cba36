"""One exception hierarchy for reviewbot.

Library code raises these (wrapping lower libraries' errors at the boundary); only
``cli.py`` prints them, as one line, and picks the exit code.
"""

from __future__ import annotations


class ReviewbotError(Exception):
    """Base class: a problem the user can act on; printed as one line, exit 2."""


class InputError(ReviewbotError):
    """The input could not be read or holds no patch."""


class RuleError(ReviewbotError):
    """A rule file is invalid (the message lists every problem)."""


class ConfigError(ReviewbotError):
    """The configuration is invalid."""


class FetchError(ReviewbotError):
    """Fetching from a remote archive failed."""


class LimitError(InputError):
    """An input exceeds a configured size limit."""
