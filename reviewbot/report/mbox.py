"""Write replies out: an mbox (stdout or ``replies.mbox``) and one ``.eml`` per reply.

The ``.eml`` files are the messages as built (what ``git send-email DIR/*.eml``
sends). In the mbox, a message whose body has a line starting with ``From `` (a comment
such as "From the code style, ..." would) is re-encoded quoted-printable with that ``F``
written ``=46``, so that no reader (mutt, git mailsplit, Python's mailbox, b4) can take
it for a message separator or show it ``>From``-escaped; the decoded text is unchanged.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from reviewbot.errors import ReviewbotError
from reviewbot.report.message import as_quoted_printable, has_from_line
from reviewbot.report.reply import Reply
from reviewbot.series.subject import parse_subject

MBOX_NAME = "replies.mbox"
FROM_LINE = b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
_OURS = re.compile(r"^\d{4}-[A-Za-z0-9._-]*\.eml$")


class OutputError(ReviewbotError):
    """The output directory cannot be written."""


def mbox_entry(data: bytes) -> bytes:
    """One message as an mbox entry (separator line, message, blank line)."""
    if has_from_line(data):
        data = as_quoted_printable(data)
    if not data.endswith(b"\n"):
        data += b"\n"
    return FROM_LINE + data + b"\n"


def mbox_bytes(replies: Sequence[Reply]) -> bytes:
    return b"".join(mbox_entry(r.data) for r in replies)


def slug(title: str, limit: int = 52) -> str:
    """``git format-patch``-style file name part: safe characters only, bounded."""
    s = re.sub(r"[^A-Za-z0-9._]+", "-", title).strip("-.")
    s = re.sub(r"\.{2,}", ".", s)[:limit].rstrip("-.")
    return s or "reply"


def filenames(replies: Sequence[Reply]) -> list[str]:
    """``NNNN-subject-slug.eml`` (0000 for the cover-letter summary), unique."""
    names: list[str] = []
    used: set[str] = set()
    for r in replies:
        number = r.patch.index if r.patch is not None else 0
        base = f"{number:04d}-{slug(parse_subject(r.subject).title)}"
        name, n = f"{base}.eml", 2
        while name in used:
            name, n = f"{base}-{n}.eml", n + 1
        used.add(name)
        names.append(name)
    return names


def write_output(directory: Path, replies: Sequence[Reply]) -> list[Path]:
    """Write the .eml files and ``replies.mbox`` into ``directory``, atomically.

    Everything is written into a temporary directory first and then renamed into place;
    ``NNNN-*.eml`` files left by an earlier run are removed, so the directory holds the
    replies of this run only (``git send-email DIR/*.eml`` sends exactly these).
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {directory}: {exc.strerror or exc}") from exc
    if not directory.is_dir():
        raise OutputError(f"{directory} is not a directory")
    names = filenames(replies)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".reviewbot-", dir=directory))
    except OSError as exc:
        raise OutputError(f"cannot write to {directory}: {exc.strerror or exc}") from exc
    written: list[Path] = []
    try:
        for name, reply in zip(names, replies, strict=True):
            _write(tmp / name, reply.data)
        _write(tmp / MBOX_NAME, mbox_bytes(replies))
        stale = [p for p in directory.iterdir() if _OURS.match(p.name) and p.name not in names]
        for name in [*names, MBOX_NAME]:
            os.replace(tmp / name, directory / name)
            written.append(directory / name)
        for p in stale:
            p.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write to {directory}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written


def _write(path: Path, data: bytes) -> None:
    with path.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
