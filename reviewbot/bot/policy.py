"""The watch policy (TOML): what to review, what to report, who receives replies, when.

Everything defaults to the most careful choice: review everything, report everything,
write drafts into the outbox and send nothing.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, tzinfo
from pathlib import Path
from typing import Any, cast

from reviewbot.engine.schema import CONFIDENCES, SEVERITIES, Confidence, Severity
from reviewbot.errors import ConfigError
from reviewbot.findings import Finding
from reviewbot.series.model import Person

DEFAULT_GRACE = 900.0  # seconds to wait for the rest of an incomplete series
DEFAULT_MAX_MESSAGE = 10 * 1024 * 1024
DEFAULT_IDENTITY = Person("reviewbot", "reviewbot@localhost")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time of ``timezone``) in which nothing is sent."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # across midnight


@dataclass(frozen=True)
class Policy:
    # [review]: which series are reviewed
    lists: tuple[str, ...] = ()  # list addresses (To/Cc/List-Id); empty: any
    paths: tuple[str, ...] = ()  # globs on touched files; empty: any
    authors: tuple[str, ...] = ()  # address globs; empty: anyone
    skip_authors: tuple[str, ...] = ()  # opted out (address globs)
    skip_subjects: tuple[str, ...] = ()  # regular expressions, case-insensitive
    grace: float = DEFAULT_GRACE
    max_message_bytes: int = DEFAULT_MAX_MESSAGE
    poll_interval: float = 30.0
    lore_interval: float = 300.0  # seconds between two polls of a lore list
    # [rules]: what is reported
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    preview: bool = False
    rules_dirs: tuple[Path, ...] = ()
    min_severity: Severity = "info"
    min_confidence: Confidence = "low"
    # [reply]: who receives what, and when
    identity: Person | None = None  # None: the reviewer identity of `check --reply`
    signature: str | None = None
    summary: bool = False
    all_patches: bool = False
    send: bool = False  # False: drafts in the outbox only
    cc_lists: tuple[str, ...] = ()  # lists Cc'd on sent replies (none: author only)
    max_per_series: int = 5
    max_per_hour: int = 20  # sent replies, all series together
    embargo: float = 0.0  # seconds after a series was posted before a reply is sent
    quiet_hours: QuietHours | None = None
    timezone: str | None = None  # IANA name for quiet hours; None: the machine's
    # [smtp]: passed to the SMTP sender
    smtp: Mapping[str, Any] = field(default_factory=dict)
    # [revisions]: compare each vN with vN-1 (looked up on a public-inbox server)
    revisions: bool = True
    revisions_url: str | None = None  # None: the first --lore-list followed

    # -- decisions ---------------------------------------------------------------------
    def skip_reason(self, author: str | None, subject: str,
                    recipients: Iterable[str]) -> str | None:
        """Why a series is not reviewed (before looking at its diff), or None."""
        addr = (author or "").lower()
        if any(fnmatch.fnmatchcase(addr, p.lower()) for p in self.skip_authors):
            return f"author {addr} opted out"
        if self.authors and not any(fnmatch.fnmatchcase(addr, p.lower())
                                    for p in self.authors):
            return f"author {addr or '(none)'} not in the policy's authors"
        for pattern in self.skip_subjects:
            if re.search(pattern, subject, re.IGNORECASE):
                return f"subject matches skip pattern {pattern!r}"
        if self.lists:
            wanted = {x.lower() for x in self.lists}
            if not wanted & {r.lower() for r in recipients}:
                return "not sent to a list the policy reviews"
        return None

    def paths_reason(self, files: Iterable[str]) -> str | None:
        """Why a series is not reviewed given the files it touches, or None."""
        if not self.paths:
            return None
        if any(fnmatch.fnmatchcase(f, p) for f in files for p in self.paths):
            return None
        return "touches no path the policy reviews"

    def reports(self, finding: Finding) -> bool:
        return (SEVERITIES.index(finding.severity) >= SEVERITIES.index(self.min_severity)
                and CONFIDENCES.index(finding.confidence)
                >= CONFIDENCES.index(self.min_confidence))

    def zone(self) -> tzinfo | None:
        if self.timezone is None:
            return None
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.timezone)

    def is_quiet(self, now: float) -> bool:
        if self.quiet_hours is None:
            return False
        local = datetime.fromtimestamp(now, self.zone()).time()
        return self.quiet_hours.contains(local)


# -- loading ------------------------------------------------------------------------------

_SECTIONS: dict[str, set[str]] = {
    "review": {"lists", "paths", "authors", "skip_authors", "skip_subjects", "grace",
               "max_message_bytes", "poll_interval", "lore_interval"},
    "rules": {"select", "ignore", "preview", "rules_dirs", "min_severity", "min_confidence"},
    "reply": {"from", "signature", "summary", "all_patches", "send", "cc_lists",
              "max_per_series", "max_per_hour", "embargo", "quiet_hours", "timezone"},
    "smtp": set(),  # free-form: handed to the sender, which checks it
    "revisions": {"enabled", "lore_url"},
}


class _Reader:
    """Typed access to one TOML table, collecting every problem before raising."""

    def __init__(self, table: Mapping[str, Any], section: str, problems: list[str]) -> None:
        self.table, self.section, self.problems = table, section, problems

    def _bad(self, key: str, want: str) -> None:
        self.problems.append(f"[{self.section}] {key}: expected {want}")

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._bad(key, "a list of strings")
            return ()
        return tuple(value)

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            self._bad(key, f"a number >= {minimum:g}")
            return default
        return float(value)

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self._bad(key, f"an integer >= {minimum}")
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self._bad(key, "true or false")
            return default
        return value

    def text(self, key: str) -> str | None:
        value = self.table.get(key)
        if value is not None and not isinstance(value, str):
            self._bad(key, "a string")
            return None
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.table.get(key, default)
        if value not in choices:
            self._bad(key, "one of " + ", ".join(choices))
            return default
        return str(value)


def _identity(text: str | None, problems: list[str]) -> Person | None:
    if text is None:
        return None
    import email.utils

    name, addr = email.utils.parseaddr(text)
    if "@" not in addr:
        problems.append(f"[reply] from: {text!r} is not a mail address")
        return None
    return Person(name, addr)


def _quiet(text: str | None, problems: list[str]) -> QuietHours | None:
    if text is None or text == "":
        return None
    parts = text.split("-")
    matches = [_HHMM.match(p.strip()) for p in parts] if len(parts) == 2 else []
    if len(matches) != 2 or not all(matches):
        problems.append(f"[reply] quiet_hours: {text!r} is not HH:MM-HH:MM")
        return None
    start, end = (time(int(m.group(1)), int(m.group(2))) for m in matches if m)
    return QuietHours(start, end)


def _server(text: str | None, problems: list[str]) -> str | None:
    if text is None:
        return None
    from reviewbot.errors import InputError
    from reviewbot.fetch.lore import normalize_base_url

    try:
        return normalize_base_url(text)
    except InputError as exc:
        problems.append(f"[revisions] lore_url: {exc}")
        return None


def parse_policy(data: Mapping[str, Any], origin: str = "policy") -> Policy:
    """Build a Policy from a parsed TOML document; every problem is listed at once."""
    problems: list[str] = []
    for key, value in data.items():
        if key not in _SECTIONS:
            problems.append(f"unknown section [{key}]")
        elif not isinstance(value, dict):
            problems.append(f"[{key}] must be a table")
        elif _SECTIONS[key]:
            problems.extend(f"[{key}] unknown key {k!r}" for k in value
                            if k not in _SECTIONS[key])

    def table(name: str) -> Mapping[str, Any]:
        value = data.get(name, {})
        return value if isinstance(value, dict) else {}

    review = _Reader(table("review"), "review", problems)
    rules = _Reader(table("rules"), "rules", problems)
    reply = _Reader(table("reply"), "reply", problems)
    revisions = _Reader(table("revisions"), "revisions", problems)
    skip_subjects = review.strings("skip_subjects")
    for pattern in skip_subjects:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"[review] skip_subjects: bad regular expression {pattern!r}: {exc}")
    timezone = reply.text("timezone")
    if timezone is not None:
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(timezone)
        except (ValueError, KeyError, OSError):
            problems.append(f"[reply] timezone: unknown time zone {timezone!r}")
            timezone = None
    policy = Policy(
        lists=review.strings("lists"),
        paths=review.strings("paths"),
        authors=review.strings("authors"),
        skip_authors=review.strings("skip_authors"),
        skip_subjects=skip_subjects,
        grace=review.number("grace", DEFAULT_GRACE),
        max_message_bytes=review.integer("max_message_bytes", DEFAULT_MAX_MESSAGE, 1024),
        poll_interval=review.number("poll_interval", 30.0, 0.05),
        lore_interval=review.number("lore_interval", 300.0, 0.05),
        select=rules.strings("select"),
        ignore=rules.strings("ignore"),
        preview=rules.flag("preview", False),
        rules_dirs=tuple(Path(p) for p in rules.strings("rules_dirs")),
        min_severity=cast(Severity, rules.choice("min_severity", SEVERITIES, "info")),
        min_confidence=cast(Confidence, rules.choice("min_confidence", CONFIDENCES, "low")),
        identity=_identity(reply.text("from"), problems),
        signature=reply.text("signature"),
        summary=reply.flag("summary", False),
        all_patches=reply.flag("all_patches", False),
        send=reply.flag("send", False),
        cc_lists=reply.strings("cc_lists"),
        max_per_series=reply.integer("max_per_series", 5, 1),
        max_per_hour=reply.integer("max_per_hour", 20, 0),
        embargo=reply.number("embargo", 0.0),
        quiet_hours=_quiet(reply.text("quiet_hours"), problems),
        timezone=timezone,
        smtp=dict(table("smtp")),
        revisions=revisions.flag("enabled", True),
        revisions_url=_server(revisions.text("lore_url"), problems),
    )
    if problems:
        raise ConfigError(f"{origin}: " + "; ".join(problems))
    return policy


def load_policy(path: Path | None) -> Policy:
    """The policy in ``path`` (TOML), or the default policy when ``path`` is None."""
    if path is None:
        return Policy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read policy {path}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_policy(data, str(path))
