"""Judged findings: a human's verdict on each finding reviewbot reports on list traffic.

A judged file (``benchmarks/judged/<traffic>.json``) holds one entry per finding:
the patch's Message-ID, the rule id, the file, the post-image line, the side (``new``
or ``old`` for a finding about a removed line), the line's text, the verdict (``TP``,
``DEBATABLE`` or ``FP``) and a one-line reason. A finding gets the verdict of the entry
with the same Message-ID, rule, file, side, line and text; when a rule change moved it
by at most ``MAX_SHIFT`` lines, the nearest entry with the same text still matches. An
entry whose line now holds other text is not reused: that finding needs a new look.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewbot.errors import InputError
from reviewbot.evaluate.jsonfile import field, read_json
from reviewbot.findings import Finding

SCHEMA_VERSION = 1
VERDICTS = ("TP", "DEBATABLE", "FP")
MAX_SHIFT = 3

@dataclass(frozen=True)
class Judgement:
    msgid: str
    rule: str
    file: str
    line: int
    side: str  # "new", or "old" for a finding about a removed line
    text: str
    verdict: str
    reason: str
    message: str = ""  # what the finding said when it was judged (for the reader)

    @property
    def where(self) -> tuple[str, str, str, str]:
        return self.msgid, self.rule, self.file, self.side


@dataclass(frozen=True)
class Located:
    """A finding on list traffic, with the patch it is on."""

    msgid: str
    subject: str
    finding: Finding

    @property
    def rule(self) -> str:
        return self.finding.rule

    @property
    def where(self) -> tuple[str, str, str, str]:
        return self.msgid, self.rule, self.finding.file, self.finding.side


@dataclass(frozen=True)
class Matched:
    pairs: tuple[tuple[Located, Judgement], ...]
    unjudged: tuple[Located, ...]
    stale: tuple[Judgement, ...]  # judged, but not reported any more


def _entry(raw: Any, n: int) -> Judgement:
    where = f"judged finding {n + 1}"
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be an object")
    side = raw.get("side", "new")
    if side not in ("new", "old"):
        raise InputError(f"{where}: side must be \"new\" or \"old\"")
    verdict = raw.get("verdict")
    if verdict not in VERDICTS:
        raise InputError(f"{where}: verdict must be one of {', '.join(VERDICTS)}")
    text = raw.get("text")
    if not isinstance(text, str):
        raise InputError(f"{where}: text must be a string (the line, \"\" for a blank one)")
    message = raw.get("message", "")
    return Judgement(field(raw, "msgid", str, where), field(raw, "rule", str, where),
                     field(raw, "file", str, where), field(raw, "line", int, where), side,
                     text, verdict, field(raw, "reason", str, where),
                     message if isinstance(message, str) else "")


def load_judged(path: str | Path) -> tuple[Judgement, ...]:
    """The entries of a judged file; InputError (one line) for anything malformed."""
    data = read_json(path, "judged findings")
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_VERSION \
            or not isinstance(data.get("findings"), list):
        raise InputError(f"{path}: not a judged-findings file (schema {SCHEMA_VERSION}: "
                         "an object with a \"findings\" list)")
    entries = tuple(_entry(raw, n) for n, raw in enumerate(data["findings"]))
    seen: set[tuple[str, str, str, str, int]] = set()
    for e in entries:
        key = (*e.where, e.line)
        if key in seen:
            raise InputError(f"{path}: {e.msgid} {e.rule} {e.file}:{e.line} judged twice")
        seen.add(key)
    return entries


def match(found: Sequence[Located], judged: Iterable[Judgement]) -> Matched:
    """Pair every finding with its judgement: same place and text, or same text moved
    by at most ``MAX_SHIFT`` lines (the nearest one). Each judgement is used once."""
    pool: dict[tuple[str, str, str, str], list[Judgement]] = {}
    for j in judged:
        pool.setdefault(j.where, []).append(j)
    used: set[int] = set()
    pairs: list[tuple[Located, Judgement]] = []
    unjudged: list[Located] = []
    pending: list[Located] = []
    for x in found:  # exact places first, so a moved finding cannot take another's entry
        exact = next((j for j in pool.get(x.where, ()) if j.line == x.finding.line
                      and j.text == x.finding.text and id(j) not in used), None)
        if exact is None:
            pending.append(x)
        else:
            used.add(id(exact))
            pairs.append((x, exact))
    for x in pending:
        near = [j for j in pool.get(x.where, ()) if id(j) not in used
                and j.text == x.finding.text and abs(j.line - x.finding.line) <= MAX_SHIFT]
        if near:
            best = min(near, key=lambda j: (abs(j.line - x.finding.line), j.line))
            used.add(id(best))
            pairs.append((x, best))
        else:
            unjudged.append(x)
    stale = tuple(j for group in pool.values() for j in group if id(j) not in used)
    order = {id(x): n for n, x in enumerate(found)}
    pairs.sort(key=lambda p: order[id(p[0])])
    return Matched(tuple(pairs), tuple(unjudged), stale)


def stub(x: Located) -> dict[str, Any]:
    """A judged-file entry for an unjudged finding, for a human to fill in."""
    f = x.finding
    return {"msgid": x.msgid, "rule": x.rule, "file": f.file, "line": f.line,
            "side": f.side, "text": f.text, "message": f.message, "verdict": None,
            "reason": None}
