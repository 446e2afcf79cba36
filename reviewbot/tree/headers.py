"""What a diff says about each file it touches: paths, modes, blob ids (git's view).

The C-mapping side uses unidiff; applying uses git, which reads the paths from the
``diff --git``/``---``/``+++``/``rename``/``copy`` header lines and strips one leading
component (``-p1``). This module reads the same header lines the way git does, so the
paths reviewbot checks are the paths git would write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_INDEX = re.compile(r"^index ([0-9a-f]{4,64})\.\.([0-9a-f]{4,64})(?: (\d{6}))?\s*$")
_MODE = re.compile(r"^(new file mode|new mode|deleted file mode|old mode) (\d{6})\s*$")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class FileHeader:
    """One file of a diff as git sees it. Raw paths are as written in the patch."""

    raw_paths: tuple[str, ...]  # every path-bearing header value, unstripped
    old_path: str | None  # after -p1 stripping (rename/copy: as written); None if new
    new_path: str | None  # None for a deleted file
    new_mode: str | None
    old_blob: str | None  # from the ``index`` line
    new_blob: str | None
    added: tuple[str, ...]  # the '+' lines (a symlink's target, for new symlinks)

    @property
    def is_symlink(self) -> bool:
        return self.new_mode == SYMLINK_MODE


def unquote(path: str) -> str:
    """Undo git's C-style quoting of a path (``"a/x\\tb"``); plain paths pass through."""
    if not (len(path) >= 2 and path.startswith('"') and path.endswith('"')):
        return path
    body, out, i = path[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if re.match(r"[0-7]{3}", body[i + 1:i + 4]):
                out.append(int(body[i + 1:i + 4], 8) & 0xFF)
                i += 4
                continue
        out.extend(c.encode("utf-8", "surrogateescape"))
        i += 1
    return out.decode("utf-8", "replace")


def strip_component(path: str) -> str:
    """git apply's -p1: drop everything up to and including the first slash."""
    slash = path.find("/")
    return path[slash + 1:] if slash >= 0 else path


def _header_value(line: str, prefix: str) -> str:
    value = line[len(prefix):].rstrip("\n")
    if not value.startswith('"'):
        value = value.split("\t")[0]  # traditional diffs put a date after a tab
    return unquote(value.rstrip())


def _git_line_paths(rest: str) -> tuple[str, str] | None:
    """``a/x b/x`` of a ``diff --git`` line (quoted or plain, same-name split)."""
    rest = rest.rstrip("\n")
    if rest.startswith('"'):
        m = re.match(r'("(?:[^"\\]|\\.)*")\s+(.*)$', rest)
        if m:
            return unquote(m.group(1)), unquote(m.group(2))
        return None
    half = (len(rest) - 1) // 2
    if len(rest) % 2 == 1 and rest[half] == " " and strip_component(rest[:half]) \
            == strip_component(rest[half + 1:]):
        return rest[:half], rest[half + 1:]
    m = re.match(r"(\S+)\s+(\S+)$", rest)
    return (m.group(1), m.group(2)) if m else None


class _Block:
    def __init__(self) -> None:
        self.raw: list[str] = []
        self.git_pair: tuple[str, str] | None = None
        self.minus: str | None = None
        self.plus: str | None = None
        self.rename_from: str | None = None
        self.rename_to: str | None = None
        self.new_mode: str | None = None
        self.deleted = False
        self.created = False
        self.index: tuple[str, str] | None = None
        self.added: list[str] = []

    def finish(self) -> FileHeader:
        old: str | None
        new: str | None
        if self.minus is not None:
            old = None if self.minus == "/dev/null" else strip_component(self.minus)
        elif self.git_pair is not None:
            old = strip_component(self.git_pair[0])
        else:
            old = None
        if self.plus is not None:
            new = None if self.plus == "/dev/null" else strip_component(self.plus)
        elif self.git_pair is not None:
            new = strip_component(self.git_pair[1])
        else:
            new = None
        if self.rename_from is not None:
            old = self.rename_from
        if self.rename_to is not None:
            new = self.rename_to
        if self.created:
            old = None
        if self.deleted:
            new = None
        return FileHeader(tuple(self.raw), old, new, self.new_mode,
                          self.index[0] if self.index else None,
                          self.index[1] if self.index else None, tuple(self.added))


def scan_headers(diff: str) -> list[FileHeader]:
    """Every file block of ``diff`` (git or traditional unified diff), in order."""
    blocks: list[FileHeader] = []
    cur: _Block | None = None
    lines = diff.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            if cur is not None:
                blocks.append(cur.finish())
            cur = _Block()
            pair = _git_line_paths(line[len("diff --git "):])
            cur.git_pair = pair
            if pair:
                cur.raw.extend(pair)
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            if cur is None or cur.minus is not None:
                if cur is not None:
                    blocks.append(cur.finish())
                cur = _Block()
            cur.minus = _header_value(line, "--- ")
            cur.plus = _header_value(lines[i + 1], "+++ ")
            cur.raw.extend(p for p in (cur.minus, cur.plus) if p != "/dev/null")
            i += 2
            continue
        elif cur is not None:
            for prefix in ("rename from ", "copy from "):
                if line.startswith(prefix):
                    cur.rename_from = _header_value(line, prefix)
                    cur.raw.append(cur.rename_from)
            for prefix in ("rename to ", "copy to "):
                if line.startswith(prefix):
                    cur.rename_to = _header_value(line, prefix)
                    cur.raw.append(cur.rename_to)
            m = _MODE.match(line)
            if m:
                if m.group(1) in ("new file mode", "new mode"):
                    cur.new_mode = m.group(2)
                cur.created = cur.created or m.group(1) == "new file mode"
                cur.deleted = cur.deleted or m.group(1) == "deleted file mode"
            m = _INDEX.match(line)
            if m:
                cur.index = (m.group(1), m.group(2))
                if m.group(3) and cur.new_mode is None:
                    cur.new_mode = m.group(3)
            h = _HUNK.match(line)
            if h:
                i = _skip_hunk(lines, i + 1, int(h.group(1) or 1), int(h.group(2) or 1),
                               cur.added)
                continue
        i += 1
    if cur is not None:
        blocks.append(cur.finish())
    return blocks


def _skip_hunk(lines: list[str], i: int, old: int, new: int, added: list[str]) -> int:
    """Consume one hunk's body (by its counts); returns the index after it."""
    while i < len(lines) and (old > 0 or new > 0):
        line = lines[i]
        if line.startswith("\\"):
            i += 1
            continue
        kind = line[:1]
        if kind == "+":
            new -= 1
            added.append(line[1:])
        elif kind == "-":
            old -= 1
        elif kind == " " or line == "":
            old -= 1
            new -= 1
        else:
            break
        i += 1
    while i < len(lines) and lines[i].startswith("\\"):
        i += 1
    return i
