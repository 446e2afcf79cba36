"""The watch bot's parts one by one: policy, trigger, outbox, state."""

from __future__ import annotations

import random
import re
import sqlite3
from datetime import time
from pathlib import Path

import pytest

from reviewbot.bot.outbox import Outbox, draft_name, header_value, set_headers
from reviewbot.bot.policy import Policy, QuietHours, SmtpTable, load_policy, parse_policy
from reviewbot.bot.sources import MaildirSource
from reviewbot.bot.state import StateError, Store
from reviewbot.bot.trigger import classify, due_reason, is_complete
from reviewbot.errors import ConfigError
from reviewbot.findings import Finding
from tests import mailgen

# -- policy ---------------------------------------------------------------------------


FULL_POLICY = """
[review]
lists = ["linux-mm@kvack.org"]
paths = ["mm/*", "include/linux/mm*.h"]
authors = ["*@example.org"]
skip_authors = ["optout@example.org"]
skip_subjects = ["^\\\\[GIT PULL", "DO NOT MERGE"]
grace = 60
max_message_bytes = 65536
poll_interval = 5

[rules]
select = ["STY001"]
ignore = []
preview = true
min_severity = "warning"
min_confidence = "medium"

[reply]
from = "Review Bot <bot@example.org>"
signature = "-- \\nreviewbot"
send = true
cc_lists = ["linux-mm@kvack.org"]
max_per_series = 2
max_per_hour = 10
embargo = 3600
quiet_hours = "22:00-07:30"
timezone = "Europe/Berlin"

[smtp]
server = "127.0.0.1"
"""


def test_default_policy_is_the_careful_one() -> None:
    p = load_policy(None)
    assert p.send is False and p.cc_lists == () and p.identity is None
    assert p.lists == () and p.authors == ()  # review everything
    assert p.min_severity == "info" and p.quiet_hours is None and p.embargo == 0


def test_full_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(FULL_POLICY)
    p = load_policy(path)
    assert p.lists == ("linux-mm@kvack.org",) and p.grace == 60
    assert p.identity.email == "bot@example.org" and p.identity.name == "Review Bot"
    assert p.send and p.cc_lists == ("linux-mm@kvack.org",) and p.max_per_series == 2
    assert p.quiet_hours == QuietHours(time(22, 0), time(7, 30))
    assert p.smtp == SmtpTable("127.0.0.1") and p.select == ("STY001",)
    assert p.source == str(path)
    assert p.skip_reason("optout@example.org", "[PATCH] x", ["linux-mm@kvack.org"]) \
        == "author optout@example.org opted out"
    assert "not in the policy's authors" in (
        p.skip_reason("x@other.org", "[PATCH] x", ["linux-mm@kvack.org"]) or "")
    pull = p.skip_reason("a@example.org", "[GIT PULL] mm", ["linux-mm@kvack.org"])
    assert "skip pattern" in (pull or "")
    assert p.skip_reason("a@example.org", "[PATCH] x", ["other@vger.kernel.org"]) \
        == "not sent to a list the policy reviews"
    assert p.skip_reason("A@Example.org", "[PATCH] x", ["Linux-MM@kvack.org"]) is None
    assert p.paths_reason(["drivers/x.c"]) == "touches no path the policy reviews"
    assert p.paths_reason(["drivers/x.c", "mm/hugetlb.c"]) is None


def test_policy_problems_are_all_listed(tmp_path: Path) -> None:
    bad = ('[review]\ngrace = -1\nlist = []\nskip_subjects = ["("]\n[reply]\nsend = "yes"\n'
           'quiet_hours = "late"\ntimezone = "Mars/Olympus"\nfrom = "nobody"\n[rules]\n'
           'min_severity = "fatal"\n[extra]\n')
    with pytest.raises(ConfigError) as err:
        parse_policy(__import__("tomllib").loads(bad), "p.toml")
    text = str(err.value)
    for needle in ("grace", "[review] list: unknown key (did you mean 'lists'?)",
                   "bad regular expression", "send: expected", "quiet_hours", "Mars/Olympus",
                   "not a mail address", "min_severity", "extra: unknown section"):
        assert needle in text, needle
    path = tmp_path / "broken.toml"
    path.write_text("[review\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_policy(path)
    with pytest.raises(ConfigError, match="cannot read policy"):
        load_policy(tmp_path / "missing.toml")


def test_quiet_hours_across_midnight() -> None:
    q = QuietHours(time(22, 0), time(7, 0))
    assert q.contains(time(23, 30)) and q.contains(time(3, 0)) and not q.contains(time(12, 0))
    day = QuietHours(time(9, 0), time(17, 0))
    assert day.contains(time(12, 0)) and not day.contains(time(17, 0))
    p = Policy(quiet_hours=q, timezone="UTC")
    assert p.is_quiet(1_700_000_000 - 1_700_000_000 % 86400 + 23 * 3600)  # 23:00 UTC
    assert not p.is_quiet(1_700_000_000 - 1_700_000_000 % 86400 + 12 * 3600)


def _finding(severity: str, confidence: str) -> Finding:
    return Finding("STY001", "x", "braces", severity, confidence,  # type: ignore[arg-type]
                   "a.c", 1, "", None, "m", "r", 1)


def test_report_thresholds() -> None:
    p = Policy(min_severity="warning", min_confidence="medium")
    assert p.reports(_finding("warning", "high")) and p.reports(_finding("error", "medium"))
    assert not p.reports(_finding("info", "high"))
    assert not p.reports(_finding("error", "low"))


# -- trigger --------------------------------------------------------------------------


def test_completeness() -> None:
    assert is_complete(1, {1})
    assert not is_complete(3, {1, 2, 3})  # the cover letter is part of a T > 1 series
    assert is_complete(3, {0, 1, 2, 3})
    assert not is_complete(3, {0, 1, 3})


def test_due_after_grace_from_the_earlier_of_date_and_arrival() -> None:
    assert due_reason(3, {0, 1, 2, 3}, 100.0, 100.0, 100.0, 900) == "complete"
    assert due_reason(3, {0, 1}, 100.0, 100.0, 500.0, 900) is None
    assert due_reason(3, {0, 1}, 100.0, 100.0, 1000.0, 900) == "grace"
    # an old backlog (Date long ago) does not wait; a Date in the future cannot hold it
    assert due_reason(3, {0, 1}, 10_000.0, 50.0, 10_001.0, 900) == "grace"
    assert due_reason(3, {0, 1}, 100.0, 99_999.0, 1000.0, 900) == "grace"
    assert due_reason(3, {0, 1}, 100.0, None, 1000.0, 900) == "grace"


def test_classify_groups_revisions_apart_and_keeps_a_thread_together() -> None:
    v1 = mailgen.series("frob", version=1)
    v2 = mailgen.series("frob", version=2, in_reply_to=v1[0].msgid)
    c1 = [classify(m.data, 10**6) for m in v1]
    c2 = [classify(m.data, 10**6) for m in v2]
    assert [c.kind for c in c1] == ["cover", "patch", "patch", "patch"]
    assert [c.index for c in c1] == [0, 1, 2, 3]
    keys1 = {c.group.key for c in c1 if c.group}
    keys2 = {c.group.key for c in c2 if c.group}
    assert len(keys1) == 1 and len(keys2) == 1
    assert keys1 != keys2  # v2 in the same thread is another series
    # the cover letter, in no thread, may start a format-patch batch; its patches,
    # answering it, are in its thread
    assert c1[0].group and c1[0].group.batch and not any(c.group and c.group.batch
                                                         for c in c1[1:])
    assert c1[0].group and c2[0].group and c1[0].group.root == c2[0].group.root
    assert c1[0].recipients == (mailgen.LIST,)


def test_classify_noise_is_recorded_never_raised() -> None:
    rng = random.Random(1)
    kinds = [classify(mailgen.noise(n, rng, huge=70_000).data, 65536) for n in range(4)]
    assert kinds[0].kind == "ignored" and kinds[0].reason == "not a patch"
    assert kinds[1].kind == "patch"  # a [PATCH] with broken MIME joins its series ...
    assert kinds[2].kind == "bad" and "binary" in (kinds[2].reason or "")
    assert kinds[3].kind == "bad" and "larger than 65536" in (kinds[3].reason or "")
    reply = classify(mailgen.reply_to(mailgen.series("x")[1], 1).data, 10**6)
    assert reply.kind == "ignored" and reply.reason == "a reply"
    assert classify(b"", 10).kind == "bad"
    assert classify(b"\n\n", 10).kind == "bad"


# -- outbox ---------------------------------------------------------------------------


def test_outbox_writes_a_draft_once(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "out")
    name = draft_name("<r1@example.org>", 1_700_000_000)
    assert box.write(name, b"Subject: x\n\nbody\n")
    assert not box.write(name, b"Subject: x\n\nbody\n")
    assert [p.name for p in (box.path / "new").iterdir()] == [name]
    assert list((box.path / "tmp").iterdir()) == []
    # a mail client moved it to cur/ and flagged it: still there, not written again
    (box.path / "new" / name).rename(box.path / "cur" / (name + ":2,S"))
    assert box.contains(name) and not box.write(name, b"x")
    # a leftover in tmp/ (crash before the rename) is simply rewritten
    other = draft_name("<r2@example.org>", 1_700_000_000)
    (box.path / "tmp" / other).write_bytes(b"half")
    assert box.write(other, b"Subject: y\n\nwhole\n")
    assert (box.path / "new" / other).read_bytes() == b"Subject: y\n\nwhole\n"


def test_set_headers_keeps_the_body_byte_for_byte() -> None:
    data = (b"From: a@b\nTo: x@y,\n z@w\nCc: list@l\nSubject: Re: [PATCH] x\n\n"
            b"> To: not a header\n\ttabbed\n")
    out = set_headers(data, {"To": "Author <a@x>", "Cc": None}, {"X-Note": "n"})
    head, body = out.split(b"\n\n", 1)
    assert body == b"> To: not a header\n\ttabbed\n"
    assert b"Cc:" not in head and b"z@w" not in head
    assert header_value(out, "to") == "Author <a@x>" and header_value(out, "X-Note") == "n"
    crlf = data.replace(b"\n", b"\r\n")
    out = set_headers(crlf, {"Cc": None})
    assert out.endswith(b"\r\n\r\n> To: not a header\r\n\ttabbed\r\n")
    assert b"Cc:" not in out


# -- sources and state ----------------------------------------------------------------


def test_maildir_source_keys_survive_a_move_to_cur(tmp_path: Path) -> None:
    md = mailgen.make_maildir(tmp_path / "md")
    paths = mailgen.deliver(md, mailgen.series("frob", total=1))
    src = MaildirSource(md)
    entries = src.pending(set())
    assert len(entries) == 1
    key = entries[0].key
    paths[0].rename(md / "cur" / (paths[0].name + ":2,S"))
    assert src.pending(set()) [0].key == key
    assert src.pending({key}) == []
    arrival = src.read(entries[0], 10**6)
    assert arrival is None  # moved since listed: it will be listed again under cur/
    again = src.read(src.pending(set())[0], 10)
    assert again is not None and again.data is None and "larger than 10" in (again.problem or "")


def test_state_is_wal_and_single_writer(tmp_path: Path) -> None:
    path = tmp_path / "state" / "watch.sqlite"
    store = Store(path)
    store.lock()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    second = Store(path)
    with pytest.raises(StateError, match="another 'reviewbot watch'"):
        second.lock()
    second.close()
    store.close()
    third = Store(path)
    third.lock()  # released on close (and by the kernel when a process dies)
    third.close()
    with pytest.raises(StateError, match="no watch state"):
        Store(tmp_path / "none.sqlite", readonly=True)
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"not a database" * 100)
    with pytest.raises(StateError):
        Store(bad)


def test_state_schema_version_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='99' WHERE key='schema'")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="unknown state schema"):
        Store(path)


# -- operations output ----------------------------------------------------------------


def test_log_lines_are_logfmt() -> None:
    from reviewbot.bot.log import logfmt

    line = logfmt({"ts": "2026-01-01T00:00:00Z", "event": "series", "decision": "skipped",
                   "series": 3, "reason": 'resend of "x"', "note": None, "empty": ""})
    assert line == ('ts=2026-01-01T00:00:00Z event=series decision=skipped series=3 '
                    'reason="resend of \\"x\\"" empty=""')
    assert logfmt({"subject": "a\nb"}) == 'subject="a\\nb"'


def test_progress_bar_only_for_a_backlog() -> None:
    import io
    import logging

    from reviewbot.bot.log import BarAwareHandler, BarProgress

    out = io.StringIO()
    bar = BarProgress(out, width=10, minimum=20)
    bar.start("reading messages", 5)
    bar.advance(5)
    bar.finish()
    assert out.getvalue() == ""  # a handful of messages: no bar
    bar.start("reading messages", 40)
    bar.advance(20)
    handler = BarAwareHandler(out, bar)
    record = logging.LogRecord("x", logging.INFO, "", 0, "event=series", None, None)
    handler.emit(record)
    bar.advance(20)
    bar.finish()
    text = out.getvalue()
    assert "\rreading messages [..........] 0/40" in text
    assert "\r\033[Kevent=series\n\rreading messages [#####.....] 20/40" in text
    assert text.endswith("[##########] 40/40\n")


def test_smtp_table_is_checked_when_the_policy_is_read() -> None:
    from reviewbot.bot.send import settings_from

    table = {"server": "127.0.0.1", "port": 2525, "encryption": "tls", "user": "me"}
    ok = settings_from(parse_policy({"smtp": table}).smtp, to_lists=False)
    assert (ok.server, ok.port, ok.encryption, ok.user) == ("127.0.0.1", 2525, "tls", "me")
    for bad, needle in (({"server": "x", "password": "p"}, "[smtp] password: unknown key"),
                        ({"server": "/usr/sbin/sendmail"}, "expected a host name"),
                        ({"port": 25}, "[smtp] server: expected a host name"),
                        ({"server": "x", "port": 0}, "port"),
                        ({"server": "x", "port": 70000}, "port"),
                        ({"server": "x", "encryption": "starttls"}, "encryption"),
                        ({"server": "x", "timeout": -1}, "timeout"),
                        ({"server": "x", "user": 5}, "user")):
        with pytest.raises(ConfigError, match=re.escape(needle)):
            parse_policy({"smtp": bad}, "p.toml")


def test_which_send_failures_prove_nothing_was_delivered() -> None:
    import smtplib

    from reviewbot.bot.send import _refused_before_data

    assert _refused_before_data(smtplib.SMTPDataError(451, b"try later")) == (True, False)
    assert _refused_before_data(smtplib.SMTPDataError(550, b"no")) == (True, True)
    assert _refused_before_data(ConnectionRefusedError()) == (True, False)
    assert _refused_before_data(smtplib.SMTPRecipientsRefused({})) == (True, True)
    assert _refused_before_data(smtplib.SMTPServerDisconnected()) is None  # after DATA?
    assert _refused_before_data(TimeoutError()) is None
    assert _refused_before_data(OSError("weird")) is None
