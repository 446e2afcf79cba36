"""Operations output: one structured log line per decision, a progress bar on a TTY."""

from __future__ import annotations

import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import IO, Protocol

from reviewbot.printable import printable

LOGGER = "reviewbot.watch"
_BARE = re.compile(r"[A-Za-z0-9_.:/@<>+\-]*")


def logfmt(fields: dict[str, object]) -> str:
    """``key=value`` pairs; values with spaces or quotes are quoted (logfmt), control
    characters written as escapes (see ``reviewbot.printable``)."""
    out = []
    for key, value in fields.items():
        if value is None:
            continue
        text = str(value)
        if not text or not _BARE.fullmatch(text):  # ("$" would let "x\n" through)
            text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            text = '"' + printable(text) + '"'
        out.append(f"{key}={text}")
    return " ".join(out)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventLog:
    """Writes decision lines to the ``reviewbot.watch`` logger (the CLI routes them)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(LOGGER)

    def event(self, ts: float, event: str, level: int = logging.INFO,
              **fields: object) -> None:
        self.logger.log(level, logfmt({"ts": iso(ts), "event": event, **fields}))


class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


class BarProgress:
    """A one-line progress bar redrawn in place (for a terminal), at most 10 times/s."""

    def __init__(self, stream: IO[str] | None = None, width: int = 30,
                 minimum: int = 20) -> None:
        self.stream = stream or sys.stderr
        self.width, self.minimum = width, minimum
        self.label, self.total, self.done, self.drawn = "", 0, 0, 0.0
        self.active = False

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.active = total >= self.minimum
        self._draw(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        self._draw(force=self.done >= self.total)

    def finish(self) -> None:
        if self.active:
            self.stream.write("\n")
            self.stream.flush()
        self.active = False

    def clear(self) -> None:
        """Blank the bar's line (before a log line is written)."""
        if self.active:
            self.stream.write("\r\033[K")

    def redraw(self) -> None:
        self._draw(force=True)

    def _draw(self, force: bool = False) -> None:
        if not self.active:
            return
        now = time.monotonic()
        if not force and now - self.drawn < 0.1:
            return
        self.drawn = now
        filled = self.width * self.done // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}")
        self.stream.flush()


class BarAwareHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Log lines to a stream shared with a progress bar: clear it, write, redraw."""

    def __init__(self, stream: IO[str], bar: BarProgress | None) -> None:
        super().__init__(stream)
        self.bar = bar

    def emit(self, record: logging.LogRecord) -> None:
        if self.bar is not None:
            self.bar.clear()
        super().emit(record)
        if self.bar is not None:
            self.bar.redraw()
