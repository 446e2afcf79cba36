"""Where new messages come from: a Maildir (read only, never modified), or a lore list.

A source lists the keys of messages the bot has not seen yet (``pending``) and reads one
(``read``). Keys are stable: a Maildir message keeps its key when a mail client moves it
from ``new/`` to ``cur/`` and adds flags.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reviewbot.errors import InputError


@dataclass(frozen=True)
class Entry:
    key: str  # unique over all sources, stored in the state
    locator: str  # how the source finds it again (a path, a URL)


@dataclass(frozen=True)
class Arrival:
    """One message read from a source: its bytes, or why they could not be had."""

    entry: Entry
    data: bytes | None
    problem: str | None = None  # set when data is None and the message is bad for good


class Source(Protocol):
    name: str

    def pending(self, seen: Set[str]) -> list[Entry]:
        """New messages, oldest first."""
        ...

    def read(self, entry: Entry, max_bytes: int) -> Arrival | None:
        """The message; None when it is gone for now (it will be listed again)."""
        ...

    def drain_notes(self) -> list[str]:
        """Problems met since the last call that did not stop the source (logged)."""
        ...


class MaildirSource:
    """A Maildir that mail is delivered into (lei, fetchmail, procmail, an MDA)."""

    def __init__(self, path: Path) -> None:
        if not ((path / "new").is_dir() and (path / "cur").is_dir()):
            raise InputError(f"{path}: not a Maildir (no new/ and cur/ directories)")
        self.path = path
        self.name = f"maildir:{path}"

    def pending(self, seen: Set[str]) -> list[Entry]:
        found: dict[str, Entry] = {}
        for sub in ("new", "cur"):
            try:
                entries = list(os.scandir(self.path / sub))
            except OSError as exc:
                raise InputError(f"cannot list {self.path / sub}: {exc.strerror or exc}") from exc
            for item in entries:
                if item.name.startswith("."):
                    continue
                key = "md:" + item.name.split(":2,", 1)[0]
                if key not in seen and key not in found:
                    found[key] = Entry(key, item.path)
        return [found[k] for k in sorted(found)]

    def read(self, entry: Entry, max_bytes: int) -> Arrival | None:
        path = Path(entry.locator)
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                return Arrival(entry, None, "not a regular file")
            size = info.st_size
            if size > max_bytes:
                return Arrival(entry, None, f"message larger than {max_bytes} bytes ({size})")
            return Arrival(entry, path.read_bytes())
        except FileNotFoundError:
            return None  # moved (new/ -> cur/) or deleted since listed
        except OSError as exc:
            return Arrival(entry, None, f"cannot read: {exc.strerror or exc}")

    def drain_notes(self) -> list[str]:
        return []
