"""Feedback on a terminal: a progress bar redrawn in place, and what ``check`` says it
is doing (on stderr, only when stderr is a terminal and not ``--quiet``).

The pipeline and the watcher take a :class:`Progress`; they never decide whether to
draw. :class:`BarProgress` is the one bar (``watch`` draws it while it works through a
backlog); :class:`TerminalFeedback` is ``check``'s: a line saying what starts, and the
bar once the work has lasted long enough to be worth one, erased when it is done.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Protocol


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
                 minimum: int = 20, unit: str = "") -> None:
        self.stream = stream or sys.stderr
        self.width, self.minimum, self.unit = width, minimum, unit
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
        filled = self.width * min(self.done, self.total) // max(self.total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}{self.unit}")
        self.stream.flush()


class TerminalFeedback:
    """``check`` on a terminal: ``reviewbot: LABEL`` when work starts, then, once it has
    lasted ``delay`` seconds, a bar (erased when done, so the report starts on a clean
    line)."""

    def __init__(self, stream: IO[str], delay: float = 0.5) -> None:
        self.stream, self.delay = stream, delay
        self.bar = BarProgress(stream, minimum=1, unit=" diff lines")
        self.started = 0.0
        self.total = self.done = 0

    def say(self, text: str) -> None:
        """One line about what is happening."""
        self.bar.clear()
        self.stream.write(f"reviewbot: {text}\n")
        self.stream.flush()
        self.bar.redraw()

    def start(self, label: str, total: int) -> None:
        self.say(label)
        self.started, self.total, self.done = time.monotonic(), total, 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.bar.active:
            self.bar.advance(n)
        elif self.done < self.total and time.monotonic() - self.started >= self.delay:
            self.bar.start("reviewing", self.total)
            self.bar.advance(self.done)

    def finish(self) -> None:
        self.bar.clear()
        self.stream.flush()
        self.bar.active = False
