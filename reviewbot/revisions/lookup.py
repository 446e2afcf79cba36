"""Where vN-1 is looked for, in order: the input, then the sources the front end gives.

A source is the rest of a fetched thread, an explicit ``--since`` input, or one search
on a public-inbox server (``fetch.search``: one round trip per revision). The first
pool that holds vN-1 wins. When the input has no earlier revision and no source is
given, nothing is said: a local mbox is not sent to the network unless asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from reviewbot.errors import ReviewbotError
from reviewbot.findings import Review, SeriesReview
from reviewbot.limits import Limits
from reviewbot.series.model import Mail, Series

if TYPE_CHECKING:  # the rest is imported when a series has an earlier revision to look for
    from reviewbot.revisions.model import Since
    from reviewbot.revisions.pool import MailPool


class PreviousSource(Protocol):
    """More mails that may hold vN-1 (and its replies)."""

    where: str  # "the thread", "v1.mbox", "https://lore.kernel.org/all/"

    def pool(self, series: Series) -> MailPool:
        """The mails to look in; raises ReviewbotError when they cannot be had."""
        ...


class LoadedSource:
    """Mails read once, on first use (a fetched thread, a ``--since`` file or thread)."""

    def __init__(self, where: str, load: Callable[[], Sequence[Mail]]) -> None:
        self.where = where
        self._load = load
        self._pool: MailPool | None = None

    def pool(self, series: Series) -> MailPool:
        if self._pool is None:
            from reviewbot.revisions.pool import MailPool

            self._pool = MailPool.of(self._load())
        return self._pool


class SearchSource:
    """One search on a public-inbox server per series (see ``fetch.search``)."""

    def __init__(self, base: str, search: Callable[[str], Sequence[Mail]]) -> None:
        self.where = f"a search on {base}"
        self._search = search

    def pool(self, series: Series) -> MailPool:
        from reviewbot.revisions.pool import MailPool
        from reviewbot.revisions.previous import search_query

        query = search_query(series)
        return MailPool.of(self._search(query) if query else ())


@dataclass(frozen=True)
class Lookup:
    """How the front end wants earlier revisions found."""

    sources: tuple[PreviousSource, ...] = ()
    limits: Limits | None = None


def since_for(series: Series, pool: MailPool, lookup: Lookup) -> Since | None:
    """The revision review of ``series``; None when there is nothing to say."""
    if series.version <= 1:
        return None
    from reviewbot.revisions.previous import find_previous

    found = find_previous(series, pool, "the input", lookup.limits)
    if found is not None:
        from reviewbot.revisions.model import Since
        from reviewbot.revisions.review import review_revision

        return Since(found.series.version, review_revision(series, found, pool))
    if not lookup.sources:
        return None
    from reviewbot.revisions.model import Since

    tried = ["the input"]
    for source in lookup.sources:
        try:
            extra = source.pool(series)
        except ReviewbotError as exc:
            tried.append(f"{source.where} ({exc})")
            continue
        found = find_previous(series, extra, source.where, lookup.limits)
        if found is not None:
            from reviewbot.revisions.review import review_revision

            return Since(found.series.version, review_revision(series, found, extra))
        tried.append(source.where)
    want = series.version - 1
    return Since(want, None, f"v{want} of \"{series.title}\" (v{series.version}) was not "
                 f"found: looked in {', '.join(tried)}")


def attach(review: Review, mails: Sequence[Mail] | MailPool, lookup: Lookup) -> Review:
    """``review`` with each series' revision review (``SeriesReview.since``), vN-1 looked
    for in ``mails`` (or a pool already filed) first."""
    if not any(sr.series.version > 1 for sr in review.series):
        return review
    from reviewbot.revisions.pool import MailPool

    pool = mails if isinstance(mails, MailPool) else MailPool.of(mails)
    out: list[SeriesReview] = []
    for sr in review.series:
        since = since_for(sr.series, pool, lookup)
        out.append(sr if since is None else replace(sr, since=since))
    return Review(tuple(out))
