"""Fetch a whole thread from a public-inbox server (lore) by Message-ID, with a cache.

``GET <server>/<msgid>/t.mbox.gz`` (what b4 and liblore ask for) through
:mod:`reviewbot.fetch.http`, gunzipped with a cap, split and sorted into series by
:mod:`reviewbot.fetch.thread` (b4). Fetched threads are kept in a
:class:`~reviewbot.fetch.cache.ThreadCache`.
"""

from __future__ import annotations

import math
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.errors import FetchError, InputError, LimitError
from reviewbot.fetch.cache import CacheEntry, ThreadCache, default_cache_dir
from reviewbot.fetch.gunzip import GZIP_MAGIC, CorruptError, TruncatedError, gunzip_limited
from reviewbot.fetch.http import HttpPolicy, NotFoundError, http_get
from reviewbot.fetch.thread import Selection, newest_date, select_series, split_thread

if TYPE_CHECKING:
    from reviewbot.config import UserConfig

DEFAULT_LORE_URL = "https://lore.kernel.org/all/"
DEFAULT_MAX_THREAD = 64 * 1024 * 1024  # bytes of one thread, decompressed


@dataclass(frozen=True)
class LoreOptions:
    """How to fetch: from the command line, the config file, or the defaults."""

    url: str = DEFAULT_LORE_URL  # a public-inbox base URL, ending in "/"
    url_explicit: bool = False  # --lore-url given: it wins over the server of a URL SOURCE
    http: HttpPolicy = field(default_factory=HttpPolicy)
    max_thread_bytes: int = DEFAULT_MAX_THREAD
    cache_dir: Path | None = None  # None: the XDG cache directory
    use_cache: bool = True  # read and write the cache (--no-cache: neither)
    offline: bool = False  # never touch the network; a cached copy of any age is used
    progress: Callable[[str], None] | None = None  # told what is fetched (a terminal)


@dataclass(frozen=True)
class Thread:
    url: str  # the server's base URL
    msgid: str
    messages: tuple[bytes, ...]
    from_cache: bool
    fetched: float
    notes: tuple[str, ...] = ()


def normalize_base_url(url: str) -> str:
    """Check a public-inbox base URL (``http(s)://host[/inbox]``); end it with ``/``."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"not an http(s) URL of a public-inbox server: {url!r}")
    if parts.query or parts.fragment:
        raise InputError(f"a server URL has no query or fragment: {url!r}")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def thread_url(base: str, msgid: str) -> str:
    return f"{base}{urllib.parse.quote(msgid, safe='@!$&*+,;=:~')}/t.mbox.gz"


def decode_mbox(data: bytes, content_type: str, url: str, max_out: int,
                what: str = "the thread", *, empty_ok: bool = False,
                consequence: str = "; nothing was reviewed") -> bytes:
    """The mbox in a public-inbox answer (``t.mbox.gz``, or a search's gzipped mboxrd):
    a bounded gunzip; a plain mbox (or, with ``empty_ok``, nothing) is taken as is.
    ``what`` names the answer in errors; ``consequence`` ends a decoding error."""
    host = urllib.parse.urlsplit(url).netloc
    what = f"{what} from {host}"
    if data.startswith(GZIP_MAGIC):
        try:
            return gunzip_limited(data, max_out, what)
        except TruncatedError as exc:
            raise FetchError(f"{what} is truncated (the t.mbox.gz ends early)"
                             f"{consequence}") from exc
        except CorruptError as exc:
            raise FetchError(f"{exc}{consequence}") from exc
    if data.startswith(b"From ") or (empty_ok and not data.strip()):
        if len(data) > max_out:
            raise LimitError(f"{what}: more than {max_out} bytes")
        return data
    kind = content_type.split(";")[0].strip()[:60] or "no Content-Type"
    raise FetchError(f"{what} is not a t.mbox.gz ({kind}, {len(data)} bytes); is "
                     f"{host} a public-inbox server?")


class UnknownMessageError(FetchError):
    """The server does not have the Message-ID (404)."""


def _download(base: str, msgid: str, opts: LoreOptions) -> tuple[bytes, tuple[bytes, ...]]:
    """The thread's mbox as served (decompressed) and its messages."""
    url = thread_url(base, msgid)
    try:
        answer = http_get(url, opts.http)
    except NotFoundError as exc:
        raise UnknownMessageError(f"unknown Message-ID <{msgid}>: {base} has no such "
                                  "message (HTTP 404)") from exc
    mbox = decode_mbox(answer.data, answer.content_type, url, opts.max_thread_bytes)
    raws = tuple(split_thread(mbox))
    if not raws:
        raise FetchError(f"the thread of <{msgid}> from {base} holds no message")
    return mbox, raws


def fetch_thread(base: str, msgid: str, opts: LoreOptions) -> Thread:
    """The thread of ``msgid`` from the cache when fresh, else from the server.

    With the server unreachable (any fault but a 404) and an expired copy in the cache,
    the copy is used and a note says so. Only a complete, checked answer is cached.
    """
    cache = ThreadCache(opts.cache_dir or default_cache_dir())
    entry = cache.get(base, msgid) if opts.use_cache or opts.offline else None
    if entry is not None and (opts.offline or entry.fresh()):
        if opts.progress:
            opts.progress(f"reading the thread of <{msgid}> from the cache (fetched from "
                          f"{base})")
        return Thread(base, msgid, tuple(split_thread(entry.data)), True, entry.fetched)
    if opts.offline:
        raise FetchError(f"<{msgid}> is not in the cache ({cache.root}) and --offline "
                         "forbids fetching it")
    if opts.progress:
        opts.progress(f"fetching the thread of <{msgid}> from {base} ...")
    try:
        mbox, raws = _download(base, msgid, opts)
    except (FetchError, LimitError) as exc:
        if entry is None or isinstance(exc, UnknownMessageError):
            raise
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.fetched))
        return Thread(base, msgid, tuple(split_thread(entry.data)), True, entry.fetched,
                      (f"warning: {exc}; using the copy cached on {when}",))
    now = time.time()
    if opts.use_cache:
        try:
            cache.put(CacheEntry(base, msgid, now, newest_date(list(raws)), mbox))
        except OSError as exc:
            note = f"warning: cannot write the cache in {cache.root}: {exc.strerror or exc}"
            return Thread(base, msgid, raws, False, now, (note,))
    return Thread(base, msgid, raws, False, now)


def fetch_series(base: str, msgid: str, version: int | None,
                 opts: LoreOptions) -> tuple[Thread, Selection]:
    """Fetch the thread of ``msgid`` and pick its series revision (see select_series)."""
    thread = fetch_thread(base, msgid, opts)
    source = "cache" if thread.from_cache else "server"
    selection = select_series(list(thread.messages), msgid, version,
                              f"{base} (from the {source})")
    return thread, replace(selection, notes=thread.notes + selection.notes)


def lore_options(config: UserConfig | None = None, lore_url: str | None = None,
                 timeout: float | None = None, no_cache: bool = False, offline: bool = False,
                 max_bytes: int = DEFAULT_MAX_THREAD, cache_dir: Path | None = None,
                 progress: Callable[[str], None] | None = None) -> LoreOptions:
    """Options from the command line, else the config file (``lore_url``,
    ``lore_timeout``, checked when it was read), else the defaults."""
    url = lore_url or (config.lore_url if config else None) or DEFAULT_LORE_URL
    if timeout is None:
        timeout = config.lore_timeout if config else None
    if timeout is None:
        timeout = HttpPolicy().timeout
    if not (math.isfinite(timeout) and timeout > 0):
        raise InputError(f"--timeout must be a positive number of seconds, not {timeout}")
    return LoreOptions(url=normalize_base_url(url), url_explicit=lore_url is not None,
                       http=HttpPolicy(timeout=timeout),
                       max_thread_bytes=min(DEFAULT_MAX_THREAD, max_bytes),
                       cache_dir=cache_dir, use_cache=not no_cache, offline=offline,
                       progress=progress)
