"""Split a patch body into commit message and diff, and parse the diff with unidiff."""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

from reviewbot.diff.model import FileDiff, Hunk, Line, LineKind

_DIFF_START = re.compile(r"^(diff --git |Index: |--- \S)", re.MULTILINE)


class DiffError(ValueError):
    """The diff part of a patch does not parse."""


class SplitBody(NamedTuple):
    """A patch body cut into its parts; ``diff_line`` is the 0-based body line of the diff."""

    message: str
    diff: str
    diff_line: int


def split_body(body: str) -> SplitBody:
    """Cut a patch body into commit message (above ``---``) and diff text."""
    for match in _DIFF_START.finditer(body):
        start = match.start()
        if match.group(1).startswith("--- "):
            # a bare unified diff: "--- a" must be followed by "+++ b" (looked up in place:
            # copying the rest of the body for each "--- x" line was quadratic)
            nl = body.find("\n", match.end())
            if nl < 0 or not body.startswith("+++ ", nl + 1):
                continue
        head = body[:start]
        diff_line = head.count("\n")
        message = head
        sep = re.search(r"^---[ \t]*$", head, re.MULTILINE)
        if sep:
            message = head[: sep.start()]
        return SplitBody(message.rstrip("\n") + "\n" if message.strip() else "", body[start:],
                         diff_line)
    return SplitBody(body, "", -1)


def _strip_prefix(path: str | None) -> str | None:
    if path is None:
        return None
    path = path.strip()
    if path == "/dev/null" or path.endswith("/dev/null"):
        return None
    if path.startswith(('"a/', '"b/')) and path.endswith('"'):
        path = path[1:-1]
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def parse_diff(text: str, first_line: int = 1) -> tuple[FileDiff, ...]:
    """Parse unified-diff ``text`` with unidiff; ``first_line`` is the email line of its
    first line. Raises DiffError with unidiff's reason when the text does not parse."""
    from unidiff.errors import UnidiffParseError
    from unidiff.patch import PatchSet  # small, but only needed here

    try:
        patchset = PatchSet(text)
    except (UnidiffParseError, ValueError, IndexError) as exc:
        raise DiffError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    offset = first_line - 1
    files: list[FileDiff] = []
    headers = _Headers(text)
    for pfile in patchset:
        old = _strip_prefix(pfile.source_file)
        new = _strip_prefix(pfile.target_file)
        if pfile.is_added_file:
            old = None
        if pfile.is_removed_file:
            new = None
        hunks: list[Hunk] = []
        for h in pfile:
            lines: list[Line] = []
            for ln in h:
                kind: str = ln.line_type
                if kind not in ("+", "-", " "):
                    continue  # "\ No newline at end of file"
                value: str = ln.value
                if value.endswith("\n"):
                    value = value[:-1]
                if value.endswith("\r"):
                    value = value[:-1]
                k: LineKind = "+" if kind == "+" else "-" if kind == "-" else " "
                lines.append(Line(k, value, ln.source_line_no, ln.target_line_no,
                                  int(ln.diff_line_no or 0) + offset))
            header_line = (lines[0].patch_line - 1) if lines else offset
            hunks.append(Hunk(h.source_start, h.source_length, h.target_start,
                              h.target_length, (h.section_header or "").strip(),
                              tuple(lines), header_line))
        patch_line = headers.line(pfile.path, offset)
        files.append(FileDiff(old, new, tuple(hunks), bool(pfile.is_binary_file),
                              bool(pfile.is_rename), patch_line))
    return tuple(files)


class _Headers:
    """Where ``diff --git a/PATH `` first appears in a diff text, for one path after
    another, in time linear in the text (a search from the start per file, and a count
    of the newlines before it, was quadratic in the number of files).

    Every place the text holds ``diff --git a/`` is filed under the word that follows
    (up to a space or the line's end): a path's first place is the first of those filed
    under its own first word that goes on with the path and a space."""

    _PREFIX = "diff --git a/"

    def __init__(self, text: str) -> None:
        self.text = text
        self._newlines: list[int] | None = None
        self._places: dict[str, list[int]] = {}
        start = 0
        while (pos := text.find(self._PREFIX, start)) >= 0:
            begin = pos + len(self._PREFIX)
            end = text.find("\n", begin)
            end = len(text) if end < 0 else end
            space = text.find(" ", begin, end)
            if space >= 0:
                self._places.setdefault(text[begin:space], []).append(pos)
            start = pos + 1

    def line(self, path: str, offset: int) -> int:
        """The diff line (numbered from ``offset`` + 1) of ``path``'s ``diff --git``
        line, else of its ``+++ b/`` line, else ``offset`` + 1."""
        needle = f"{self._PREFIX}{path} "
        pos = next((p for p in self._places.get(path.split(" ", 1)[0], ())
                    if self.text.startswith(needle, p)), -1)
        if pos < 0:
            pos = self.text.find(f"+++ b/{path}")
        if pos < 0:
            return offset + 1
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self._newlines, pos) + 1 + offset
