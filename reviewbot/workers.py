"""Review the series of a large input in forked worker processes (``check --jobs N``).

The series are reviewed independently of each other (SER001 looks across the patches of
one series, never across series), so a big mbox splits cleanly: the series are dealt
out to ``jobs`` shares of about equal weight (diff lines), ``jobs - 1`` forked children
review one share each while this process reviews the last, and each child sends back
only its findings (pickled over a pipe). The parent puts them back on its own ``Series``
and ``Patch`` objects, in input order, so the output is byte for byte the one of a
single process. ``review_items`` does the same for any item that makes a series (the
pipeline deals out planned series: each child reads and parses its own from the input,
which it shares with the parent, and the parent reads a series again to attach a
child's findings).

Robust by construction: a child never returns into the caller (it always ends in
``os._exit``), and whatever a child fails to deliver (a crash, a signal, an exception,
a short pipe) is reviewed again here, sequentially, where an error surfaces exactly as
it would without workers. Only where ``os.fork`` exists (elsewhere: one process).
Each worker has its own regex guard: a rule dropped after repeated time-outs is dropped
in that worker only.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from reviewbot.findings import Finding, PatchReview, SeriesReview, Unmapped
from reviewbot.series.model import Series

# Below this many diff lines in all, forking costs more than it saves (about 4 ms a
# child against about 0.1 ms of review per diff line).
MIN_LINES = 2_000
MAX_JOBS = 16

# What a child sends back for one series: its notes, and per patch the parts of the
# PatchReview other than the patch itself.
PatchResult = tuple[tuple[Finding, ...], tuple[Unmapped, ...], tuple[str, ...],
                    tuple[str, ...]]
SeriesResult = tuple[tuple[str, ...], tuple[PatchResult, ...]]
T = TypeVar("T")


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def weight(series: Series) -> int:
    """Diff lines of the series: what its review costs, roughly."""
    return sum(len(h.lines) for p in series.patches for f in p.files for h in f.hunks)


def deal(weights: Sequence[int], shares: int) -> list[list[int]]:
    """Indices into ``weights`` in ``shares`` groups of about equal total weight (the
    heaviest first, each to the lightest group so far); each group in index order."""
    groups: list[list[int]] = [[] for _ in range(shares)]
    totals = [0] * shares
    for i in sorted(range(len(weights)), key=lambda k: (-weights[k], k)):
        g = totals.index(min(totals))
        groups[g].append(i)
        totals[g] += weights[i]
    return [sorted(g) for g in groups if g]


def _pack(review: SeriesReview) -> SeriesResult:
    return review.notes, tuple((p.findings, p.unmapped, p.full_files, p.notes)
                               for p in review.patches)


def unpack(series: Series, result: SeriesResult) -> SeriesReview:
    """The review of ``series`` a child sent back as ``result``."""
    notes, patches = result
    if len(patches) != len(series.patches):
        raise ValueError("a worker's result does not fit its series")
    return SeriesReview(series, tuple(PatchReview(p, *r)
                                      for p, r in zip(series.patches, patches, strict=True)),
                        notes)


def _child(write_fd: int, items: Sequence[T], share: Sequence[int],
           review: Callable[[T], SeriesReview]) -> None:
    """Review ``share`` and write the pickled results; never returns."""
    status = 1
    try:
        import pickle

        results = {i: _pack(review(items[i])) for i in share}
        data = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_fd, "wb") as out:
            out.write(data)
        status = 0
    except BaseException:  # anything: the parent reviews this share again itself
        pass
    finally:
        os._exit(status)


def _collect(read_fd: int, pid: int, items: Sequence[T], share: Sequence[int],
             attach: Callable[[T, SeriesResult], SeriesReview]) -> dict[int, SeriesReview]:
    """A child's reviews, or {} when it did not deliver all of them."""
    import pickle

    with os.fdopen(read_fd, "rb") as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return {}
    try:
        results = pickle.loads(data)
        if not isinstance(results, dict) or sorted(results) != sorted(share):
            return {}
        return {i: attach(items[i], results[i]) for i in share}
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
        return {}


def review_all(series: Sequence[Series], review: Callable[[Series], SeriesReview],
               jobs: int, min_lines: int = MIN_LINES,
               advance: Callable[[int], None] | None = None) -> list[SeriesReview]:
    """``[review(s) for s in series]``, in up to ``jobs`` processes when the series have
    ``min_lines`` diff lines or more; ``advance`` as in :func:`review_items`."""
    return review_items(series, review, unpack, [weight(s) for s in series], jobs,
                        min_lines, advance)


def review_items(items: Sequence[T], review: Callable[[T], SeriesReview],
                 attach: Callable[[T, SeriesResult], SeriesReview], weights: Sequence[int],
                 jobs: int, min_weight: int = MIN_LINES,
                 advance: Callable[[int], None] | None = None) -> list[SeriesReview]:
    """``[review(x) for x in items]``, in up to ``jobs`` processes when the ``weights``
    (diff lines, roughly) add up to ``min_weight`` or more. An item is what makes one
    series (a Series, or where its mails are in the input: the children read and parse
    their own); ``attach(item, result)`` puts a child's result on the parent's series.
    ``advance(n)`` is told, in this process only, how much weight was reviewed since it
    was last told (with workers: this process's share, scaled to the whole, as the
    shares are of about equal weight)."""
    tell = advance or (lambda n: None)
    jobs = min(jobs, MAX_JOBS, len(items))
    if jobs <= 1 or sum(weights) < min_weight or not hasattr(os, "fork"):
        out = []
        for x, w in zip(items, weights, strict=True):
            out.append(review(x))
            tell(w)
        return out
    *shares, mine = deal(weights, jobs)
    total, own, told = sum(weights), sum(weights[i] for i in mine) or 1, 0
    sys.stdout.flush()
    sys.stderr.flush()
    children: list[tuple[int, int, list[int]]] = []
    for share in shares:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child
            os.close(read_fd)
            _child(write_fd, items, share, review)
        os.close(write_fd)
        children.append((read_fd, pid, share))
    done: dict[int, SeriesReview] = {}
    try:
        reviewed = 0
        for i in mine:
            done[i] = review(items[i])
            reviewed += weights[i]
            estimate = min(total - 1, total * reviewed // own)
            tell(estimate - told)
            told = estimate
    except BaseException:  # Ctrl-C, SIGTERM, an error: the children's work is moot
        for _, pid, _ in children:
            os.kill(pid, signal.SIGKILL)
        raise
    finally:
        for read_fd, pid, share in children:
            done.update(_collect(read_fd, pid, items, share, attach))
    out = [done[i] if i in done else review(x) for i, x in enumerate(items)]
    tell(total - told)
    return out
