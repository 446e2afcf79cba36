"""Rebuild a parseable C text from a hunk's post-image (context + added lines).

A hunk usually starts in the middle of a function and may end in the middle of a block.
The fragment is wrapped so tree-sitter sees balanced code: when the hunk starts inside a
function, a synthetic opening line named after git's ``@@`` heading is put in front
(so the function keeps its name), and missing closing braces are appended. A hunk that
starts elsewhere is wrapped in what it is inside of:

- a struct, union or enum body, or an initialiser (``static const struct
  file_operations x = {``, ``static struct attribute *attrs[] = {``): the heading itself
  opens it (``Wrapper``), and the appended closing brace ends it with ``};``;
- a function whose multi-line header starts in the heading and ends above the hunk: the
  heading, its parameter list closed, stands for the header;
- the body of a ``#define`` (lines ending in a backslash) whose first line is above the hunk:
  a synthetic ``#define`` line is put in front of them.

``rows`` maps every row of the text to a post-image line number (None for synthetic rows).
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from reviewbot.cmap.scan import ScannedLine, scan_lines, starts_in_comment

_FUNC_HEADING = re.compile(r"(?:^|[\s*])([A-Za-z_]\w*)\s*\(")
# typedefs, preprocessor lines, and struct/union/enum definitions ("struct x {"); a
# function returning "struct page *" is a function (variables are told apart by "=").
_NOT_FUNC = re.compile(r"^\s*(?:typedef\b|#)|^\s*(?:struct|union|enum)\s+\w+\s*\{?\s*$")
_LABEL = re.compile(r"^[A-Za-z_]\w*:\s*$")
# a heading that opens a struct/union/enum body or an initialiser
_AGGREGATE = re.compile(r"^\s*(?:typedef\s+)?(?:struct|union|enum)\b[^;()]*\{\s*$")
SYNTHETIC = "__reviewbot_fragment"

# What a hunk that starts inside braces is wrapped in: a function body (the default), an
# initialiser (also holds enum constants), or a struct body.
Wrapper = Literal["function", "initialiser", "struct"]
_OPENERS: dict[Wrapper, str] = {
    "function": f"void {SYNTHETIC}(void) {{",
    "initialiser": f"int {SYNTHETIC}[] = {{",
    "struct": f"struct {SYNTHETIC} {{",
}


class Fragment(NamedTuple):
    """A parseable text and the post-image line number of each of its rows."""

    text: str
    rows: tuple[int | None, ...]
    start_depth: int  # how deep inside braces the hunk starts
    heading_function: str | None
    macro_lines: int = 0  # leading lines that continue a #define above the hunk
    wrapper: Wrapper | None = None  # what the hunk is inside of, when it starts in braces


def heading_function(section: str) -> str | None:
    """The function named in a hunk's ``@@ ... @@ heading``, if the heading is one."""
    if not section or _NOT_FUNC.match(section):
        return None
    m = _FUNC_HEADING.search(section)
    if m is None or "=" in section[: m.start()]:
        return None
    name = m.group(1)
    if name in ("if", "for", "while", "switch", "return", "sizeof"):
        return None
    return name


def _start_depth(texts: list[str], heading_fn: str | None,
                 scanned: list[ScannedLine], heading_opens: bool = False,
                 mask: list[bool] | None = None) -> int:
    """How deep inside braces the lines start. A closing brace indented by N tabs
    (kernel style) ends a block opened at depth N + 1, which bounds the start from
    below. When neither tells, indented first code under a heading that opens braces (a
    function, an aggregate: ``heading_opens``) is taken as one level inside it."""
    if mask is None:
        mask = _macro_mask(texts)
    rel = 0
    low = 0
    bound = 0
    for s, in_macro in zip(scanned, mask, strict=True):
        if in_macro:
            continue  # (braces in a #define body are the macro's)
        code = s.code
        first = code[:1]
        if first == "}":
            return max(1 - rel, -low, bound)
        if first == "{" or ((first.isalpha() or first == "_") and not _LABEL.match(code)):
            return max(-rel, -low, bound)
        if first == "\t":
            body = code.lstrip("\t")
            if body[:1] == "}":
                bound = max(bound, len(code) - len(body) + 1 - rel)
        if rel + s.min_depth < low:
            low = rel + s.min_depth
        rel += s.opens - s.closes
    depth = max(-low, bound)
    if depth == 0 and (heading_fn is not None or heading_opens):
        for text, in_macro in zip(texts, mask, strict=True):
            if text.strip() and not in_macro and not text.startswith("#"):
                if text[:1] in (" ", "\t"):
                    depth = 1
                break
    return depth


def _macro_mask(texts: list[str]) -> list[bool]:
    """For each line: whether it is part of a ``#define`` that starts in ``texts``
    (the ``#define`` line, its continuation lines, and the last one)."""
    if "#" not in "".join(texts):
        return [False] * len(texts)
    out: list[bool] = []
    inside = False
    for text in texts:
        if not inside and text.lstrip().startswith("#"):
            out.append(True)
        else:
            out.append(inside)
        inside = out[-1] and text.rstrip().endswith("\\")
    return out


def _continues_signature(texts: list[str]) -> bool:
    """Indented lines (the rest of a multi-line signature), or nothing, then ``{`` at
    column 0: the hunk starts inside the header or right at the body's opening brace."""
    for text in texts:
        if not text.strip():
            continue
        if text.startswith("{"):
            return True
        if text[:1] not in (" ", "\t"):
            return False
    return False


def aggregate_heading(section: str) -> Wrapper | None:
    """What a heading that opens a struct/union/enum body (``struct x {``) or an
    initialiser (``... = {``) opens; None for any other heading."""
    text = section.rstrip()
    if not text.endswith(("{", "=")) or heading_function(section) is not None:
        return None
    if "=" in text:
        return "initialiser"
    if _AGGREGATE.match(text):
        return "initialiser" if re.match(r"\s*(?:typedef\s+)?enum\b", text) else "struct"
    return None


def _macro_lines(texts: list[str]) -> int:
    """How many leading lines continue a ``#define`` whose first line is above: the first
    line ends in a backslash and is no preprocessor line itself; the body runs to the
    first line that does not end in one."""
    if not texts or not texts[0].rstrip().endswith("\\") or texts[0].lstrip().startswith("#"):
        return 0
    for i, text in enumerate(texts):
        if not text.rstrip().endswith("\\"):
            return i + 1
    return len(texts)


def _closed_header(section: str) -> str:
    """A heading that is the first line of a multi-line function header, its parameter
    list cut after the last complete parameter and closed."""
    missing = section.count("(") - section.count(")")
    if missing <= 0:
        return section
    text = section.rstrip()
    cut = text.rfind(",")
    if cut > text.find("("):
        text = text[:cut]
    return text + ")" * missing


_CONDITIONAL = re.compile(r"^\s*#\s*(?:if|ifdef|ifndef|elif|else|endif)\b")
_OPEN_CONDITIONAL = re.compile(r"^\s*#\s*if(?:n?def)?\b")
_END_CONDITIONAL = re.compile(r"^\s*#\s*endif\b")


def _blank_line(text: str) -> str:
    return " " * len(text.encode("utf-8", "surrogateescape"))


def _end_conditionals(scanned: list[ScannedLine], depth: int, closers: list[str]
                      ) -> list[str]:
    """``closers`` with an ``#endif`` for each ``#if`` the lines leave open, put where
    the closing braces are back at the depth the ``#if`` was opened at."""
    opened: list[int] = []
    level = depth
    for s in scanned:
        if _OPEN_CONDITIONAL.match(s.code):
            opened.append(level)
        elif _END_CONDITIONAL.match(s.code) and opened:
            opened.pop()
        level += s.opens - s.closes
    if not opened:
        return closers
    end_depth = len(closers)
    out: list[str] = ["#endif" for d in opened if d >= end_depth]
    for i, closer in enumerate(closers):
        out.append(closer)
        out.extend("#endif" for d in reversed(opened) if d == end_depth - i - 1)
    return out


def _lowest(scanned: list[ScannedLine]) -> int:
    """The lowest brace depth the lines reach, relative to their start."""
    rel = low = 0
    for s in scanned:
        low = min(low, rel + s.min_depth)
        rel += s.opens - s.closes
    return low


def build_fragment(texts: list[str], numbers: list[int], section: str,
                   scanned: list[ScannedLine] | None = None,
                   wrapper: Wrapper | None = None) -> Fragment:
    """Wrap the post-image lines ``texts`` (numbered ``numbers``) into parseable C.

    ``scanned`` is ``scan_lines(texts, starts_in_comment(texts))`` when the caller has
    it already (the scan is the costly part; map_file does it once per hunk).
    ``wrapper`` says what a hunk that starts inside braces is inside of; by default the
    heading tells (a function, or a struct/enum body or initialiser it opens).
    """
    fn = heading_function(section)
    in_comment = starts_in_comment(texts)
    if scanned is None:
        scanned = scan_lines(texts, in_comment)
    pre: list[str] = []
    macro = _macro_lines(texts)
    if macro:
        # the lines continue a #define: they are its body, braces and all
        pre.append(f"#define {SYNTHETIC} \\")
        if in_comment:
            pre.append("/* \\")
        in_comment = scanned[macro - 1].in_comment_after
    rest, rest_scanned = texts[macro:], scanned[macro:]
    directives = "#" in "".join(rest)  # (most hunks have no preprocessor line)
    mask = _macro_mask(rest) if directives else [False] * len(rest)
    depth = _start_depth(rest, fn, rest_scanned, aggregate_heading(section) is not None,
                         mask)
    opened: list[str] = []
    if depth == 0 and fn is not None and _continues_signature(rest):
        # the hunk starts inside the function's parameter list, or at its body's "{"
        first = next((t for t in rest if t.strip()), "")
        opened.append(_closed_header(section) if first.startswith("{") else section)
    kind: Wrapper | None = None
    if depth > 0:
        aggregate = aggregate_heading(section) if fn is None else None
        kind = wrapper or aggregate or "function"
        if kind == "function":
            opened.append(f"void {fn or SYNTHETIC}(void) {{")
        elif aggregate is not None and wrapper in (None, aggregate):
            head = section.rstrip()
            opened.append(head if head.endswith("{") else head + " {")
        else:
            opened.append(_OPENERS[kind])
        inner = "struct {" if kind == "struct" else "{"
        opened.extend(inner for _ in range(depth - 1))
    if in_comment:
        opened.append("/*")  # innermost: the comment is inside the function, not around it
    end_depth = depth + (sum(s.opens - s.closes for s, in_macro in
                             zip(rest_scanned, mask, strict=True) if not in_macro)
                         if directives else sum(s.opens - s.closes for s in rest_scanned))
    closers = ["}" for _ in range(max(0, end_depth))]
    if kind in ("initialiser", "struct") and closers and -_lowest(rest_scanned) < depth:
        # the aggregate is still open at the end: its closing brace ends a declaration
        closers[-1] = "};"
        if kind == "struct":
            closers = ["};" for _ in closers]
    if kind == "initialiser" and directives:
        # tree-sitter-c reads no #if inside an initialiser list: the lines are blanked
        rest = [_blank_line(t) if _CONDITIONAL.match(s.code) else t
                for t, s in zip(rest, rest_scanned, strict=True)]
    elif directives:
        closers = _end_conditionals(rest_scanned, depth, closers)
    tail_comment = bool(rest_scanned) and rest_scanned[-1].in_comment_after
    post: list[str] = (["*/"] if tail_comment else []) + closers
    if post and rest and rest[-1].rstrip().endswith("\\"):
        post.insert(0, "")  # the hunk ends inside a #define: the closers are not in it
    lines = [*pre, *texts[:macro], *opened, *rest, *post]
    rows: list[int | None] = ([None] * len(pre) + list(numbers[:macro]) + [None] * len(opened)
                              + list(numbers[macro:]) + [None] * len(post))
    return Fragment("\n".join(lines) + "\n", tuple(rows), depth, fn, macro, kind)
