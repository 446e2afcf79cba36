"""Kernel C that tree-sitter-c cannot parse, blanked out of the text it parses.

Each function replaces characters by spaces of the same UTF-8 width, so every node keeps
the byte offsets and columns of the text as written; the lines the blanked code was on
are then plain, parseable file-scope text instead of ERROR nodes:

- comments inside a ``#define`` body (tree-sitter-c ends the macro at a comment that is
  followed by more of its lines, and the rest of the body becomes an ERROR);
- macro invocations at file scope that are not C declarations: an upper-case name at
  column 0 with its balanced argument list and no ``;`` (``DEFINE_LOCK_GUARD_0(...)``,
  ``FOLIO_FLAG(...)`` and the indented invocations it groups, an X-macro list such as
  ``OBJECT(dep, 1024)``), or with a ``;`` but types among its arguments
  (``TRACE_EVENT(name, TP_PROTO(struct inode *inode), ...);``,
  ``DEFINE_CLASS(name, const struct cred *, ...)``). An invocation followed by ``{`` is a
  function header (``SYSCALL_DEFINE3(...)``) and stays;
- macro invocations used as struct members (``DECLARE_HASHTABLE(h, 6);``), found from
  the parse tree (``member_macro_rows``): the C mapping of a hunk blanks them and parses
  again.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

# a #define and its continuation lines (each ending in a backslash)
_MACRO_BLOCK = re.compile(r"^[ \t]*#[ \t]*define\b[^\n]*\\\n(?:[^\n]*\\\n)*[^\n]*", re.M)
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*?(?=\\?\n|$)", re.S)
# an upper-case macro name at column 0 and its opening parenthesis
_FILE_SCOPE_CALL = re.compile(r"^[A-Z_][A-Z0-9_]*[ \t]*\(", re.M)
# (the look-behind keeps a search linear: a run of blanks is tried from its start only)
_INDENTED_CALL = re.compile(r"(?<![ \t])[ \t]+[A-Za-z_]\w*[ \t]*\(")
# a type among a macro's arguments
_TYPE_ARG = re.compile(r"\b(?:struct|union|enum|const|unsigned|signed)\s|\*\s*[,)]")
_TRAILER = re.compile(r"[ \t]*(;?)[ \t]*(?:/\*.*?\*/[ \t]*|//[^\n]*)?(?:\n|$)")
MAX_ARGS = 8000  # characters of one invocation's argument list that are looked at


def _blank(text: str) -> str:
    """``text`` with every character but newlines and the backslashes that end a line
    replaced by spaces of its UTF-8 width."""
    out = []
    for line in text.split("\n"):
        keep = "\\" if line.endswith("\\") else ""
        body = line[: len(line) - len(keep)]
        width = len(body.encode("utf-8", "surrogateescape"))
        out.append(" " * width + keep)
    return "\n".join(out)


def blank_macro_comments(text: str) -> str:
    """Comments inside ``#define`` bodies blanked."""
    if "\\\n" not in text or "/" not in text:
        return text
    return _MACRO_BLOCK.sub(lambda m: _COMMENT.sub(lambda c: _blank(c.group(0)), m.group(0))
                            if "/" in m.group(0) else m.group(0), text)


def _close(text: str, start: int) -> int | None:
    """The index after the parenthesis that closes the one before ``start``."""
    depth = 1
    end = min(len(text), start + MAX_ARGS)
    i = start
    while i < end:
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c in "\"'":
            j = i + 1
            while j < end and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j
        elif c == "{" or c == "}":
            return None  # a body, not an argument list
        i += 1
    return len(text) if end == len(text) else None  # (a hunk may end inside the list)


def _next_code(text: str, pos: int) -> str:
    """The first non-blank character at or after ``pos``."""
    m = re.compile(r"\S").search(text, pos)
    return m.group(0) if m else ""


def blank_macro_invocations(text: str) -> str:
    """File-scope macro invocations that are not C declarations blanked (see above)."""
    if "(" not in text:
        return text
    spans: list[tuple[int, int]] = []
    for m in _FILE_SCOPE_CALL.finditer(text):
        if spans and m.start() < spans[-1][1]:
            continue
        end = _close(text, m.end())
        if end is None:
            continue
        trailer = _TRAILER.match(text, end)
        if trailer is None:
            continue
        if trailer.group(1):
            if not _TYPE_ARG.search(text, m.end(), end):
                continue
            end += trailer.group(0).index(";") + 1
        elif _next_code(text, end) == "{":
            continue  # a function defined through a macro
        else:
            # indented invocations without ";" right below belong to the same group
            while True:
                nl = text.find("\n", end)
                if nl < 0:
                    break
                inner = _INDENTED_CALL.match(text, nl + 1)
                if inner is None:
                    break
                inner_end = _close(text, inner.end())
                if inner_end is None:
                    break
                after = _TRAILER.match(text, inner_end)
                if after is None or after.group(1) or "\n" in text[nl + 1:inner_end]:
                    break
                end = inner_end
        spans.append((m.start(), end))
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(_blank(text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


_MEMBER_MACRO = re.compile(r"(?<![ \t\w])[ \t]*[A-Z_][A-Z0-9_]*[ \t]*\(")
_LOOK_UP = 3  # rows above an error where the macro invocation may start


def member_macro_rows(root: Node, lines: list[str]) -> list[int]:
    """Rows of macro invocations used as struct members (``DECLARE_HASHTABLE(h, 6);``,
    ``DECLARE_FLEX_ARRAY(struct x *, xs);``, ``TRAILING_OVERLAP(...);``) that
    tree-sitter could not read: an upper-case macro name at the start of a row, at or a
    few rows above an ERROR inside a struct or union body, up to its closing ``)``.
    Only the tree tells a struct body from a function body, where the same macros
    declare locals and parse."""
    out: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if not node.has_error:
            continue
        if node.type == "field_declaration_list":
            for child in node.children:
                if child.type == "ERROR" or child.has_error:
                    out.update(_invocation_rows(lines, child.start_point[0]))
        stack.extend(node.children)
    return sorted(out)


def _invocation_rows(lines: list[str], row: int) -> range:
    for start in range(row, max(-1, row - _LOOK_UP - 1), -1):
        if start >= len(lines):
            continue
        m = _MEMBER_MACRO.match(lines[start])
        if m is None:
            continue
        text = "\n".join(lines[start:start + 40])
        end = _close(text, m.end())
        if end is None or (end < len(text) and text[end:end + 1] != ";"):
            return range(0)
        return range(start, start + text.count("\n", 0, end) + 1)
    return range(0)


def blank_rows(text: str, rows: list[int]) -> str:
    """``text`` with the given rows blanked (same UTF-8 width)."""
    lines = text.split("\n")
    for r in rows:
        if r < len(lines):
            lines[r] = _blank(lines[r])
    return "\n".join(lines)
