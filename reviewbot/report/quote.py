"""Lay a patch out as an interleaved-quote reply: quoted lines, comments, elisions.

Everything is positioned by the line of the patch email a finding points at
(``Finding.patch_line``), so quoted lines are always exact lines of the patch body (a
tab stays a tab, trailing blanks stay). What is quoted for a finding:

- the ``diff --git``/``index``/``---``/``+++`` header of its file and the ``@@`` line of
  its hunk;
- up to CONTEXT lines above the flagged line, then the flagged line; when the flagged
  line opens a block (``... {``) that closes within MAX_BLOCK lines, or leaves a ``(``
  open that closes within MAX_CONT lines, the statement is quoted to its end, and the
  comment follows the whole statement (it stops before the next flagged line);
- a gap of at most FILL lines between two quoted stretches of one hunk is quoted rather
  than elided; every other gap is marked with ``[...]`` on a line of its own (unquoted,
  so that every ``>`` line of a reply is a line of the patch).

The commit message is quoted only around findings that point into it; otherwise it is
elided with the leading ``[...]``.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from reviewbot.findings import Finding
from reviewbot.series.model import Patch

CONTEXT = 3
FILL = 3
MAX_BLOCK = 8
MAX_CONT = 4
WIDTH = 72
ELISION = "[...]"

_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SEPARATOR = re.compile(r"^---[ \t]*$")
_BULLET = re.compile(r"^(?:[-*] |\d{1,2}[.)] )")
_LINE_COMMENT = re.compile(r"//.*$|/\*.*?\*/")


def quote_line(text: str) -> str:
    """``> text``; an empty line becomes ``>`` (no trailing blank)."""
    return "> " + text if text else ">"


@dataclass(frozen=True)
class Region:
    """A stretch of the patch body: the commit message, a file header or a hunk."""

    kind: Literal["message", "header", "hunk"]
    start: int  # first body line (0-based); for a hunk, its @@ line
    end: int  # last body line, inclusive
    header: Region | None = None  # for a hunk: the header of its file
    path: str = ""


@dataclass(frozen=True)
class Placed:
    """A finding placed on a body line; its comment goes under line ``end``."""

    finding: Finding
    index: int
    end: int
    region: Region


@dataclass(frozen=True)
class PatchText:
    """The body lines of a patch and its regions."""

    lines: tuple[str, ...]
    regions: tuple[Region, ...]
    offset: int  # email line number of body line 0

    @property
    def diff_start(self) -> int | None:
        starts = [r.start for r in self.regions if r.kind == "header"]
        return min(starts) if starts else None

    @property
    def diff_end(self) -> int | None:
        ends = [r.end for r in self.regions if r.kind != "message"]
        return max(ends) if ends else None

    def region_at(self, index: int) -> Region | None:
        for r in self.regions:
            if r.start <= index <= r.end:
                return r
        return None


def patch_text(patch: Patch) -> PatchText:
    """Cut the body of ``patch`` into regions, checking each against the body text."""
    lines = tuple(patch.mail.body.split("\n"))
    offset = patch.mail.body_line_offset
    regions: list[Region] = []
    first_header: int | None = None
    for fd in patch.files:
        hs = fd.patch_line - offset
        if not 0 <= hs < len(lines):
            continue
        hunks = []
        for h in fd.hunks:
            start = h.patch_line - offset
            end = max((ln.patch_line for ln in h.lines), default=h.patch_line) - offset
            if 0 <= start <= end < len(lines) and lines[start].startswith("@@") and start > hs:
                hunks.append((start, end))
        header_end = hunks[0][0] - 1 if hunks else hs
        header = Region("header", hs, header_end, None, fd.path)
        regions.append(header)
        regions.extend(Region("hunk", s, e, header, fd.path) for s, e in hunks)
        first_header = hs if first_header is None else min(first_header, hs)
    msg_end = first_header if first_header is not None else len(lines)
    for i in range(msg_end):
        if _SEPARATOR.match(lines[i]):
            msg_end = i
            break
    while msg_end > 0 and not lines[msg_end - 1].strip():
        msg_end -= 1
    if msg_end > 0:
        regions.insert(0, Region("message", 0, msg_end - 1))
    return PatchText(lines, tuple(sorted(regions, key=lambda r: r.start)), offset)


def _diff_text(line: str) -> str:
    return line[1:] if line[:1] in ("+", "-", " ") else line


def _locate(f: Finding, pt: PatchText, patch: Patch) -> int | None:
    """The body line ``f`` is about: its patch_line when the text agrees, else a search."""
    idx = f.patch_line - pt.offset
    region = pt.region_at(idx) if 0 <= idx < len(pt.lines) else None
    if region is not None:
        line = pt.lines[idx]
        if region.kind == "hunk" and _diff_text(line) == f.text:
            return idx
        if region.kind != "hunk" and line.strip() == f.text.strip():
            return idx
    best: tuple[int, int] | None = None
    for fd in patch.files:
        if fd.path != f.file:
            continue
        for h in fd.hunks:
            for ln in h.lines:
                if ln.text != f.text:
                    continue
                if f.side == "new" and (ln.kind == "-" or ln.new != f.line):
                    continue
                if f.side == "old" and ln.kind != "-":
                    continue
                cand = ln.patch_line - pt.offset
                dist = abs(ln.patch_line - f.patch_line)
                if pt.region_at(cand) is not None and (best is None or dist < best[0]):
                    best = (dist, cand)
    return best[1] if best is not None else None


def _code(line: str) -> str:
    return _LINE_COMMENT.sub("", _diff_text(line)).rstrip()


def statement_end(pt: PatchText, region: Region, index: int) -> int:
    """The last line of the statement that starts on ``index`` (see the module doc)."""
    if region.kind != "hunk":
        return index
    first = pt.lines[index]
    side = "-" if first.startswith("-") else "+"
    code = _code(first)
    if not code.strip():
        return index
    depth_brace = code.count("{") - code.count("}")
    depth_paren = code.count("(") - code.count(")")
    if code.endswith("{") and depth_brace > 0:
        limit, want = MAX_BLOCK, "brace"
    elif depth_paren > 0:
        limit, want = MAX_CONT, "paren"
    else:
        return index
    seen = 0
    for j in range(index + 1, region.end + 1):
        line = pt.lines[j]
        marker = line[:1]
        if marker not in ("", " ", side):
            continue  # the other side of the diff: quoted, but not part of the statement
        seen += 1
        if seen > limit:
            return index
        c = _code(line)
        if want == "brace":
            depth_brace += c.count("{") - c.count("}")
            if depth_brace <= 0:
                return j
        else:
            depth_paren += c.count("(") - c.count(")")
            if depth_paren <= 0:
                return j
    return index


def place(findings: Sequence[Finding], pt: PatchText,
          patch: Patch) -> tuple[list[Placed], list[Finding]]:
    """Findings with their body line and comment position; those that have none."""
    located: list[tuple[int, Finding]] = []
    lost: list[Finding] = []
    for f in findings:
        idx = _locate(f, pt, patch)
        if idx is None:
            lost.append(f)
        else:
            located.append((idx, f))
    located.sort(key=lambda x: (x[0], x[1].rule))
    indices = sorted({i for i, _ in located})
    placed: list[Placed] = []
    for idx, f in located:
        region = pt.region_at(idx)
        assert region is not None  # _locate only returns lines inside a region
        end = statement_end(pt, region, idx)
        later = [i for i in indices if i > idx]
        if later and later[0] <= end:
            end = later[0] - 1
        placed.append(Placed(f, idx, max(end, idx), region))
    return placed, lost


def comment_lines(text: str, width: int = WIDTH) -> list[str]:
    """A comment wrapped at ``width``: prose paragraphs re-flowed; indented (code)
    lines and list items kept as they are written; no line that reads as a quote."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(_CTRL.sub("", ln) for ln in text.split("\n")).strip("\n")
    out: list[str] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            first = para[0]
            bullet = _BULLET.match(first)
            indent = " " * len(bullet.group(0)) if bullet else ""
            out.extend(textwrap.wrap(" ".join(p.strip() for p in para), width,
                                     subsequent_indent=indent, break_long_words=False,
                                     break_on_hyphens=False) or [""])
            para.clear()

    for raw in text.split("\n"):
        line = raw.rstrip()
        if not line:
            flush()
            out.append("")
        elif line[0] in " \t":
            flush()
            out.append(line)
        elif _BULLET.match(line):
            flush()
            para.append(line)
        else:
            para.append(line)
    flush()
    while out and not out[-1]:
        out.pop()
    return [(" " + ln if ln.startswith(">") else ln) for ln in out]


def _comment_block(placed: Sequence[Placed]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for p in placed:
        text = p.finding.reply.strip() or p.finding.message.strip()
        if not text or text in seen:
            continue
        seen.add(text)
        out.append("")
        out.extend(comment_lines(text))
    return out


def _lost_block(lost: Sequence[Finding]) -> list[str]:
    out: list[str] = []
    for f in lost:
        where = "the removed line" if f.side == "old" else "line"
        out.append("")
        out.append(f"In {f.file}, {where} {f.line}:")
        out.extend(comment_lines(f.reply.strip() or f.message.strip()))
    return out


def quoted_body(patch: Patch, findings: Sequence[Finding]) -> list[str]:
    """The reply body between the attribution and the footer (no trailing blank)."""
    pt = patch_text(patch)
    placed, lost = place(findings, pt, patch)
    quoted: set[int] = set()
    at: dict[int, list[Placed]] = {}
    for p in placed:
        if p.region.header is not None:
            quoted.update(range(p.region.header.start, p.region.header.end + 1))
        if p.region.kind == "hunk":
            quoted.add(p.region.start)
            first = p.region.start + 1
        else:
            first = p.region.start
        quoted.update(range(max(first, p.index - CONTEXT), p.end + 1))
        at.setdefault(p.end, []).append(p)
    ordered = sorted(quoted)
    for a, b in itertools.pairwise(ordered):
        ra, rb = pt.region_at(a), pt.region_at(b)
        if ra is not None and ra is rb and 0 < b - a - 1 <= FILL:
            quoted.update(range(a + 1, b))
    out: list[str] = []
    prev = -1
    for i in sorted(quoted):
        if i != prev + 1:
            out.append(ELISION)
        out.append(quote_line(pt.lines[i]))
        if i in at:
            out.extend(_comment_block(at[i]))
            out.append("")
        prev = i
    if lost:
        if out and out[-1] != "":
            out.append("")
        if not out:
            out.append(ELISION)
        out.extend(_lost_block(lost))
    while out and not out[-1]:
        out.pop()
    return out


def quoted_diff(patch: Patch, findings: Sequence[Finding]) -> tuple[list[str], list[Finding]]:
    """The whole diff quoted, each comment directly under the flagged line (b4's
    review file layout: b4 attaches a comment to the quoted line right above it, so
    the comment lands on the finding's own line rather than on the statement's end).

    Returns the lines and the findings that could not be placed in the diff.
    """
    pt = patch_text(patch)
    placed, lost = place(findings, pt, patch)
    start, end = pt.diff_start, pt.diff_end
    if start is None or end is None:
        return [], list(findings)
    at: dict[int, list[Placed]] = {}
    for p in placed:
        if p.region.kind == "message":
            lost.append(p.finding)
        else:
            at.setdefault(p.index, []).append(p)
    out: list[str] = []
    for i in range(start, end + 1):
        out.append(quote_line(pt.lines[i]))
        if i in at:
            out.extend(_comment_block(at[i]))
            out.append("")
    while out and not out[-1]:
        out.pop()
    return out, lost
