"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it accepts."""

from __future__ import annotations

import email
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from reviewbot.bot.policy import SmtpTable


@dataclass
class Delivered:
    sender: str
    rcpts: list[str]
    data: bytes

    def message(self) -> Message:
        return email.message_from_bytes(self.data)

    def header(self, name: str) -> str:
        return str(self.message().get(name, "")).strip()


@dataclass
class Recorder:
    """The aiosmtpd handler: keeps every accepted message; can refuse or be slow."""

    delivered: list[Delivered] = field(default_factory=list)
    refuse: str | None = None  # an SMTP reply such as "550 no thanks" to refuse with
    delay: float = 0.0  # seconds to sleep before accepting (widens a crash window)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos),
                                            bytes(envelope.original_content)))
        return "250 OK"

    def by_header(self, name: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for d in self.delivered:
                key = d.header(name).strip("<>")
                counts[key] = counts.get(key, 0) + 1
        return counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def policy_table(self) -> SmtpTable:
        return SmtpTable("127.0.0.1", self.port, timeout=10)
