"""Network faults while fetching a thread: one clear line on stderr, exit 2, no cache.

A real HTTP server on 127.0.0.1 (tests/fault_server.py) answers each fault.
"""

from __future__ import annotations

import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.errors import FetchError, LimitError
from reviewbot.fetch.http import HttpPolicy, http_get
from reviewbot.fetch.lore import LoreOptions, fetch_thread, normalize_base_url
from tests.conftest import ROOT
from tests.fault_server import THREAD_MSGID, FaultServer, closed_port, fault_server
from tests.peak_rss import run_measured

__all__ = ["fault_server"]


def check(capsys: pytest.CaptureFixture[str], url: str, *extra: str,
          msgid: str = THREAD_MSGID) -> tuple[int, str, str]:
    code = main(["check", "--lore-url", url, msgid, "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2, err
    assert out == ""  # nothing on stdout: no partial report
    assert err.startswith("reviewbot: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


def cache_files(tmp_path: Path) -> list[Path]:
    root = tmp_path / "xdg-cache" / "reviewbot" / "lore"
    return [p for p in root.iterdir()] if root.is_dir() else []


def test_good_answer_is_reviewed_and_cached(capsys: pytest.CaptureFixture[str],
                                            fault_server: FaultServer,
                                            tmp_path: Path) -> None:
    code, out, err = check(capsys, fault_server.mode_url("ok"))
    assert code == 1, err
    data = json.loads(out)
    assert [p["index"] for p in data["patches"]] == [1, 2]
    assert data["patches"][0]["findings"][0]["rule"] == "STY001"
    assert len(cache_files(tmp_path)) == 1


def test_plain_mbox_answer_is_accepted(capsys: pytest.CaptureFixture[str],
                                       fault_server: FaultServer) -> None:
    code, out, err = check(capsys, fault_server.mode_url("plain"))
    assert code == 1, err
    assert len(json.loads(out)["patches"]) == 2


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("notfound", ("unknown Message-ID", f"<{THREAD_MSGID}>", "HTTP 404")),
        ("403", ("HTTP 403 Forbidden",)),
        ("truncated", ("truncated",)),
        ("cut", ("closed the connection before the whole answer arrived",)),
        ("corrupt", ("corrupt",)),
        ("badcrc", ("corrupt", "incorrect data check")),
        ("bomb", ("more than", "bytes once decompressed")),
        ("huge", ("10737418240 bytes, more than the limit",)),
        ("endless", ("more than the limit of",)),
        ("html", ("not a t.mbox.gz", "text/html")),
        ("empty", ("holds no message",)),
        ("loop", ("too many redirects",)),
        ("retry-later", ("HTTP 429 Too Many Requests", "asks to wait 3600 s")),
    ],
)
def test_fault_is_one_line_exit_2_nothing_cached(
        capsys: pytest.CaptureFixture[str], fault_server: FaultServer, tmp_path: Path,
        mode: str, words: tuple[str, ...]) -> None:
    code, out, err = check(capsys, fault_server.mode_url(mode))
    assert_one_line_error(code, out, err, *words)
    assert cache_files(tmp_path) == []  # a bad answer never lands in the cache


def test_connection_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, f"http://127.0.0.1:{closed_port()}/all/")
    assert_one_line_error(code, out, err, "cannot reach 127.0.0.1:", "connection refused")


@pytest.mark.parametrize("mode", ["slow", "drip"])
def test_timeout_is_bounded(capsys: pytest.CaptureFixture[str], fault_server: FaultServer,
                            mode: str) -> None:
    start = time.monotonic()
    code, out, err = check(capsys, fault_server.mode_url(mode), "--timeout", "1")
    took = time.monotonic() - start
    assert_one_line_error(code, out, err, "timed out after 1 s", "--timeout")
    assert took < 3, took


def test_429_and_5xx_are_retried_a_bounded_number_of_times(
        capsys: pytest.CaptureFixture[str], fault_server: FaultServer) -> None:
    before = fault_server.hits["429"]
    code, out, err = check(capsys, fault_server.mode_url("429"))
    assert_one_line_error(code, out, err, "HTTP 429 Too Many Requests", "4 attempts")
    assert fault_server.hits["429"] - before == HttpPolicy().attempts
    before = fault_server.hits["503"]
    policy = HttpPolicy(timeout=10, attempts=3, backoff=0.01)
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"HTTP 503 Service Unavailable \(3 attempts\)"):
        http_get(fault_server.mode_url("503") + "x@y/t.mbox.gz", policy)
    assert fault_server.hits["503"] - before == 3
    assert time.monotonic() - start < 2


def test_backoff_stops_at_the_deadline(fault_server: FaultServer) -> None:
    policy = HttpPolicy(timeout=0.5, attempts=10, backoff=0.2, max_wait=5)
    start = time.monotonic()
    with pytest.raises(FetchError, match="HTTP 503"):
        http_get(fault_server.mode_url("503") + "x@y/t.mbox.gz", policy)
    assert time.monotonic() - start < 1.0


def test_transient_errors_then_success(capsys: pytest.CaptureFixture[str],
                                       fault_server: FaultServer) -> None:
    fault_server.hits["flaky"] = 0
    code, out, err = check(capsys, fault_server.mode_url("flaky"))
    assert code == 1, err
    assert fault_server.hits["flaky"] == 3
    assert len(json.loads(out)["patches"]) == 2


def test_bomb_memory_stays_bounded(fault_server: FaultServer, tmp_path: Path) -> None:
    opts = LoreOptions(max_thread_bytes=4 << 20, cache_dir=tmp_path / "c")
    tracemalloc.start()
    try:
        with pytest.raises(LimitError, match="once decompressed"):
            fetch_thread(normalize_base_url(fault_server.mode_url("bomb")), "a@b", opts)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the 1 MB download plus the 4 MiB cap plus one step; nowhere near the 1 GiB
    assert peak < 12 << 20, peak


def test_cli_in_a_subprocess_bomb_and_refused(fault_server: FaultServer,
                                              tmp_path: Path) -> None:
    """The real entry point: exit 2, one line, no traceback, and a bounded RSS."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "c"),
           "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    for url, word in ((fault_server.mode_url("bomb"), "decompressed"),
                      (f"http://127.0.0.1:{closed_port()}/", "connection refused")):
        out_file, err_file = tmp_path / "out", tmp_path / "err"
        with out_file.open("wb") as out_f, err_file.open("wb") as err_f:
            run = run_measured([sys.executable, "-m", "reviewbot", "check", "--lore-url",
                                url, "a@b.example"], tmp_path, cwd=ROOT, env=env,
                               stdout=out_f, stderr=err_f)
        out, err = out_file.read_bytes(), err_file.read_bytes()
        assert run.returncode == 2, err
        assert out == b"" and err.count(b"\n") == 1 and word.encode() in err, err
        assert b"Traceback" not in err
        # KiB: the whole run stays far below the 1 GiB of the bomb
        assert run.peak_kib < 300 * 1024, run.peak_kib


def test_offline_without_cache_is_an_error(capsys: pytest.CaptureFixture[str],
                                           fault_server: FaultServer) -> None:
    code, out, err = check(capsys, fault_server.mode_url("ok"), "--offline")
    assert_one_line_error(code, out, err, "not in the cache", "--offline")
    assert fault_server.hits["ok"] >= 0  # untouched


def test_stale_cache_is_used_when_the_server_fails(
        capsys: pytest.CaptureFixture[str], fault_server: FaultServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.fetch import cache as cache_mod

    url = fault_server.mode_url("ok")
    assert check(capsys, url)[0] == 1
    [path] = cache_files(tmp_path)
    # the server now fails: point the same cache entry at a failing URL by copying it
    bad = normalize_base_url(fault_server.mode_url("503"))
    store = cache_mod.ThreadCache(path.parent)
    entry = store.get(normalize_base_url(url), THREAD_MSGID)
    assert entry is not None
    old = cache_mod.CacheEntry(bad, THREAD_MSGID, entry.fetched - 30 * 86400, entry.newest,
                               entry.data)
    store.put(old)
    monkeypatch.setattr("reviewbot.fetch.http.time.sleep", lambda s: None)
    code, out, err = check(capsys, bad)
    assert code == 1 and json.loads(out)["patches"], err
    assert err.startswith("reviewbot: warning: ") and "using the copy cached on" in err
    # 404 is an answer, not an outage: never hidden by a cached copy
    store.put(cache_mod.CacheEntry(normalize_base_url(fault_server.mode_url("notfound")),
                                   THREAD_MSGID, old.fetched, old.newest, old.data))
    code, out, err = check(capsys, fault_server.mode_url("notfound"))
    assert_one_line_error(code, out, err, "unknown Message-ID")


def test_threads_and_searches_share_one_decoder() -> None:
    """``fetch.search`` decodes its answers with ``lore.decode_mbox`` (no copy of it):
    a gzipped or plain mbox is taken, an empty answer only where a search allows it,
    anything else is one clear error naming the answer and the host."""
    import gzip
    import re

    from reviewbot.fetch import search
    from reviewbot.fetch.lore import decode_mbox

    assert not hasattr(search, "_mbox")
    url = "http://127.0.0.1:9/all/?x=m&t=1&q=x"
    mbox = b"From x@y Thu Jan  1 00:00:00 1970\nSubject: s\n\nbody\n"
    for what, empty_ok in (("the thread", False), ("the search results", True)):
        assert decode_mbox(gzip.compress(mbox), "", url, 1 << 20, what,
                           empty_ok=empty_ok) == mbox
        assert decode_mbox(mbox, "application/mbox", url, 1 << 20, what,
                           empty_ok=empty_ok) == mbox
        with pytest.raises(FetchError, match=re.escape(
                f"{what} from 127.0.0.1:9 is not a t.mbox.gz (text/html, 6 bytes)")):
            decode_mbox(b"<html>", "text/html; charset=utf-8", url, 1 << 20, what,
                        empty_ok=empty_ok)
        with pytest.raises(FetchError, match="truncated"):
            decode_mbox(gzip.compress(mbox)[:30], "", url, 1 << 20, what, empty_ok=empty_ok)
        with pytest.raises(LimitError):
            decode_mbox(mbox, "", url, 10, what, empty_ok=empty_ok)
    assert decode_mbox(b"", "", url, 1 << 20, "the search results", empty_ok=True) == b""
    with pytest.raises(FetchError, match=r"is not a t\.mbox\.gz"):
        decode_mbox(b"", "", url, 1 << 20)
