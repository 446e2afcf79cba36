"""The watch policy (TOML): what to review, what to report, who receives replies, when.

Everything defaults to the most careful choice: review everything, report everything,
write drafts into the outbox and send nothing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, tzinfo
from pathlib import Path
from typing import Any, Literal, cast

from reviewbot.engine.schema import CONFIDENCES, SEVERITIES, Confidence, Severity
from reviewbot.errors import ConfigError
from reviewbot.findings import Finding
from reviewbot.series.model import Person
from reviewbot.tomlread import Problems, Table, read_toml

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
class SmtpTable:
    """The policy's ``[smtp]`` table (the password: git's credential helper or
    ``sendemail.smtpPass``)."""

    server: str
    port: int = 25
    encryption: Literal["ssl", "tls", "none"] = "none"
    user: str | None = None
    domain: str | None = None  # EHLO name
    envelope_sender: str | None = None
    timeout: float = 60.0
    cert_path: str | None = None


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
    # [smtp]: the SMTP server (None: git's sendemail.* configuration)
    smtp: SmtpTable | None = None
    source: str | None = None  # the policy file it was read from (None: the defaults)
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


# -- what --status shows -----------------------------------------------------------------

def _listed(values: Iterable[str], empty: str) -> str:
    return ", ".join(values) or empty


def _seconds(value: float) -> str:
    return f"{value:.15g}s"


def describe(policy: Policy) -> list[str]:
    """The policy in a few lines: what ``watch --status`` shows of the one in force."""
    rules = (f"select {_listed(policy.select, 'all')}; ignore {_listed(policy.ignore, 'none')}"
             f"; preview {'on' if policy.preview else 'off'}; reported: "
             f"{policy.min_severity} and up, confidence {policy.min_confidence} and up")
    if policy.rules_dirs:
        rules += "; rules from " + ", ".join(str(p) for p in policy.rules_dirs)
    who = policy.identity.formatted() if policy.identity else "as check --reply"
    lines = [
        f"policy: {policy.source or 'the defaults (no --policy)'}",
        f"  review: lists {_listed(policy.lists, 'any')}; paths {_listed(policy.paths, 'any')}"
        f"; authors {_listed(policy.authors, 'anyone')}"
        + (f" but not {_listed(policy.skip_authors, '')}" if policy.skip_authors else "")
        + (f"; skip subjects {_listed(policy.skip_subjects, '')}"
           if policy.skip_subjects else ""),
        f"  timing: grace {_seconds(policy.grace)}, poll every "
        f"{_seconds(policy.poll_interval)}, lore lists every {_seconds(policy.lore_interval)}",
        f"  rules: {rules}",
        f"  replies: {'sent over SMTP' if policy.send else 'drafts in the outbox'}, from {who}"
        f", at most {policy.max_per_series} per series"
        + ("; a summary to the cover letter" if policy.summary else "")
        + ("; every patch" if policy.all_patches else ""),
    ]
    lines.append("  revisions: " + (
        "each vN compared with vN-1, looked up on "
        + (policy.revisions_url or "the first --lore-list followed")
        if policy.revisions else "not compared"))
    if policy.send:
        smtp = (f"{policy.smtp.server}:{policy.smtp.port} ({policy.smtp.encryption})"
                if policy.smtp else "git's sendemail.* configuration")
        quiet = (f"{policy.quiet_hours.start:%H:%M}-{policy.quiet_hours.end:%H:%M}"
                 f" {policy.timezone or 'local time'}" if policy.quiet_hours else "none")
        lines.append(f"  sending: via {smtp}; lists Cc'd: "
                     f"{_listed(policy.cc_lists, 'none (the author only)')}"
                     f"; at most {policy.max_per_hour} per hour; embargo "
                     f"{_seconds(policy.embargo)}; quiet hours {quiet}")
    return lines


# -- loading ------------------------------------------------------------------------------

SECTIONS: dict[str, tuple[str, ...]] = {
    "review": ("lists", "paths", "authors", "skip_authors", "skip_subjects", "grace",
               "max_message_bytes", "poll_interval", "lore_interval"),
    "rules": ("select", "ignore", "preview", "rules_dirs", "min_severity", "min_confidence"),
    "reply": ("from", "signature", "summary", "all_patches", "send", "cc_lists",
              "max_per_series", "max_per_hour", "embargo", "quiet_hours", "timezone"),
    "smtp": ("server", "port", "encryption", "user", "domain", "envelope_sender", "timeout",
             "cert_path"),
    "revisions": ("enabled", "lore_url"),
}


def _identity(text: str | None, problems: Problems) -> Person | None:
    if text is None:
        return None
    import email.utils

    name, addr = email.utils.parseaddr(text)
    if "@" not in addr:
        problems.add(f"[reply] from: {text!r} is not a mail address")
        return None
    return Person(name, addr)


def _quiet(text: str | None, problems: Problems) -> QuietHours | None:
    if text is None or text == "":
        return None
    parts = text.split("-")
    matches = [_HHMM.match(p.strip()) for p in parts] if len(parts) == 2 else []
    if len(matches) != 2 or not all(matches):
        problems.add(f"[reply] quiet_hours: {text!r} is not HH:MM-HH:MM")
        return None
    start, end = (time(int(m.group(1)), int(m.group(2))) for m in matches if m)
    return QuietHours(start, end)


def _server(text: str | None, problems: Problems) -> str | None:
    if text is None:
        return None
    from reviewbot.errors import InputError
    from reviewbot.fetch.lore import normalize_base_url

    try:
        return normalize_base_url(text)
    except InputError as exc:
        problems.add(f"[revisions] lore_url: {exc}")
        return None


def _smtp(table: Table) -> SmtpTable | None:
    """The ``[smtp]`` table (None when empty: git's sendemail.* configuration)."""
    if not table.data:
        return None
    server = table.text("server")
    if not server or server.startswith("/"):
        table.problems.add("[smtp] server: expected a host name (a sendmail path is not "
                           "supported)")
    port = table.integer("port", 25, 1)
    if port > 65535:
        table.problems.add("[smtp] port: expected a port number")
    return SmtpTable(server=server or "", port=port,
                     encryption=cast(Literal["ssl", "tls", "none"],
                                     table.choice("encryption", ("ssl", "tls", "none"), "none")),
                     user=table.text("user"), domain=table.text("domain"),
                     envelope_sender=table.text("envelope_sender"),
                     timeout=table.optional_number("timeout", positive=True) or 60.0,
                     cert_path=table.text("cert_path"))


def parse_policy(data: Mapping[str, Any], origin: str = "policy") -> Policy:
    """Build a Policy from a parsed TOML document; every problem is listed at once."""
    problems = Problems(origin)
    top = Table(data, "", problems, SECTIONS)
    review, rules, reply = (top.table(name, SECTIONS[name])
                            for name in ("review", "rules", "reply"))
    smtp = _smtp(top.table("smtp", SECTIONS["smtp"]))
    revisions = top.table("revisions", SECTIONS["revisions"])
    skip_subjects = review.strings("skip_subjects")
    for pattern in skip_subjects:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.add(f"[review] skip_subjects: bad regular expression {pattern!r}: {exc}")
    timezone = reply.text("timezone")
    if timezone is not None:
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(timezone)
        except (ValueError, KeyError, OSError):
            problems.add(f"[reply] timezone: unknown time zone {timezone!r}")
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
        smtp=smtp,
        revisions=revisions.flag("enabled", True),
        revisions_url=_server(revisions.text("lore_url"), problems),
    )
    problems.check()
    return policy


def load_policy(path: Path | None) -> Policy:
    """The policy in ``path`` (TOML), or the default policy when ``path`` is None."""
    if path is None:
        return Policy()
    data = read_toml(path, "policy")
    if data is None:
        raise ConfigError(f"cannot read policy {path}: No such file or directory")
    # recorded for --status, which may run in another directory: the absolute path
    return replace(parse_policy(data, str(path)), source=str(path.absolute()))
