"""The time budget of the rules of one patch: an overrun is a note, not a stall.

Every check is linear (or n log n) in the patch it reads, so a patch's rules take well
under a second per ten thousand lines; the budget is the backstop for the path nobody
has found yet. ``run_rules`` runs the rules of a patch under one ``time_limit`` of
``PATCH_SECONDS`` (one interval timer per patch, each rule a ``Limit.step``): a rule still
running then is stopped, its findings on that patch are dropped, and the patch gets a
note naming it; the rules after it are not run on that patch (a note names them too).
The next patch starts with a whole budget.

``time_limit`` stops Python code at once (an interval timer's SIGALRM, where there is
one and in the main thread) and a long call into C when it returns; elsewhere (another
thread, no SIGALRM) the budget is checked between rules only. SIGTERM is not affected:
its handler (``reviewbot.signals``) runs as before, and the backstop process ignores
the SIGALRM bytes that reach its wake-up pipe.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

PATCH_SECONDS = 30.0  # the rules of one patch, all together


class PatchOverrun(BaseException):
    """The patch's time budget ran out (a BaseException: a check's ``except Exception``
    must not swallow it)."""


class Limit:
    """The time of a ``time_limit`` block: ``PatchOverrun`` is raised in a ``step`` that
    is running when it runs out (between steps, ``spent`` says so)."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self._armed = False

    def spent(self) -> bool:
        return time.monotonic() >= self.deadline

    def alarm(self, _signum: int, _frame: FrameType | None) -> None:
        if self._armed:
            raise PatchOverrun

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """Raise PatchOverrun in the block when the time runs out (at once when it
        already has: the timer may have rung between two steps)."""
        self._armed = True
        try:
            if self.spent():
                raise PatchOverrun
            yield
        finally:
            self._armed = False


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[Limit]:
    """Raise PatchOverrun in the block's steps (``Limit.step``) running when it has run
    longer than ``seconds``: one interval timer for the whole block."""
    limit = Limit(seconds)
    if (not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield limit
        return
    previous = signal.signal(signal.SIGALRM, limit.alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
        try:
            yield limit
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
