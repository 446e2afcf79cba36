"""``watch`` on real Maildirs and the subjects of real list traffic: a cover letter in
a form b4 reads triggers a complete series at once; a backport to another stable tree
is another series, not a resend."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.bot.trigger import classify
from reviewbot.series.subject import parse_subject
from tests import mailgen
from tests.watchenv import Clock, Env


def _series(prefix: str, tag: str, total: int = 3, date: float = mailgen.BASE_DATE
            ) -> list[mailgen.Msg]:
    """A threaded series whose subjects carry ``prefix`` (``PATCH-next v3``...)."""
    cover = f"cover.{tag}@example.org"
    out = [mailgen.mail(msgid=cover, subject=f"[{prefix} 0/{total}] {tag}: fixes",
                        body=f"Fixes for {tag}.\n\n-- \n2.39.5\n", date=date)]
    for i in range(1, total + 1):
        out.append(mailgen.mail(msgid=f"{i}.{tag}@example.org",
                                subject=f"[{prefix} {i}/{total}] {tag}: part {i}",
                                body=mailgen.diff_body(f"{tag}{i}", i, False), date=date + i,
                                in_reply_to=cover, references=(cover,)))
    return out


@pytest.mark.parametrize("prefix", ["PATCH-next v3", "PATCH net-next v2", "RFC PATCH",
                                    "PATCH RFC v2", "PATCH v2 RESEND", "PATCHv4",
                                    "patch v2", "RFC v2"])
def test_cover_in_any_b4_form_makes_the_series_complete(tmp_path: Path, prefix: str) -> None:
    env = Env(tmp_path, clock=Clock(mailgen.BASE_DATE + 10))  # well inside the grace
    msgs = _series(prefix, "frob")
    assert classify(msgs[0].data, 1 << 20).kind == "cover"
    env.deliver(msgs)
    env.run()
    assert set(env.series_states().values()) == {"clean"}, env.series_states()
    line = next(e for e in env.events("series") if "decision=clean" in e)
    assert "trigger=complete" in line and "patches=3/3" in line


def _single(msgid: str, subject: str, date: float) -> mailgen.Msg:
    return mailgen.mail(msgid=msgid, subject=subject, date=date,
                        body=mailgen.diff_body("frob1", 1, False))


def test_backports_to_other_trees_are_not_resends(tmp_path: Path) -> None:
    env = Env(tmp_path)
    d = mailgen.BASE_DATE
    env.deliver([_single("a@x", "[PATCH 6.1.y] frob: fix a race", d),
                 _single("b@x", "[PATCH AUTOSEL 7.0-6.6] frob: fix it", d + 1)])
    env.run()
    env.deliver([_single("c@x", "[PATCH 5.15.y] frob: fix a race", d + 2),
                 _single("d@x", "[PATCH AUTOSEL 7.0-6.1] frob: fix it", d + 3),
                 _single("e@x", "[PATCH RESEND 6.1.y] frob: fix a race", d + 4)])
    env.run()
    states = env.series_states()
    assert states == {"[PATCH 6.1.y] frob: fix a race": "clean",
                      "[PATCH AUTOSEL 7.0-6.6] frob: fix it": "clean",
                      "[PATCH 5.15.y] frob: fix a race": "clean",
                      "[PATCH AUTOSEL 7.0-6.1] frob: fix it": "clean",
                      "[PATCH RESEND 6.1.y] frob: fix a race": "skipped"}
    skipped = next(e for e in env.events("series") if "decision=skipped" in e)
    assert "resend of series 1" in skipped


@pytest.mark.parametrize(("a", "b", "same"), [
    ("[PATCH 5.15.y] X", "[PATCH 6.1.y] X", False),
    ("[PATCH AUTOSEL 7.0-6.6] X", "[PATCH AUTOSEL 7.0-6.1] X", False),
    ("[PATCH net] X", "[PATCH net-next] X", False),
    ("[PATCH] X", "[PATCH RESEND] X", True),
    ("[PATCH 6.1.y] X", "[RESEND PATCH 6.1.y] X", True),
    ("[PATCH v2 1/3] X", "[PATCH v2 RESEND 1/3] X", True),
])
def test_resend_title(a: str, b: str, same: bool) -> None:
    from reviewbot.bot.trigger import resend_title

    assert (resend_title(parse_subject(a)) == resend_title(parse_subject(b))) == same
