"""Reviewed series that keep no text: patches and mails read back from the input.

A review of a large input holds, for every patch, what the reports print (subject,
Message-ID, References, author, skip reason, the paths of its files, findings), not the
patch itself: once a series is reviewed its patches are replaced by a
:class:`StoredPatch`, and its mails by a :class:`StoredMail`. What they leave out (the
body, the raw message, the parsed diff, the address lists) is read again from the input
and parsed again when a report asks for it (a reply quotes the diff), one patch at a
time: the last few are kept in a small cache. Memory then follows the largest series,
not the input.

Both are subclasses of the model's classes whose left-out fields are properties, so a
report cannot tell them apart from the originals.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from reviewbot.diff.model import FileDiff
from reviewbot.findings import SeriesReview
from reviewbot.series.model import Mail, Patch, Person, Series

CACHE = 8  # patches and mails kept parsed after a report asked for them
# what was read again, by what it was read with: (source, position, ...) (a source is
# hashed as itself: the key keeps it)
_cache: OrderedDict[tuple[object, ...], Patch | Mail] = OrderedDict()


class Source(Protocol):
    """Where stored patches are read again: the input, by position."""

    def mail(self, n: int) -> Mail: ...

    def patch(self, n: int, index: int, total: int, version: int) -> Patch: ...


def _cached(key: tuple[object, ...], load: Callable[[], Patch | Mail]) -> Patch | Mail:
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    value = _cache[key] = load()
    while len(_cache) > CACHE:
        _cache.popitem(last=False)
    return value


class _MailRef:
    """A cover letter's place in the input."""

    __slots__ = ("n", "source")

    def __init__(self, source: Source, n: int) -> None:
        self.source, self.n = source, n

    def full_mail(self) -> Mail:
        full = _cached((self.source, "mail", self.n), lambda: self.source.mail(self.n))
        assert isinstance(full, Mail)
        return full


class StoredMail(Mail):
    """A mail whose body, raw bytes and address lists are read again from the input
    when asked for (through ``owner.full_mail()``); its References are kept (finding an
    earlier revision reads them for every mail of a series)."""

    __slots__ = ("_owner",)
    _owner: _MailRef | StoredPatch

    def __init__(self, mail: Mail, owner: _MailRef | StoredPatch) -> None:
        for name in ("msgid", "subject", "author", "date", "timestamp", "in_reply_to",
                     "references", "body_line_offset", "error"):
            object.__setattr__(self, name, getattr(mail, name))
        object.__setattr__(self, "_owner", owner)

    @property
    def body(self) -> str:
        return self._owner.full_mail().body

    @property
    def raw(self) -> bytes:
        return self._owner.full_mail().raw

    @property
    def to(self) -> tuple[Person, ...]:
        return self._owner.full_mail().to

    @property
    def cc(self) -> tuple[Person, ...]:
        return self._owner.full_mail().cc


class StoredPatch(Patch):
    """A patch whose commit message and parsed diff (and its mail's text) are read and
    parsed again from the input (``source``, position ``n``) when asked for."""

    _source: Source
    _n: int
    _paths: tuple[str, ...]

    def __init__(self, patch: Patch, source: Source, n: int) -> None:
        for name in ("index", "total", "version", "skipped", "base_commit"):
            object.__setattr__(self, name, getattr(patch, name))
        object.__setattr__(self, "_paths", patch.paths)  # reports list them: kept
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_n", n)
        object.__setattr__(self, "mail", StoredMail(patch.mail, self))

    def _full(self) -> Patch:
        full = _cached((self._source, "patch", self._n, self.index, self.total, self.version),
                       lambda: self._source.patch(self._n, self.index, self.total,
                                                  self.version))
        assert isinstance(full, Patch)
        return full

    def full_mail(self) -> Mail:
        return self._full().mail

    @property
    def commit_message(self) -> str:
        return self._full().commit_message

    @property
    def files(self) -> tuple[FileDiff, ...]:
        return self._full().files

    @property
    def paths(self) -> tuple[str, ...]:
        return self._paths


def stored_mail(mail: Mail, source: Source, n: int) -> StoredMail:
    """``mail`` (the ``n``th of ``source``) kept without its text, which is read again
    from ``source`` when asked for."""
    return StoredMail(mail, _MailRef(source, n))


def unstored(mail: Mail) -> Mail:
    """``mail`` whole: a stored mail read again from the input (not through the cache:
    for work that holds what it reads), any other mail as it is."""
    if not isinstance(mail, StoredMail):
        return mail
    owner = mail._owner
    return owner.source.mail(owner.n) if isinstance(owner, _MailRef) else owner.full_mail()


def stored_review(review: SeriesReview, source: Source, cover: int | None,
                  patches: Sequence[int]) -> SeriesReview:
    """``review`` with its series' cover letter and patches replaced by stored ones read
    again from ``source``: the cover at position ``cover``, the patches at ``patches``
    (one per patch, in the series' order)."""
    series = review.series
    stored = {id(p): StoredPatch(p, source, n)
              for p, n in zip(series.patches, patches, strict=True)}
    mail = series.cover
    if mail is not None and cover is not None:
        mail = stored_mail(mail, source, cover)
    light = Series(series.id, series.version, series.total, mail,
                   tuple(stored[id(p)] for p in series.patches), series.missing,
                   series.other_versions)
    return SeriesReview(light, tuple(replace(pr, patch=stored.get(id(pr.patch), pr.patch))
                                     for pr in review.patches), review.notes)


def loaded(series: Series) -> Series:
    """``series`` with its stored patches and cover letter read back from the input, each
    once: for work that reads every patch of a series many times over (the revision
    review compares each vN patch with several of vN-1 and with every comment; through
    the small cache above, a series of more than CACHE patches would be parsed again and
    again). Held by the caller while it works, one series at a time."""
    patches = tuple(p._full() if isinstance(p, StoredPatch) else p for p in series.patches)
    cover = series.cover
    if isinstance(cover, StoredMail):
        cover = cover._owner.full_mail()
    if cover is series.cover and all(a is b for a, b in zip(patches, series.patches,
                                                             strict=True)):
        return series
    return replace(series, cover=cover, patches=patches)
