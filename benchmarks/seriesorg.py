#!/usr/bin/env python3
"""Candidate findings of the series analyses (reviewbot/seriesmap) on real traffic,
scored against human verdicts.

    python benchmarks/seriesorg.py SOURCE... [--judged FILE] [--comments FILE] [--stubs]

Every SOURCE (an mbox, or a directory of patch files) is read with every revision of
every series (as ``check -v N`` picks each), and each analysis lists what it would
report. With ``--judged`` (the shape of benchmarks/judged/linux-block-2025-10.json) it
prints, per analysis: candidates, TP, DEBATABLE, FP, precision = TP / (TP + FP); and
the candidates not judged yet (``--stubs`` prints those as JSON entries to fill in).
With ``--comments`` (benchmarks/judged/*.comments.json) it says which of the reviewers'
``other_patch`` comments a candidate lands on (same patch, file and line), and any
other comment one lands on. Exit status 1 when a candidate is unjudged or a judged TP
or DEBATABLE one is no longer found (an FP no longer found is a fixed one).

Analysis names (phase B turns each into a rule): bisect/used-before-added,
bisect/removed-in-use, misplaced/reformat, misplaced/revert, misplaced/fixup,
misplaced/only-used-later, unrelated/other-area, unrelated/other-function, nfc/behaviour.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewbot.errors import InputError
from reviewbot.evaluate.judged import Judgement, load_judged
from reviewbot.fetch.local import RawMessage, read_source
from reviewbot.pipeline import parse_messages
from reviewbot.series.build import build_series, is_patch_mail
from reviewbot.series.model import Series
from reviewbot.seriesmap.bisect import build_breaks
from reviewbot.seriesmap.misplaced import misplaced_changes
from reviewbot.seriesmap.model import Site
from reviewbot.seriesmap.nfc import nfc_changes
from reviewbot.seriesmap.series import SeriesMap, map_series, placement
from reviewbot.seriesmap.unrelated import unrelated_hunks

ANALYSES = ("bisect/used-before-added", "bisect/removed-in-use", "misplaced/reformat",
            "misplaced/revert", "misplaced/fixup", "misplaced/only-used-later",
            "unrelated/other-area", "unrelated/other-function", "nfc/behaviour")
MAX_BYTES = 1 << 30


@dataclass(frozen=True)
class Candidate:
    msgid: str
    subject: str
    rule: str
    file: str
    line: int
    side: str
    text: str
    message: str

    def key(self) -> tuple[str, str, str, str, int, str]:
        return self.msgid, self.rule, self.file, self.side, self.line, self.text


def read_messages(source: str) -> list[RawMessage]:
    path = Path(source)
    if path.is_dir():
        out: list[RawMessage] = []
        for f in sorted(path.glob("*.patch")):
            out.extend(read_source(str(f), MAX_BYTES))
        return out
    return read_source(source, MAX_BYTES)


def every_revision(messages: Sequence[RawMessage]) -> list[Series]:
    """Every revision of every series, each as ``check -v N`` would pick it."""
    mails = parse_messages(messages)
    chosen: dict[tuple[str, ...], Series] = {}
    for version in sorted({m.subject.version for m in mails if is_patch_mail(m)}):
        try:
            found = build_series(mails, version)
        except InputError:
            continue
        for s in found:
            chosen.setdefault(tuple(p.msgid for p in s.patches) or (s.id,), s)
    return list(chosen.values())


def _raw(smap: SeriesMap) -> Iterator[tuple[str, Site, str]]:
    total = smap.series.total
    for b in build_breaks(smap):
        yield f"bisect/{b.kind}", b.site, b.message(total)
    for m in misplaced_changes(smap):
        yield f"misplaced/{m.kind}", m.site, m.message(total)
    for u in unrelated_hunks(smap):
        yield f"unrelated/{u.kind}", u.site, u.message()
    for c in nfc_changes(smap):
        yield "nfc/behaviour", c.site, c.message()


def candidates(series: Sequence[Series]) -> list[Candidate]:
    out: list[Candidate] = []
    for s in series:
        smap = map_series(s)
        for rule, site, message in _raw(smap):
            pm = smap.patch(site.patch)
            assert pm is not None
            side, line = placement(smap, site)
            out.append(Candidate(pm.patch.msgid, pm.patch.subject, rule, site.file, line,
                                 side, site.line.text, message))
    return out


def _judgement_key(j: Judgement) -> tuple[str, str, str, str, int, str]:
    return j.msgid, j.rule, j.file, j.side, j.line, j.text


def score(found: Sequence[Candidate], judged: Sequence[Judgement]
          ) -> tuple[dict[str, Counter[str]], list[Candidate], list[Judgement]]:
    by_key = {_judgement_key(j): j for j in judged}
    table: dict[str, Counter[str]] = {}
    unjudged: list[Candidate] = []
    seen: set[tuple[str, str, str, str, int, str]] = set()
    for c in found:
        j = by_key.get(c.key())
        table.setdefault(c.rule, Counter())["candidates"] += 1
        if j is None:
            unjudged.append(c)
            continue
        seen.add(c.key())
        table[c.rule][j.verdict] += 1
    stale = [j for j in judged if _judgement_key(j) not in seen]
    return table, unjudged, stale


def precision(counts: Counter[str]) -> float | None:
    tp, fp = counts["TP"], counts["FP"]
    return tp / (tp + fp) if tp + fp else None


def print_table(table: dict[str, Counter[str]]) -> None:
    print("| analysis | candidates | TP | DEB | FP | precision |")
    print("|---|---|---|---|---|---|")
    total: Counter[str] = Counter()
    for rule in [r for r in ANALYSES if r in table] + sorted(set(table) - set(ANALYSES)):
        c = table[rule]
        total.update(c)
        p = precision(c)
        print(f"| {rule} | {c['candidates']} | {c['TP']} | {c['DEBATABLE']} | {c['FP']} | "
              f"{'-' if p is None else f'{100 * p:.1f} %'} |")
    p = precision(total)
    print(f"| all | {total['candidates']} | {total['TP']} | {total['DEBATABLE']} | "
          f"{total['FP']} | {'-' if p is None else f'{100 * p:.1f} %'} |")


def comments_found(found: Sequence[Candidate], path: str) -> list[tuple[dict[str, object],
                                                                          list[Candidate]]]:
    """The reviewers' ``other_patch`` comments, each with the candidates landing on it
    (same patch, file and one of its lines), and the comments of any other class that
    a candidate lands on."""
    data = json.loads(Path(path).read_text())
    out = []
    for c in data["comments"]:
        lines = set(c.get("lines") or [c["line"]])
        hits = [x for x in found if x.msgid == c["patch"] and x.file == c["file"]
                and x.line in lines]
        if c.get("class") == "other_patch" or hits:
            out.append((c, hits))
    return out


def gather(sources: Sequence[str]) -> list[Candidate]:
    """The candidates of every source, a patch found in two sources once."""
    found: list[Candidate] = []
    for source in sources:
        found.extend(candidates(every_revision(read_messages(source))))
    return list({c.key(): c for c in found}.values())


def main(argv: Sequence[str] | None = None, found: list[Candidate] | None = None) -> int:
    """The command; ``found``: candidates already gathered from the sources."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", nargs="+")
    ap.add_argument("--judged")
    ap.add_argument("--comments")
    ap.add_argument("--stubs", action="store_true")
    args = ap.parse_args(argv)
    if found is None:
        found = gather(args.sources)
    status = 0
    if args.judged:
        table, unjudged, stale = score(found, load_judged(args.judged))
        print_table(table)
        for c in unjudged:
            print(f"unjudged: {c.msgid} {c.rule} {c.file}:{c.line} ({c.side}) {c.message}")
        for j in stale:
            what = "fixed" if j.verdict == "FP" else "LOST"
            print(f"no longer found ({what}): {j.msgid} {j.rule} {j.file}:{j.line} "
                  f"({j.verdict})")
        if args.stubs:
            print(json.dumps([{"msgid": c.msgid, "rule": c.rule, "file": c.file,
                               "line": c.line, "side": c.side, "text": c.text,
                               "message": c.message, "verdict": None, "reason": None}
                              for c in unjudged], indent=1))
        status = 1 if unjudged or any(j.verdict != "FP" for j in stale) else 0
    else:
        for c in found:
            print(f"{c.msgid} {c.rule} {c.file}:{c.line} ({c.side}) {c.message}")
        print(f"{len(found)} candidates", file=sys.stderr)
    if args.comments:
        for comment, hits in comments_found(found, args.comments):
            mark = "found" if hits else "missed"
            print(f"{mark} ({comment['class']}): {comment['patch']} {comment['file']}:"
                  f"{comment['line']} ({comment['description']})"
                  + "".join(f"\n    {h.rule}: {h.message}" for h in hits))
    return status


if __name__ == "__main__":
    sys.exit(main())
