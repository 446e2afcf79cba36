"""``eval DIR`` and ``watch`` find and use a tree's index as ``check`` does (``--tree``,
the current directory's kernel tree, ``tree`` in the config file; ``--no-tree`` none):
one implementation (``cli._knowledge`` over ``knowledge.source.find_knowledge``).

The patch calls ``dev_sync()`` under a spinlock; only the test tree's index knows that
``dev_sync()`` waits for a completion, so CON003's finding is there only with the
index."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import mailgen
from tests.conftest import run_cli
from tests.knowledge_tree import indexed_tree, patch_email, write_tree

ADDS_SYNC = """\
diff --git a/drivers/dev/core.c b/drivers/dev/core.c
index 1111111..2222222 100644
--- a/drivers/dev/core.c
+++ b/drivers/dev/core.c
@@ -46,4 +46,5 @@ void dev_update(struct dev *d)
 	spin_lock(&d->lock);
 	d->state = 2;
+	dev_sync(d);
 	spin_unlock(&d->lock);
 }
"""
SLEEPS = "dev_sync() may sleep"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return indexed_tree(tmp_path / "linux", {"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})


@pytest.fixture()
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current directory that is no kernel tree."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "sync.patch").write_bytes(patch_email(ADDS_SYNC).data)
    (corpus / "manifest.json").write_text(json.dumps(
        [{"id": "N01", "patch_file": "sync.patch", "category": "negative"}]))
    return corpus


def _eval(capsys: pytest.CaptureFixture[str], corpus: Path, *options: str
          ) -> dict[str, object]:
    code, out, err = run_cli(capsys, "eval", str(corpus), "--format", "json",
                             "--select", "CON003", "--preview", *options)
    assert code == 0, err
    data: dict[str, object] = json.loads(out)
    return data


def _rules(data: dict[str, object]) -> list[str]:
    unmatched = data["unmatched"]
    assert isinstance(unmatched, list)
    return [f["rule"] for f in unmatched if SLEEPS in f["message"]]


def test_eval_dir_uses_the_index_as_check_does(tree: Path, tmp_path: Path, elsewhere: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus(tmp_path)
    alone = _eval(capsys, corpus)
    assert _rules(alone) == [] and "index" not in alone
    by_option = _eval(capsys, corpus, "--tree", str(tree))
    assert _rules(by_option) == ["CON003"]
    assert str(by_option["index"]).startswith(f"index of {tree.resolve()}")
    code, out, _ = run_cli(capsys, "eval", str(corpus), "--tree", str(tree), "--select",
                           "CON003", "--preview")
    assert code == 0 and out.splitlines()[1].startswith(f"with the index of {tree.resolve()}")
    monkeypatch.chdir(tree / "drivers")  # the current directory's tree
    assert _rules(_eval(capsys, corpus)) == ["CON003"]
    assert _rules(_eval(capsys, corpus, "--no-tree")) == []
    monkeypatch.chdir(elsewhere)  # the config file's tree
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "reviewbot" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'tree = "{tree}"\n')
    assert _rules(_eval(capsys, corpus)) == ["CON003"]
    # a --tree without an index is an error here: eval uses nothing else of a tree
    code, _, err = run_cli(capsys, "eval", str(corpus), "--tree",
                           str(write_tree(tmp_path / "other")))
    assert code == 2 and "no index of this tree" in err and len(err.splitlines()) == 1


def _watch(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, *options: str
           ) -> tuple[str, list[str]]:
    """Watch a Maildir holding the patch once; (stderr, the drafts' texts)."""
    md = mailgen.make_maildir(tmp_path / f"md-{name}")
    (md / "new" / "1.eml").write_bytes(patch_email(ADDS_SYNC).data)
    policy = tmp_path / "policy.toml"
    policy.write_text('[rules]\nselect = ["CON003"]\npreview = true\n')
    outbox = tmp_path / f"out-{name}"
    code, out, err = run_cli(capsys, "watch", "--maildir", str(md), "--outbox", str(outbox),
                             "--state", str(tmp_path / f"{name}.sqlite"), "--policy",
                             str(policy), "--once", "--grace", "0", *options)
    assert code == 0 and out == "", err
    # the reply wraps its comments at 72 columns: words compared, not lines
    return err, [" ".join(p.read_text().split()) for p in sorted((outbox / "new").iterdir())]


def test_watch_uses_the_index_as_check_does(tree: Path, tmp_path: Path, elsewhere: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    err, drafts = _watch(capsys, tmp_path, "alone")
    assert not any(SLEEPS in d for d in drafts) and "index=" not in err
    err, drafts = _watch(capsys, tmp_path, "option", "--tree", str(tree))
    (draft,) = drafts
    assert SLEEPS in draft and "rule CON003" in draft
    start = err.splitlines()[0]
    assert "event=start" in start and f"index of {tree.resolve()}" in start
    monkeypatch.chdir(tree)
    _, drafts = _watch(capsys, tmp_path, "cwd")
    assert len(drafts) == 1 and SLEEPS in drafts[0]
    _, drafts = _watch(capsys, tmp_path, "none", "--no-tree")
    assert not any(SLEEPS in d for d in drafts)
    code, _, err = run_cli(capsys, "watch", "--maildir", str(tmp_path / "md-alone"),
                           "--outbox", str(tmp_path / "o"), "--once", "--tree",
                           str(write_tree(tmp_path / "other")))
    assert code == 2 and "no index of this tree" in err
