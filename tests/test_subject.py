from __future__ import annotations

import pytest

from reviewbot.series.subject import parse_subject


@pytest.mark.parametrize(
    ("subject", "version", "index", "total", "tags", "title"),
    [
        ("[PATCH] mm: fix it", 1, 1, 1, (), "mm: fix it"),
        ("[PATCH v3 2/7] mm: fix it", 3, 2, 7, (), "mm: fix it"),
        ("[PATCHv4 09/14] mm/hugetlb: Remove fake head pages", 4, 9, 14, (),
         "mm/hugetlb: Remove fake head pages"),
        ("[RFC PATCH v2 0/5] big idea", 2, 0, 5, ("RFC",), "big idea"),
        ("[PATCH net-next v2 3/7] net: thing", 2, 3, 7, ("net-next",), "net: thing"),
        ("[PATCH -next 2/3] spi: x", 1, 2, 3, ("-next",), "spi: x"),
        ("[RFC][PATCH 1/3] a", 1, 1, 3, ("RFC",), "a"),
        ("[PATCH RESEND v2] b", 2, 1, 1, ("RESEND",), "b"),
    ],
)
def test_patch_subjects(subject: str, version: int, index: int, total: int,
                        tags: tuple[str, ...], title: str) -> None:
    s = parse_subject(subject)
    assert s.is_patch and not s.is_reply
    assert (s.version, s.index, s.total, s.tags, s.title) == (version, index, total, tags,
                                                              title)


def test_cover_letter() -> None:
    s = parse_subject("[PATCHv4 00/14] mm: Eliminate fake head pages")
    assert s.is_cover and s.total == 14


@pytest.mark.parametrize("subject", ["Re: [PATCH 1/2] x", "RE: Re: [PATCH v2 3/4] y",
                                     "Aw: [PATCH] z"])
def test_replies(subject: str) -> None:
    s = parse_subject(subject)
    assert s.is_reply and s.is_patch


def test_not_a_patch() -> None:
    s = parse_subject("Meeting notes")
    assert not s.is_patch and s.index is None


def test_impossible_counter_is_ignored() -> None:
    s = parse_subject("[PATCH 9/3] x")
    assert s.index == 1 and s.total == 1
