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


# Real subjects (linux-block 2025-10 in ../shared/corpus/traffic, and forms seen on lore),
# read as b4's LoreSubject reads them: (subject, version, index, total, tags, title).
REAL = [
    ("[PATCH v17 00/47] DEPT(DEPendency Tracker)", 17, 0, 47, (), "DEPT(DEPendency Tracker)"),
    ("[PATCHv4 0/2] block+nvme: removing virtual boundary mask reliance", 4, 0, 2, (),
     "block+nvme: removing virtual boundary mask reliance"),
    ("[PATCH V5 0/6] loop: improve loop aio perf by IOCB_NOWAIT", 5, 0, 6, (),
     "loop: improve loop aio perf by IOCB_NOWAIT"),
    ("[RESEND PATCH v18 00/16] rust: replace kernel::str::CStr w/ core::ffi::CStr", 18, 0,
     16, ("RESEND",), "rust: replace kernel::str::CStr w/ core::ffi::CStr"),
    ("[RFC PATCH 0/3] Introduce per-cgroup compression priority", 1, 0, 3, ("RFC",),
     "Introduce per-cgroup compression priority"),
    ("[PATCH blktrace v3 00/20] blktrace: Add user-space support for zoned command tracing",
     3, 0, 20, ("blktrace",), "blktrace: Add user-space support for zoned command tracing"),
    ("[patch v2 0/7] blk-mq: introduce new queue attribute async_depth", 2, 0, 7, (),
     "blk-mq: introduce new queue attribute async_depth"),
    ("[PATCH 6.17 113/563] nbd: restrict sockets to TCP and UDP", 1, 113, 563, ("6.17",),
     "nbd: restrict sockets to TCP and UDP"),
    ("[PATCH 00/33 v3] cpuset/isolation: Honour kthreads preferred affinity", 3, 0, 33, (),
     "cpuset/isolation: Honour kthreads preferred affinity"),
    ("[PATCH AUTOSEL 6.17-6.6] blk-cgroup: fix possible deadlock while configuring policy",
     1, 1, 1, ("AUTOSEL", "6.17-6.6"),
     "blk-cgroup: fix possible deadlock while configuring policy"),
    ("[PATCH v5 RESEND] block: plug attempts to batch allocate tags multiple times", 5, 1, 1,
     ("RESEND",), "block: plug attempts to batch allocate tags multiple times"),
    ("[PATCH blktests 0/4] throtl: support test with scsi_debug", 1, 0, 4, ("blktests",),
     "throtl: support test with scsi_debug"),
    ("[PATCH-next v3 0/3] md: fix the raid1 read balance", 3, 0, 3, ("-next",),
     "md: fix the raid1 read balance"),
    ("[PATCH -next v2 2/4] md: fix the raid1 read balance", 2, 2, 4, ("-next",),
     "md: fix the raid1 read balance"),
    ("[PATCH net-next v2 3/7] net: thing", 2, 3, 7, ("net-next",), "net: thing"),
    ("[PATCH v2 net 1/2] net: fix a leak", 2, 1, 2, ("net",), "net: fix a leak"),
    ("[net-next PATCH v2 0/4] ice: rework the rings", 2, 0, 4, ("net-next",),
     "ice: rework the rings"),
    ("[Intel-wired-lan] [PATCH iwl-next v3 0/4] ice: rework the rings", 3, 0, 4,
     ("Intel-wired-lan", "iwl-next"), "ice: rework the rings"),
    ("[PATCH bpf-next v3 01/10] bpf: verifier: a thing", 3, 1, 10, ("bpf-next",),
     "bpf: verifier: a thing"),
    ("[PATCH RFC v2 1/5] mm: a big idea", 2, 1, 5, ("RFC",), "mm: a big idea"),
    ("[PATCH][RFC] mm: a big idea", 1, 1, 1, ("RFC",), "mm: a big idea"),
    ("[RFC][PATCH v2 1/3] mm: a big idea", 2, 1, 3, ("RFC",), "mm: a big idea"),
    ("[PATCH v2 RESEND 1/3] mm: again", 2, 1, 3, ("RESEND",), "mm: again"),
    ("[RESEND][PATCH] mm: again", 1, 1, 1, ("RESEND",), "mm: again"),
    ("[PATCH 5.15.y] mm: fix a race", 1, 1, 1, ("5.15.y",), "mm: fix a race"),
    ("[PATCH 6.1.y 1/2] mm: fix a race", 1, 1, 2, ("6.1.y",), "mm: fix a race"),
    ("[PATCHSET v3 0/5] sched_ext: a set", 3, 0, 5, (), "sched_ext: a set"),
    ("[PATCH v2, 1/3] x: commas", 2, 1, 3, (), "x: commas"),
    ("[PATCH [net] 2/2] nested: brackets", 1, 2, 2, ("net",), "nested: brackets"),
    ("[RFCv2 PATCH 1/3] x: glued rfc", 2, 1, 3, ("RFC",), "x: glued rfc"),
    ("[PATCH-v2 1/3] x: glued dash", 2, 1, 3, (), "x: glued dash"),
    ("[RFC v2 0/3] mm: a cover without PATCH", 2, 0, 3, ("RFC",),
     "mm: a cover without PATCH"),
]


@pytest.mark.parametrize(("subject", "version", "index", "total", "tags", "title"), REAL,
                         ids=[r[0][:40] for r in REAL])
def test_real_subjects(subject: str, version: int, index: int, total: int,
                       tags: tuple[str, ...], title: str) -> None:
    s = parse_subject(subject)
    assert s.is_patch and not s.is_reply
    assert (s.version, s.index, s.total, s.tags, s.title) == (version, index, total, tags,
                                                              title)
    assert s.is_cover == (index == 0)


@pytest.mark.parametrize("subject", [
    "Re: [PATCH-next v3 0/3] md: x", "AW: [PATCH] z", "Sv: [PATCH v2 1/2] y",
    "WG: [PATCH] forwarded", "Odp: [PATCH] z", "RE: [RFC PATCH] z", "Fwd: [PATCH] z"])
def test_more_reply_prefixes(subject: str) -> None:
    assert parse_subject(subject).is_reply


@pytest.mark.parametrize("subject", ["[RFC] an idea to discuss", "[GIT PULL] block-6.18",
                                     "[ANNOUNCE] v6.18", "[LSF/MM/BPF TOPIC] x"])
def test_bracketed_but_not_a_patch(subject: str) -> None:
    assert not parse_subject(subject).is_patch


def test_subjects_agree_with_b4() -> None:
    """Every prefix word b4 reads, read the same way (b4's LoreSubject is the reference;
    imported here only)."""
    from b4 import LoreSubject

    for subject, *_ in REAL:
        ours, theirs = parse_subject(subject), LoreSubject(subject)
        assert (ours.is_reply, ours.is_patch or not theirs.patch) == (theirs.reply, True)
        if not theirs.revision_inferred:
            assert ours.version == theirs.revision, subject
        if not theirs.counters_inferred:
            assert (ours.index, ours.total) == (theirs.counter, theirs.expected), subject
        assert ours.title == theirs.subject, subject
