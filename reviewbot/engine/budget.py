"""The time budget of the rules of one patch: an overrun is a note, not a stall.

Every check is linear (or n log n) in the patch it reads, so a patch's rules take well
under a second per ten thousand lines; the budget is the backstop for the path nobody
has found yet. ``run_rules`` runs each rule under what is left of ``PATCH_SECONDS``
(``time_limit``): a rule still running then is stopped, its findings on that patch are
dropped, and the patch gets a note naming it; the rules after it are not run on that
patch (a note names them too). The next patch starts with a whole budget.

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
from collections.abc import Iterator
from types import FrameType

PATCH_SECONDS = 30.0  # the rules of one patch, all together


class PatchOverrun(BaseException):
    """The patch's time budget ran out (a BaseException: a check's ``except Exception``
    must not swallow it)."""


def _alarm(_signum: int, _frame: FrameType | None) -> None:
    raise PatchOverrun


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise PatchOverrun in the block when it runs longer than ``seconds``."""
    if (not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
