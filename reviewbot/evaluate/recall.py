"""Recall on list traffic: the reviewers' inline comments, classed by hand, and how many
of them a finding lands on (same patch, same file, the quoted added line).

The comments file (``benchmarks/judged/<traffic>.comments.json``) holds, per comment,
the reply's and the patch's Message-IDs, the file, the post-image line of the quoted
added line (``line``) and the short run of added lines quoted right above the comment
that ends with it (``lines``), how the comment sits under it (``added``: right under it;
``near``: under context or removed lines quoted after it), the class, optionally the
mechanical check the comment asks for (``idiom``), and a short description in the
classifier's own words. A finding lands on a comment when it is on the same patch and
file and on ``line``; the report also counts findings on any of ``lines`` (a reviewer
quoting a two-line re-wrap comments under its second line, a rule reports its first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewbot.errors import InputError
from reviewbot.evaluate.jsonfile import field, read_json
from reviewbot.evaluate.judged import Located

SCHEMA_VERSION = 1
ANCHORS = ("added", "near")


@dataclass(frozen=True)
class ReviewComment:
    reply: str
    patch: str
    file: str
    line: int
    lines: tuple[int, ...]  # ends with ``line``
    anchor: str
    cls: str
    idiom: str | None
    description: str


@dataclass(frozen=True)
class Comments:
    classes: tuple[tuple[str, str], ...]  # (class, what it covers), in report order
    comments: tuple[ReviewComment, ...]


@dataclass(frozen=True)
class ClassTally:
    cls: str
    comments: int
    landed: int  # a finding on the quoted line
    near: int  # a finding on one of the quoted lines (``lines``)
    rules: tuple[str, ...]  # the rules whose findings landed on them (either way)


@dataclass(frozen=True)
class Recall:
    per_class: tuple[ClassTally, ...]
    total: ClassTally
    landed: tuple[tuple[ReviewComment, tuple[str, ...], bool], ...]  # comment, rules,
    # on ``line`` itself (False: only on another of ``lines``)
    idioms: tuple[tuple[str, int], ...]  # mechanical checks asked for, most asked first


def _comment(raw: Any, n: int, classes: set[str]) -> ReviewComment:
    where = f"comment {n + 1}"
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be an object")
    cls = field(raw, "class", str, where)
    if cls not in classes:
        raise InputError(f"{where}: class {cls!r} is not one of the file's classes")
    anchor = raw.get("anchor", "added")
    if anchor not in ANCHORS:
        raise InputError(f"{where}: anchor must be one of {', '.join(ANCHORS)}")
    line = field(raw, "line", int, where)
    lines = raw.get("lines", [line])
    if not isinstance(lines, list) or not lines or lines[-1] != line or not all(
            isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in lines):
        raise InputError(f"{where}: lines must be a list of line numbers ending with line")
    return ReviewComment(field(raw, "reply", str, where), field(raw, "patch", str, where),
                         field(raw, "file", str, where), line, tuple(lines), anchor, cls,
                         field(raw, "idiom", str, where, required=False),
                         field(raw, "description", str, where))


def load_comments(path: str | Path) -> Comments:
    """The classed comments; InputError (one line) for anything malformed."""
    data = read_json(path, "review comments")
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION \
            or not isinstance(data.get("classes"), dict) \
            or not isinstance(data.get("comments"), list):
        raise InputError(f"{path}: not a review-comments file (schema {SCHEMA_VERSION}: an "
                         "object with \"classes\" and \"comments\")")
    classes = tuple((str(k), str(v)) for k, v in data["classes"].items())
    names = {k for k, _ in classes}
    comments = tuple(_comment(raw, n, names) for n, raw in enumerate(data["comments"]))
    seen: set[tuple[str, str, int]] = set()
    for c in comments:
        if (c.reply, c.file, c.line) in seen:
            raise InputError(f"{path}: {c.reply} {c.file}:{c.line} listed twice")
        seen.add((c.reply, c.file, c.line))
    return Comments(classes, comments)


def recall(data: Comments, found: Sequence[Located]) -> Recall:
    """Per class: comments, and those a finding lands on (patch, file, added line)."""
    on: dict[tuple[str, str, int], set[str]] = {}
    for x in found:
        if x.finding.side == "new":
            on.setdefault((x.msgid, x.finding.file, x.finding.line), set()).add(x.rule)
    landed = []
    for c in data.comments:
        rules = {r for n in c.lines for r in on.get((c.patch, c.file, n), ())}
        if rules:
            landed.append((c, tuple(sorted(rules)), (c.patch, c.file, c.line) in on))

    def row(cls: str | None) -> ClassTally:
        mine = [c for c in data.comments if cls is None or c.cls == cls]
        hit = [(c, r, exact) for c, r, exact in landed if cls is None or c.cls == cls]
        return ClassTally(cls or "all", len(mine), sum(1 for *_, exact in hit if exact),
                          len(hit), tuple(sorted({x for _, r, _ in hit for x in r})))

    idioms: dict[str, int] = {}
    for c in data.comments:
        if c.idiom:
            idioms[c.idiom] = idioms.get(c.idiom, 0) + 1
    return Recall(tuple(row(cls) for cls, _ in data.classes), row(None), tuple(landed),
                  tuple(sorted(idioms.items(), key=lambda kv: (-kv[1], kv[0]))))
