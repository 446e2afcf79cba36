"""Search a public-inbox archive: ``POST <server>/?x=m&t=1&q=<query>``, whole threads.

What b4 and lei ask for: the answer is a gzipped mboxrd of every message matching the
query together with its whole thread (``t=1``), so one round trip brings an earlier
revision of a series with its reviews. A query that matches nothing is answered 404,
which is an empty result here. The answer goes through the bounded HTTP code of
:mod:`reviewbot.fetch.http` and the thread cache of :mod:`reviewbot.fetch.cache` (keyed
by the query), with the same offline and expired-copy rules as a thread.
"""

from __future__ import annotations

import contextlib
import time
import urllib.parse

from reviewbot.errors import FetchError, LimitError
from reviewbot.fetch.cache import CacheEntry, ThreadCache, default_cache_dir
from reviewbot.fetch.http import NotFoundError, http_get
from reviewbot.fetch.lore import LoreOptions, decode_mbox
from reviewbot.fetch.thread import newest_date, split_thread

CACHE_PREFIX = "search:"  # cache key of a query (a Message-ID never starts so)


def search_url(base: str, query: str) -> str:
    return f"{base}?x=m&t=1&q={urllib.parse.quote_plus(query)}"


def search_threads(base: str, query: str, opts: LoreOptions) -> tuple[bytes, ...]:
    """The messages of every thread with a message matching ``query`` on ``base``."""
    cache = ThreadCache(opts.cache_dir or default_cache_dir())
    key = CACHE_PREFIX + query
    entry = cache.get(base, key) if opts.use_cache or opts.offline else None
    if entry is not None and (opts.offline or entry.fresh()):
        return tuple(split_thread(entry.data)) if entry.data else ()
    if opts.offline:
        raise FetchError("the search is not in the cache and --offline forbids asking "
                         f"{urllib.parse.urlsplit(base).netloc}")
    try:
        url = search_url(base, query)
        answer = http_get(url, opts.http, data=b"x=m")
        mbox = decode_mbox(answer.data, answer.content_type, url, opts.max_thread_bytes,
                           "the search results", empty_ok=True, consequence="")
    except NotFoundError:
        mbox = b""  # public-inbox: no message matches
    except (FetchError, LimitError):
        if entry is None:
            raise
        return tuple(split_thread(entry.data)) if entry.data else ()
    raws = tuple(split_thread(mbox)) if mbox else ()
    if opts.use_cache:  # a search is cheap to repeat: a cache that cannot be written is
        with contextlib.suppress(OSError):  # not worth a warning (threads warn)
            cache.put(CacheEntry(base, key, time.time(), newest_date(list(raws)), mbox))
    return raws
