"""Decide where a ``check`` argument comes from and read its messages."""

from __future__ import annotations

from reviewbot.fetch.local import RawMessage, read_source


def read_input(source: str, max_bytes: int) -> list[RawMessage]:
    """Messages of a local source: a file, a directory, a Maildir, or ``-`` for stdin."""
    return read_source(source, max_bytes)
