"""The watch loop on real Maildirs: grouping, waiting, grace, policy, bad messages."""

from __future__ import annotations

import random
from pathlib import Path

from reviewbot.bot.policy import Policy
from reviewbot.bot.status import render_status
from tests import mailgen
from tests.watchenv import Clock, Env


def test_clean_series_is_reviewed_once_and_gets_no_reply(tmp_path: Path) -> None:
    env = Env(tmp_path)
    env.deliver(mailgen.series("frob", total=3, findings=False))
    env.run()
    assert env.series_states() == {"[PATCH 0/3] frob: fixes": "clean"}
    assert env.drafts() == []
    env.run()  # nothing new: nothing happens again
    assert len([e for e in env.events("series") if "decision=clean" in e]) == 1
    line = next(e for e in env.events("series") if "decision=clean" in e)
    assert "trigger=complete" in line and "patches=3/3" in line and "findings=0" in line


def test_incomplete_series_waits_for_the_rest_or_the_grace_period(tmp_path: Path) -> None:
    env = Env(tmp_path, clock=Clock(mailgen.BASE_DATE + 10))
    msgs = mailgen.series("frob", total=3, findings=False)
    env.deliver(msgs[:2])  # cover and patch 1
    env.run()
    assert env.series_states() == {"[PATCH 0/3] frob: fixes": "waiting"}
    env.deliver(msgs[2:3])
    env.clock.now += 300
    env.run()
    assert env.series_states() == {"[PATCH 0/3] frob: fixes": "waiting"}
    store = env.store()
    try:
        status = render_status(store, env.clock.now, env.policy.grace)
    finally:
        store.close()
    assert "waiting series (1):" in status and "2/3 patches, cover" in status
    assert "incomplete, reviewed in" in status
    env.clock.now += 600
    env.run()
    assert env.series_states() == {"[PATCH 0/3] frob: fixes": "clean"}
    last = env.events("series")[-1]
    assert "trigger=grace" in last and "missing=3" in last
    # the missing patch arriving now is recorded as late, the series is not reviewed again
    env.deliver(msgs[3:])
    env.run()
    assert any("decision=late" in e for e in env.events("message"))
    assert sum("decision=clean" in e for e in env.events("series")) == 1


def test_resend_is_skipped_new_revision_is_reviewed(tmp_path: Path) -> None:
    env = Env(tmp_path)
    v1 = mailgen.series("frob", total=2, findings=False)
    env.deliver(v1)
    env.run()
    env.deliver(mailgen.series("frob", total=2, findings=False, resend=True))
    env.deliver(mailgen.series("frob", version=2, total=2, findings=False,
                               in_reply_to=v1[0].msgid))
    env.deliver(v1[1:2])  # the same message delivered twice (same Message-ID)
    env.run()
    states = env.series_states()
    assert states == {"[PATCH 0/2] frob: fixes": "clean",
                      "[RESEND PATCH 0/2] frob: fixes": "skipped",
                      "[PATCH v2 0/2] frob: fixes": "clean"}
    skipped = next(e for e in env.events("series") if "decision=skipped" in e)
    assert "resend of series 1" in skipped
    store = env.store()
    try:
        assert store.message_counts()["duplicate"] == 1
    finally:
        store.close()


def test_policy_skips_are_logged_decisions(tmp_path: Path) -> None:
    env = Env(tmp_path, policy=Policy(grace=600, skip_authors=("optout@example.org",),
                                      skip_subjects=(r"\bDO NOT MERGE\b",),
                                      paths=("mm/*",)))
    env.deliver(mailgen.series("a", total=1, author=("Opt Out", "optout@example.org")))
    env.deliver(mailgen.series("b", total=1, to="other@example.org"))
    env.run()
    decisions = [e for e in env.events("series") if "decision=skipped" in e]
    assert len(decisions) == 2
    assert any("opted out" in e for e in decisions)
    assert any("touches no path the policy reviews" in e for e in decisions)
    assert env.drafts() == []


def test_bad_messages_are_recorded_and_never_block_the_queue(tmp_path: Path) -> None:
    env = Env(tmp_path, policy=Policy(grace=600, max_message_bytes=65536))
    rng = random.Random(7)
    env.deliver([mailgen.noise(n, rng, huge=70_000) for n in range(8)])
    env.deliver(mailgen.series("ok", total=1, findings=False))
    (env.maildir / "new" / "a-directory").mkdir()
    env.run()
    assert env.series_states()["[PATCH] ok: part 1"] == "clean"
    store = env.store()
    try:
        counts = store.message_counts()
        errors = store.errors(20)
        status = render_status(store, env.clock.now, 600)
    finally:
        store.close()
    assert counts["bad"] == 5  # 2 binary, 2 huge, 1 directory
    assert counts["ignored"] == 2
    assert any("larger than 65536" in e.reason for e in errors)
    assert any("not a regular file" in e.reason for e in errors)
    assert "last errors (5):" in status and "binary data" in status
    # broken-MIME "[PATCH]"s are single-patch series whose patch is skipped: clean, no reply
    assert sum(s == "clean" for s in env.series_states().values()) == 3


def test_same_author_same_cover_title_other_patches_is_not_a_resend(tmp_path: Path) -> None:
    env = Env(tmp_path)
    first = mailgen.series("frob", total=2, findings=False)
    other = mailgen.series("knob", total=2, findings=False, date=mailgen.BASE_DATE + 500)
    # the same generic cover title ("frob: fixes") on a series with other patches
    cover = mailgen.mail(msgid=other[0].msgid, subject="[PATCH 0/2] frob: fixes",
                         body="More.\n", date=mailgen.BASE_DATE + 500)
    env.deliver(first)
    env.run()
    env.deliver([cover, *other[1:]])
    env.run()
    store = env.store()
    try:
        assert store.state_counts() == {"clean": 2}
    finally:
        store.close()
