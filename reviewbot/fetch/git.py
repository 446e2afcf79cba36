"""``--git A..B``: the commits of a range as the series ``git format-patch`` makes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewbot.errors import InputError
from reviewbot.fetch.local import RawMessage, split_mbox
from reviewbot.tree.git import GitTree

MAX_COMMITS = 1000
# Options that make the output independent of the user's format.* / diff.* settings.
_FORMAT_PATCH = ["format-patch", "--stdout", "--numbered", "--thread=shallow",
                 "--subject-prefix=PATCH",
                 "--no-cover-letter", "--no-signature", "--no-notes", "--no-attach",
                 "--src-prefix=a/", "--dst-prefix=b/", "--no-color"]


@dataclass(frozen=True)
class GitRange:
    since: str  # full commit ids
    until: str
    base: str  # where the series applies (the merge base)
    count: int


def resolve_range(repo: GitTree, spec: str) -> GitRange:
    """``A..B`` / ``A..`` (up to HEAD) / ``A`` (A..HEAD, as format-patch reads it)."""
    if "..." in spec:
        raise InputError(f"{spec}: symmetric ranges (A...B) are not supported; use A..B")
    since, sep, until = spec.partition("..")
    if not sep:
        since, until = spec, ""
    since_id = repo.commit(since or "HEAD")
    until_id = repo.commit(until or "HEAD")
    for name, found in ((since or "HEAD", since_id), (until or "HEAD", until_id)):
        if found is None:
            raise InputError(f"{spec}: {name!r} is not a commit in {repo.top}")
    assert since_id is not None and until_id is not None
    res = repo.git(["rev-list", "--count", "--no-merges", f"{since_id}..{until_id}"])
    count = int(res.out.strip() or 0) if res.code == 0 else 0
    if count == 0:
        raise InputError(f"{spec}: no commits in the range")
    if count > MAX_COMMITS:
        raise InputError(f"{spec}: {count} commits, more than the limit of {MAX_COMMITS}")
    mb = repo.git(["merge-base", since_id, until_id])
    base = mb.out.decode().strip() if mb.code == 0 and mb.out.strip() else since_id
    return GitRange(since_id, until_id, base, count)


def read_git_range(repo: GitTree, spec: str) -> tuple[list[RawMessage], GitRange]:
    """The range's commits as patch emails, numbered in order, with ``base-commit:``."""
    rng = resolve_range(repo, spec)
    args = [*_FORMAT_PATCH, f"--base={rng.base}", f"{rng.since}..{rng.until}"]
    res = repo.git(args)
    if res.code != 0:  # --base refuses a base that is not an ancestor of every commit
        res = repo.git([*_FORMAT_PATCH, f"{rng.since}..{rng.until}"])
    if res.code != 0:
        raise InputError(f"git format-patch {spec} failed: {res.first_error}")
    messages = _renumber(split_mbox(res.out, f"git {spec}"))
    if not messages:
        raise InputError(f"{spec}: git format-patch gave no patches")
    return messages, rng


_NUMBERED = re.compile(rb"^Subject: \[PATCH \d+/\d+\]", re.MULTILINE)


def _renumber(messages: list[RawMessage]) -> list[RawMessage]:
    """format-patch leaves empty commits out but still counts them in ``k/N``: number
    the patches it gave 1..N again."""
    total = len(messages)
    out = []
    for i, m in enumerate(messages, start=1):
        head, sep, body = m.data.partition(b"\n\n")
        head = _NUMBERED.sub(b"Subject: [PATCH %d/%d]" % (i, total), head, count=1)
        out.append(RawMessage(head + sep + body, m.origin))
    return out
