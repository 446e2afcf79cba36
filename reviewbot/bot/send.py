"""The SMTP sender the watcher uses: ``reviewbot.report.smtp`` with the policy's
``[smtp]`` table (or git's ``sendemail.*`` configuration when the table is empty), and a
verdict on every failure: certainly not delivered (``NotSent``: safe to try again), or
unknown (any other error: never sent again).
"""

from __future__ import annotations

import smtplib
import socket
from typing import TYPE_CHECKING

from reviewbot.bot.delivery import NotSent, Sender
from reviewbot.bot.policy import Policy, SmtpTable
from reviewbot.bot.state import ReplyRow
from reviewbot.errors import ReviewbotError

if TYPE_CHECKING:
    from reviewbot.report.smtp import SmtpSettings


def settings_from(table: SmtpTable | None, to_lists: bool) -> SmtpSettings:
    """SmtpSettings from the policy's ``[smtp]`` table (checked when the policy was
    read); git's sendemail.* when the policy has none."""
    from reviewbot.report.smtp import SmtpSettings, smtp_settings

    if table is None:
        return smtp_settings(to_lists=to_lists)
    return SmtpSettings(server=table.server, port=table.port, encryption=table.encryption,
                        user=table.user, domain=table.domain, cert_path=table.cert_path,
                        envelope_sender=table.envelope_sender, to_lists=to_lists,
                        timeout=table.timeout)


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
