"""SIGTERM stops any command within seconds, even one stuck in a long call into C.

Python runs a signal handler between two bytecodes of the main thread, so a command
unwinds at once from Python code and from a wait on a socket or a pipe, but not from a
long call into C that holds the interpreter (a tree-sitter query over a huge file): the
handler runs when that call returns, which can be minutes later. A command started
from the command line therefore also gets a backstop (:func:`install_backstop`): a small
forked process that the signal wakes at once (``signal.set_wakeup_fd``: the C-level
handler writes the signal number into a pipe, whatever the main thread is doing), and
that SIGKILLs the command when its Python handler has not run (:func:`handled`)
``GRACE`` seconds later: what a crash would leave (the watch state is crash-safe).
The backstop ends when the command does (the pipe closes); it ignores SIGTERM and
SIGINT sent to the whole process group.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time

GRACE = 5.0  # seconds the Python handler has to run after SIGTERM
_HANDLED = b"\0"
_wakeup: list[int] = []  # the pipe's write end, once installed


def install_backstop(grace: float = GRACE) -> None:
    """Start the backstop process (once, from the main thread; where ``fork`` exists)."""
    if _wakeup or not hasattr(os, "fork"):
        return
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the backstop
        try:
            os.close(write_fd)
            _backstop(read_fd, parent, grace)
        finally:
            os._exit(0)
    os.close(read_fd)
    os.set_blocking(write_fd, False)
    os.set_inheritable(write_fd, False)  # programs run by the command do not get it
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    _wakeup.append(write_fd)


def handled() -> None:
    """Tell the backstop that the Python handler runs: the command stops by itself."""
    if _wakeup:  # (an OSError: the backstop is gone, or its pipe is full)
        with contextlib.suppress(OSError):
            os.write(_wakeup[0], _HANDLED)


def _backstop(read_fd: int, parent: int, grace: float) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # hold none of the command's outputs open
        os.dup2(null, fd)
    os.closerange(3, read_fd)
    os.closerange(read_fd + 1, 1 << 16)
    deadline: float | None = None
    while True:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([read_fd], [], [], timeout)
        if not ready:  # SIGTERM, and no sign of the handler for `grace` seconds
            os.kill(parent, signal.SIGKILL)
            return
        data = os.read(read_fd, 256)
        if not data:  # the command ended
            return
        for byte in data:
            if byte == signal.SIGTERM and deadline is None:
                deadline = time.monotonic() + grace
            elif byte == _HANDLED[0]:
                deadline = None
