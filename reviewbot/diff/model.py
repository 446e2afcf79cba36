"""The diff model: files, hunks and lines with both line numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LineKind = Literal["+", "-", " "]


@dataclass(frozen=True)
class Line:
    """One line of a hunk.

    ``old``/``new`` are the pre-/post-image line numbers (None where the line does not
    exist on that side); ``patch_line`` is the line number inside the patch email.
    """

    kind: LineKind
    text: str  # without the leading marker and without the newline
    old: int | None
    new: int | None
    patch_line: int


@dataclass(frozen=True)
class Hunk:
    """One ``@@ -a,b +c,d @@ section`` hunk."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str  # the function heading git puts after the second @@
    lines: tuple[Line, ...]
    patch_line: int  # line of the @@ header in the patch email


@dataclass(frozen=True)
class FileDiff:
    """The change to one file."""

    old_path: str | None  # None for a new file
    new_path: str | None  # None for a deleted file
    hunks: tuple[Hunk, ...]
    is_binary: bool = False
    is_rename: bool = False
    patch_line: int = 0  # line of the ``diff --git`` (or ``---``) header

    @property
    def path(self) -> str:
        """The path rules see: the new path, or the old one for a deleted file."""
        return self.new_path or self.old_path or ""

    @property
    def is_deleted(self) -> bool:
        return self.new_path is None

    @property
    def is_c(self) -> bool:
        return self.path.endswith((".c", ".h"))

    @property
    def maps_to_c(self) -> bool:
        """A C file the C mapping reads: text hunks that leave a post-image."""
        return self.is_c and not self.is_binary and not self.is_deleted and bool(self.hunks)
