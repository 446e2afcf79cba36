"""A fast parser for well-formed git diffs; ``None`` for anything else (unidiff decides).

``git format-patch`` output is regular: ``diff --git a/X b/Y``, an ``index`` line (and
``new file mode``/``deleted file mode``/``old mode``/``new mode``), ``---``/``+++``,
then hunks whose line counts hold. For that shape this gives exactly the FileDiffs that
``parse._from_unidiff`` builds from unidiff's PatchSet (tests/test_diff_fastparse.py
checks it over the corpus, the synthetic data, the fixtures and generated hostile
diffs) at a quarter of the cost. Any line it is not sure about (quoted or spaced paths,
renames, binary files, hunk counts that do not add up, CR or bare-CR lines, text between
files, a hunk of ``-0,0 +0,0``) makes it give up, and unidiff parses the whole diff.
"""

from __future__ import annotations

import re
from itertools import islice

from reviewbot.diff.model import FileDiff, Hunk, Line

_GIT_HEADER = re.compile(r"diff --git (a/[^\s\"]+) (b/[^\s\"]+)")
_NEW_FILE = re.compile(r"new file mode \d+")
_DELETED_FILE = re.compile(r"deleted file mode \d+")
# unidiff's own header regexes (reviewbot.diff.parse relies on unidiff 1.0.1's meaning)
_TARGET = re.compile(r'^\+\+\+ (?P<filename>"?[^\t\n]*"?)(?:\t(?P<timestamp>[^\n]+))?')
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))?\ @@[ ]?(.*)")
_PATCH_PREFIX = re.compile(r"^[abciow12]/")
_DEV_NULL = "/dev/null"
# patch-info lines after the last hunk that unidiff would read as something else
_UNSURE = ("diff --git", "--- ", "+++ ", "@@", "new file mode", "deleted file mode",
           "\\", "Binary file", "GIT binary patch")


class _GiveUp(Exception):
    """The diff is not of the simple shape; unidiff parses it."""


def fast_parse_diff(text: str, first_line: int = 1) -> tuple[FileDiff, ...] | None:
    """The FileDiffs of ``text`` as ``parse.parse_diff`` gives them, or None if unsure."""
    try:
        return _parse(text, first_line)
    except _GiveUp:
        return None


def _parse(text: str, first_line: int) -> tuple[FileDiff, ...]:
    lines = text.split("\n")
    cr = "\r" in text
    if lines and lines[-1] == "":
        lines.pop()  # the text ends with a newline: no line after it
    offset = first_line - 1
    n = len(lines)
    i = 0
    # (source, target, hunks) per file
    files: list[tuple[str, str, list[Hunk]]] = []
    # states: "start" (before the first file), "header" (after diff --git, before a
    # hunk), "hunks" (after a hunk), "outside" (patch info after the last hunk)
    state = "start"
    while i < n:
        line = lines[i]
        if line.startswith("diff --git "):
            if state not in ("start", "header", "hunks"):
                raise _GiveUp
            m = _GIT_HEADER.fullmatch(line)
            if m is None:
                raise _GiveUp
            files.append((m.group(1), m.group(2), []))
            state = "header"
            i += 1
            continue
        if state == "start":
            if line.startswith(_UNSURE):
                raise _GiveUp
            i += 1  # text before the first file (unidiff keeps it as patch info)
            continue
        if state == "outside":
            if line.startswith(_UNSURE):
                raise _GiveUp
            i += 1
            continue
        if line.startswith("@@"):
            i = _hunk(lines, i, files[-1][2], offset, cr)
            state = "hunks"
            continue
        if state == "header":
            source, target, hunks = files[-1]
            if line.startswith("index ") or line.startswith(("old mode ", "new mode ")):
                pass
            elif line.startswith("new file mode "):
                if not _NEW_FILE.fullmatch(line):
                    raise _GiveUp
                files[-1] = (_DEV_NULL, target, hunks)
            elif line.startswith("deleted file mode "):
                if not _DELETED_FILE.fullmatch(line):
                    raise _GiveUp
                files[-1] = (source, _DEV_NULL, hunks)
            elif line.startswith("--- "):
                if "\t" in line or '"' in line:
                    raise _GiveUp
            elif line.startswith("+++ "):
                m = _TARGET.match(line)
                if m is None or "\t" in line or m.group("filename") != target:
                    raise _GiveUp
            else:
                raise _GiveUp  # renames, binary files, blank lines, anything else
            i += 1
            continue
        # state == "hunks"
        if line == "" or line.startswith("\\ No newline at end of file"):
            i += 1  # unidiff adds these to the last hunk; parse_diff skips them
            continue
        if line.startswith(_UNSURE):
            raise _GiveUp
        state = "outside"
        i += 1
    return tuple(_file_diff(text, offset, source, target, hunks)
                 for source, target, hunks in files)


def _hunk(lines: list[str], i: int, hunks: list[Hunk], offset: int, cr: bool) -> int:
    """Parse the hunk whose header is ``lines[i]``; the index after it. ``cr``: the
    diff holds a CR somewhere (else no line can end in one)."""
    m = _HUNK_HEADER.match(lines[i])
    if m is None:
        raise _GiveUp
    a, b, c, d, section = m.groups()
    old_start, new_start = int(a), int(c)
    old_len = int(b) if b is not None else 1
    new_len = int(d) if d is not None else 1
    if old_len == 0 and new_len == 0:
        raise _GiveUp
    old_end = old_start + old_len
    new_end = new_start + new_len
    old, new = old_start, new_start
    out: list[Line] = []
    append = out.append
    at = i + 1 + offset  # the patch line of lines[i]
    for line in islice(lines, i + 1, None):
        at += 1
        kind = line[:1]
        value = line[1:]
        if cr and value.endswith("\r"):
            value = value[:-1]
        if kind == "+":
            if new == new_end:
                raise _GiveUp
            append(Line("+", value, None, new, at))
            new += 1
        elif kind == "-":
            if old == old_end:
                raise _GiveUp
            append(Line("-", value, old, None, at))
            old += 1
        elif kind == " " or not kind:  # "": a bare newline, an empty context line
            if old == old_end or new == new_end:
                raise _GiveUp
            append(Line(" ", value, old, new, at))
            old += 1
            new += 1
        elif kind == "\\":
            continue
        else:
            raise _GiveUp
        if old == old_end and new == new_end:  # the counts hold: the hunk is complete
            break
    else:
        raise _GiveUp  # shorter than its header says
    header_line = (out[0].patch_line - 1) if out else offset
    hunks.append(Hunk(old_start, old_len, new_start, new_len, (section or "").strip(),
                      tuple(out), header_line))
    return at - offset


def _file_diff(text: str, offset: int, source: str, target: str,
               hunks: list[Hunk]) -> FileDiff:
    from reviewbot.diff.parse import _file_header_line, _strip_prefix

    old = _strip_prefix(source)
    new = _strip_prefix(target)
    added = source == _DEV_NULL or (len(hunks) == 1 and hunks[0].old_start == 0
                                    and hunks[0].old_len == 0)
    removed = target == _DEV_NULL or (len(hunks) == 1 and hunks[0].new_start == 0
                                      and hunks[0].new_len == 0)
    if added:
        old = None
    if removed:
        new = None
    rename = source != _DEV_NULL and target != _DEV_NULL and source[2:] != target[2:]
    path = source
    if path == _DEV_NULL or (rename and target != _DEV_NULL):
        path = target
    if _PATCH_PREFIX.match(path):
        path = path[2:]
    return FileDiff(old, new, tuple(hunks), False, rename,
                    _file_header_line(text, path, offset))
