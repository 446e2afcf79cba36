"""The installed b4 runs reviewbot as its check command, in real repositories.

b4 runs a per-patch check command in the top of the work tree with one patch email on
stdin: that directory is a kernel tree (fixtures/tree), so reviewbot uses tree mode.
TRE001 (fixtures/rules-tree) fires only when the whole function is visible: its
findings in b4's output show that the tree was used.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.kernel_repo import add_series, make_tree, series_mbox

BIN = Path(sys.executable).parent
REVIEWBOT = [str(BIN / "reviewbot"), "check", "--rules-dir", str(ROOT / "rules"),
             "--rules-dir", str(FIXTURES / "rules-tree")]


def b4_env(home: Path) -> dict[str, str]:
    """A private home for b4 and git: no user config, no cache, no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "XDG_"))}
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"),
                "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_AUTHOR_DATE": "2026-01-21T16:22:46+0000",
                "GIT_COMMITTER_DATE": "2026-01-21T16:22:46+0000"})
    (home / ".gitconfig").write_text("[user]\n\tname = Ada Example\n"
                                     "\temail = ada@example.org\n")
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def b4(*args: str, cwd: Path, env: dict[str, str]) -> str:
    proc = run([str(BIN / "b4"), "--offline-mode", *args], cwd, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def config(repo: Path, env: dict[str, str], key: str, *cmd: str) -> None:
    proc = run(["git", "config", key, shlex.join(cmd)], repo, env)
    assert proc.returncode == 0, proc.stderr


def test_b4_prep_check(tmp_path: Path) -> None:
    env = b4_env(tmp_path)
    repo = make_tree(tmp_path)
    b4("prep", "-n", "frob-failed", cwd=repo, env=env)
    add_series(repo)
    config(repo, env, "b4.prep-perpatch-check-cmd", *REVIEWBOT, "--format", "checkpatch", "-")
    out = b4("prep", "--check", "--no-cache", cwd=repo, env=env)
    assert "--format checkpatch -\n" in out  # "Checking patches using: ..."
    lines = [ln.strip() for ln in out.splitlines() if "reviewbot: " in ln]
    assert [ln.split("reviewbot: ", 1)[1] for ln in lines] == [
        "mm/frob.c:65: WARNING:STY001: braces {} are not necessary for a single-statement "
        "if block (in frob_take())",
        "mm/frob.c:65: ERROR:TRE001: new branch in a function taking struct frob_pool: "
        "check the pool lock (in frob_take())",
        "mm/frob.c:95: WARNING:STY001: braces {} are not necessary for a single-statement "
        "if block (in frob_put())",
        "mm/frob.c:95: ERROR:TRE001: new branch in a function taking struct frob_pool: "
        "check the pool lock (in frob_put())",
    ]
    assert "Success: 1, Warning: 2, Error: 2" in out  # patch 2/3 passes


def test_b4_am_check(tmp_path: Path) -> None:
    env = b4_env(tmp_path)
    repo = make_tree(tmp_path)
    mbox = series_mbox(repo, tmp_path)
    config(repo, env, "b4.am-perpatch-check-cmd", *REVIEWBOT, "--format", "checkpatch", "-")
    out = b4("am", "--check", "-m", str(mbox), "-o", str(tmp_path / "out"), cwd=repo, env=env)
    body = out.split("---\n")[1]
    assert "[PATCH 2/3] widget: report the pool limit\n    " in body
    assert "reviewbot: passed all checks" in body
    assert body.count("ERROR:TRE001") == 2 and body.count("WARNING:STY001") == 2


def _messages(mbox: Path) -> list[email.message.EmailMessage]:
    import b4  # the installed b4: its message policy and check runner

    raw = mbox.read_bytes()
    parts = [b"From " + p for p in raw.split(b"\nFrom ")[1:]]
    parts.insert(0, raw.split(b"\nFrom ")[0])
    out = []
    for part in parts:
        msg = email.message_from_bytes(part.split(b"\n", 1)[1], policy=b4.emlpolicy)
        assert isinstance(msg, email.message.EmailMessage)
        out.append(msg)
    return out


def test_b4_review_check_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """b4 review (0.16) runs review-perpatch-check-cmd / review-series-check-cmd through
    b4.review.checks and stores what it parses; the TUI calls exactly these functions."""
    from b4.review import checks

    env = b4_env(tmp_path)
    repo = make_tree(tmp_path)
    clone = tmp_path / "sender"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, env=env)
    add_series(clone)
    proc = run(["git", "format-patch", "--stdout", "--cover-letter", "--thread=shallow",
                "--base=HEAD~3", "HEAD~3..HEAD"], clone, env)
    mbox = tmp_path / "with-cover.mbox"
    mbox.write_text(proc.stdout)
    cover, *patches = _messages(mbox)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    cmd = shlex.join([*REVIEWBOT, "--format", "b4-json", "-"])
    results = checks.run_perpatch_checks(
        [(m["message-id"].strip("<>"), m) for m in patches], [cmd], str(repo))
    got = [results[m["message-id"].strip("<>")] for m in patches]
    assert [[(r["tool"], r["status"], r["summary"]) for r in rs] for rs in got] == [
        [("reviewbot", "fail", "1 error, 1 warning")],
        [("reviewbot", "pass", "no findings")],
        [("reviewbot", "fail", "1 error, 1 warning")],
    ]
    details = json.loads(got[0][0]["details"])
    assert details == [
        {"status": "warn", "description": "mm/frob.c:65: STY001 warning: braces {} are not "
         "necessary for a single-statement if block (in frob_take())"},
        {"status": "fail", "description": "mm/frob.c:65: TRE001 error: new branch in a "
         "function taking struct frob_pool: check the pool lock (in frob_take())"},
    ]
    assert got[1][0]["details"] == "" and got[1][0]["url"] == ""
    # the series command gets the cover letter alone: nothing to report, nothing stored
    assert checks.run_series_checks((cover["message-id"].strip("<>"), cover), [cmd],
                                    str(repo)) == []


def test_b4_review_series_check_reads_the_review_branch(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The series check gets the cover letter and B4_TRACKING_FILE; the series is the
    review branch b4 made (patches, then an empty tracking commit)."""
    from b4.review import checks

    env = b4_env(tmp_path)
    repo = make_tree(tmp_path)
    base = run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    change_id = "20260121-frob-failed-1a2b3c4d5e6f"
    assert run(["git", "checkout", "-q", "-b", f"b4/review/{change_id}"], repo,
               env).returncode == 0
    commits = add_series(repo)
    tracking = {"series": {"change-id": change_id, "revision": 1, "base-commit": base,
                           "first-patch-commit": commits[0], "subject": "frob: failures"},
                "followups": [], "patches": [], "known-revisions": []}
    message = ("[PATCH 0/3] frob: failures\n\n--- b4-review-tracking ---\n"
               "# This section is used internally by b4 review\n" + json.dumps(tracking))
    assert run(["git", "commit", "-q", "--allow-empty", "-m", message], repo,
               env).returncode == 0
    assert run(["git", "checkout", "-q", "master"], repo, env).returncode == 0
    tracking_file = tmp_path / "b4-tracking.json"
    tracking_file.write_text(json.dumps(tracking, indent=2))
    cover_mbox = tmp_path / "cover.mbox"
    cover_mbox.write_text("From x@y Thu Jan  1 00:00:00 1970\n"
                          "From: Ada Example <ada@example.org>\n"
                          "Subject: [PATCH 0/3] frob: failures\n"
                          "Message-ID: <cover@example.org>\n\nThree patches.\n")
    (cover,) = _messages(cover_mbox)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    cmd = shlex.join([*REVIEWBOT, "--format", "b4-json", "-"])
    results = checks.run_series_checks(("cover@example.org", cover), [cmd], str(repo),
                                       extra_env={"B4_TRACKING_FILE": str(tracking_file)})
    assert [(r["tool"], r["status"], r["summary"]) for r in results] == [
        ("reviewbot", "fail", "2 errors, 2 warnings")]
    details = json.loads(results[0]["details"])
    assert [d["description"].split(": ")[0] for d in details] == [
        "[PATCH 1/3] frob", "[PATCH 1/3] frob", "[PATCH 3/3] frob", "[PATCH 3/3] frob"]
    assert "mm/frob.c:95: TRE001 error" in details[3]["description"]
    # the same input, the same review and exit status whatever the format
    codes = {fmt: subprocess.run([*REVIEWBOT, "--format", fmt, "-"], cwd=repo,
                                 input=cover_mbox.read_bytes(), capture_output=True,
                                 env={**env, "B4_TRACKING_FILE": str(tracking_file)},
                                 timeout=120, check=False).returncode
             for fmt in ("b4-json", "checkpatch", "text", "json")}
    assert codes == {"b4-json": 1, "checkpatch": 1, "text": 1, "json": 1}
    # no tracking data, or a branch that is not there: nothing to say
    assert checks.run_series_checks(("cover@example.org", cover), [cmd], str(repo)) == []
    tracking_file.write_text(json.dumps({"series": {"change-id": "nope", "base-commit": base}}))
    assert checks.run_series_checks(("cover@example.org", cover), [cmd], str(repo),
                                    extra_env={"B4_TRACKING_FILE": str(tracking_file)}) == []
