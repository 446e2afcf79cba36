"""Revision-aware review against a real public-inbox server (Debian's public-inbox).

widget v2 (fixtures/revisions/) is not in reply to v1: its thread does not hold v1, which
is found with one search (``POST /all/?x=m&t=1&q=...``), replies and all. A "gizmo" v2
whose v1 was never posted is not found, and that is one line on stderr.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewbot.bot.policy import Policy, parse_policy
from reviewbot.cli import main
from reviewbot.fetch import http as http_mod
from reviewbot.fetch import lore as lore_mod
from reviewbot.fetch import search as search_mod
from reviewbot.revisions.previous import search_query
from reviewbot.series.build import build_series
from tests.conftest import FIXTURES
from tests.fault_server import FaultServer, fault_server
from tests.pi_server import PublicInboxServer
from tests.watchenv import Env

V1 = FIXTURES / "revisions" / "widget-v1.mbox"
V2 = FIXTURES / "revisions" / "widget-v2.mbox"
V2_COVER = "20250410090000.8420-0-ada@example.org"
GIZMO_COVER = "20250410090000.9640-0-ada@example.org"
INBOX = "linux-misc"
__all__ = ["fault_server"]


def gizmo() -> bytes:
    """A v2 whose v1 the archive never saw (new ids, title and change-id)."""
    return (V2.read_bytes().replace(b"8420-", b"9640-").replace(b"widget: level limit",
                                                                   b"gizmo: level limit")
            .replace(b"widget-level-4f1d2c", b"gizmo-level-000000")
            .replace(b"7310-0-ada", b"0000-0-nobody"))


@pytest.fixture(scope="module")
def archive(public_inbox_bin: None,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicInboxServer]:
    """A server of this module's own: the session's shared server carries other
    modules' series in the same inbox, and a list that watch follows must hold only
    the revisions these tests count searches for."""
    with PublicInboxServer(tmp_path_factory.mktemp("revisions-archive"),
                           {INBOX: f"{INBOX}@lists.example.org"}).running() as srv:
        srv.deliver_mbox(V1.read_bytes() + V2.read_bytes() + gizmo(), INBOX)
        srv.update_all()
        yield srv


@pytest.fixture
def requests_made(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every HTTP request the check makes, by method (the real request is made)."""
    made: Counter[str] = Counter()
    real = http_mod.http_get

    def counting(url: str, policy: http_mod.HttpPolicy,
                 data: bytes | None = None) -> http_mod.HttpAnswer:
        made["POST" if data is not None else "GET"] += 1
        return real(url, policy, data)

    monkeypatch.setattr(lore_mod, "http_get", counting)
    monkeypatch.setattr(search_mod, "http_get", counting)
    return made


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", "--no-tree", "-j", "1", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def since_of(out: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(out)["series"][0]["since"]
    return data


def test_previous_revision_found_on_the_server(capsys: pytest.CaptureFixture[str],
                                                archive: PublicInboxServer,
                                                requests_made: Counter[str]) -> None:
    code, out, err = check(capsys, "--format", "json", "--lore-url", archive.all_url, V2_COVER)
    assert code == 0 and err == "", err
    got = since_of(out)
    assert got["found"] and got["version"] == 1 and got["found_by"] == "change-id"
    assert got["where"] == f"a search on {archive.all_url}"
    assert requests_made == Counter({"GET": 1, "POST": 1})  # the thread, one search
    verdicts = sorted(c["verdict"] for c in got["comments"])
    assert verdicts == ["addressed", "discussed", "dropped", "not_addressed", "unclear"]
    assert sorted(t["kind"] for t in got["trailers"]) == ["carried", "missing"]
    # the same as from the local mbox of both revisions
    code, out_local, _ = check(capsys, "--format", "json", str(V2), "--since", str(V1))
    mine = since_of(out_local)
    assert [(c["msgid"], c["verdict"], c["evidence"]) for c in mine["comments"]] == [
        (c["msgid"], c["verdict"], c["evidence"]) for c in got["comments"]]


def test_since_lore_for_a_local_mbox_and_the_cache(capsys: pytest.CaptureFixture[str],
                                                   archive: PublicInboxServer,
                                                   requests_made: Counter[str]) -> None:
    code, out, err = check(capsys, "--format", "json", "--since", "lore", "--lore-url",
                           archive.all_url, str(V2))
    assert code == 0 and err == ""
    first = since_of(out)
    assert first["found"] and requests_made == Counter({"POST": 1})
    code, out, err = check(capsys, "--format", "json", "--since", "lore", "--lore-url",
                           archive.all_url, "--offline", str(V2))
    assert since_of(out) == first and requests_made == Counter({"POST": 1})  # cached
    # a local mbox without --since: nothing is asked of any server
    code, out, err = check(capsys, "--format", "json", "--lore-url", archive.all_url, str(V2))
    assert "since" not in json.loads(out)["series"][0] and requests_made["POST"] == 1


def test_not_found_is_one_line_and_the_review_as_before(
        capsys: pytest.CaptureFixture[str], archive: PublicInboxServer,
        requests_made: Counter[str]) -> None:
    code, out, err = check(capsys, "--format", "text", "--lore-url", archive.all_url,
                           "--no-cache", GIZMO_COVER)
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        'reviewbot: note: v1 of "gizmo: level limit, statistics and reset" (v2) was not '
        "found: looked in the input, the thread from")
    assert f"a search on {archive.all_url}" in lines[0]
    _, plain, err2 = check(capsys, "--format", "text", "--lore-url", archive.all_url,
                           "--no-revisions", "--no-cache", GIZMO_COVER)
    assert out == plain and err2 == ""  # both fetched from the server: the same header
    _code, out, _ = check(capsys, "--format", "json", "--lore-url", archive.all_url,
                         GIZMO_COVER)
    assert since_of(out) == {"version": 1, "found": False, "note": lines[0][len(
        "reviewbot: note: "):]}


def test_server_down_is_a_note(capsys: pytest.CaptureFixture[str],
                               archive: PublicInboxServer) -> None:
    code, out, err = check(capsys, "--format", "json", "--since", "lore", "--lore-url",
                           "http://127.0.0.1:9/all/", "--timeout", "5", str(V2))
    assert code == 0 and "cannot reach 127.0.0.1:9" in err and len(err.splitlines()) == 1
    assert since_of(out)["found"] is False


def chained() -> bytes:
    """widget v1 and its review, and a v2 sent in reply to Rob's review of v1 (git
    send-email --in-reply-to), with no change-id, no link to v1, and an author address
    and name of its own: only the In-Reply-To chain relates them. Ids, titles and code
    renamed, so that nothing of it matches the widget series of the other tests."""
    v1 = (V1.read_bytes().replace(b"ada-re-", b"adac-re-").replace(b"rob-", b"robc-")
          .replace(b"tina-", b"tinac-").replace(b"7310-", b"7320-"))
    v2 = (V2.read_bytes().replace(b"8420-", b"8430-").replace(b"7310-", b"7320-")
          .replace(b"change-id: ", b"x-id: ").replace(b"https://lore.kernel.org/r/", b"")
          .replace(b"From: Ada Author <ada@example.org>",
                   b"From: A. Author <ada@home.example.org>"))
    # what git send-email writes: the cover replies to the review, the patches to the
    # cover, their References starting with the review
    cover = b"Message-ID: <20250410090000.8430-0-ada@example.org>\n"
    assert v2.count(cover) == 1
    v2 = v2.replace(cover, cover + b"In-Reply-To: <robc-1.20250402@example.org>\n"
                    b"References: <robc-1.20250402@example.org>\n")
    v2 = v2.replace(b"References: <20250410090000.8430-0-ada@example.org>",
                    b"References: <robc-1.20250402@example.org>\n "
                    b"<20250410090000.8430-0-ada@example.org>")
    return (v1 + v2).replace(b"widget", b"chainy").replace(b"Widget", b"Chainy")


def test_previous_revision_found_up_the_thread_on_a_real_server(
        public_inbox_bin: None, tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str], requests_made: Counter[str]) -> None:
    """``check <v2 Message-ID>`` of a v2 posted in reply to a review of v1: the thread
    fetched for v2 is v1's, so v1 and its review come with it (found by the In-Reply-To
    chain, "in the thread"), and no search is made: one round trip in all."""
    with PublicInboxServer(tmp_path_factory.mktemp("revisions-chain"),
                           {"linux-chain": "linux-chain@lists.example.org"}).running() as srv:
        srv.deliver_mbox(chained(), "linux-chain")
        code, out, err = check(capsys, "--format", "json", "--lore-url",
                               srv.inbox_url("linux-chain"),
                               "20250410090000.8430-0-ada@example.org")
    assert code == 0 and err == "", err
    got = since_of(out)
    assert got["found"] and got["version"] == 1 and got["found_by"] == "in-reply-to"
    assert got["where"].startswith("the thread from ")
    assert got["series"] == "20250401090000.7320-0-ada@example.org"
    assert sorted(c["verdict"] for c in got["comments"]) == [
        "addressed", "discussed", "dropped", "not_addressed", "unclear"]
    assert requests_made == Counter({"GET": 1})


@pytest.mark.parametrize("mode", ["slow", "503", "html", "bomb", "corrupt", "loop"])
def test_a_search_that_fails_is_a_note(capsys: pytest.CaptureFixture[str],
                                       fault_server: FaultServer, tmp_path: Path,
                                       mode: str) -> None:
    """The search goes through the fetch layer: its timeout, retries, size caps and
    checks of what comes back. Whatever the server does, the check ends in time with
    one note on stderr, the review as without the revision review, and nothing cached."""
    import time

    start = time.monotonic()
    code, out, err = check(capsys, "--format", "json", "--since", "lore", "--lore-url",
                           fault_server.mode_url(mode), "--timeout", "3", str(V2))
    assert time.monotonic() - start < 15
    assert code == 0 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith('reviewbot: note: v1 of "widget: level limit, statistics and '
                          'reset" (v2) was not found: looked in the input, a search on '
                          f"{fault_server.mode_url(mode)} (")
    assert fault_server.hits[mode] >= 1
    data = json.loads(out)
    assert data["series"][0].pop("since")["found"] is False
    _, plain, _ = check(capsys, "--format", "json", "--no-revisions", str(V2))
    assert data == json.loads(plain)
    cache = tmp_path / "xdg-cache" / "reviewbot" / "lore"
    assert not cache.exists() or not any(cache.rglob("*.mbox"))


def test_a_failed_search_falls_back_on_its_expired_cached_answer(
        capsys: pytest.CaptureFixture[str], fault_server: FaultServer) -> None:
    """A search answered once and cached long ago: when the server fails now, the old
    answer is used (as for a thread), and the comparison is made."""
    import time

    from reviewbot.fetch.cache import CacheEntry, ThreadCache, default_cache_dir
    from reviewbot.fetch.lore import normalize_base_url
    from reviewbot.fetch.search import CACHE_PREFIX

    v2 = next(s for s in build_series(_mails(V2)) if s.version == 2)
    query = search_query(v2)
    assert query is not None
    base = normalize_base_url(fault_server.mode_url("503"))
    month = 30 * 86400
    entry = CacheEntry(base, CACHE_PREFIX + query, time.time() - month,
                       time.time() - 2 * month, V1.read_bytes())
    assert not entry.fresh()
    ThreadCache(default_cache_dir()).put(entry)
    before = fault_server.hits["503"]
    code, out, err = check(capsys, "--format", "json", "--since", "lore", "--lore-url",
                           base, "--timeout", "3", str(V2))
    assert code == 0 and err == ""
    assert fault_server.hits["503"] > before  # asked again, as the copy had expired
    got = since_of(out)
    assert got["found"] and got["found_by"] == "change-id" and len(got["comments"]) == 5


def _mails(path: Path) -> list[Any]:
    from reviewbot.fetch.local import read_source
    from reviewbot.pipeline import parse_messages

    return parse_messages(list(read_source(str(path), 1 << 24)))


# --- watch ----------------------------------------------------------------------------------

def _drafts_to(env: Env, msgid: str) -> list[str]:
    return [m.get_payload() for m in env.drafts()
            if str(m["In-Reply-To"]).strip("<>") == msgid]


def test_watch_compares_each_new_revision(archive: PublicInboxServer, tmp_path: Path,
                                          requests_made: Counter[str]) -> None:
    """A Maildir watcher with ``[revisions] lore_url``: v2 arrives, v1 and its review are
    looked up on the server (one search, the only request), the draft to v2 1/3 says what
    was not addressed."""
    policy = parse_policy({"revisions": {"lore_url": archive.all_url},
                           "reply": {"summary": True}})
    assert policy.revisions and policy.revisions_url == archive.all_url
    env = Env(tmp_path, policy=Policy(grace=600, summary=True, revisions_url=archive.all_url))
    env.deliver(_msgs(V2))
    env.run()
    (patch1,) = _drafts_to(env, "20250410090000.8420-1-ada@example.org")
    assert "v1 comment by Rob Reviewer not addressed:" in " ".join(patch1.split())
    (summary,) = _drafts_to(env, V2_COVER)
    assert "<rob-1.20250402@example.org>" in summary
    line = next(e for e in env.events("series") if "decision=reviewed" in e)
    assert 'since="v1: 1 of 5 comments not addressed"' in line
    assert requests_made == Counter({"POST": 1})


def test_watch_without_a_server_says_so(tmp_path: Path) -> None:
    env = Env(tmp_path, policy=Policy(grace=600))
    env.deliver(_msgs(V2))
    env.run()
    line = next(e for e in env.events("series") if "widget" in e and "decision=" in e
                and "decision=new" not in e)
    assert "v1 not looked up: no lore server" in line
    assert env.drafts() == []  # no finding, nothing known about v1: clean


def _msgs(path: Path) -> list[Any]:
    from reviewbot.fetch.local import split_mbox
    from tests import mailgen

    return [mailgen.Msg(_msgid(m.data), m.data) for m in split_mbox(path.read_bytes(), "mbox")]


def _msgid(raw: bytes) -> str:
    import re

    m = re.search(rb"^Message-ID: <([^>]+)>", raw, re.MULTILINE)
    assert m is not None
    return m.group(1).decode()


def test_policy_rejects_a_bad_server() -> None:
    from reviewbot.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\[revisions\] lore_url"):
        parse_policy({"revisions": {"lore_url": "ftp://x"}})
    with pytest.raises(ConfigError, match="unknown key"):
        parse_policy({"revisions": {"url": "http://x/"}})
    assert parse_policy({"revisions": {"enabled": False}}).revisions is False




def test_watch_on_a_lore_list_searches_that_list(archive: PublicInboxServer,
                                                 tmp_path: Path,
                                                 requests_made: Counter[str]) -> None:
    """``--lore-list``: vN-1 is looked up on the list followed (no policy key needed),
    with one search for the one revision after the first (v1 is reviewed too: it has
    no earlier revision, nothing is searched for it)."""
    from reviewbot.bot.log import EventLog
    from reviewbot.bot.lore import LoreSource
    from reviewbot.bot.outbox import Outbox
    from reviewbot.bot.state import Store
    from reviewbot.bot.watch import Watcher

    env = Env(tmp_path, policy=Policy(grace=600))
    store = Store(env.state)
    store.lock()
    try:
        watcher = Watcher(store, [LoreSource(archive.inbox_url(INBOX), interval=0)],
                          Outbox(env.outbox_dir), env.policy, clock=env.clock,
                          log=EventLog(env.logger))
        assert watcher.reviewer.revisions_url == archive.inbox_url(INBOX)
        watcher.cycle()
    finally:
        store.close()
    (patch1,) = _drafts_to(env, "20250410090000.8420-1-ada@example.org")
    assert "v1 comment by Rob Reviewer not addressed:" in " ".join(patch1.split())
    assert requests_made["POST"] == 1
