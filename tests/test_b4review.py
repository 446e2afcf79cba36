"""The b4 review hand-off, read back by b4's own code on a real review branch."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main
from reviewbot.fetch.local import split_mbox
from reviewbot.series.mail import parse_mail
from tests.conftest import FIXTURES
from tests.gitenv import GitConfig, isolate

FROB = FIXTURES / "series" / "frob-v2.mbox"
ME = "Rev Iewer <rev@example.org>"

# drivers/misc/frob.c before the series: the lines the three patches' hunks expect
BASE = ["/* frob driver */", "#include <linux/spinlock.h>", "", "struct frob_dev;",
        "static DEFINE_SPINLOCK(frob_lock);", "static int frob_count;", "",
        "static int frob_one(struct frob_dev *dev, int val)", "{",
        "\tif (!dev)", "\t\treturn -EINVAL;", "", "\tdev->val = val;", "\treturn 0;", "}",
        "", "static void frob_reset(struct frob_dev *dev)", "{", "\tdev->val = 0;",
        "\tdev->flags = 0;", "}"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def review_branch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, Any]]:
    """A repo on a b4 review branch: base, the three frob patches (git am), and a
    tracking commit made with b4's own helper."""
    set_key: GitConfig = isolate(tmp_path, monkeypatch)
    set_key("user.name", "Mai Ntainer")
    set_key("user.email", "maint@example.org")
    repo = tmp_path / "linux"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    (repo / "drivers" / "misc").mkdir(parents=True)
    (repo / "drivers" / "misc" / "frob.c").write_text("\n".join(BASE) + "\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "b4/review/frob-v2")
    msgs = split_mbox(FROB.read_bytes(), "frob")[1:]  # the three patches, no cover
    for n, m in enumerate(msgs):
        path = tmp_path / f"{n}.patch"
        path.write_bytes(m.data)
        git(repo, "am", "-q", str(path))
    first = git(repo, "rev-list", "--reverse", f"{base}..HEAD").split()[0]
    from b4.review._review import make_review_magic_json

    mails = [parse_mail(m.data) for m in msgs]
    tracking = {
        "series": {"identifier": "linux", "status": "reviewing", "revision": 2,
                   "change-id": "frob-v2", "subject": "[PATCH v2 0/3] frob: small fixes",
                   "base-commit": base, "first-patch-commit": first},
        "followups": [],
        "patches": [{"title": m.subject.raw, "header-info": {"msgid": m.msgid}}
                    for m in mails],
    }
    cover = "frob: small fixes\n\nThree small changes to the frob driver."
    git(repo, "commit", "-q", "--allow-empty", "-m",
        cover + "\n\n" + make_review_magic_json(tracking))
    monkeypatch.chdir(repo)
    return repo, tracking


def test_b4_reads_the_comments_onto_their_lines(review_branch: tuple[Path, dict[str, Any]],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo, tracking = review_branch
    tip = git(repo, "rev-parse", "HEAD").strip()
    code = main(["check", str(FROB), "--b4-review", "--format", "text", "--from", ME])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "STY001" in out  # the text report is printed as usual
    outdir = repo / ".git" / "b4-review" / tip
    assert sorted(p.name for p in outdir.iterdir()) == ["0001.txt", "0002.txt",
                                                        "identity.txt"]
    assert (outdir / "identity.txt").read_text() == ME + "\n"
    text = (outdir / "0001.txt").read_text()
    assert text.startswith("reviewbot (an automated review tool) left 1 comment")
    assert "\n> diff --git a/drivers/misc/frob.c b/drivers/misc/frob.c\n" in text
    assert "> +\tif (val < 0) {\n\nNo need for the braces here" in text

    import b4.review._review as b4review

    commit_shas = git(repo, "rev-list", "--reverse",
                      f"{tracking['series']['first-patch-commit']}~1..HEAD~1").split()
    patches = json.loads(json.dumps(tracking["patches"]))
    assert b4review._integrate_agent_reviews(str(repo), "cover", json.loads(
        json.dumps(tracking)) | {"patches": patches}, commit_shas, patches)
    got = {n: [(c["path"], c["line"], c["text"]) for c in
               p.get("reviews", {}).get("rev@example.org", {}).get("comments", [])]
           for n, p in enumerate(patches, start=1)}
    comment = 'No need for the braces here: the block holds a single statement.'
    # b4 keeps the path as the diff names it ("b/..."), for its own comments as well
    assert got == {1: [("b/drivers/misc/frob.c", 13, comment)],
                   2: [("b/drivers/misc/frob.c", 29, comment)], 3: []}
    assert patches[0]["reviews"]["rev@example.org"]["name"] == "Rev Iewer"
    assert not outdir.exists()  # b4 consumed the directory


def test_b4_review_mismatches_are_refused(review_branch: tuple[Path, dict[str, Any]],
                                          capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    repo, _ = review_branch
    tip = git(repo, "rev-parse", "HEAD").strip()
    outdir = repo / ".git" / "b4-review" / tip
    outdir.mkdir(parents=True)
    (outdir / "identity.txt").write_text("Some Agent <agent@example.org>\n")
    code = main(["check", str(FROB), "--b4-review", "--format", "text", "--from", ME])
    _, err = capsys.readouterr()
    assert code == 2 and "names another reviewer" in err and err.count("\n") == 1
    assert sorted(p.name for p in outdir.iterdir()) == ["identity.txt"]
    # a plain branch (no tracking commit at the tip)
    git(repo, "checkout", "-q", "HEAD~1")
    code = main(["check", str(FROB), "--b4-review", "--format", "text", "--from", ME])
    _, err = capsys.readouterr()
    assert code == 2 and "not a b4 review branch" in err
    # a series that is not the one in the branch
    git(repo, "checkout", "-q", "b4/review/frob-v2")
    other = tmp_path / "other.mbox"
    other.write_bytes(FROB.read_bytes().replace(b".1795644580.git.ada@", b".1.git.ada@"))
    code = main(["check", str(other), "--b4-review", "--format", "text", "--from", ME])
    _, err = capsys.readouterr()
    assert code == 2 and "none of the reviewed patches" in err


def test_b4_review_summary_note(review_branch: tuple[Path, dict[str, Any]],
                                capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = review_branch
    tip = git(repo, "rev-parse", "HEAD").strip()
    code = main(["check", str(FROB), "--b4-review", "--summary", "--format", "json",
                 "--from", ME])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert json.loads(out)["patches"]
    note = (repo / ".git" / "b4-review" / tip / "series.txt").read_text()
    assert note.startswith("reviewbot reviewed 3 of the 3 patches of this series (v2)")
    assert "  1/3 frob: reject negative values (1 comment)\n" in note


def test_b4_review_without_findings_writes_nothing(
        review_branch: tuple[Path, dict[str, Any]],
        capsys: pytest.CaptureFixture[str]) -> None:
    repo, _ = review_branch
    code = main(["check", str(FROB), "--b4-review", "--format", "text", "--from", ME,
                 "--ignore", "STY001"])
    _, err = capsys.readouterr()
    assert code == 0 and "no comments to hand to 'b4 review'" in err
    assert not (repo / ".git" / "b4-review").exists()
