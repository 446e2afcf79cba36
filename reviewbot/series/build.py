"""Group mails into series: threads, revisions, order, cover letter, missing patches."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from reviewbot.diff.parse import DiffError, parse_diff, split_body
from reviewbot.errors import InputError, LimitError
from reviewbot.limits import Limits
from reviewbot.series.model import Mail, Patch, Series, Subject
from reviewbot.series.subject import identity_tags

MAX_LINES_PER_PATCH = Limits().lines_per_patch
_BASE_COMMIT = re.compile(r"^base-commit:\s*([0-9a-f]{7,40})\s*$", re.MULTILINE)
_HAS_DIFF = re.compile(r"^(diff --git |\+\+\+ )", re.MULTILINE)
_SIGNED_OFF = re.compile(r"^Signed-off-by:[^\n<]*<([^<>\s]+)>[ \t]*$", re.MULTILINE | re.IGNORECASE)
_SIGNER_SCAN = 64 * 1024  # of the commit message: the sign-offs are at its end


@dataclass(frozen=True, slots=True)
class Head:
    """What grouping needs of one patch mail: kept for every patch mail of an input
    while its series are planned, so it holds no body."""

    n: int  # position of the mail in the input
    msgid: str
    subject: Subject
    author: str | None  # address, lower case
    timestamp: float | None
    root: str | None  # thread root (first References entry, else In-Reply-To)
    signer: str | None  # a mail in no thread: its last Signed-off-by address, lower case
    has_diff: bool
    lines: int  # lines of the body from the diff on: what reviewing it costs, roughly
    size: int  # bytes of the message


def head_of(mail: Mail, n: int) -> Head | None:
    """The Head of ``mail`` (the ``n``th of the input), or None when it is no patch
    mail (a reply, a message without a patch)."""
    if not is_patch_mail(mail):
        return None
    diff = _HAS_DIFF.search(mail.body)
    root = mail.thread_root
    return Head(n, mail.msgid, mail.subject,
                mail.author.email.lower() if mail.author else None, mail.timestamp,
                root, None if root is not None else signer(mail.body, diff),
                diff is not None, mail.body.count("\n", diff.start()) if diff else 0,
                len(mail.raw))


def signer(body: str, diff: re.Match[str] | None = None) -> str | None:
    """The address of the last ``Signed-off-by:`` of the commit message (above the
    diff): the person who submits the patch, by the kernel's rules, also when its
    ``From:`` is another author whose patch they carry."""
    end = diff.start() if diff is not None else len(body)
    found = _SIGNED_OFF.findall(body, max(0, end - _SIGNER_SCAN), end)
    return found[-1].lower() if found else None


@dataclass
class SeriesPlan:
    """The mails (their Heads) of one series revision: what makes a Series."""

    key: tuple[object, ...]
    root: str | None
    version: int
    total: int
    cover: Head | None
    patches: dict[int, Head]
    first_seen: int
    first_time: float | None
    other_versions: tuple[int, ...] = ()

    def titles(self) -> set[str]:
        heads = list(self.patches.values()) + ([self.cover] if self.cover else [])
        return {h.subject.title.lower() for h in heads}

    def author(self) -> str | None:
        for h in ([self.cover] if self.cover else []) + list(self.patches.values()):
            if h.author:
                return h.author
        return None

    def heads(self) -> list[Head]:
        """Cover letter first, then the patches in order."""
        return ([self.cover] if self.cover else []) + [self.patches[i]
                                                       for i in sorted(self.patches)]


@dataclass(frozen=True, slots=True)
class Planned:
    """A series revision chosen for review, as little as reading it needs (kept for
    every series of a large input until the report)."""

    version: int
    total: int
    root: str | None
    cover: int | None  # position of the cover letter in the input
    patches: tuple[tuple[int, int], ...]  # (index, position in the input), in order
    other_versions: tuple[int, ...]
    lines: int  # diff lines, roughly: what reviewing it costs
    bytes: int  # of its messages

    @staticmethod
    def of(plan: SeriesPlan) -> Planned:
        heads = plan.heads()
        return Planned(plan.version, plan.total, plan.root,
                       plan.cover.n if plan.cover is not None else None,
                       tuple((i, plan.patches[i].n) for i in sorted(plan.patches)),
                       plan.other_versions, sum(h.lines for h in heads),
                       sum(h.size for h in heads))


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


def batch_identity(author: str | None, subject: Subject) -> tuple[object, ...] | None:
    """What the mails of one ``git format-patch`` run that are in no thread (git's
    default: no ``--thread``, each mail its own thread) have in common: one author and
    the same ``[PATCH vN M/T]`` prefix (revision, patch count, tags); a single patch
    too, which has its cover letter (``[PATCH 0/1]``) or is a series of its own."""
    return (author, *batch_prefix(subject))


def batch_prefix(subject: Subject) -> tuple[object, ...]:
    """The ``[PATCH vN M/T]`` part of a batch identity: revision, patch count, tags."""
    return (subject.version, subject.total or 1, identity_tags(subject))


def starts_new_batch(held: Iterable[int], index: int) -> bool:
    """A mail of a batch identity starts a new batch (the next format-patch run) when
    its number is already in the open one (``held``); else it joins that one."""
    return index in held


def _keys(heads: Sequence[Head]) -> list[tuple[object, ...]]:
    """The series group of each head.

    A mail in a thread belongs to its thread root's group of the same revision and
    patch count; a cover letter or a first patch out of any thread starts a thread of
    its own. Numbered mails that are in no thread (``git format-patch`` without
    ``--thread``, its default: no Message-ID, no In-Reply-To) are one series when they
    come from one sender with the same ``[PATCH vN M/T]`` prefix: a batch, keyed by
    its first mail, that ends where a number comes again (the next format-patch run).
    The sender of a mail is its author or its last sign-off: format-patch writes a
    carried patch with its author's ``From:`` and the sender's sign-off last, and a
    sender's own patches may be signed off with another address than the cover's.
    A mail whose thread root is in a batch joins it when it has the batch's revision
    and count. A single patch out of any thread is a batch of one, with its cover
    letter (``[PATCH 0/1]``, from ``--cover-letter`` of one commit) when there is one.
    """
    keys: list[tuple[object, ...] | None] = [None] * len(heads)
    batch_of: dict[str, tuple[object, ...]] = {}  # msgid -> key of its batch
    # (sender, [PATCH vN M/T]) -> the open batch of that sender: (key, numbers held)
    runs: dict[tuple[object, ...], tuple[tuple[object, ...], set[int]]] = {}
    for i, h in enumerate(heads):
        subj = h.subject
        if h.root is not None:
            continue
        prefix = batch_prefix(subj)
        index = subj.index if subj.index is not None else 1
        senders = [(p, *prefix) for p in dict.fromkeys((h.signer or h.author, h.author))]
        run = next((r for s in senders if (r := runs.get(s)) is not None
                    and not starts_new_batch(r[1], index)), None)
        if run is None:  # a new batch, open to every sender of its first mail
            run = (("thread", h.msgid, subj.version, subj.total), set())
            for s in senders:
                runs[s] = run
        else:  # one joined through its author stays open to its signer only
            runs[senders[0]] = run
        run[1].add(index)
        keys[i] = run[0]
        batch_of.setdefault(h.msgid, run[0])
    out: list[tuple[object, ...]] = []
    for h, key in zip(heads, keys, strict=True):
        if key is None:
            subj = h.subject
            total = subj.total or 1
            joined = batch_of.get(h.root) if h.root is not None else None
            if joined is not None and joined[2:] == (subj.version, total):
                key = joined
            elif h.root is not None:
                key = ("thread", h.root, subj.version, total)
            else:
                key = ("thread", h.msgid, subj.version, total)  # a single patch
        out.append(key)
    return out


def _families(groups: list[SeriesPlan]) -> list[list[SeriesPlan]]:
    """Revisions of the same series: groups that differ in version and share a thread
    and an author, a thread and a title, or an author and a title.

    Two series in one thread by different people with different titles are two
    series (a cover letter sent in reply to someone else's patch starts its own).
    Groups are bucketed by key (linear, not all pairs: a day of list traffic has
    thousands); in a bucket with at least two versions every member is joined to
    every member of another version, so the whole bucket is one family.
    """
    parent = list(range(len(groups)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[object, ...], list[int]] = {}
    for i, g in enumerate(groups):
        author = g.author()
        titles = g.titles()
        if g.root is not None:
            buckets.setdefault(("root", g.root, author), []).append(i)
            for title in titles:
                buckets.setdefault(("root-title", g.root, title), []).append(i)
        for title in titles:
            buckets.setdefault(("title", author, title), []).append(i)
    for members in buckets.values():
        if len({groups[i].version for i in members}) < 2:
            continue
        for i in members[1:]:
            parent[find(i)] = find(members[0])
    fams: dict[int, list[SeriesPlan]] = {}
    for i, g in enumerate(groups):
        fams.setdefault(find(i), []).append(g)
    return list(fams.values())


def group_heads(heads: Iterable[Head]) -> list[list[SeriesPlan]]:
    """Every series revision in ``heads``, as families of revisions of one series."""
    heads = list(heads)
    groups: dict[tuple[object, ...], SeriesPlan] = {}
    for h, key in zip(heads, _keys(heads), strict=True):
        subj = h.subject
        group = groups.get(key)
        if group is None:
            group = SeriesPlan(key, str(key[1]), subj.version, subj.total or 1, None, {}, h.n,
                           h.timestamp)
            groups[key] = group
        if h.timestamp is not None and (group.first_time is None
                                        or h.timestamp < group.first_time):
            group.first_time = h.timestamp
        index = subj.index if subj.index is not None else 1
        if index == 0:
            if not h.has_diff:
                group.cover = _later(group.cover, h)
                continue
            index = 1  # a "0/N" that carries a diff is reviewed as a patch
        group.patches[index] = _later(group.patches.get(index), h)
    return _families(_adopt_uncovered(list(groups.values())))


def choose(families: Iterable[list[SeriesPlan]], version: int | None = None,
           limits: Limits | None = None) -> list[SeriesPlan]:
    """The newest revision of each family (or ``version``), in date order."""
    limits = limits or Limits()
    chosen: list[SeriesPlan] = []
    for family in families:
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
    for g in chosen:
        if len(g.patches) > limits.patches_per_series:
            raise LimitError(f"series has {len(g.patches)} patches, more than the limit "
                             f"of {limits.patches_per_series} (--limit patches-per-series=N)")
    return chosen


def plan_series(heads: Iterable[Head], version: int | None = None,
                limits: Limits | None = None) -> list[Planned]:
    """What ``build_series`` makes, before any patch is read: which mails (by their
    position in the input) make each series to review, in the order of the report."""
    return [Planned.of(p) for p in choose(group_heads(heads), version, limits)]


def build_series(mails: Sequence[Mail], version: int | None = None,
                 limits: Limits | None = None) -> list[Series]:
    """All series in ``mails``, newest revision of each (or ``version``), in date order."""
    limits = limits or Limits()
    heads = [h for n, m in enumerate(mails) if (h := head_of(m, n)) is not None]
    return [load_series(g, mails.__getitem__, limits)
            for g in plan_series(heads, version, limits)]


def _adopt_uncovered(groups: list[SeriesPlan]) -> list[SeriesPlan]:
    """Join a cover letter to its thread's patches when only the cover has the version.

    ``[PATCH v2 0/3]`` sent with ``[PATCH 1/3]``..``[PATCH 3/3]`` (the version typed
    into the cover letter alone) is one series, v2: the patches are in the cover's
    thread and have its patch count. Joined only when that thread has exactly one
    cover-only group and one group of patches without a cover of the same count, so
    a v2 posted in reply to v1 (both with their covers) stays two revisions.
    """
    by_thread: dict[tuple[str, int], list[SeriesPlan]] = {}
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


def _later(old: Head | None, new: Head) -> Head:
    """Of two copies of the same patch (a resend), keep the later one."""
    if old is None:
        return new
    if new.timestamp is not None and old.timestamp is not None and new.timestamp < old.timestamp:
        return old
    return new


def load_series(plan: Planned, mail_at: Callable[[int], Mail],
                limits: Limits | None = None) -> Series:
    """The series of a planned revision, its mails read with ``mail_at(position)``."""
    limits = limits or Limits()
    total = plan.total
    cover = mail_at(plan.cover) if plan.cover is not None else None
    patches = tuple(make_patch(mail_at(n), i, total, plan.version, limits.lines_per_patch,
                               limits.line_length) for i, n in plan.patches)
    missing = tuple(i for i in range(1, total + 1) if i not in dict(plan.patches))
    if cover is not None:
        sid = cover.msgid
    elif plan.root is not None:
        sid = plan.root
    else:
        sid = patches[0].msgid if patches else "unknown"
    return Series(sid, plan.version, total, cover, patches, missing, plan.other_versions)
