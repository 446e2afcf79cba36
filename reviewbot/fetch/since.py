"""Where ``check`` looks for the previous revision of what it reviews (``--since``).

- always: the input itself (several revisions in one mbox);
- a Message-ID or URL SOURCE: the rest of the fetched thread (a v2 sent in reply to v1
  brings v1 and its reviews along), then one search on the same server
  (``fetch.search``: change-id, links, In-Reply-To, subject and author);
- ``--since lore``: that search for a local input too (the configured server);
- ``--since SOURCE``: an mbox, Maildir, patch files, a Message-ID or a URL holding vN-1
  (read once, whatever the number of series).

Network code is imported only when a source is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from reviewbot.limits import Limits
from reviewbot.revisions.lookup import LoadedSource, Lookup, PreviousSource, SearchSource
from reviewbot.series.model import Mail

if TYPE_CHECKING:
    from reviewbot.fetch.lore import LoreOptions
    from reviewbot.fetch.resolve import Input

SEARCH = "lore"  # --since lore


def _parse(raws: Sequence[bytes], limits: Limits) -> list[Mail]:
    from reviewbot.series.mail import parse_mail

    return [parse_mail(raw, limits.message_bytes) for raw in raws]


def search_source(base: str, lore: Callable[[], LoreOptions], limits: Limits) -> SearchSource:
    def search(query: str) -> list[Mail]:
        from reviewbot.fetch.search import search_threads

        return _parse(search_threads(base, query, lore()), limits)

    return SearchSource(base, search)


def revision_lookup(got: Input, since: str | None, lore: Callable[[], LoreOptions],
                    limits: Limits, max_bytes: int) -> Lookup:
    """The places to look for vN-1 of what ``got`` holds (see the module docstring)."""
    sources: list[PreviousSource] = []
    if since is not None and since != SEARCH:
        from reviewbot.fetch.resolve import read_input

        # read now: a --since that cannot be read is an error, not a note
        other = read_input(since, max_bytes, lore)
        given = _parse(other.thread or tuple(m.data for m in other.messages), limits)
        sources.append(LoadedSource(since, lambda: given))
    if got.thread:
        thread = got.thread
        sources.append(LoadedSource(f"the thread from {got.server}",
                                    lambda: _parse(thread, limits)))
    if since == SEARCH or (since is None and got.server is not None):
        sources.append(search_source(got.server or lore().url, lore, limits))
    return Lookup(tuple(sources), limits)
