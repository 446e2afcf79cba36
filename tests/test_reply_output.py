"""Where replies go: stdout mbox, --output DIR (.eml + mbox), git's own tools reading
them, identity and clock from options, environment, config file and git."""

from __future__ import annotations

import email
import email.policy
import mailbox
import subprocess
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.config import Environment, ReplyOptions, UserConfig
from reviewbot.errors import ConfigError
from reviewbot.report.mbox import FROM_LINE, filenames, mbox_entry, slug
from reviewbot.report.message import as_quoted_printable
from reviewbot.userconfig import parse_date, reviewer_identity
from tests.conftest import FIXTURES, GOLDEN
from tests.gitenv import GitConfig, isolate, write_config

FROB = FIXTURES / "series" / "frob-v2.mbox"
ME = "Reviewbot Tester <reviewer@example.org>"
GOLDEN_DATE = "2026-01-22T07:00:03+00:00"


@pytest.fixture
def git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitConfig:
    set_key = isolate(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    return set_key


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_output_dir_matches_the_golden(corpus: Path, git: GitConfig, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI writes the same bytes as the library golden (config signature included)."""
    write_config('[reply]\nname = "Reviewbot Tester"\nemail = "reviewer@example.org"\n'
                 'signature = "Reviewbot Tester"\n')
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "check", str(corpus / "hvo-v4-subset.mbox"), "--output",
                         str(out_dir), "--date", GOLDEN_DATE)
    assert code == 1 and out == "", err
    assert "reviewbot: wrote 2 replies to" in err  # 08/14 and 09/14 have findings
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["0008-mm-hugetlb-Refactor-code-around-vmemmap_walk.eml",
                     "0009-mm-hugetlb-Remove-fake-head-pages.eml", "replies.mbox"]
    golden = (GOLDEN / "reply-hvo-v4-09.eml").read_bytes()
    assert (out_dir / names[1]).read_bytes() == golden


def test_replies_are_asked_for_the_default_is_text(git: GitConfig,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Not a terminal (capsys) and still the text report: replies only when asked for."""
    code, out, err = run(capsys, "check", str(FROB), "--from", ME)
    assert code == 1, err
    assert out.startswith("series: [PATCH v2 0/3] frob: small fixes") and "From " not in out
    code, out, err = run(capsys, "check", str(FROB), "--reply", "--from", ME)
    assert code == 1, err
    assert out.startswith(FROM_LINE.decode()) and out.count("\nFrom mboxrd@z ") == 1
    code, out2, _ = run(capsys, "check", str(FROB), "--reply", "--from", ME,
                        "--date", "Thu, 22 Jan 2026 07:00:03 +0000")
    code, out3, _ = run(capsys, "check", str(FROB), "--reply", "--from", ME,
                        "--date", GOLDEN_DATE)
    assert out2 == out3  # the two date syntaxes are the same instant


def test_output_files_and_mbox_read_by_git_and_python(git: GitConfig, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, _, err = run(capsys, "check", str(FROB), "--output", str(out_dir), "--from", ME,
                       "--date", GOLDEN_DATE, "--all")
    assert code == 1, err
    (out_dir / "0001-frob-reject-negative-values.eml").rename(out_dir / "0007-old-reply.eml")
    (out_dir / "notes.txt").write_text("mine")
    (out_dir / "0008-not-ours.eml").write_text("Subject: [PATCH] mine\n\nby hand\n")
    code, _, err = run(capsys, "check", str(FROB), "--output", str(out_dir), "--from", ME,
                       "--date", GOLDEN_DATE, "--summary", "--all")
    assert code == 1, err
    emls = sorted(p for p in out_dir.iterdir() if p.suffix == ".eml")
    assert [p.name for p in emls] == ["0000-frob-small-fixes.eml",
                                      "0001-frob-reject-negative-values.eml",
                                      "0002-frob-add-frob_reset_all.eml",
                                      "0003-frob-clear-the-counter-on-reset.eml",
                                      "0008-not-ours.eml"]
    assert (out_dir / "notes.txt").read_text() == "mine"  # only our old files go
    (out_dir / "0008-not-ours.eml").unlink()
    emls.pop()
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".reviewbot-")]
    mbox_path = out_dir / "replies.mbox"
    # Python's mailbox (splits on every "From " line): 4 messages, bodies as the .eml
    box = mailbox.mbox(str(mbox_path))
    messages = list(box)
    assert len(messages) == 4
    for msg, eml in zip(messages, emls, strict=True):
        ours = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        theirs = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
        assert theirs["Message-ID"] == ours["Message-ID"]
        assert theirs.get_content() == ours.get_content()  # type: ignore[attr-defined]
    # a body line starting "From " is stored quoted-printable ("=46rom"), so no reader
    # takes it for a separator; the decoded text is unchanged
    first = emls[1].read_bytes()  # the reply to 1/3
    tricky = first.replace(b"\n\nNo need for the braces",
                           b"\n\nFrom here: no need for the braces")
    assert tricky != first
    entry = mbox_entry(tricky)
    assert b"\nFrom here" not in entry and b"\n=46rom here" in entry
    decoded = email.message_from_bytes(entry.split(b"\n", 1)[1], policy=email.policy.default)
    text = decoded.get_content()  # type: ignore[attr-defined]
    assert "\nFrom here: no need for the braces" in text
    # git mailsplit + mailinfo take the mbox apart and read each message
    split = tmp_path / "split"
    split.mkdir()
    res = subprocess.run(["git", "mailsplit", f"-o{split}", str(mbox_path)],
                         capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "4"
    for n, eml in enumerate(emls, start=1):
        info = subprocess.run(["git", "mailinfo", str(tmp_path / "m"), str(tmp_path / "p")],
                              stdin=(split / f"{n:04d}").open("rb"), capture_output=True,
                              check=True)
        head = info.stdout.decode()
        subject = email.message_from_bytes(eml.read_bytes(),
                                           policy=email.policy.default)["Subject"]
        assert f"Author: {ME.split(' <')[0]}\n" in head
        assert "Email: reviewer@example.org\n" in head
        # mailinfo keeps the subject after "Re:"; the message body arrives intact
        assert subject.removeprefix("Re: ").split("] ", 1)[1] in head
        body = (tmp_path / "m").read_text()
        assert "reviewbot" in body


def test_git_send_email_accepts_the_eml_files(git: GitConfig, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    probe = subprocess.run(["git", "send-email", "-h"], capture_output=True, text=True)
    if "is not a git command" in probe.stderr:
        pytest.fail("git send-email is not installed (Debian: git-email, see .ci/run)")
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    git("user.name", "Reviewbot Tester")
    git("user.email", "reviewer@example.org")
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, "check", str(FROB), "--output", str(out_dir), "--date",
                       GOLDEN_DATE)
    assert code == 1, err
    emls = sorted(str(p) for p in out_dir.glob("*.eml"))
    res = subprocess.run(["git", "send-email", "--dry-run", "--confirm=never", "--quiet",
                          "--suppress-cc=self", "--smtp-server=127.0.0.1",
                          "--smtp-server-port=9", *emls], cwd=repo, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("Dry-Sent Re: [PATCH v2 ") == 2, res.stdout
    res = subprocess.run(["git", "send-email", "--dry-run", "--confirm=never",
                          "--suppress-cc=self", "--smtp-server=127.0.0.1",
                          "--smtp-server-port=9", emls[0]], cwd=repo, capture_output=True,
                         text=True, timeout=60)
    log = res.stdout
    assert "RCPT TO:<ada@example.org>" in log and "RCPT TO:<maint@example.org>" in log
    assert "In-Reply-To: <e538214528cadf8a5b7e71da8787eef235f6aa4f.1795644580.git." in log
    assert "Message-Id: <reviewbot." in log


def test_output_errors_are_one_line(git: GitConfig, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _out, err = run(capsys, "check", str(FROB), "--output", str(blocker), "--from", ME)
    assert code == 2 and err.startswith("reviewbot: error: ") and err.count("\n") == 1
    assert blocker.read_text() == "x"


def test_identity_sources(git: GitConfig, tmp_path: Path) -> None:
    def env(reply: ReplyOptions | None = None, **variables: str) -> Environment:
        return Environment(UserConfig(tmp_path / "c.toml", reply=reply or ReplyOptions()),
                           **variables)

    with pytest.raises(ConfigError, match="no reviewer address"):
        reviewer_identity(None, env())
    git("user.name", "Git Name")
    git("user.email", "git@example.org")
    assert reviewer_identity(None, env()).formatted() == "Git Name <git@example.org>"
    options = ReplyOptions(name="Cfg Name", signature="S")
    assert reviewer_identity(None, env(options)).formatted() == "Cfg Name <git@example.org>"
    with_env = env(options, reviewer="Env Name <env@example.org>")
    assert reviewer_identity(None, with_env).email == "env@example.org"
    assert reviewer_identity("Opt <opt@example.org>", with_env).email == "opt@example.org"
    with pytest.raises(ConfigError, match="not a mail address"):
        reviewer_identity("nobody", with_env)


def test_bad_config_file_and_date(git: GitConfig, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config("[reply\nname = 1\n")
    code, _, err = run(capsys, "check", str(FROB), "--reply", "--from", ME)
    assert code == 2 and str(path) in err and err.count("\n") == 1
    path.unlink()
    code, _, err = run(capsys, "check", str(FROB), "--reply", "--from", ME, "--date", "soon")
    assert code == 2 and "is not a date" in err
    monkeypatch.setenv("REVIEWBOT_DATE", "2026-01-22 07:00:03")
    code, out, _ = run(capsys, "check", str(FROB), "--reply", "--from", ME)
    assert code == 1 and "Date: Thu, 22 Jan 2026 07:00:03 +0000" in out
    assert parse_date("2026-01-22T15:00:03+08:00", "x").utcoffset() is not None


def test_names_and_mbox_entry_details() -> None:
    assert slug("mm/hugetlb: Remove fake head pages") == "mm-hugetlb-Remove-fake-head-pages"
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("") == "reply" and slug("a" * 100) == "a" * 52
    from tests.test_smtp import frob_replies

    replies = frob_replies()
    assert filenames(replies + replies)[2:] == [
        "0001-frob-reject-negative-values-2.eml", "0002-frob-add-frob_reset_all-2.eml"]
    entry = mbox_entry(replies[0].data)
    assert entry.startswith(FROM_LINE) and entry.endswith(b"\n\n")
    qp = as_quoted_printable(replies[0].data)
    a = email.message_from_bytes(qp, policy=email.policy.default)
    b = email.message_from_bytes(replies[0].data, policy=email.policy.default)
    assert a.get_content() == b.get_content()  # type: ignore[attr-defined]
    assert a["Content-Transfer-Encoding"] == "quoted-printable"


def test_git_config_values_reads_what_git_config_get_reads(git: GitConfig,
                                                           tmp_path: Path) -> None:
    """One ``git config --get-regexp`` gives each key's ``git config --get`` value: the
    last of several, None for empty or unset, whatever the case of the names."""
    from reviewbot.errors import ConfigError
    from reviewbot.gitconfig import git_config_values

    def git_config(key: str) -> str | None:
        proc = subprocess.run(["git", "config", "--get", key], capture_output=True,
                              text=True, check=False)
        assert proc.returncode in (0, 1), proc.stderr
        return proc.stdout.rstrip("\n") or None

    git("user.name", "First Name")
    subprocess.run(["git", "config", "--global", "--add", "user.name", "Last\tName"],
                   check=True)
    git("User.Email", "")
    git("sendemail.smtpServer", "smtp.example.org")
    git("user.nameish", "not this one")
    keys = ["user.name", "user.email", "sendemail.smtpserver", "sendemail.smtpUser"]
    got = git_config_values(keys)
    assert got == {k: git_config(k) for k in keys}
    assert got == {"user.name": "Last\tName", "user.email": None,
                   "sendemail.smtpserver": "smtp.example.org", "sendemail.smtpUser": None}
    with pytest.raises(ConfigError):
        git_config_values(["user.name", "x|y"])
