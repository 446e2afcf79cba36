"""`reviewbot check <msgid | URL>` against a real public-inbox server on 127.0.0.1.

The archive holds the four hvo-v4 patches of the corpus (list linux-mm) and our own
gadget series (fixtures/lore/): v1 with a cover letter and a review reply, v2 sent in
reply to v1's cover letter (cross-posted to two lists) with a reply of its own.
"""

from __future__ import annotations

import email.utils
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main
from reviewbot.errors import FetchError
from reviewbot.fetch import lore as lore_mod
from reviewbot.fetch.cache import ThreadCache
from reviewbot.fetch.local import split_mbox
from tests.conftest import FIXTURES, ROOT
from tests.pi_server import PublicInboxServer

HVO_09 = "20260121162253.2216580-10-kas@kernel.org"
HVO_AUTHOR = "Kiryl Shutsemau <kas@kernel.org>"
V1_COVER = "20250304090000.4242-0-grace@example.org"
V1_P1 = "20250304090000.4242-1-grace@example.org"
V1_REPLY = "a1b2c3d4-rob@example.org"
V2_COVER = "20250310090000.5151-0-grace@example.org"
V2_P1 = "20250310090000.5151-1-grace@example.org"
V2_P2 = "20250310090000.5151-2-grace@example.org"
V2_REPLY = "e5f6a7b8-rob@example.org"
GADGET_V1 = FIXTURES / "lore" / "gadget-v1.mbox"
GADGET_V2 = FIXTURES / "lore" / "gadget-v2.mbox"


@pytest.fixture(scope="module")
def archive(public_inbox: PublicInboxServer, corpus: Path) -> PublicInboxServer:
    server = public_inbox
    other = "Unknown Sender <unknown@example.org>"  # unused: the gadget mails have From
    hvo = split_mbox((corpus / "hvo-v4-subset.mbox").read_bytes(), "hvo")
    v1 = split_mbox(GADGET_V1.read_bytes(), "v1")
    v2 = split_mbox(GADGET_V2.read_bytes(), "v2")
    # v1 went to linux-gadget, v2 to linux-misc, v2's patch 2 cross-posted to both
    # (two copies in the archive; /all/ must show it once); /all/ joins the lists
    # into one thread
    server.deliver_many([(m.data, "linux-mm", HVO_AUTHOR) for m in hvo]
                        + [(m.data, "linux-gadget", other) for m in v1]
                        + [(v2[2].data, "linux-gadget", other)]
                        + [(m.data, "linux-misc", other) for m in v2])
    server.update_all()
    return server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[dict[str, Any], str]:
    code, out, err = run(capsys, "check", *argv, "--format", "json")
    assert code in (0, 1), err
    data: dict[str, Any] = json.loads(out)
    return data, err


def findings(data: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(patch msgid, patch subject, finding) for every finding."""
    return [(p["msgid"], p["subject"], f) for p in data["patches"] for f in p["findings"]]


def raw_message(server: PublicInboxServer, msgid: str) -> list[str]:
    with urllib.request.urlopen(f"{server.all_url}{msgid}/raw", timeout=10) as resp:
        data: bytes = resp.read()
    lines = data.decode("utf-8").split("\n")
    assert lines[0].startswith("From mboxrd@z ")
    return lines[1:]  # patch_line counts from the line after the From_ separator


def forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(url: str, policy: object) -> object:
        raise FetchError(f"network used for {url}")

    monkeypatch.setattr(lore_mod, "http_get", no_network)


# --- acceptance --------------------------------------------------------------------------

def test_acceptance_same_findings_as_the_local_mbox(
        capsys: pytest.CaptureFixture[str], archive: PublicInboxServer, corpus: Path) -> None:
    local, _ = check_json(capsys, str(corpus / "hvo-v4-subset.mbox"))
    # (v3 is not on the server: the revision review would add a note; test_revisions_lore)
    remote, err = check_json(capsys, "--lore-url", archive.all_url, HVO_09, "--no-revisions")
    assert err == ""
    assert findings(local), "the corpus series must have findings for this to mean much"
    # the same findings: everything but patch_line, which counts lines in the email and
    # the archive's copy has more header lines (From/To added on delivery, List-Id)
    def strip(rows: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[Any, ...]]:
        return [(mid, subj, {k: v for k, v in f.items() if k != "patch_line"})
                for mid, subj, f in rows]

    assert strip(findings(remote)) == strip(findings(local))
    # ... and patch_line points at the same added line in the message as served
    for mid, _subj, f in findings(remote):
        assert raw_message(archive, mid)[f["patch_line"] - 1] == "+" + f["text"]
    assert remote["series"][0]["missing"] == local["series"][0]["missing"]
    assert [p["index"] for p in remote["patches"]] == [5, 6, 8, 9]


# --- which series, which revision ----------------------------------------------------------

@pytest.mark.parametrize("given", [V2_P2, V2_COVER, V2_REPLY, V1_REPLY, V1_COVER])
def test_any_message_of_the_thread_gives_the_newest_revision(
        capsys: pytest.CaptureFixture[str], archive: PublicInboxServer, given: str) -> None:
    data, err = check_json(capsys, "--lore-url", archive.all_url, given)
    assert [s["version"] for s in data["series"]] == [2]
    assert data["series"][0]["cover"] == V2_COVER
    assert data["series"][0]["other_versions"] == [1]
    assert [p["msgid"] for p in data["patches"]] == [V2_P1, V2_P2]  # no duplicate copies
    [(mid, _, f)] = findings(data)
    assert mid == V2_P2 and f["function"] == "gadget_count"
    if given == V1_COVER:
        assert "is part of v1; reviewing v2 (the newest in the thread)" in err


def test_pick_an_older_revision(capsys: pytest.CaptureFixture[str],
                                archive: PublicInboxServer) -> None:
    data, _ = check_json(capsys, "--lore-url", archive.all_url, V2_P2, "-v", "1")
    assert [s["version"] for s in data["series"]] == [1]
    assert data["series"][0]["other_versions"] == [2]
    [(mid, _, f)] = findings(data)
    assert mid == V1_P1 and f["function"] == "gadget_set_level"
    code, out, err = run(capsys, "check", "--lore-url", archive.all_url, V2_P2, "-v", "3")
    assert code == 2 and out == ""
    assert "no revision v3" in err and "it has v1, v2" in err


@pytest.mark.parametrize("form", [
    "{url}all/{mid}/",
    "{url}linux-misc/{mid}/T/#u",
    "{url}all/{mid}/raw",
    "{url}linux-misc/{mid}/t.mbox.gz",
    "<{mid}>",
    "id:{mid}",
])
def test_source_forms(capsys: pytest.CaptureFixture[str], archive: PublicInboxServer,
                      form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # a URL points at its own server; a Message-ID uses the configured one
    cfg = Path(os.environ["XDG_CONFIG_HOME"]) / "reviewbot"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text(f'lore_url = "{archive.all_url}"\n')
    source = form.format(url=archive.url + "/", mid=V2_P1)
    data, _ = check_json(capsys, source)
    assert [p["msgid"] for p in data["patches"]] == [V2_P1, V2_P2]


def test_a_list_url_fetches_from_that_list(capsys: pytest.CaptureFixture[str],
                                           archive: PublicInboxServer) -> None:
    # linux-gadget has v1 and one copy of v2's patch 2; /all/ has everything
    data, _ = check_json(capsys, f"{archive.url}/linux-gadget/{V2_P2}/")
    assert data["series"][0]["version"] == 2 and data["series"][0]["missing"] == [1]
    assert [p["msgid"] for p in data["patches"]] == [V2_P2]
    data, _ = check_json(capsys, "--lore-url", archive.all_url,
                         f"{archive.url}/linux-gadget/{V2_P2}/")  # --lore-url wins
    assert data["series"][0]["missing"] == []


def test_missing_patches_reported_in_text(capsys: pytest.CaptureFixture[str],
                                          archive: PublicInboxServer) -> None:
    code, out, _ = run(capsys, "check", "--format", "text", "--lore-url", archive.all_url,
                       HVO_09)
    assert code == 1
    assert out.startswith(f"series: [PATCHv4 05/14] mm: Rework compound_head() for power-of-2 "
                          f"sizeof(struct page) (v4, no cover letter, 4/14 patches, missing "
                          f"1-4, 7, 10-14; from {archive.all_url}, 4 messages)\n")


def test_unknown_message_id(capsys: pytest.CaptureFixture[str],
                            archive: PublicInboxServer) -> None:
    code, out, err = run(capsys, "check", "--lore-url", archive.all_url, "nope@example.org")
    assert code == 2 and out == ""
    assert err == (f"reviewbot: error: unknown Message-ID <nope@example.org>: "
                   f"{archive.all_url} has no such message (HTTP 404)\n")


def test_thread_without_patches(capsys: pytest.CaptureFixture[str],
                                archive: PublicInboxServer) -> None:
    archive.deliver(b"From: Q <q@example.org>\nSubject: a question\n"
                    b"Message-ID: <question-1@example.org>\n\nHow do I frob?\n", "linux-misc")
    archive.update_all()
    code, out, err = run(capsys, "check", "--lore-url", archive.all_url,
                         "question-1@example.org")
    assert code == 2 and out == "" and "holds no patch" in err


# --- cache ---------------------------------------------------------------------------------

def test_second_check_comes_from_the_cache(capsys: pytest.CaptureFixture[str],
                                           archive: PublicInboxServer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    start = time.perf_counter()
    first, _ = check_json(capsys, "--lore-url", archive.all_url, HVO_09, "--no-revisions")
    fetched = time.perf_counter() - start
    forbid_network(monkeypatch)
    start = time.perf_counter()
    second, err = check_json(capsys, "--lore-url", archive.all_url, HVO_09, "--no-revisions")
    cached = time.perf_counter() - start
    assert second == first and err == ""
    assert cached < fetched + 1.0  # not slower; the figures are in the README
    third, _ = check_json(capsys, "--lore-url", archive.all_url, HVO_09, "--offline",
                          "--no-revisions")
    assert third == first
    code, _out, err = run(capsys, "check", "--lore-url", archive.all_url, HVO_09,
                         "--no-cache")
    assert code == 2 and "network used" in err  # --no-cache does not read the cache


def test_no_cache_writes_nothing(capsys: pytest.CaptureFixture[str],
                                 archive: PublicInboxServer, tmp_path: Path) -> None:
    check_json(capsys, "--lore-url", archive.all_url, V2_P1, "--no-cache")
    assert not (tmp_path / "xdg-cache").exists()


def test_young_thread_expires_soon_old_thread_later(
        capsys: pytest.CaptureFixture[str], archive: PublicInboxServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    young = "young-1@example.org"
    body = split_mbox(GADGET_V2.read_bytes(), "v2")[1].data.split(b"\n\n", 1)[1]
    now = email.utils.formatdate(usegmt=True).encode()
    archive.deliver(b"From: Yan Young <yan@example.org>\nDate: " + now + b"\nSubject: "
                    b"[PATCH] gadget: a patch sent just now\nMessage-ID: <" + young.encode()
                    + b">\n\n" + body, "linux-gadget")
    archive.update_all()
    check_json(capsys, "--lore-url", archive.all_url, young)
    check_json(capsys, "--lore-url", archive.all_url, V2_P1)
    store = ThreadCache(tmp_path / "xdg-cache" / "reviewbot" / "lore")
    young_entry = store.get(archive.all_url, young)
    old_entry = store.get(archive.all_url, V2_P1)
    assert young_entry is not None and old_entry is not None
    assert young_entry.ttl() == 600 and old_entry.ttl() == 7 * 86400
    in_11_min = time.time() + 11 * 60
    assert not young_entry.fresh(in_11_min) and old_entry.fresh(in_11_min)
    monkeypatch.setattr("reviewbot.fetch.cache.time.time", lambda: in_11_min)
    calls: list[str] = []
    real = lore_mod.http_get

    def counting(url: str, policy: Any) -> Any:
        calls.append(url)
        return real(url, policy)

    monkeypatch.setattr(lore_mod, "http_get", counting)
    check_json(capsys, "--lore-url", archive.all_url, V2_P1)
    assert calls == []  # the old thread is still fresh
    check_json(capsys, "--lore-url", archive.all_url, young)
    assert len(calls) == 1 and young in calls[0]  # the young one was fetched again


def test_damaged_cache_entry_is_refetched(capsys: pytest.CaptureFixture[str],
                                          archive: PublicInboxServer,
                                          tmp_path: Path) -> None:
    first, _ = check_json(capsys, "--lore-url", archive.all_url, V2_P1)
    [path] = (tmp_path / "xdg-cache" / "reviewbot" / "lore").iterdir()
    path.write_bytes(path.read_bytes()[:-200])  # cut short, as by a full disk
    second, _ = check_json(capsys, "--lore-url", archive.all_url, V2_P1)
    assert second == first


# --- b4 only on this path ------------------------------------------------------------------

def imported(argv: list[str], env_dir: Path) -> set[str]:
    env = {"XDG_CACHE_HOME": str(env_dir / "c"), "XDG_CONFIG_HOME": str(env_dir / "g"),
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "reviewbot", *argv],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
            if line.startswith("import time:")}


def test_local_check_does_not_import_b4(archive: PublicInboxServer, tmp_path: Path) -> None:
    local = imported(["check", "--format", "json", str(FIXTURES / "series" / "frob-v2.mbox")],
                     tmp_path)
    assert "reviewbot.pipeline" in local  # the run did review something
    heavy = {"liblore", "requests", "urllib3", "reviewbot.fetch.lore"}
    assert not (heavy | {"b4"}) & local, (heavy | {"b4"}) & local
    remote = imported(["check", "--format", "json", "--lore-url", archive.all_url, V2_P1],
                      tmp_path)
    assert heavy <= remote  # the same probe sees them when they are used
    assert "b4" not in remote  # the series are found as in a local mbox (fetch/thread.py)
