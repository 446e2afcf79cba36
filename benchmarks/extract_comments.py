"""Extract reviewers' inline comments from list traffic, for classing them by hand.

    python benchmarks/extract_comments.py ../shared/corpus/traffic/linux-block-2025-10.mbox

Prints one JSON object per line for every inline comment: text a reviewer wrote under a
quote block that holds added lines (``> +...``, quote depth 1) in a reply to a patch
email. Each object says which reply and patch it belongs to, the file, the post-image line
of the last quoted added line (``line``, resolved against the patch's diff: the quoted
line's text, then the quoted lines above it to choose between equal lines), the added
lines quoted right above the comment that end with it (``lines``, at most ``RUN``), the
``anchor`` (``added``: the comment is right under that line; ``near``: context or removed
lines were quoted after it), the quoted line and the comment text. It is a working aid:
the classes and the short descriptions in ``benchmarks/judged/*.comments.json`` are
written by a person who read every comment; the reviewers' text is not stored in the
repository (the corpus stays outside it).

Left out, and counted on stderr: comments made only of tags (Reviewed-by, ...),
closings, snip marks or the sender's name; comments under quote blocks of removed or
unchanged lines only; comments whose quoted line cannot be found in the patch.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from reviewbot.diff.model import FileDiff
from reviewbot.diff.parse import DiffError, parse_diff, split_body
from reviewbot.fetch.local import read_source
from reviewbot.series.mail import parse_mail
from reviewbot.series.model import Mail

RUN = 3  # a comment is about at most this many added lines quoted right above it
NO_TEXT = "no comment text (tags, closings, snips)"
UNCHANGED = "under removed or unchanged lines only"
_QUOTE = re.compile(r"^>(?!\s*>)\s?(.*)$")  # quote depth 1 exactly
_DEEPER = re.compile(r"^>\s*>")
_FILE = re.compile(r"^(?:\+\+\+ b/|diff --git a/\S+ b/)(\S+)")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_TAG = re.compile(r"^\s*([A-Z][a-z]+(-[a-z]+)*-by|Fixes|Cc|Link|Closes):", re.IGNORECASE)
_SNIP = re.compile(r"^(\[?\s*(\.{2,}|snip|\u2026)\s*\]?|<\s*snip\s*>)$", re.IGNORECASE)
_SIGNATURE = re.compile(r"^(-{1,2}\s?[A-Za-z]{1,15}|-*\s*end quoted text\s*-*)$",
                        re.IGNORECASE)
_CLOSING = re.compile(r"^(thanks|thank you|regards|best regards|cheers|lgtm|looks good"
                      r"( to me)?)\W*$", re.IGNORECASE)


@dataclass
class Quote:
    file: str | None
    hunk_start: int | None  # post-image line of the quoted hunk header, when quoted
    lines: list[str]  # the quoted diff lines of this hunk so far (with their marker)
    block: int = 0  # index in ``lines`` where the quote block since the last comment starts


@dataclass
class Raw:
    reply: str
    patch: str
    file: str | None
    quoted: str  # the quoted added line without "+"
    above: list[str]  # quoted diff lines above it in the same hunk (with markers)
    in_block: int  # how many of ``above`` were quoted in the same block as it
    hunk_start: int | None
    anchor: str  # "added": right under the added line; "near": under context or removed
    #              lines that follow it in the same quote block
    comment: list[str]


def _anchor(quote: Quote) -> tuple[int, str] | None:
    """The quoted added line a comment below the current quote block is about."""
    block = quote.lines[quote.block:]
    # the last quoted diff line with text: an empty quoted line right above the comment is
    # mostly the reviewer's spacing (mail clients strip a blank context line's space, so
    # the two cannot be told apart)
    texts = [i for i, x in enumerate(block) if x.strip()]
    if not texts:
        return None
    if block[texts[-1]].startswith("+"):
        return quote.block + texts[-1], "added"
    added = [i for i, x in enumerate(block) if x.startswith("+")]
    return (quote.block + added[-1], "near") if added else None


def _comments(body: str, reply: str, patch: str, stats: dict[str, int]) -> list[Raw]:
    out: list[Raw] = []
    quote = Quote(None, None, [])
    in_diff = False
    current: Raw | None = None
    commenting = False
    for line in body.split("\n"):
        if _DEEPER.match(line):
            current, commenting = None, False
            continue
        m = _QUOTE.match(line)
        if m:
            if commenting:
                quote.block = len(quote.lines)
            current, commenting = None, False
            text = m.group(1)
            f = _FILE.match(text)
            if f:
                quote = Quote(f.group(1), None, [])
                in_diff = True
                continue
            h = _HUNK.match(text)
            if h:
                quote = Quote(quote.file, int(h.group(1)), [])
                in_diff = True
                continue
            if text[:1] in ("+", "-") and not text.startswith(("+++", "---")):
                quote.lines.append(text)  # reviewers often cut the diff and hunk headers
                in_diff = True
            elif in_diff and text[:1] == " ":
                quote.lines.append(text)
            elif in_diff and text == "":
                quote.lines.append(" ")  # a context blank line loses its space in mail
            continue
        if line.startswith("-- ") and line.strip() == "--":
            break  # signature
        if current is not None:
            current.comment.append(line)
            continue
        if not line.strip() or commenting:
            continue
        commenting = True
        if not in_diff or not quote.lines[quote.block:]:
            continue
        anchor = _anchor(quote)
        if anchor is None:
            stats[UNCHANGED] += 1
            continue
        i, kind = anchor
        # the text up to the next quoted line belongs to this comment
        current = Raw(reply, patch, quote.file, quote.lines[i][1:], list(quote.lines[:i]),
                      i - quote.block, quote.hunk_start, kind, [line])
        out.append(current)
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def _resolve(files: Sequence[FileDiff], raw: Raw,
             after: tuple[int, int]) -> tuple[int, int, str, list[int]] | None:
    """(file index, line, file, lines) of the quoted added line in the patch, or None;
    ``lines`` ends with its post-image line, after the added lines quoted right above it
    (at most ``RUN - 1``: a comment under a short run of added lines is about the run).

    Equal lines are told apart by the quoted lines above (and a quoted hunk header);
    where that does not decide (a reviewer quoted the same line twice without context),
    the first candidate after ``after`` (the reply's previous comment) wins, since replies
    quote the patch in order.
    """
    want = _norm(raw.quoted)
    above = [_norm(x[1:]) for x in raw.above if not x.startswith("-")]
    found: list[tuple[int, tuple[int, int], str, list[int]]] = []
    for n, fd in enumerate(files):
        if raw.file is not None and fd.path != raw.file:
            continue
        for hunk in fd.hunks:
            post = [ln for ln in hunk.lines if ln.kind != "-"]
            for i, ln in enumerate(post):
                if ln.kind != "+" or _norm(ln.text) != want or ln.new is None:
                    continue
                score = 0
                run = [ln.new]
                for k, q in enumerate(reversed(above)):
                    if i - 1 - k < 0 or _norm(post[i - 1 - k].text) != q:
                        break
                    score += 1
                    prev = post[i - 1 - k]
                    if len(run) == k + 1 < RUN and k < raw.in_block and prev.kind == "+" \
                            and prev.new is not None:
                        run.insert(0, prev.new)
                if raw.hunk_start is not None and hunk.new_start == raw.hunk_start:
                    score += 1000
                found.append((score, (n, ln.new), fd.path, run))
    if not found:
        return None
    top = max(x[0] for x in found)
    best = [x for x in found if x[0] == top]
    pick = next((x for x in best if x[1] > after), best[0])
    return pick[1][0], pick[1][1], pick[2], pick[3]


def _meaningful(lines: list[str], author: str) -> list[str]:
    """The comment's lines, or [] when it holds only tags, closings, snips and names."""
    out = [x.rstrip() for x in lines]
    while out and not out[-1].strip():
        out.pop()
    names = {w.strip(",.").lower() for w in author.split()} | {author.lower()}
    closed = False
    for x in (x.strip() for x in out if x.strip()):
        if _TAG.match(x) or _SNIP.match(x) or _SIGNATURE.match(x) \
                or x.strip(",.").lower() in names:
            continue
        if _CLOSING.match(x):
            closed = True
            continue
        if closed and len(x.split()) <= 2:
            continue  # the name under "Thanks,"
        return out
    return []


def extract(mails: Sequence[Mail]) -> Iterator[dict[str, object]]:
    """Every inline comment on a patch in ``mails``, in mailbox order."""
    by_id = {m.msgid: m for m in mails}
    dropped = {NO_TEXT: 0, UNCHANGED: 0, "not resolved": 0}
    for m in mails:
        parent = by_id.get(m.in_reply_to or "")
        if parent is None or not m.subject.is_reply or parent.subject.is_reply:
            continue
        parts = split_body(parent.body)
        if not parts.diff:
            continue
        try:
            files = parse_diff(parts.diff)
        except DiffError:
            continue
        after = (-1, -1)
        for raw in _comments(m.body, m.msgid, parent.msgid, dropped):
            text = _meaningful(raw.comment, m.author.name if m.author else "")
            if not text:
                dropped[NO_TEXT] += 1
                continue
            where = _resolve(files, raw, after)
            if where is None:
                dropped["not resolved"] += 1
                print(f"not resolved: {m.msgid} {raw.file} {raw.quoted!r}", file=sys.stderr)
                continue
            after = (where[0], where[1])
            yield {"reply": m.msgid, "patch": parent.msgid, "subject": parent.subject.raw,
                   "file": where[2], "line": where[3][-1], "lines": where[3],
                   "anchor": raw.anchor, "quoted": raw.quoted, "comment": "\n".join(text)}
    print(f"left out: {dropped}", file=sys.stderr)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    mails = [parse_mail(r.data) for r in read_source(argv[0])]
    for entry in extract(mails):
        print(json.dumps(entry, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
