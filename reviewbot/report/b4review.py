"""Hand reviewbot's comments to ``b4 review`` (b4 >= 0.16).

b4 reads ``.git/b4-review/<tip-sha>/`` of the work tree when a review branch is opened
(``b4/review/...``, whose tip is b4's tracking commit): ``identity.txt`` holds
``Name <email>`` of the reviewer, ``NNNN.txt`` (1-based patch number in the branch) holds
an optional note, then the patch's diff quoted with ``> `` and the comments as unquoted
lines under the line they concern, and ``series.txt`` a note on the whole series. b4
merges them into its tracking data and removes the directory.

The patch number comes from b4's tracking data (the Message-ID of each patch), so a
series reviewed from an mbox lands on the right commits.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewbot.errors import ReviewbotError
from reviewbot.findings import Review, SeriesReview
from reviewbot.gitconfig import run_git
from reviewbot.report.quote import comment_lines, quoted_diff
from reviewbot.report.reply import summary_lines
from reviewbot.series.model import Person

MARKER = "--- b4-review-tracking ---"


class B4ReviewError(ReviewbotError):
    """The b4 review hand-off cannot be written."""


@dataclass(frozen=True)
class B4Branch:
    toplevel: Path
    tip: str
    numbers: dict[str, int]  # patch Message-ID -> 1-based number in the branch
    titles: tuple[str, ...]  # the tracked patch subjects, in order


def _git(args: list[str], cwd: Path | None) -> str:
    proc = run_git(args, cwd=cwd)
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise B4ReviewError(f"git {' '.join(args)}: {reason}")
    return proc.stdout


def tracking_data(message: str) -> dict[str, Any] | None:
    """The JSON b4 keeps in a review branch's tracking commit, or None."""
    if MARKER not in message:
        return None
    text = message.split(MARKER, 1)[1]
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def read_branch(cwd: Path | None = None) -> B4Branch:
    """The b4 review branch checked out at ``cwd``."""
    toplevel = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    tip = _git(["rev-parse", "HEAD"], cwd).strip()
    data = tracking_data(_git(["log", "-1", "--format=%B", "HEAD"], cwd))
    if data is None:
        raise B4ReviewError("HEAD is not a b4 review branch (no b4 tracking commit at its "
                            "tip); check the series out with 'b4 review' first")
    patches = data.get("patches")
    if not isinstance(patches, list):
        raise B4ReviewError("the b4 tracking commit has no patch list")
    numbers: dict[str, int] = {}
    titles: list[str] = []
    for n, meta in enumerate(patches, start=1):
        info = meta.get("header-info", {}) if isinstance(meta, dict) else {}
        msgid = info.get("msgid") if isinstance(info, dict) else None
        if isinstance(msgid, str) and msgid:
            numbers[msgid.strip("<>")] = n
        titles.append(str(meta.get("title", "")) if isinstance(meta, dict) else "")
    return B4Branch(toplevel, tip, numbers, tuple(titles))


def _pick_series(review: Review, branch: B4Branch) -> tuple[SeriesReview, dict[int, int]]:
    """The reviewed series that is in the branch, and patch index -> branch number."""
    best: tuple[SeriesReview, dict[int, int]] | None = None
    for sr in review.series:
        mapping = {pr.patch.index: branch.numbers[pr.patch.msgid] for pr in sr.patches
                   if pr.patch.msgid in branch.numbers}
        if mapping and (best is None or len(mapping) > len(best[1])):
            best = (sr, mapping)
    if best is None:
        raise B4ReviewError("none of the reviewed patches is in the b4 review branch "
                            "checked out (its Message-IDs differ)")
    return best


def _note(count: int, rules: Sequence[str], lost_lines: list[str]) -> list[str]:
    ids = sorted(set(rules))
    text = (f"reviewbot (an automated review tool) left {count} comment"
            f"{'' if count == 1 else 's'} on this patch ({', '.join(ids)}); "
            f"'reviewbot explain <rule>' says what a rule looks for.")
    return [*comment_lines(text), *lost_lines]


def patch_file(findings_count: int, rules: Sequence[str], quoted: list[str],
               lost_lines: list[str]) -> str:
    return "\n".join([*_note(findings_count, rules, lost_lines), "", *quoted]) + "\n"


def write_b4_review(review: Review, identity: Person, cwd: Path | None = None,
                    summary: bool = False) -> list[Path]:
    """Write the hand-off files for the series checked out at ``cwd``; their paths.

    With ``summary``, also ``series.txt``: which patches have comments.
    """
    branch = read_branch(cwd)
    series, numbers = _pick_series(review, branch)
    gitdir = branch.toplevel / ".git"
    if not gitdir.is_dir():
        raise B4ReviewError(f"{gitdir} is not a directory (b4 reads .git/b4-review in the "
                            "main work tree; a linked worktree is not supported)")
    outdir = gitdir / "b4-review" / branch.tip
    ident = f"{identity.name or identity.email.split('@')[0]} <{identity.email}>\n"
    files: dict[str, str] = {"identity.txt": ident}
    for pr in series.patches:
        if not pr.findings or pr.patch.index not in numbers:
            continue
        quoted, lost = quoted_diff(pr.patch, pr.findings)
        lost_lines: list[str] = []
        for f in lost:
            lost_lines += ["", f"{f.file}:{f.line}:", *comment_lines(f.reply or f.message)]
        files[f"{numbers[pr.patch.index]:04d}.txt"] = patch_file(
            len(pr.findings), [f.rule for f in pr.findings], quoted, lost_lines)
    if summary:
        files["series.txt"] = "\n".join(summary_lines(series)) + "\n"
    if len(files) == 1:
        return []  # nothing to hand over: no directory for b4 to find
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        existing = outdir / "identity.txt"
        if existing.is_file() and existing.read_text(encoding="utf-8").strip() != ident.strip():
            raise B4ReviewError(f"{existing} names another reviewer "
                                f"({existing.read_text(encoding='utf-8').strip()!r}); "
                                "not mixing comments")
        written = []
        for name, text in files.items():
            written.append(_atomic_write(outdir / name, text))
    except OSError as exc:
        raise B4ReviewError(f"cannot write {outdir}: {exc.strerror or exc}") from exc
    return written


def _atomic_write(path: Path, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=".reviewbot-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
