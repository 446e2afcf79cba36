"""The user's reviewbot configuration file and the reviewer identity and clock.

The file is ``$XDG_CONFIG_HOME/reviewbot/config.toml`` (``~/.config/...`` when
``XDG_CONFIG_HOME`` is unset); ``REVIEWBOT_CONFIG`` names another file. Keys (all
optional) are documented in README.md, "Replies"::

    [reply]
    name = "Jane Doe"             # From: name   (default: git config user.name)
    email = "jane@example.org"    # From: address (default: git config user.email)
    signature = "Jane"            # appended after a "-- " line
    lists = ["team@example.org", "*@lists.example.org"]   # more mailing-list addresses
"""

from __future__ import annotations

import email.utils
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewbot.config import config_path
from reviewbot.errors import ConfigError
from reviewbot.gitconfig import git_config_values
from reviewbot.series.model import Person

FROM_ENV = "REVIEWBOT_FROM"
DATE_ENV = "REVIEWBOT_DATE"
_ADDR = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[A-Za-z0-9.-]+$")


@dataclass(frozen=True)
class ReplyOptions:
    """The ``[reply]`` table of the config file."""

    name: str | None = None
    email: str | None = None
    signature: str | None = None
    lists: tuple[str, ...] = ()  # addresses or fnmatch globs treated as mailing lists


def _opt_str(table: dict[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string")
    return value


def reply_options(config: dict[str, Any], where: str = "config") -> ReplyOptions:
    table = config.get("reply", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [reply] must be a table")
    unknown = sorted(set(table) - {"name", "email", "signature", "lists"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) in [reply]: {', '.join(unknown)}")
    lists = table.get("lists", [])
    if not isinstance(lists, list) or not all(isinstance(x, str) for x in lists):
        raise ConfigError(f"{where}: [reply] lists must be a list of strings")
    return ReplyOptions(_opt_str(table, "name", where), _opt_str(table, "email", where),
                        _opt_str(table, "signature", where), tuple(lists))


def parse_person(text: str, where: str) -> Person:
    """``Name <addr>`` (or a bare address) into a Person, checked."""
    name, addr = email.utils.parseaddr(text)
    if not addr or not _ADDR.match(addr):
        raise ConfigError(f"{where}: {text!r} is not a mail address ('Name <user@host>')")
    return Person(" ".join(name.split()), addr)


def reviewer_identity(override: str | None, options: ReplyOptions,
                      cwd: Path | None = None) -> Person:
    """Who the replies are from: --from, $REVIEWBOT_FROM, the config file, then git."""
    if override:
        return parse_person(override, "--from")
    env = os.environ.get(FROM_ENV)
    if env:
        return parse_person(env, FROM_ENV)
    name, addr = options.name, options.email
    if not (name and addr):
        git = git_config_values(["user.name", "user.email"], cwd)
        name, addr = name or git["user.name"], addr or git["user.email"]
    if not addr:
        raise ConfigError("no reviewer address: set git config user.email, email in "
                          f"[reply] of {config_path()}, or use --from 'Name <addr>' "
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


def reply_date(override: str | None) -> datetime:
    """The clock: --date, then $REVIEWBOT_DATE, then now (UTC, whole seconds)."""
    if override:
        return parse_date(override, "--date")
    env = os.environ.get(DATE_ENV)
    if env:
        return parse_date(env, DATE_ENV)
    return datetime.now(UTC).replace(microsecond=0)
