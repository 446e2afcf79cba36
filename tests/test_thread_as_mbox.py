"""A thread fetched from a real public-inbox server gives the review a local mbox of the
same messages gives (the README's promise), on a real-shaped thread: Bob's two-patch
series, Alice's v2 series whose cover letter was sent in reply to Bob's patch (so it
is in Bob's thread), a review reply, and a discussion message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main
from tests import mailgen
from tests.pi_server import PublicInboxServer

BOB = ("Bob Builder", "bob@example.org")
ALICE = ("Alice Example", "alice@example.org")
D = mailgen.BASE_DATE


def _patch(msgid: str, subject: str, n: int, author: tuple[str, str], date: float,
           parents: tuple[str, ...]) -> mailgen.Msg:
    return mailgen.mail(msgid=msgid, subject=subject, date=date, author=author,
                        body=mailgen.diff_body(f"{msgid.split('@')[0].replace('.', '_')}",
                                               n, findings=True),
                        in_reply_to=parents[-1] if parents else None, references=parents)


def thread() -> list[mailgen.Msg]:
    b1, b2 = "tam.bob.1@example.org", "tam.bob.2@example.org"
    a0 = "tam.alice.0@example.org"
    msgs = [_patch(b1, "[PATCH 1/2] frob: bob's first", 1, BOB, D, ()),
            _patch(b2, "[PATCH 2/2] frob: bob's second", 2, BOB, D + 1, (b1,)),
            mailgen.mail(msgid=a0, subject="[PATCH v2 0/3] knob: alice's rework",
                         body="An alternative to Bob's series.\n\n-- \n2.39.5\n",
                         date=D + 100, author=ALICE, in_reply_to=b2, references=(b1, b2))]
    for i in (1, 2, 3):
        msgs.append(_patch(f"tam.alice.{i}@example.org",
                           f"[PATCH v2 {i}/3] knob: alice's part {i}", i, ALICE,
                           D + 100 + i, (b1, b2, a0)))
    msgs.append(mailgen.mail(msgid="tam.review@example.org", subject="Re: [PATCH v2 2/3] "
                             "knob: alice's part 2", body="> quoted\n\nLooks wrong.\n",
                             date=D + 200, author=("Rob Reviewer", "rob@example.org"),
                             in_reply_to="tam.alice.2@example.org",
                             references=(b1, b2, a0, "tam.alice.2@example.org")))
    return msgs


@pytest.fixture(scope="module")
def server(public_inbox: PublicInboxServer) -> PublicInboxServer:
    public_inbox.deliver_many([(m.data, "linux-misc", "x <x@example.org>")
                               for m in thread()])
    public_inbox.update_all()
    return public_inbox


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    # --no-revisions: a fetched thread looks for vN-1 further (the server) than a local
    # mbox (the input); what is compared here is the grouping and the review
    code = main(["check", "--no-tree", "--no-revisions", "--format", "json", *argv])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    data: dict[str, Any] = json.loads(out)
    for p in data["patches"]:
        for f in p["findings"]:
            del f["patch_line"]  # counts lines as the archive serves the message
    return data


def _series(data: dict[str, Any], sid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    (s,) = [s for s in data["series"] if s["id"] == sid]
    return s, [p for p in data["patches"] if p["series"] == sid]


def test_fetched_thread_reviews_as_the_local_mbox(server: PublicInboxServer, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    mbox = tmp_path / "local.mbox"
    mbox.write_bytes(b"".join(b"From x Mon Sep 17 00:00:00 2001\n" + m.data + b"\n"
                              for m in thread()))
    local = _json(capsys, str(mbox))
    # the local mbox: two series, Alice's v2 with its cover, Bob's v1 not "v1" of it
    assert [(s["id"], s["version"], s["other_versions"]) for s in local["series"]] == [
        ("tam.bob.1@example.org", 1, []), ("tam.alice.0@example.org", 2, [])]
    for asked, sid in (("tam.alice.2@example.org", "tam.alice.0@example.org"),
                       ("tam.alice.0@example.org", "tam.alice.0@example.org"),
                       ("tam.review@example.org", "tam.alice.0@example.org"),
                       ("tam.bob.2@example.org", "tam.bob.1@example.org")):
        fetched = _json(capsys, asked, "--lore-url", server.all_url)
        want, patches = _series(local, sid)
        assert fetched["series"] == [want], asked
        assert fetched["patches"] == patches, asked
    alice, patches = _series(local, "tam.alice.0@example.org")
    assert alice["cover"] == "tam.alice.0@example.org" and alice["missing"] == []
    assert sum(len(p["findings"]) for p in patches) >= 3  # compared reviews say something


def test_an_older_revision_is_found_in_its_own_family(server: PublicInboxServer,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """Asking for Bob's series with -v 2 is an error: v2 in that thread is Alice's."""
    code = main(["check", "--no-tree", "--format", "json", "-v", "2",
                 "tam.bob.1@example.org", "--lore-url", server.all_url])
    _out, err = capsys.readouterr()
    assert code == 2 and "no revision v2" in err and "(it has v1)" in err
