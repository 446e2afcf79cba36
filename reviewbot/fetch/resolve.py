"""Decide where a ``check`` argument comes from and read its messages.

SOURCE is, in this order:

1. ``-``: standard input (an mbox, a patch...), read locally;
2. an existing path (file, directory, Maildir): read locally, even when its name
   contains ``@`` or looks like a Message-ID;
3. an ``http(s)://`` URL of a message in a public-inbox archive (lore):
   ``https://lore.kernel.org/<list>/<msgid>/`` and anything below it (``T/#u``,
   ``raw``, ``t.mbox.gz``...), ``https://lore.kernel.org/r/<msgid>``,
   ``https://patch.msgid.link/<msgid>``;
4. a Message-ID: ``<local@domain>``, ``local@domain``, ``id:local@domain``;
5. anything else is taken as a path, and its absence reported as such.

A bare Message-ID must look like one: one ``@`` with text on both sides, no spaces,
no ``/`` (write it in ``<>`` if it has one), and not ending in a patch-file suffix such
as ``.mbox`` or ``.patch`` (a missing file, most likely). Only path 3/4 imports the
network code (and b4).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from reviewbot.errors import InputError
from reviewbot.fetch.local import PATCH_SUFFIXES, RawMessage, read_source

if TYPE_CHECKING:
    from reviewbot.fetch.lore import LoreOptions
    from reviewbot.findings import Review

# RFC 5322 msg-id: dot-atom-text or no-fold-literal on the right; be liberal on the left
# (only ever fullmatch()ed; the lookbehind keeps a search() linear too)
_BARE_MSGID = re.compile(r"(?<![^\s<>@/\\\"])[^\s<>@/\\\"]+@[^\s<>@/\\\"]+")
_BRACKETED = re.compile(r"<([^\s<>]+@[^\s<>]+)>")
_ID_PREFIX = re.compile(r"^(?:id|mid|msgid):", re.IGNORECASE)
_MSGID_LINK_HOSTS = ("patch.msgid.link", "msgid.link")

Kind = Literal["stdin", "path", "msgid", "url"]


def looks_like_range(source: str) -> bool:
    """``A..B``, ``A..``, ``..B``: what ``check`` takes as a git range. (It lives here,
    not in ``fetch.git``, so that deciding does not import the git code.)"""
    return ".." in source and not source.startswith(("/", "./")) and "..." not in source \
        and "/.." not in source and "../" not in source and "@" not in source \
        and "://" not in source


@dataclass(frozen=True)
class Source:
    """What a ``check`` SOURCE argument is."""

    kind: Kind
    text: str  # the argument as given
    msgid: str | None = None  # without <>
    base_url: str | None = None  # kind "url": the archive the URL points into


def _msgid_from_url(url: str) -> tuple[str, str | None]:
    """(msgid, base URL) of a message URL; base None means "the configured server"."""
    parts = urllib.parse.urlsplit(url)
    segments = parts.path.split("/")
    for i, seg in enumerate(segments):
        mid = urllib.parse.unquote(seg)
        if "@" not in mid:
            continue
        mid = mid.strip("<>")
        if not _BARE_MSGID.fullmatch(mid) and not _BRACKETED.fullmatch(f"<{mid}>"):
            break
        if parts.netloc.lower() in _MSGID_LINK_HOSTS:
            return mid, None
        prefix = "/".join(segments[:i])
        if segments[:i] == ["", "r"]:  # lore's /r/<msgid> redirector: ask /all/
            prefix = "/all"
        base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, prefix + "/", "", ""))
        return mid, base
    raise InputError(f"{url}: not the URL of a message in a public-inbox archive "
                     "(expected https://lore.kernel.org/<list>/<Message-ID>/...)")


def classify(source: str) -> Source:
    """What SOURCE names (see the module docstring); no network, no file reading."""
    if source == "-":
        return Source("stdin", source)
    if os.path.lexists(source):
        return Source("path", source)
    text = source.strip()
    if re.match(r"(?i)https?://", text):
        msgid, base = _msgid_from_url(text)
        return Source("url", source, msgid, base)
    text = _ID_PREFIX.sub("", text)
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed:
        return Source("msgid", source, bracketed.group(1))
    if _BARE_MSGID.fullmatch(text) and not text.lower().endswith(PATCH_SUFFIXES):
        return Source("msgid", source, text)
    return Source("path", source)


@dataclass(frozen=True)
class Input:
    """The messages to review and what to tell the user about where they came from."""

    messages: tuple[RawMessage, ...]
    notes: tuple[str, ...] = ()  # one line each, for stderr
    other_versions: tuple[int, ...] | None = None  # known from the archive's thread
    thread: tuple[bytes, ...] = ()  # every message of the fetched thread (a remote SOURCE)
    server: str | None = None  # the archive it was fetched from
    origin: str = ""  # where they came from: a path, "standard input", a server's URL
    held: int = 0  # how many messages the source held (a fetched thread: all of them)
    cached: float | None = None  # a fetched thread read from the cache: when it was fetched

    def finish(self, review: Review) -> Review:
        """Put what the archive knows (other revisions) into the review."""
        if self.other_versions is None:
            return review
        from reviewbot.findings import Review

        return Review(tuple(replace(sr, series=replace(sr.series,
                                                       other_versions=self.other_versions))
                            for sr in review.series))


def read_input(source: str, max_bytes: int,
               lore: Callable[[], LoreOptions] | None = None,
               version: int | None = None) -> Input:
    """The messages SOURCE names: local input, or a thread fetched from lore.

    ``lore`` makes the fetch options; it is called only when SOURCE is remote, so
    a local check reads no config file and imports no network code.
    """
    where = classify(source)
    if where.kind in ("stdin", "path"):
        messages = tuple(read_source(source, max_bytes))
        return Input(messages, origin="standard input" if source == "-" else source,
                     held=len(messages))
    from reviewbot.fetch.lore import LoreOptions, fetch_series

    opts = lore() if lore is not None else LoreOptions()
    assert where.msgid is not None
    base = where.base_url if where.kind == "url" and where.base_url else opts.url
    if where.kind == "url" and where.base_url and opts.url_explicit:
        base = opts.url
    thread, selection = fetch_series(base, where.msgid, version, opts)
    return Input(selection.messages, selection.notes, selection.other_revisions,
                 thread.messages, base, base, len(thread.messages),
                 thread.fetched if thread.from_cache else None)
