"""Read an interleaved-quote reply: quoted runs, the text between them, trailers.

A reply is cut into blocks: runs of quoted lines (``>``, ``> >``, ``>>``...; the depth
is the number of ``>``) and runs of the writer's own lines. The writer's text loses what
is not a comment: the attribution line ("On ..., X wrote:"), the signature (from
``-- ``), trailers (``Reviewed-by:``...), greetings ("Hi Jens,"), sign-offs ("Thanks,"
and the name under it) and elision marks ("[...]", "<snip>").
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass

from reviewbot.series.model import Person

_QUOTE = re.compile(r"^[ \t]?((?:>[ \t]?)+)")
TRAILER_LINE = re.compile(r"^\s*([A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*-by|Fixes|Link|Closes|Cc)"
                      r":\s*\S", re.IGNORECASE)
GIVEN_LINE = re.compile(r"^\s*(Reviewed-by|Acked-by|Tested-by):\s*(.{1,300}?)\s*$",
                    re.IGNORECASE)
_WROTE = re.compile(r"(wrote|writes|schrieb|a écrit|escribió)\s*:\s*$", re.IGNORECASE)
_GREETING = re.compile(r"^\s*(hi|hello|hey|dear|hallo|greetings)\b[^.?!]{0,60}[,!.:]?\s*$",
                       re.IGNORECASE)
_CLOSING = re.compile(r"^\s*(thanks|thank you|thx|tia|regards|best regards|kind regards|"
                      r"best wishes|cheers|br|best|sincerely|ciao)\b[^.?]{0,40}[,.!]*\s*$",
                      re.IGNORECASE)
_ELISION = re.compile(r"^\s*(\[\s*\.\.\.\s*\]|\[snip\]|<snip>|\[\.\.\. *snip *\.\.\.\]|"
                      r"\.\.\.|…|snip|--8<--.*)\s*$", re.IGNORECASE)
_SIGNATURE = re.compile(r"^--\s?$")


@dataclass(frozen=True)
class Block:
    """A run of quoted lines (``depth`` >= 1) or of the writer's own lines (depth 0)."""

    depth: int  # quoted: the smallest depth in the run; 0: the writer's lines
    lines: tuple[str, ...]  # quote markers removed (one blank after the last ``>``)
    depths: tuple[int, ...]  # per line


def quote_depth(line: str) -> tuple[int, str]:
    """(number of ``>``, the text after them and one blank)."""
    m = _QUOTE.match(line)
    if not m:
        return 0, line
    prefix = m.group(1)
    depth = prefix.count(">")
    rest = line[m.end():]
    # "> +\tfoo": the prefix took the blank after ">"; "> \tfoo" keeps its tab
    return depth, rest


def own_lines(body: str) -> list[str]:
    """The body's lines up to the signature separator (``-- ``), CRs dropped."""
    lines = body.replace("\r", "").split("\n")
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line) and not line.startswith(">"):
            return lines[:i]
    return lines


def split_blocks(body: str) -> list[Block]:
    """The body as alternating quoted and own blocks (blank own lines included)."""
    blocks: list[Block] = []
    cur: list[str] = []
    depths: list[int] = []
    cur_quoted: bool | None = None
    for raw in own_lines(body):
        depth, text = quote_depth(raw)
        quoted = depth > 0
        if cur_quoted is not None and quoted != cur_quoted:
            blocks.append(_block(cur, depths, cur_quoted))
            cur, depths = [], []
        cur_quoted = quoted
        cur.append(text)
        depths.append(depth)
    if cur and cur_quoted is not None:
        blocks.append(_block(cur, depths, cur_quoted))
    return blocks


def _block(lines: list[str], depths: list[int], quoted: bool) -> Block:
    return Block(min(depths) if quoted else 0, tuple(lines), tuple(depths))


def drop_attribution(lines: list[str]) -> list[str]:
    """``lines`` (own text right before a quote) without the "X wrote:" line(s)."""
    out = list(lines)
    while out and not out[-1].strip():
        out.pop()
    if out and _WROTE.search(out[-1]):
        out.pop()
        # a wrapped attribution: "On Tue, 4 Nov 2025 at 10:00, Jane Doe" + "<j@x> wrote:"
        if out and out[-1].strip() and out[-1].lstrip().lower().startswith("on ") and (
                len(out[-1]) > 20):
            out.pop()
    return out


def drop_attributions(lines: list[str]) -> list[str]:
    """``lines`` without any "X wrote:" line (and the "On <date>, X" line it wraps)."""
    out: list[str] = []
    for line in lines:
        if _WROTE.search(line):
            if out and out[-1].strip() and out[-1].lstrip().lower().startswith(
                    ("on ", "le ", "am ")) and len(out[-1]) > 20:
                out.pop()
            continue
        out.append(line)
    return out


def clean_comment(lines: list[str], author: Person | None, last: bool,
                  first: bool) -> str:
    """The comment in ``lines`` without trailers, greetings, sign-offs and elisions."""
    kept = [ln.rstrip() for ln in lines
            if not TRAILER_LINE.match(ln) and not _ELISION.match(ln)]
    while kept and not kept[0].strip():
        kept.pop(0)
    if first and kept and _GREETING.match(kept[0]) and len(kept[0]) < 70:
        kept.pop(0)
    if last:
        kept = _drop_signoff(kept, author)
    while kept and not kept[-1].strip():
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)


def _drop_signoff(lines: list[str], author: Person | None) -> list[str]:
    """Without the closing ("Thanks,", "Cheers,", then a name) at the end of a mail."""
    out = list(lines)
    while out and not out[-1].strip():
        out.pop()
    tail = 0  # short lines at the end: names, initials ("-ck", "Bart.")
    while tail < len(out) and tail < 3:
        line = out[len(out) - 1 - tail].strip()
        if not line:
            tail += 1
            continue
        if _CLOSING.match(line) or _is_name(line, author):
            tail += 1
            continue
        break
    last = out[-1].strip() if out else ""
    if tail == 0 and last and len(out) >= 2 and not out[-2].strip() and len(last) <= 20 and (
            re.fullmatch(r"[A-Z][\w.-]*\.?|-\w{1,4}", last)):
        tail = 1  # a nickname alone under a blank line ("Honza", "Bart.", "-ck")
    cut = len(out) - tail
    # the closing may sit right above: "Thanks,\n\nBart."
    while cut > 0 and (not out[cut - 1].strip() or _CLOSING.match(out[cut - 1])):
        cut -= 1
    return out[:cut]


def _is_name(line: str, author: Person | None) -> bool:
    words = line.replace(",", " ").replace(".", " ").split()
    if not words or len(words) > 4 or len(line) > 40:
        return False
    if line.startswith("-") and len(line) <= 6 and line[1:].isalpha():
        return True  # "-ck"
    if author is None or not author.name:
        return False
    names = {w.lower() for w in author.name.replace(",", " ").split() if len(w) > 1}
    return any(w.lower() in names for w in words)


def given_trailers(body: str) -> list[tuple[str, Person]]:
    """The Reviewed-by/Acked-by/Tested-by a reply gives (its own lines, not quoted)."""
    out: list[tuple[str, Person]] = []
    for line in own_lines(body):
        if quote_depth(line)[0]:
            continue
        m = GIVEN_LINE.match(line)
        if m:
            person = parse_person(m.group(2))
            if person is not None:
                out.append((canonical_kind(m.group(1)), person))
    return out


def canonical_kind(kind: str) -> str:
    """``reviewed-BY`` -> ``Reviewed-by``."""
    return kind[:1].upper() + kind[1:].lower()


def parse_person(text: str) -> Person | None:
    """``Name <addr>`` (or a bare address) as a Person; None when there is no address."""
    name, addr = email.utils.parseaddr(text.strip())
    if "@" not in addr:
        # "Name<addr>" without a blank, as some mailers mangle it, parses the same way
        m = re.match(r"^(.*?)<([^<>\s]+@[^<>\s]+)>\s*$", text.strip())
        if not m:
            return None
        name, addr = m.group(1).strip(), m.group(2)
    return Person(" ".join(name.split()), addr)


def normalize(line: str) -> str:
    """A line compared across mail clients: whitespace runs as one blank, stripped."""
    return " ".join(line.split())
