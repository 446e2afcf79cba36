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
from reviewbot.fetch.gunzip import GZIP_MAGIC, CorruptError, TruncatedError, gunzip_limited
from reviewbot.fetch.http import NotFoundError, http_get
from reviewbot.fetch.lore import LoreOptions
from reviewbot.fetch.thread import newest_date, split_thread

CACHE_PREFIX = "search:"  # cache key of a query (a Message-ID never starts so)


def search_url(base: str, query: str) -> str:
    return f"{base}?x=m&t=1&q={urllib.parse.quote_plus(query)}"


def _mbox(data: bytes, host: str, max_out: int) -> bytes:
    what = f"the search results from {host}"
    if data.startswith(GZIP_MAGIC):
        try:
            return gunzip_limited(data, max_out, what)
        except (TruncatedError, CorruptError) as exc:
            raise FetchError(f"{exc}") from exc
    if not data.strip() or data.startswith(b"From "):
        if len(data) > max_out:
            raise LimitError(f"{what}: more than {max_out} bytes")
        return data
    raise FetchError(f"{what} are not an mbox ({len(data)} bytes); is {host} a "
                     "public-inbox server?")


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
    host = urllib.parse.urlsplit(base).netloc
    try:
        answer = http_get(search_url(base, query), opts.http, data=b"x=m")
        mbox = _mbox(answer.data, host, opts.max_thread_bytes)
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
