"""Reviewed series that keep no text: patches and mails read back from the input.

A review of a large input holds, for every patch, what the reports print (subject,
Message-ID, author, skip reason, findings), not the patch itself: once a series is
reviewed its patches are replaced by a :class:`StoredPatch`, and its mails by a
:class:`StoredMail`. What they leave out (the body, the raw message, the parsed diff,
the address lists) is read again from the input and parsed again when a report asks
for it (a reply quotes the diff), one patch at a time: the last few are kept in a small
cache. Memory then follows the largest series, not the input.

Both are subclasses of the model's classes whose left-out fields are properties, so a
report cannot tell them apart from the originals.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

from reviewbot.diff.model import FileDiff
from reviewbot.findings import SeriesReview
from reviewbot.series.model import Mail, Patch, Person, Series

CACHE = 8  # patches and mails kept parsed after a report asked for them
_cache: OrderedDict[int, tuple[object, Patch | Mail]] = OrderedDict()


def _cached(owner: object, load: Callable[[], Patch | Mail]) -> Patch | Mail:
    key = id(owner)
    hit = _cache.get(key)
    if hit is not None and hit[0] is owner:
        _cache.move_to_end(key)
        return hit[1]
    value = load()
    _cache[key] = (owner, value)  # (the owner is kept: its id cannot be reused meanwhile)
    while len(_cache) > CACHE:
        _cache.popitem(last=False)
    return value


class StoredMail(Mail):
    """A mail whose body, raw bytes, address lists and References are read again from
    the input when asked for."""

    _load: Callable[[], Mail]

    def __init__(self, mail: Mail, load: Callable[[], Mail]) -> None:
        for name in ("msgid", "subject", "author", "date", "timestamp", "in_reply_to",
                     "body_line_offset", "error"):
            object.__setattr__(self, name, getattr(mail, name))
        object.__setattr__(self, "_load", load)

    def _full(self) -> Mail:
        full = _cached(self, self._load)
        assert isinstance(full, Mail)
        return full

    @property
    def body(self) -> str:
        return self._full().body

    @property
    def raw(self) -> bytes:
        return self._full().raw

    @property
    def to(self) -> tuple[Person, ...]:
        return self._full().to

    @property
    def cc(self) -> tuple[Person, ...]:
        return self._full().cc

    @property
    def references(self) -> tuple[str, ...]:
        return self._full().references


class StoredPatch(Patch):
    """A patch whose commit message and parsed diff (and its mail's text) are read and
    parsed again from the input when asked for."""

    _load: Callable[[], Patch]

    def __init__(self, patch: Patch, load: Callable[[], Patch]) -> None:
        for name in ("index", "total", "version", "skipped", "base_commit"):
            object.__setattr__(self, name, getattr(patch, name))
        object.__setattr__(self, "_load", load)
        object.__setattr__(self, "mail", StoredMail(patch.mail, lambda: self._full().mail))

    def _full(self) -> Patch:
        full = _cached(self, self._load)
        assert isinstance(full, Patch)
        return full

    @property
    def commit_message(self) -> str:
        return self._full().commit_message

    @property
    def files(self) -> tuple[FileDiff, ...]:
        return self._full().files


def stored_review(review: SeriesReview, load_cover: Callable[[], Mail] | None,
                  load_patches: Sequence[Callable[[], Patch]]) -> SeriesReview:
    """``review`` with its series' cover letter and patches replaced by stored ones that
    read themselves again with ``load_cover`` and ``load_patches`` (one per patch, in
    the series' order)."""
    series = review.series
    stored = {id(p): StoredPatch(p, load)
              for p, load in zip(series.patches, load_patches, strict=True)}
    cover = series.cover
    if cover is not None and load_cover is not None:
        cover = StoredMail(cover, load_cover)
    light = Series(series.id, series.version, series.total, cover,
                   tuple(stored[id(p)] for p in series.patches), series.missing,
                   series.other_versions)
    return SeriesReview(light, tuple(replace(pr, patch=stored.get(id(pr.patch), pr.patch))
                                     for pr in review.patches), review.notes)
