"""Send replies over SMTP with git's ``sendemail.*`` configuration.

Keys read (``git config``, as ``git send-email`` reads them): ``sendemail.smtpServer``
(required; a sendmail path is refused), ``sendemail.smtpServerPort`` (default 465 for
ssl, 25 otherwise), ``sendemail.smtpEncryption`` (``ssl``, ``tls`` = STARTTLS, anything
else none), ``sendemail.smtpUser``, ``sendemail.smtpPass`` (else ``git credential fill``
with protocol=smtp, host=server:port, as git send-email does), ``sendemail.smtpDomain``
(EHLO name), ``sendemail.smtpSSLCertPath`` (CA file or directory),
``sendemail.envelopeSender``.

A reply is never sent to a mailing list unless ``to_lists`` is set: ``send`` raises
``ListRefused`` before connecting.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from reviewbot.errors import ConfigError, ReviewbotError
from reviewbot.gitconfig import config_int, git_config_values, run_git
from reviewbot.report.lists import ListMatcher, list_ids
from reviewbot.report.message import as_quoted_printable, drop_header, header_value
from reviewbot.report.reply import Reply

Encryption = Literal["ssl", "tls", "none"]


class SendError(ReviewbotError):
    """Sending a reply failed (connection, TLS, authentication, refused recipients)."""


class ListRefused(SendError):
    """A reply would go to a mailing list and sending to lists was not allowed."""


@dataclass(frozen=True)
class SmtpSettings:
    server: str
    port: int
    encryption: Encryption = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    domain: str | None = None  # EHLO name
    cert_path: str | None = None  # CA file or directory for ssl/tls
    envelope_sender: str | None = None
    to_lists: bool = False  # allow list addresses among the recipients
    lists: ListMatcher = field(default_factory=ListMatcher)
    timeout: float = 60.0
    cwd: Path | None = None  # where git runs (credential helper)

    @property
    def host(self) -> str:
        return f"{self.server}:{self.port}"


_SMTP_KEYS = ("sendemail.smtpServer", "sendemail.smtpEncryption", "sendemail.smtpServerPort",
              "sendemail.smtpUser", "sendemail.smtpPass", "sendemail.smtpDomain",
              "sendemail.smtpSSLCertPath", "sendemail.envelopeSender")


def smtp_settings(cwd: Path | None = None, *, to_lists: bool = False,
                  lists: ListMatcher | None = None, need_server: bool = True) -> SmtpSettings:
    """SmtpSettings from ``git config sendemail.*`` as seen from ``cwd``.

    Without ``need_server`` (a dry run) a missing server is allowed (``server`` empty).
    """
    git = git_config_values(list(_SMTP_KEYS), cwd)  # one git process for all of them
    server = git["sendemail.smtpServer"] or ""
    if not server and need_server:
        raise ConfigError("sendemail.smtpServer is not set (git config --global "
                          "sendemail.smtpServer smtp.example.org)")
    if server.startswith("/"):
        raise ConfigError(f"sendemail.smtpServer is a program ({server}); reviewbot sends "
                          "over SMTP only: set it to a host name")
    raw = (git["sendemail.smtpEncryption"] or "").strip().lower()
    encryption: Encryption = "ssl" if raw == "ssl" else "tls" if raw == "tls" else "none"
    port = config_int("sendemail.smtpServerPort", git["sendemail.smtpServerPort"]) or (
        465 if encryption == "ssl" else 25)
    if not 0 < port < 65536:
        raise ConfigError(f"sendemail.smtpServerPort {port} is not a port number")
    return SmtpSettings(
        server=server.strip(), port=port, encryption=encryption,
        user=git["sendemail.smtpUser"],
        password=git["sendemail.smtpPass"],
        domain=git["sendemail.smtpDomain"],
        cert_path=git["sendemail.smtpSSLCertPath"],
        envelope_sender=git["sendemail.envelopeSender"],
        to_lists=to_lists, lists=lists or ListMatcher(), cwd=cwd)


def author_only(reply: Reply) -> Reply:
    """The reply addressed to the patch author alone: no Cc (the default audience)."""
    if not reply.cc:
        return reply
    return replace(reply, cc=(), data=drop_header(reply.data, "Cc"))


def sender(reply: Reply, settings: SmtpSettings) -> str:
    """The envelope sender: sendemail.envelopeSender (unless "auto"), else From."""
    if settings.envelope_sender and settings.envelope_sender != "auto":
        return settings.envelope_sender
    from email.utils import parseaddr

    return parseaddr(header_value(reply.data, "From") or "")[1]


def envelope_recipients(reply: Reply) -> list[str]:
    return list(dict.fromkeys(p.email for p in (*reply.to, *reply.cc)))


def list_recipients(reply: Reply, settings: SmtpSettings) -> list[str]:
    """The recipients of ``reply`` that are mailing lists."""
    matcher = settings.lists
    if reply.patch is not None:
        matcher = matcher.with_addresses(list_ids(reply.patch.mail.raw))
    return [a for a in envelope_recipients(reply) if matcher.is_list(a)]


def check_audience(reply: Reply, settings: SmtpSettings) -> list[str]:
    """The envelope recipients; raises ListRefused or SendError when it cannot go."""
    rcpts = envelope_recipients(reply)
    if not rcpts:
        raise SendError(f"{reply.subject}: no recipient (the patch has no From address)")
    lists = list_recipients(reply, settings)
    if lists and not settings.to_lists:
        raise ListRefused(f"{reply.subject}: not sending to mailing list(s) "
                          f"{', '.join(lists)} without --to-lists")
    return rcpts


def describe(reply: Reply, settings: SmtpSettings) -> str:
    """What ``send`` would do, for --dry-run: envelope, server, then the message."""
    rcpts = check_audience(reply, settings)
    auth = f" as {settings.user}" if settings.user else ""
    via = (f"{settings.host} ({settings.encryption}){auth}" if settings.server
           else "(sendemail.smtpServer is not set)")
    return (f"Would send {reply.subject!r}\n"
            f"  via {via}\n"
            f"  from {sender(reply, settings)}\n"
            f"  to {', '.join(rcpts)}\n\n"
            + reply.data.decode("utf-8", "replace"))


def _credential(settings: SmtpSettings, action: str, password: str | None = None) -> str | None:
    lines = ["protocol=smtp", f"host={settings.host}"]
    if settings.user:
        lines.append(f"username={settings.user}")
    if password is not None:
        lines.append(f"password={password}")
    proc = run_git(["credential", action], cwd=settings.cwd, stdin="\n".join(lines) + "\n\n",
                   env={"GIT_TERMINAL_PROMPT": "0"} if action != "fill" else None)
    if action != "fill":
        return None
    if proc.returncode != 0:
        raise SendError(f"git credential fill failed for smtp://{settings.host}: "
                        f"{(proc.stderr.strip().splitlines() or ['no password'])[-1]}")
    for line in proc.stdout.splitlines():
        if line.startswith("password="):
            return line[len("password="):]
    raise SendError(f"no password for smtp://{settings.host} (set sendemail.smtpPass or "
                    "a credential helper)")


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    path = settings.cert_path
    if path and Path(path).is_dir():
        return ssl.create_default_context(capath=path)
    if path:
        return ssl.create_default_context(cafile=path)
    return ssl.create_default_context()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    local = settings.domain or None
    if settings.encryption == "ssl":
        return smtplib.SMTP_SSL(settings.server, settings.port, local_hostname=local,
                                timeout=settings.timeout, context=_tls_context(settings))
    conn = smtplib.SMTP(settings.server, settings.port, local_hostname=local,
                        timeout=settings.timeout)
    if settings.encryption == "tls":
        conn.starttls(context=_tls_context(settings))
    return conn


def send(reply: Reply, settings: SmtpSettings) -> None:
    """Send one reply; raises SendError (ListRefused for lists) when it does not go out."""
    rcpts = check_audience(reply, settings)
    if not settings.server:
        raise SendError("sendemail.smtpServer is not set")
    from_addr = sender(reply, settings)
    data = reply.data
    try:
        with _connect(settings) as conn:
            conn.ehlo_or_helo_if_needed()
            if settings.user:
                password = settings.password
                if password is None:
                    password = _credential(settings, "fill")
                try:
                    conn.login(settings.user, password or "")
                except smtplib.SMTPAuthenticationError:
                    if settings.password is None:
                        _credential(settings, "reject", password)
                    raise
                if settings.password is None:
                    _credential(settings, "approve", password)
            options: list[str] = []
            cte = (header_value(data, "Content-Transfer-Encoding") or "").lower()
            if cte == "8bit":
                if conn.has_extn("8bitmime"):
                    options.append("BODY=8BITMIME")
                else:
                    data = as_quoted_printable(data)
            wire = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            refused = conn.sendmail(from_addr, rcpts, wire, mail_options=options)
    except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise SendError(f"{reply.subject}: sending via {settings.host} failed: "
                        f"{_reason(exc)}") from exc
    if refused:
        raise SendError(f"{reply.subject}: the server refused "
                        + ", ".join(sorted(refused)) + " (sent to the others)")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error.decode("utf-8", "replace") if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {' '.join(msg.split())}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "all recipients refused: " + ", ".join(sorted(exc.recipients))
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
