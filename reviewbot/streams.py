"""Standard streams that fail the way a user can read: closed, full, or a broken pipe.

:func:`guard_standard_streams` (the command line only) makes two changes:

- A closed standard stream (``reviewbot check x >&-``) leaves its descriptor free: the
  next file opened would get it, and a program run by reviewbot would write its output
  into that file. ``/dev/null`` is put there; a closed standard error then drops what
  it is given (there is nowhere to say anything).
- Standard output writes through :class:`_Output`: a write that fails (``> /dev/full``,
  a full disk, an I/O error, a closed standard output) is an :class:`OutputError` that
  says so, and what is left to write after it is dropped, so the interpreter's own
  flush at exit does not fail a second time. A reader that went away (a broken pipe)
  stays a ``BrokenPipeError``: the command line ends quietly then.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Any

from reviewbot.errors import ReviewbotError


class OutputError(ReviewbotError):
    """The output cannot be written."""


class _Output(io.FileIO):
    """Descriptor 1, failing with a readable error once, then dropping the rest."""

    closed_stream = False  # standard output was closed when the command started
    failed = False

    def write(self, data: Any) -> int:
        if self.failed:
            return len(data)
        try:
            if self.closed_stream:
                raise OSError(errno.EBADF, "standard output is closed")
            return super().write(data)
        except OSError as exc:
            self.failed = True
            if isinstance(exc, BrokenPipeError):
                raise
            raise OutputError(f"cannot write the output: {exc.strerror or exc}") from exc


def guard_standard_streams() -> None:
    """Fill closed standard descriptors with ``/dev/null`` and route standard output
    through :class:`_Output` (same encoding and buffering as before)."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if 2 in closed:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    old = sys.stdout
    raw = _Output(1, "w", closefd=False)
    raw.closed_stream = 1 in closed
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw), encoding=getattr(old, "encoding", None) or "utf-8",
        errors=getattr(old, "errors", None) or "strict",
        line_buffering=bool(old is not None and old.line_buffering))
    if old is not None:
        old.flush()
