"""Group mails into series: threads, revisions, order, cover letter, missing patches."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.diff.parse import DiffError, parse_diff, split_body
from reviewbot.errors import InputError, LimitError
from reviewbot.limits import Limits
from reviewbot.series.model import Mail, Patch, Series

MAX_LINES_PER_PATCH = Limits().lines_per_patch
_BASE_COMMIT = re.compile(r"^base-commit:\s*([0-9a-f]{7,40})\s*$", re.MULTILINE)
_HAS_DIFF = re.compile(r"^(diff --git |\+\+\+ )", re.MULTILINE)


@dataclass
class _Group:
    """The mails of one series revision, while the series are being built."""

    key: tuple[object, ...]
    root: str | None
    version: int
    total: int
    cover: Mail | None
    patches: dict[int, Mail]
    first_seen: int
    first_time: float | None
    other_versions: tuple[int, ...] = ()

    def titles(self) -> set[str]:
        mails = list(self.patches.values()) + ([self.cover] if self.cover else [])
        return {m.subject.title.lower() for m in mails}

    def author(self) -> str | None:
        for m in ([self.cover] if self.cover else []) + list(self.patches.values()):
            if m.author:
                return m.author.email.lower()
        return None


def is_patch_mail(mail: Mail) -> bool:
    """A mail that carries a patch (or is a cover letter), not a reply to one."""
    if mail.subject.is_reply:
        return False
    if mail.subject.is_patch:
        return True
    return bool(_HAS_DIFF.search(mail.body))


def _long_line(diff: str, max_length: int) -> tuple[int, int] | None:
    """(1-based line, length) of the first diff line longer than ``max_length``."""
    if len(diff) <= max_length:
        return None
    for number, line in enumerate(diff.split("\n"), 1):
        if len(line) > max_length:
            return number, len(line)
    return None


def make_patch(mail: Mail, index: int, total: int, version: int,
               max_lines: int = MAX_LINES_PER_PATCH,
               max_line_length: int = Limits().line_length) -> Patch:
    """Parse one patch mail's commit message and diff; problems become ``skipped``."""
    # the literal first: the regex would scan every line of the body for nothing
    base = _BASE_COMMIT.search(mail.body) if "base-commit:" in mail.body else None
    base_commit = base.group(1) if base else None
    if mail.error:
        return Patch(mail, index, total, version, "", (), skipped=mail.error)
    parts = split_body(mail.body)
    if not parts.diff:
        return Patch(mail, index, total, version, parts.message, (),
                     skipped="no diff found in the message", base_commit=base_commit)
    if parts.diff.count("\n") > max_lines:
        return Patch(mail, index, total, version, parts.message, (),
                     skipped=f"diff longer than {max_lines} lines (--limit lines-per-patch=N)",
                     base_commit=base_commit)
    long = _long_line(parts.diff, max_line_length)
    if long is not None:
        return Patch(mail, index, total, version, parts.message, (),
                     skipped=f"diff line {long[0]} is {long[1]} characters long, over the "
                             f"limit of {max_line_length} (--limit line-length=N)",
                     base_commit=base_commit)
    try:
        files = parse_diff(parts.diff, mail.body_line_offset + parts.diff_line)
    except DiffError as exc:
        return Patch(mail, index, total, version, parts.message, (),
                     skipped=f"the diff does not parse: {exc}", base_commit=base_commit)
    if not files:
        return Patch(mail, index, total, version, parts.message, (),
                     skipped="no file changes in the diff", base_commit=base_commit)
    return Patch(mail, index, total, version, parts.message, files, base_commit=base_commit)


def _group_key(mail: Mail) -> tuple[tuple[object, ...], str | None]:
    subj = mail.subject
    total = subj.total or 1
    root = mail.thread_root
    if root is None and subj.index in (0, 1):
        root = mail.msgid
    if root is not None:
        return ("thread", root, subj.version, total), root
    if total > 1:
        author = mail.author.email.lower() if mail.author else None
        tags = tuple(t.upper() for t in subj.tags if t.upper() != "RESEND")
        return ("author", author, subj.version, total, tags), None
    return ("single", mail.msgid), None


def _families(groups: list[_Group]) -> list[list[_Group]]:
    """Revisions of the same series: same thread root, or same author and a shared title.

    Two groups are joined when they share such a key and differ in version. Groups are
    bucketed by key (linear, not all pairs: a day of list traffic has thousands); in a
    bucket with at least two versions every member is joined to every member of another
    version, so the whole bucket is one family.
    """
    parent = list(range(len(groups)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[object, ...], list[int]] = {}
    for i, g in enumerate(groups):
        if g.root is not None:
            buckets.setdefault(("root", g.root), []).append(i)
        author = g.author()
        for title in g.titles():
            buckets.setdefault(("title", author, title), []).append(i)
    for members in buckets.values():
        if len({groups[i].version for i in members}) < 2:
            continue
        for i in members[1:]:
            parent[find(i)] = find(members[0])
    fams: dict[int, list[_Group]] = {}
    for i, g in enumerate(groups):
        fams.setdefault(find(i), []).append(g)
    return list(fams.values())


def build_series(mails: Sequence[Mail], version: int | None = None,
                 limits: Limits | None = None) -> list[Series]:
    """All series in ``mails``, newest revision of each (or ``version``), in date order."""
    limits = limits or Limits()
    groups: dict[tuple[object, ...], _Group] = {}
    for n, mail in enumerate(mails):
        if not is_patch_mail(mail):
            continue
        key, root = _group_key(mail)
        subj = mail.subject
        group = groups.get(key)
        if group is None:
            group = _Group(key, root, subj.version, subj.total or 1, None, {}, n, mail.timestamp)
            groups[key] = group
        if mail.timestamp is not None and (group.first_time is None
                                           or mail.timestamp < group.first_time):
            group.first_time = mail.timestamp
        index = subj.index if subj.index is not None else 1
        if index == 0:
            if not _HAS_DIFF.search(mail.body):
                group.cover = _later(group.cover, mail)
                continue
            index = 1  # a "0/N" that carries a diff is reviewed as a patch
        group.patches[index] = _later(group.patches.get(index), mail)
    chosen: list[_Group] = []
    for family in _families(_adopt_uncovered(list(groups.values()))):
        if version is None:
            best = max(g.version for g in family)
        elif any(g.version == version for g in family):
            best = version
        else:
            continue
        chosen.extend(g for g in family if g.version == best)
        others = sorted({g.version for g in family if g.version != best})
        for g in family:
            if g.version == best:
                g.other_versions = tuple(others)
    if version is not None and not chosen:
        raise InputError(f"no series with version {version} in the input")
    chosen.sort(key=lambda g: (g.first_time is None, g.first_time or 0.0, g.first_seen))
    return [_to_series(g, limits) for g in chosen]


def _adopt_uncovered(groups: list[_Group]) -> list[_Group]:
    """Join a cover letter to its thread's patches when only the cover has the version.

    ``[PATCH v2 0/3]`` sent with ``[PATCH 1/3]``..``[PATCH 3/3]`` (the version typed
    into the cover letter alone) is one series, v2: the patches are in the cover's
    thread and have its patch count. Joined only when that thread has exactly one
    cover-only group and one group of patches without a cover of the same count, so
    a v2 posted in reply to v1 (both with their covers) stays two revisions.
    """
    by_thread: dict[tuple[str, int], list[_Group]] = {}
    for g in groups:
        if g.root is not None:
            by_thread.setdefault((g.root, g.total), []).append(g)
    dropped: set[int] = set()
    for members in by_thread.values():
        covers = [g for g in members if g.cover is not None and not g.patches]
        bare = [g for g in members if g.cover is None and g.patches]
        if len(covers) != 1 or len(bare) != 1 or covers[0].version == bare[0].version:
            continue
        cover, patches = covers[0], bare[0]
        cover.patches = dict(patches.patches)
        cover.first_seen = min(cover.first_seen, patches.first_seen)
        times = [t for t in (cover.first_time, patches.first_time) if t is not None]
        cover.first_time = min(times) if times else None
        dropped.add(id(patches))
    return [g for g in groups if id(g) not in dropped]


def _later(old: Mail | None, new: Mail) -> Mail:
    """Of two copies of the same patch (a resend), keep the later one."""
    if old is None:
        return new
    if new.timestamp is not None and old.timestamp is not None and new.timestamp < old.timestamp:
        return old
    return new


def _to_series(group: _Group, limits: Limits) -> Series:
    total = group.total
    if len(group.patches) > limits.patches_per_series:
        raise LimitError(f"series has {len(group.patches)} patches, more than the limit of "
                         f"{limits.patches_per_series} (--limit patches-per-series=N)")
    patches = tuple(make_patch(group.patches[i], i, total, group.version,
                               limits.lines_per_patch, limits.line_length)
                    for i in sorted(group.patches))
    missing = tuple(i for i in range(1, total + 1) if i not in group.patches)
    if group.cover is not None:
        sid = group.cover.msgid
    elif group.root is not None:
        sid = group.root
    else:
        sid = patches[0].msgid if patches else "unknown"
    return Series(sid, group.version, total, group.cover, patches, missing,
                  group.other_versions)
