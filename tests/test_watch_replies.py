"""Replies from the watch bot: drafts, SMTP (a real aiosmtpd server), the policy's
recipients, embargo, quiet hours and caps, send failures, and crashes at every step."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewbot.bot.outbox import Outbox
from reviewbot.bot.policy import Policy, QuietHours
from reviewbot.bot.state import ReplyRow
from reviewbot.bot.watch import MAX_REVIEW_ATTEMPTS, Watcher
from reviewbot.series.model import Person
from tests import mailgen
from tests.conftest import ROOT
from tests.watch_smtp import SmtpServer
from tests.watchenv import Env

BOT = Person("Review Bot", "bot@example.org")


class Crash(BaseException):
    """Stands for the process dying at this point (nothing after it runs)."""


@pytest.fixture()
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def sending(smtp: SmtpServer, **changes: Any) -> Policy:
    return Policy(grace=600, identity=BOT, send=True, smtp=smtp.policy_table(), **changes)


def reply_counts(env: Env) -> Counter[str]:
    return Counter(str(m["In-Reply-To"]).strip("<>") for m in env.drafts())


def test_drafts_one_per_patch_with_findings(tmp_path: Path) -> None:
    env = Env(tmp_path, policy=Policy(grace=600, identity=BOT))
    msgs = mailgen.series("frob", total=3)
    env.deliver(msgs + mailgen.series("fine", total=1, findings=False))
    env.run()
    drafts = env.drafts()
    assert reply_counts(env) == {m.msgid: 1 for m in msgs[1:]}
    first = next(d for d in drafts if "1.frob" in str(d["In-Reply-To"]))
    assert str(first["Subject"]) == "Re: [PATCH 1/3] frob: part 1"
    assert "bot@example.org" in str(first["From"])
    assert "ada@example.org" in str(first["To"]) and mailgen.LIST in str(first["Cc"])
    body = first.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "> +\tif (val < 1) {" in body and "STY001" in body
    assert set(env.series_states().values()) == {"replied", "clean"}
    line = next(e for e in env.events("series") if "decision=reviewed" in e)
    assert "findings=3" in line and "replies=3" in line and "channel=draft" in line
    env.run()
    env.run()
    assert len(env.drafts()) == 3  # never again


def test_policy_caps_and_thresholds(tmp_path: Path) -> None:
    env = Env(tmp_path / "a", policy=Policy(grace=600, max_per_series=2))
    env.deliver(mailgen.series("frob", total=3))
    env.run()
    assert len(env.drafts()) == 2
    assert "dropped=1" in next(e for e in env.events("series") if "decision=reviewed" in e)
    env = Env(tmp_path / "b", policy=Policy(grace=600, min_severity="error"))
    env.deliver(mailgen.series("frob", total=3))
    env.run()
    assert env.drafts() == [] and set(env.series_states().values()) == {"clean"}


def test_smtp_sends_to_the_author_only_by_default(tmp_path: Path, smtp: SmtpServer) -> None:
    env = Env(tmp_path, policy=sending(smtp))
    msgs = mailgen.series("frob", total=2)
    env.deliver(msgs)
    env.run()
    got = smtp.recorder.delivered
    assert len(got) == 2 and env.drafts() == []
    for d in got:
        assert d.rcpts == ["ada@example.org"]
        assert d.header("Cc") == "" and "ada@example.org" in d.header("To")
    assert smtp.recorder.by_header("In-Reply-To") == {m.msgid: 1 for m in msgs[1:]}
    assert set(env.series_states().values()) == {"replied"}
    env.run()
    assert len(smtp.recorder.delivered) == 2


def test_smtp_list_reply_only_for_enabled_lists(tmp_path: Path, smtp: SmtpServer) -> None:
    env = Env(tmp_path, policy=sending(smtp, cc_lists=(mailgen.LIST,)))
    env.deliver(mailgen.series("frob", total=1))
    env.deliver(mailgen.series("other", total=1, to="linux-other@vger.kernel.org"))
    env.run()
    rcpts = sorted(tuple(d.rcpts) for d in smtp.recorder.delivered)
    assert rcpts == [("ada@example.org",), ("ada@example.org", mailgen.LIST)]


def test_embargo_quiet_hours_and_hourly_cap(tmp_path: Path, smtp: SmtpServer) -> None:
    env = Env(tmp_path, policy=sending(smtp, embargo=3600, max_per_hour=2))
    env.clock.now = mailgen.BASE_DATE + 60
    env.deliver(mailgen.series("frob", total=3))
    env.run()
    assert smtp.recorder.delivered == []
    assert any("decision=held" in e and "embargo until" in e for e in env.events("reply"))
    env.clock.now += 3600
    env.run()
    assert len(smtp.recorder.delivered) == 2  # the cap
    assert any("hourly cap of 2" in e for e in env.events("reply"))
    env.clock.now += 1800
    env.run()
    assert len(smtp.recorder.delivered) == 2
    env.clock.now += 1801
    env.run()
    assert len(smtp.recorder.delivered) == 3
    # quiet hours: the whole day here
    env2 = Env(tmp_path / "q", policy=sending(smtp, quiet_hours=QuietHours(
        *(__import__("datetime").time(0, 0), __import__("datetime").time(23, 59))),
        timezone="UTC"))
    env2.clock.now = mailgen.BASE_DATE - mailgen.BASE_DATE % 86400 + 3600
    env2.deliver(mailgen.series("late", total=1))
    env2.run()
    assert len(smtp.recorder.delivered) == 3
    assert any("reason=\"quiet hours\"" in e for e in env2.events("reply"))


def test_send_failures_retry_or_keep_a_draft(tmp_path: Path, smtp: SmtpServer) -> None:
    # the server is down: certainly not sent, tried again later
    down = dataclasses.replace(sending(smtp), smtp=dataclasses.replace(
        smtp.policy_table(), port=smtp.port + 1 if smtp.port < 65535 else smtp.port - 1))
    env = Env(tmp_path / "down", policy=down)
    env.deliver(mailgen.series("frob", total=1))
    env.run()
    assert any("decision=retry" in e for e in env.events("reply"))
    env.policy = sending(smtp)
    env.run()
    assert smtp.recorder.delivered == []  # not before the retry delay
    env.clock.now += 61
    env.run()
    assert len(smtp.recorder.delivered) == 1 and env.drafts() == []
    # the server refuses for good: failed, the reply kept as a draft
    smtp.recorder.refuse = "550 5.7.1 no robots"
    env = Env(tmp_path / "refused", policy=sending(smtp))
    env.deliver(mailgen.series("frob", total=1))
    env.run()
    drafts = env.drafts()
    assert len(drafts) == 1 and "550" in str(drafts[0]["X-Reviewbot-Not-Sent"])
    assert set(env.series_states().values()) == {"failed"}


# -- crashes at each step (the process dies; the next run starts from the state) ------------


def _crash_once(target: object, name: str, before: bool = True) -> Callable[[Watcher], None]:
    """A prepare hook making ``watcher.<target>.<name>`` die once (before or after it ran)."""
    def prepare(watcher: Watcher) -> None:
        obj = watcher if target == "watcher" else getattr(watcher, str(target))
        real = getattr(obj, name)

        def dying(*args: Any, **kwargs: Any) -> Any:
            if before:
                raise Crash
            real(*args, **kwargs)
            raise Crash

        setattr(obj, name, dying)
    return prepare


def test_crash_between_review_and_delivery(tmp_path: Path) -> None:
    env = Env(tmp_path)
    msgs = mailgen.series("frob", total=2)
    env.deliver(msgs)
    with pytest.raises(Crash):
        env.run(prepare=_crash_once("delivery", "deliver"))
    assert env.drafts() == [] and set(env.series_states().values()) == {"reviewed"}
    env.run()
    assert reply_counts(env) == {m.msgid: 1 for m in msgs[1:]}


def test_crash_while_recording_the_replies(tmp_path: Path) -> None:
    env = Env(tmp_path)
    msgs = mailgen.series("frob", total=2)
    env.deliver(msgs)
    with pytest.raises(Crash):
        env.run(prepare=_crash_once("store", "add_reply"))
    assert env.drafts() == [] and set(env.series_states().values()) == {"waiting"}
    env.clock.now += 5  # the review is done again (another date, other Message-IDs)
    env.run()
    assert reply_counts(env) == {m.msgid: 1 for m in msgs[1:]}


def test_crash_after_the_draft_was_written(tmp_path: Path, monkeypatch: Any) -> None:
    env = Env(tmp_path)
    msgs = mailgen.series("frob", total=2)
    env.deliver(msgs)
    real = Outbox.write

    def write_then_die(self: Outbox, name: str, data: bytes, sync: bool = True) -> bool:
        real(self, name, data, sync)
        raise Crash

    monkeypatch.setattr(Outbox, "write", write_then_die)
    with pytest.raises(Crash):
        env.run()
    monkeypatch.setattr(Outbox, "write", real)
    assert len(env.drafts()) == 1
    env.run()
    assert reply_counts(env) == {m.msgid: 1 for m in msgs[1:]}
    assert set(env.series_states().values()) == {"replied"}


def test_crash_during_review_retries_then_gives_up(tmp_path: Path) -> None:
    env = Env(tmp_path)
    env.deliver(mailgen.series("frob", total=1))
    with pytest.raises(Crash):
        env.run(prepare=_crash_once("reviewer", "review"))
    env.run()
    assert len(env.drafts()) == 1
    env2 = Env(tmp_path / "poison")
    env2.deliver(mailgen.series("poison", total=1))
    env2.deliver(mailgen.series("fine", total=1, findings=False, date=mailgen.BASE_DATE + 9))
    for _ in range(MAX_REVIEW_ATTEMPTS):
        with pytest.raises(Crash):
            env2.run(prepare=_crash_on("poison"))
    env2.run()
    assert env2.series_states() == {"[PATCH] poison: part 1": "failed",
                                    "[PATCH] fine: part 1": "clean"}
    assert "did not finish in 5 attempts" in env2.events("series")[-2]


def _crash_on(word: str) -> Callable[[Watcher], None]:
    """A prepare hook making the review of any series whose mails hold ``word`` die."""
    def prepare(watcher: Watcher) -> None:
        real = watcher.reviewer.review

        def dying(raws: Any, *args: Any, **kwargs: Any) -> Any:
            if any(word.encode() in raw for raw in raws):
                raise Crash
            return real(raws, *args, **kwargs)

        watcher.reviewer.review = dying  # type: ignore[method-assign]
    return prepare


def test_after_the_warm_up_a_review_imports_nothing(tmp_path: Path) -> None:
    """The warm-up (``SeriesReviewer.prepare``) does the first review's one-time work, so
    a real series' review, where a death is charged to the series, is as short as the
    later ones: in a fresh interpreter, it imports no module the warm-up did not."""
    probe = ("import sys\n"
             "from reviewbot.bot.policy import Policy\n"
             "from reviewbot.bot.review import SeriesReviewer\n"
             "from tests import mailgen\n"
             "raws = [m.data for m in mailgen.series('frob', total=3)]\n"
             "reviewer = SeriesReviewer(Policy())\n"
             "reviewer.prepare()\n"
             "before = set(sys.modules)\n"
             "verdict = reviewer.review(raws, 1)\n"
             "reviewer.render(verdict.review, 0.0)\n"
             "print(verdict.findings, sorted(set(sys.modules) - before))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split(" ", 1)
    assert int(out[0]) > 0 and out[1].strip() == "[]", out


def test_deaths_while_loading_the_rules_are_not_charged_to_a_series(
        tmp_path: Path, monkeypatch: Any) -> None:
    """The first review in a process also loads the rules and the C parser (most of a
    short run's work). A process killed then, again and again, must not make the series
    at the head of the queue look like it kills the bot: it is reviewed once the bot
    gets through, and replied to once."""
    import reviewbot.ruleset

    env = Env(tmp_path)
    msgs = mailgen.series("frob", total=2)
    env.deliver(msgs)
    real = reviewbot.ruleset.load_rules

    def dying(*args: Any, **kwargs: Any) -> Any:
        raise Crash

    monkeypatch.setattr(reviewbot.ruleset, "load_rules", dying)
    for _ in range(MAX_REVIEW_ATTEMPTS + 2):
        with pytest.raises(Crash):
            env.run()
        assert env.series_states() == {"[PATCH 0/2] frob: fixes": "waiting"}
    monkeypatch.setattr(reviewbot.ruleset, "load_rules", real)
    env.run()
    assert env.series_states() == {"[PATCH 0/2] frob: fixes": "replied"}
    assert reply_counts(env) == {m.msgid: 1 for m in msgs[1:]}
    store = env.store()
    try:
        assert [s.attempts for s in store.series_in(["replied"])] == [1]
    finally:
        store.close()


@pytest.mark.parametrize("after", [False, True], ids=["before-server", "after-server"])
def test_crash_during_send_never_sends_twice(tmp_path: Path, smtp: SmtpServer,
                                             after: bool) -> None:
    env = Env(tmp_path, policy=sending(smtp))
    msgs = mailgen.series("frob", total=2)
    env.deliver(msgs)
    with pytest.raises(Crash):
        env.run(prepare=_crash_once("delivery", "sender", before=not after))
    assert len(smtp.recorder.delivered) == (1 if after else 0)
    env.run()
    # the interrupted reply is not sent again: it waits in the outbox for a human
    delivered = smtp.recorder.by_header("In-Reply-To")
    assert all(n == 1 for n in delivered.values())
    drafts = env.drafts()
    assert len(drafts) == 1 and drafts[0]["X-Reviewbot-Uncertain"]
    uncertain = str(drafts[0]["In-Reply-To"]).strip("<>")
    assert (uncertain in delivered) == after
    assert len(delivered) == (2 if after else 1)
    assert set(env.series_states().values()) == {"failed"}
    assert any("decision=uncertain" in e for e in env.events("reply"))


def test_reply_rows_keep_the_recipients(tmp_path: Path, smtp: SmtpServer) -> None:
    env = Env(tmp_path, policy=sending(smtp, embargo=10**9))
    env.deliver(mailgen.series("frob", total=1))
    env.run()
    store = env.store()
    try:
        rows: list[ReplyRow] = store.replies_in(["pending"])
    finally:
        store.close()
    assert len(rows) == 1 and rows[0].channel == "smtp" and rows[0].cc == ()
    assert rows[0].to == (Person("Ada Example", "ada@example.org"),)
    assert b"\nCc:" not in rows[0].data.split(b"\n\n")[0]


def test_replies_queued_for_smtp_become_drafts_when_sending_is_turned_off(
        tmp_path: Path, smtp: SmtpServer) -> None:
    env = Env(tmp_path, policy=sending(smtp, embargo=10**9))
    msgs = mailgen.series("frob", total=1)
    env.deliver(msgs)
    env.run()
    assert smtp.recorder.delivered == [] and env.drafts() == []
    env.policy = Policy(grace=600)  # the operator turned sending off
    env.run()
    assert smtp.recorder.delivered == []
    assert reply_counts(env) == {msgs[0].msgid: 1}
    assert any("decision=to-draft" in e for e in env.events("reply"))
