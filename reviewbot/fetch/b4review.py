"""``b4 review``'s series check: the series under review, from its review branch.

b4 (>= 0.16) gives ``review-series-check-cmd`` the cover letter alone on stdin and, in
``B4_TRACKING_FILE``, the tracking data of the series (``series.change-id``,
``series.base-commit``, ``series.first-patch-commit``). The series itself is in the
review branch ``b4/review/<change-id>``: its commits from the first patch up (b4's
tracking commit at the tip is empty, and format-patch leaves empty commits out).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from reviewbot.fetch.git import GitRange, read_git_range
from reviewbot.fetch.local import RawMessage
from reviewbot.tree.git import GitTree

REVIEW_BRANCH_PREFIX = "b4/review/"
_CHANGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_HAS_DIFF = re.compile(rb"^(diff --git |\+\+\+ )", re.MULTILINE)


def has_patch(messages: list[RawMessage]) -> bool:
    return any(_HAS_DIFF.search(m.data) for m in messages)


def tracked_series(repo: GitTree, tracking_file: Path
                   ) -> tuple[list[RawMessage], GitRange] | None:
    """The review branch's patches as a series, or None when there is none to find."""
    try:
        data = json.loads(tracking_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    series = data.get("series") if isinstance(data, dict) else None
    if not isinstance(series, dict):
        return None
    change_id = series.get("change-id")
    if not isinstance(change_id, str) or not _CHANGE_ID.match(change_id) or ".." in change_id:
        return None
    tip = repo.commit(f"refs/heads/{REVIEW_BRANCH_PREFIX}{change_id}")
    first = series.get("first-patch-commit")
    base = series.get("base-commit")
    start = None
    if isinstance(first, str) and repo.commit(first):
        start = repo.commit(f"{first}^")
    elif isinstance(base, str):
        start = repo.commit(base)
    if tip is None or start is None:
        return None
    return read_git_range(repo, f"{start}..{tip}")
