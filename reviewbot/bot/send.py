"""The SMTP sender the watcher uses: ``reviewbot.report.smtp`` with the policy's
``[smtp]`` table (or git's ``sendemail.*`` configuration when the table is empty), and a
verdict on every failure: certainly not delivered (``NotSent``: safe to try again), or
unknown (any other error: never sent again).
"""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reviewbot.bot.delivery import NotSent, Sender
from reviewbot.bot.policy import Policy
from reviewbot.bot.state import ReplyRow
from reviewbot.errors import ConfigError, ReviewbotError

if TYPE_CHECKING:
    from reviewbot.report.smtp import SmtpSettings

SMTP_KEYS = {"server", "port", "encryption", "user", "domain", "envelope_sender", "timeout",
             "cert_path"}


def settings_from(table: Mapping[str, Any], to_lists: bool) -> SmtpSettings:
    """SmtpSettings from a policy ``[smtp]`` table; git's sendemail.* when it is empty."""
    from reviewbot.report.smtp import SmtpSettings, smtp_settings

    if not table:
        return smtp_settings(to_lists=to_lists)
    unknown = sorted(set(table) - SMTP_KEYS)
    if unknown:
        raise ConfigError(f"[smtp] unknown key(s) {', '.join(unknown)} (known: "
                          f"{', '.join(sorted(SMTP_KEYS))}; the password comes from git's "
                          "credential helper or sendemail.smtpPass)")
    server, port = table.get("server"), table.get("port", 25)
    encryption = table.get("encryption", "none")
    if not isinstance(server, str) or not server or server.startswith("/"):
        raise ConfigError("[smtp] server: expected a host name")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError("[smtp] port: expected a port number")
    if encryption not in ("ssl", "tls", "none"):
        raise ConfigError("[smtp] encryption: expected ssl, tls or none")
    timeout = table.get("timeout", 60.0)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError("[smtp] timeout: expected seconds > 0")
    texts = {}
    for key in ("user", "domain", "envelope_sender", "cert_path"):
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"[smtp] {key}: expected a string")
        texts[key] = value
    return SmtpSettings(server=server, port=port, encryption=encryption,
                        user=texts["user"], domain=texts["domain"],
                        cert_path=texts["cert_path"], envelope_sender=texts["envelope_sender"],
                        to_lists=to_lists, timeout=float(timeout))


def _refused_before_data(exc: BaseException) -> tuple[bool, bool] | None:
    """(not delivered, permanent) when the cause proves the server did not take it."""
    if isinstance(exc, smtplib.SMTPServerDisconnected | socket.timeout | TimeoutError):
        return None  # may have happened after the data: unknown
    if isinstance(exc, smtplib.SMTPResponseException):
        return True, exc.smtp_code >= 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True, True
    if isinstance(exc, ConnectionRefusedError | socket.gaierror | smtplib.SMTPConnectError
                  | smtplib.SMTPNotSupportedError):
        return True, False
    return None


def smtp_sender(policy: Policy) -> Sender:
    """A Sender for the policy: raises NotSent when the reply certainly did not go."""
    from reviewbot.report.reply import Reply
    from reviewbot.report.smtp import SendError, check_audience, send

    settings = settings_from(policy.smtp, to_lists=bool(policy.cc_lists))

    def sender(row: ReplyRow) -> None:
        reply = Reply(patch=None, msgid=row.msgid, in_reply_to=row.in_reply_to, to=row.to,
                      cc=row.cc, subject=row.subject, data=row.data)
        try:
            check_audience(reply, settings)
        except ReviewbotError as exc:  # refused before connecting
            raise NotSent(str(exc), permanent=True) from exc
        try:
            send(reply, settings)
        except SendError as exc:
            cause = exc.__cause__
            if cause is None:
                if "sent to the others" in str(exc):
                    return  # delivered to some recipients: sending again would duplicate
                raise NotSent(str(exc), permanent=True) from exc  # e.g. no credentials
            verdict = _refused_before_data(cause)
            if verdict is None:
                raise
            raise NotSent(str(exc), permanent=verdict[1]) from exc

    return sender
