"""Operations output: one structured log line per decision, a progress bar on a TTY."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import IO

from reviewbot.printable import printable

# the bar lives with check's terminal feedback; re-exported for the watcher
from reviewbot.progress import BarProgress as BarProgress
from reviewbot.progress import NoProgress as NoProgress
from reviewbot.progress import Progress as Progress

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
