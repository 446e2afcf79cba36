"""Write replies out: an mbox (stdout or ``replies.mbox``) and one ``.eml`` per reply.

The ``.eml`` files are the messages as built (what ``git send-email DIR/*.eml``
sends). Rewriting a directory replaces the replies of the earlier run: only files
reviewbot wrote are replaced or removed (regular files whose headers say so), and
anything else in the way of a new file stops the run before anything is written.

In the mbox, a message whose body has a line starting with ``From `` (a comment such as
"From the code style, ..." would) is re-encoded quoted-printable with that ``F`` written
``=46``, so that no reader (mutt, git mailsplit, Python's mailbox, b4) can take it for a
message separator or show it ``>From``-escaped; the decoded text is unchanged.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
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
_OUR_HEADERS = (re.compile(rb"^User-Agent: reviewbot$", re.MULTILINE),
                re.compile(rb"^Message-ID: <reviewbot\.[0-9a-f]{32}@", re.MULTILINE))


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


def _ours(path: Path) -> bool:
    """Whether ``path`` is a file reviewbot wrote: a regular file (not a link), and a
    reply of ours (the headers of every message ``build_message`` makes) or a
    ``replies.mbox`` of them."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return False
        with path.open("rb") as fh:
            head = fh.read(64 * 1024)
    except OSError:
        return False
    if path.name == MBOX_NAME:
        return not head or head.startswith(FROM_LINE)
    headers = head.partition(b"\n\n")[0]
    return bool(_OUR_HEADERS[0].search(headers) and _OUR_HEADERS[1].search(headers))


def _in_the_way(directory: Path, names: Sequence[str]) -> str | None:
    """Why a new file cannot replace what is there (something reviewbot did not write)."""
    for name in names:
        path = directory / name
        if not os.path.lexists(path) or _ours(path):
            continue
        kind = ("a directory" if path.is_dir() and not path.is_symlink() else
                "a symbolic link" if path.is_symlink() else "a file reviewbot did not write")
        return f"{path} is in the way: {kind}; nothing was written (move it, or choose " \
               "another --output)"
    return None


def write_output(directory: Path, replies: Sequence[Reply]) -> list[Path]:
    """Write the .eml files and ``replies.mbox`` into ``directory``, atomically.

    Everything is written into a temporary directory first and then renamed into place;
    ``NNNN-*.eml`` replies left by an earlier run are removed, so the directory holds the
    replies of this run only (``git send-email DIR/*.eml`` sends exactly these). Only
    files reviewbot wrote are replaced or removed: anything else with the name of a new
    file is an error before anything is written, anything else is left alone.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {directory}: {exc.strerror or exc}") from exc
    if not directory.is_dir():
        raise OutputError(f"{directory} is not a directory")
    names = filenames(replies)
    problem = _in_the_way(directory, [*names, MBOX_NAME])
    if problem:
        raise OutputError(problem)
    try:
        stale = [p for p in directory.iterdir()
                 if _OURS.match(p.name) and p.name not in names and _ours(p)]
        tmp = Path(tempfile.mkdtemp(prefix=".reviewbot-", dir=directory))
    except OSError as exc:
        raise OutputError(f"cannot write to {directory}: {exc.strerror or exc}") from exc
    written: list[Path] = []
    try:
        for name, reply in zip(names, replies, strict=True):
            _write(tmp / name, reply.data)
        _write(tmp / MBOX_NAME, mbox_bytes(replies))
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
