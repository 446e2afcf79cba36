"""Build series for the series-analysis tests: hand-written patches, or the whole-series
examples under fixtures/seriesmap (made with git format-patch)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

from reviewbot.fetch.local import read_source
from reviewbot.pipeline import parse_messages
from reviewbot.series.build import build_series
from reviewbot.series.mail import parse_mail
from reviewbot.series.model import Series
from reviewbot.seriesmap.series import SeriesMap, map_series
from reviewbot.seriesmap.tree import TreeDefines

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "seriesmap"
Change = tuple[str, str | None, str | None]  # path, text before (None: new), after
PatchSpec = tuple[str, str, Sequence[Change]]  # title, commit message, changes


def diff(path: str, before: str | None, after: str | None, section: str = "") -> str:
    """A git diff of one file, from its text before and after (difflib's hunks, with
    ``section`` as every hunk's heading)."""
    a = (before or "").splitlines(keepends=True)
    b = (after or "").splitlines(keepends=True)
    old = f"a/{path}" if before is not None else "/dev/null"
    new = f"b/{path}" if after is not None else "/dev/null"
    out = [f"diff --git a/{path} b/{path}\n"]
    for line in difflib.unified_diff(a, b, old, new, n=3):
        if line.startswith("@@") and section:
            line = line.rstrip("\n") + f" {section}\n"
        out.append(line if line.endswith("\n") else line + "\n")
    return "".join(out)


def patch_mail(index: int, total: int, title: str, body: str, diffs: str) -> bytes:
    thread = "" if index == 1 else "In-Reply-To: <p1@example.org>\n" \
        "References: <p1@example.org>\n"
    text = (f"From: Ada Example <ada@example.org>\nMessage-ID: <p{index}@example.org>\n"
            f"{thread}Date: Thu, 01 Oct 2026 10:0{index % 10}:00 +0000\n"
            f"Subject: [PATCH {index}/{total}] {title}\n\n{body}\n\n"
            f"Signed-off-by: Ada Example <ada@example.org>\n---\n{diffs}-- \n2.43.0\n")
    return text.encode()


def series_of(*patches: PatchSpec, skip: tuple[int, ...] = ()) -> Series:
    """A series of ``(title, commit message, [(path, before, after), ...])`` patches;
    the indexes in ``skip`` are left out (a patch missing from the input)."""
    total = len(patches)
    mails = [parse_mail(patch_mail(n, total, title, body,
                                   "".join(diff(p, a, b) for p, a, b in changes)))
             for n, (title, body, changes) in enumerate(patches, 1) if n not in skip]
    found = build_series(mails)
    assert len(found) == 1
    return found[0]


def mapped(*patches: PatchSpec, tree: TreeDefines | None = None,
           skip: tuple[int, ...] = ()) -> SeriesMap:
    return map_series(series_of(*patches, skip=skip), tree)


def fixture(name: str) -> SeriesMap:
    return load(FIXTURES / f"{name}.mbox")


def load(path: Path) -> SeriesMap:
    mails = parse_messages(read_source(str(path), 1 << 26))
    found = build_series(mails)
    assert len(found) == 1, found
    return map_series(found[0])
