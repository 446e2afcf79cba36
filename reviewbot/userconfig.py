"""The reviewer identity and the clock of the replies, from the options and the
:class:`~reviewbot.config.Environment` (``$REVIEWBOT_FROM``, ``$REVIEWBOT_DATE``, the
config file's ``[reply]`` table), then git's ``user.name``/``user.email``.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime
from pathlib import Path

from reviewbot.config import DATE_ENV, FROM_ENV, Environment
from reviewbot.errors import ConfigError
from reviewbot.gitconfig import git_config_values
from reviewbot.series.model import Person

_ADDR = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9.-]+$")


def parse_person(text: str, where: str) -> Person:
    """``Name <addr>`` (or a bare address) into a Person, checked."""
    name, addr = email.utils.parseaddr(text)
    if not addr or not _ADDR.match(addr):
        raise ConfigError(f"{where}: {text!r} is not a mail address ('Name <user@host>')")
    return Person(" ".join(name.split()), addr)


def reviewer_identity(override: str | None, environment: Environment,
                      cwd: Path | None = None) -> Person:
    """Who the replies are from: --from, $REVIEWBOT_FROM, the config file, then git."""
    if override:
        return parse_person(override, "--from")
    if environment.reviewer:
        return parse_person(environment.reviewer, FROM_ENV)
    options = environment.config.reply
    name, addr = options.name, options.email
    if not (name and addr):
        git = git_config_values(["user.name", "user.email"], cwd)
        name, addr = name or git["user.name"], addr or git["user.email"]
    if not addr:
        raise ConfigError("no reviewer address: set git config user.email, email in "
                          f"[reply] of {environment.config.path}, or use --from 'Name <addr>' "
                          "(--format text needs none)")
    return parse_person(f"{name or ''} <{addr}>" if name else addr, "reviewer identity")


def parse_date(text: str, where: str) -> datetime:
    """An RFC 2822 or ISO 8601 date; a date without a time zone is taken as UTC."""
    value = text.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        raise ConfigError(f"{where}: {text!r} is not a date (use ISO 8601 or RFC 2822)")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def reply_date(override: str | None, environment: Environment) -> datetime:
    """The clock: --date, then $REVIEWBOT_DATE, then now (UTC, whole seconds)."""
    if override:
        return parse_date(override, "--date")
    if environment.date:
        return parse_date(environment.date, DATE_ENV)
    return datetime.now(UTC).replace(microsecond=0)
