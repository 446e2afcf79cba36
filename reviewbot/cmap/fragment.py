"""Rebuild a parseable C text from a hunk's post-image (context + added lines).

A hunk usually starts in the middle of a function and may end in the middle of a block.
The fragment is wrapped so tree-sitter sees balanced code: when the hunk starts inside a
function, a synthetic opening line named after git's ``@@`` heading is put in front
(so the function keeps its name), and missing closing braces are appended. ``rows`` maps
every row of the text to a post-image line number (None for synthetic rows).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from reviewbot.cmap.scan import ScannedLine, scan_lines, starts_in_comment

_FUNC_HEADING = re.compile(r"(?:^|[\s*])([A-Za-z_]\w*)\s*\(")
# typedefs, preprocessor lines, and struct/union/enum definitions ("struct x {"); a
# function returning "struct page *" is a function (variables are told apart by "=").
_NOT_FUNC = re.compile(r"^\s*(?:typedef\b|#)|^\s*(?:struct|union|enum)\s+\w+\s*\{?\s*$")
_LABEL = re.compile(r"^[A-Za-z_]\w*:\s*$")
SYNTHETIC = "__reviewbot_fragment"


class Fragment(NamedTuple):
    """A parseable text and the post-image line number of each of its rows."""

    text: str
    rows: tuple[int | None, ...]
    start_depth: int  # how deep inside braces the hunk starts
    heading_function: str | None


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
                 scanned: list[ScannedLine]) -> int:
    rel = 0
    low = 0
    for s in scanned:
        code = s.code
        first = code[:1]
        if first == "}":
            return max(1 - rel, -low)
        if first == "{" or ((first.isalpha() or first == "_") and not _LABEL.match(code)):
            return max(-rel, -low)
        if rel + s.min_depth < low:
            low = rel + s.min_depth
        rel += s.opens - s.closes
    depth = -low
    if depth == 0 and heading_fn is not None:
        for text in texts:
            if text.strip():
                if text[:1] in (" ", "\t"):
                    depth = 1
                break
    return depth


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


def build_fragment(texts: list[str], numbers: list[int], section: str,
                   scanned: list[ScannedLine] | None = None) -> Fragment:
    """Wrap the post-image lines ``texts`` (numbered ``numbers``) into parseable C.

    ``scanned`` is ``scan_lines(texts, starts_in_comment(texts))`` when the caller has
    it already (the scan is the costly part; map_file does it once per hunk).
    """
    fn = heading_function(section)
    in_comment = starts_in_comment(texts)
    if scanned is None:
        scanned = scan_lines(texts, in_comment)
    depth = _start_depth(texts, fn, scanned)
    pre: list[str] = []
    if depth == 0 and fn is not None and _continues_signature(texts):
        pre.append(section)  # the hunk starts inside the function's parameter list
    if depth > 0:
        pre.append(f"void {fn or SYNTHETIC}(void) {{")
        pre.extend("{" for _ in range(depth - 1))
    if in_comment:
        pre.append("/*")  # innermost: the comment is inside the function, not around it
    end_depth = depth + sum(s.opens - s.closes for s in scanned)
    tail_comment = bool(scanned) and scanned[-1].in_comment_after
    post: list[str] = (["*/"] if tail_comment else []) + ["}" for _ in range(max(0, end_depth))]
    rows: list[int | None] = [None] * len(pre) + list(numbers) + [None] * len(post)
    return Fragment("\n".join([*pre, *texts, *post]) + "\n", tuple(rows), depth, fn)
