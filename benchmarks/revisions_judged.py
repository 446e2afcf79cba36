"""Score the revision review on real list traffic against judgments kept as data.

    python benchmarks/revisions_judged.py [MBOX] [--judged FILE] [--check] [--dump]

Runs the revision review (``reviewbot.revisions``: vN-1 found in the mbox, comments,
their fate, trailers) over every series of MBOX with an earlier revision in it, and
matches each verdict with ``benchmarks/judged/revisions-<mbox name>.json``: a comment
by (series, reply Message-ID, SHA-1 of the comment text), a trailer problem by (series,
kind, trailer, patch). A verdict that is new, or differs from the one judged, is
"unjudged" and must be judged by hand before ``--check`` passes. Prints, per verdict
kind, how many a maintainer judged right / wrong / unclear, and the wrong ones;
``--check`` exits 1 when a verdict is unjudged or fewer than NOT_ADDRESSED_PRECISION of
the "not addressed" verdicts are right. ``--dump`` prints every verdict with what it
rests on (for judging).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MBOX = ROOT.parent / "shared" / "corpus" / "traffic" / "linux-block-2025-10.mbox"
NOT_ADDRESSED_PRECISION = 0.9
JUDGMENTS = ("right", "wrong", "unclear")


@dataclass(frozen=True)
class Verdict:
    key: str  # stable identity of what is judged
    kind: str  # "comment" or "trailer"
    verdict: str  # reviewbot's: addressed, not_addressed, ..., carried, missing
    series: str
    describe: str  # for --dump and the report: where, who, evidence


def text_id(text: str) -> str:
    """What identifies a comment's text in the judgments (its text is not copied)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def verdicts(mbox: Path) -> list[Verdict]:
    from reviewbot.fetch.local import read_source
    from reviewbot.findings import Review, SeriesReview
    from reviewbot.pipeline import parse_messages
    from reviewbot.revisions.lookup import Lookup, attach
    from reviewbot.series.build import build_series

    mails = parse_messages(read_source(str(mbox), 1 << 30))
    series = build_series(mails)
    review = attach(Review(tuple(SeriesReview(s, ()) for s in series)), mails, Lookup())
    out: list[Verdict] = []
    for sr in review.series:
        r = sr.since.review if sr.since is not None else None
        if r is None:
            continue
        sid = sr.series.id
        for f in r.comments:
            c = f.comment
            who = c.author.formatted() if c.author else "?"
            out.append(Verdict(f"comment {sid} {c.msgid} {c.index} {text_id(c.text)}", "comment",
                               f.verdict, sid,
                               f"v{r.previous.version} patch {c.patch}, {who} <{c.msgid}>: "
                               f"{f.evidence}"))
        for t in r.trailers:
            out.append(Verdict(f"trailer {sid} {t.kind} {t.trailer} {t.new}", "trailer",
                               t.kind, sid, f"patch {t.new}: {t.trailer}: {t.reason}"))
    return out


def load(path: Path) -> dict[str, dict[str, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {e["key"]: e for e in data["entries"]}


def score(found: list[Verdict], judged: dict[str, dict[str, str]]
          ) -> tuple[dict[str, Counter[str]], list[Verdict], list[tuple[Verdict, str]]]:
    """Counts per verdict kind, the unjudged verdicts, the wrong ones with the reason."""
    counts: dict[str, Counter[str]] = {}
    unjudged: list[Verdict] = []
    wrong: list[tuple[Verdict, str]] = []
    for v in found:
        entry = judged.get(v.key)
        if entry is None or entry["verdict"] != v.verdict:
            unjudged.append(v)
            continue
        counts.setdefault(v.verdict, Counter())[entry["judgment"]] += 1
        if entry["judgment"] == "wrong":
            wrong.append((v, entry["reason"]))
    return counts, unjudged, wrong


def precision(counts: dict[str, Counter[str]], verdict: str) -> float | None:
    c = counts.get(verdict, Counter())
    total = sum(c.values())
    return c["right"] / total if total else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("mbox", nargs="?", type=Path, default=DEFAULT_MBOX)
    ap.add_argument("--judged", type=Path)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--dump", action="store_true")
    args = ap.parse_args(argv)
    judged_path = args.judged or (ROOT / "benchmarks" / "judged" /
                                  f"revisions-{args.mbox.stem}.json")
    found = verdicts(args.mbox)
    if args.dump:
        for v in found:
            print(f"{v.verdict:14} {v.key}\n    {v.describe}")
    counts, unjudged, wrong = score(found, load(judged_path))
    for verdict in sorted(counts):
        c = counts[verdict]
        print(f"{verdict:14} right {c['right']:3}  wrong {c['wrong']:3}  unclear "
              f"{c['unclear']:3}")
    for v, reason in wrong:
        print(f"wrong: {v.verdict}: {v.describe} -- {reason}")
    for v in unjudged:
        print(f"unjudged: {v.verdict}: {v.key}: {v.describe}")
    p = precision(counts, "not_addressed")
    print(f"not addressed precision: {'-' if p is None else f'{p:.0%}'} "
          f"({len(found)} verdicts, {len(unjudged)} unjudged)")
    if args.check and (unjudged or (p is not None and p < NOT_ADDRESSED_PRECISION)):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
