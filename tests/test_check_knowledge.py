"""``check`` with a knowledge index: which index (``--tree``, the current directory, the
config file; a tree without git too), the one line that says so (text header, JSON
field, stderr on a terminal; never in the formats tools parse), the index opened once
per process, and the facts a series adds or removes over the index's."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from reviewbot.analysis import SeriesAnalysis
from reviewbot.cmap.parser import CParser
from reviewbot.knowledge.source import KnowledgeSource, find_knowledge
from reviewbot.pipeline import parse_messages
from reviewbot.series.build import build_series
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


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return indexed_tree(tmp_path / "linux", {"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})


def _mbox(tmp_path: Path, *diffs: str) -> Path:
    path = tmp_path / "series.mbox"
    mails = [patch_email(d, i, len(diffs)) for i, d in enumerate(diffs, start=1)]
    path.write_bytes(b"".join(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + m.data + b"\n"
                             for m in mails))
    return path


def test_the_index_is_named_in_text_and_json_only(tree: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]
                                                   ) -> None:
    mbox = str(_mbox(tmp_path, ADDS_SYNC))
    code, out, err = run_cli(capsys, "check", "--tree", str(tree), mbox)
    assert code in (0, 1) and err == ""  # stderr is not a terminal: no line there
    first = out.splitlines()[0]
    assert first.startswith(f"using the index of {tree.resolve()}, updated ") and \
        first.endswith(" ago"), out
    code, out, _ = run_cli(capsys, "check", "--tree", str(tree), mbox, "--format", "json")
    assert code in (0, 1) and json.loads(out)["index"].startswith(f"index of {tree.resolve()}")
    for fmt in ("checkpatch", "b4-json"):
        code, out, err = run_cli(capsys, "check", "--tree", str(tree), mbox, "--format", fmt)
        assert code in (0, 1) and "index" not in out and err == ""
    # without an index: no line, no field
    _code, out, _ = run_cli(capsys, "check", "--no-tree", mbox)
    assert not out.startswith("using")
    _code, out, _ = run_cli(capsys, "check", "--no-tree", mbox, "--format", "json")
    assert "index" not in json.loads(out)


def test_the_index_is_named_on_a_terminal(tree: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    mbox = str(_mbox(tmp_path, ADDS_SYNC))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run_cli(capsys, "check", "--tree", str(tree), mbox, "--format", "json")
    assert code in (0, 1)
    named = [ln for ln in err.splitlines() if "using the index of" in ln]
    assert len(named) == 1
    assert named[0].startswith(f"reviewbot: using the index of {tree.resolve()}")
    code, out, err = run_cli(capsys, "check", "--tree", str(tree), mbox, "--format",
                             "checkpatch")
    assert "using the index" not in err  # tools read this format: not even on a terminal
    code, out, err = run_cli(capsys, "check", "--tree", str(tree), mbox, "-q")
    assert "using the index" not in err and out.startswith("using the index")


def test_which_tree(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]}
    other = write_tree(tmp_path / "other")  # a kernel tree without an index
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    by_option = find_knowledge(str(tree), False, nowhere, None, env)
    assert by_option is not None and by_option.tree == tree
    assert find_knowledge(str(tree), True, nowhere, None, env) is None  # --no-tree
    assert find_knowledge(str(other), False, tree, None, env) is None  # --tree wins
    in_cwd = find_knowledge(None, False, tree / "drivers" / "dev", other, env)
    assert in_cwd is not None and in_cwd.describe().startswith(f"index of {tree.resolve()}")
    from_config = find_knowledge(None, False, other, tree, env)  # cwd has no index
    assert from_config is not None and from_config.tree == tree
    assert find_knowledge(None, False, nowhere, None, env) is None


def test_a_tree_without_git_gives_its_index(tree: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert not (tree / ".git").exists()
    code, out, err = run_cli(capsys, "check", "--tree", str(tree),
                             str(_mbox(tmp_path, ADDS_SYNC)))
    assert code in (0, 1) and out.startswith("using the index"), (out, err)
    code, out, err = run_cli(capsys, "check", "--tree", str(tmp_path / "nowhere"),
                             str(_mbox(tmp_path, ADDS_SYNC)))
    assert code == 2 and "no such directory" in err


def test_the_index_opens_once_per_process(tree: Path) -> None:
    source = KnowledgeSource.find(tree)
    assert source is not None
    first = source.get()
    assert first is not None and source.get() is first
    copy = pickle.loads(pickle.dumps(source))  # as a worker would get it: no connection
    assert copy._open is None and copy.describe() == source.describe()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a forked worker opens its own connection
        ok = source.get() is not first and source.get() is not None and \
            source.get().may_sleep("dev_sync") is not None  # type: ignore[union-attr]
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"
    assert first.may_sleep("dev_sync") is not None  # the parent's still works


def _view(tree: Path | None, *diffs: str):  # type: ignore[no-untyped-def]
    mails = parse_messages([patch_email(d, i, len(diffs)) for i, d in
                            enumerate(diffs, start=1)])
    (series,) = build_series(mails)
    source = KnowledgeSource.find(tree) if tree is not None else None
    analysis = SeriesAnalysis(series, CParser(), knowledge=source)
    return analysis.patch(len(diffs) - 1).view()


NEW_HELPER = """\
diff --git a/drivers/dev/extra.c b/drivers/dev/extra.c
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/drivers/dev/extra.c
@@ -0,0 +1,15 @@
+static void dev_settle(struct dev *d)
+{
+	msleep(10);
+}
+
+void dev_reset(struct dev *d)
+{
+	dev_settle(d);
+}
+
+void dev_reset_atomic(struct dev *d)
+{
+	if (!in_atomic())
+		msleep(1);
+}
"""

DROPS_WAIT = """\
diff --git a/drivers/dev/core.c b/drivers/dev/core.c
index 1111111..2222222 100644
--- a/drivers/dev/core.c
+++ b/drivers/dev/core.c
@@ -3,7 +3,7 @@

 static void dev_wait(struct dev *d)
 {
-	wait_for_completion(&d->done);
+	complete(&d->done);
 }

 int dev_sync(struct dev *d)
"""


def test_facts_the_patch_adds_override_the_index(tree: Path) -> None:
    view = _view(tree, NEW_HELPER)
    settle = view.may_sleep("dev_settle", "drivers/dev/extra.c")
    assert settle is not None and settle.describe() == (
        "dev_settle() may sleep: it calls msleep() (drivers/dev/extra.c:3)")
    reset = view.may_sleep("dev_reset")
    assert reset is not None and reset.describe() == (
        "dev_reset() may sleep: it calls dev_settle() -> msleep() (drivers/dev/extra.c:3)")
    assert view.may_sleep("dev_reset_atomic") is None  # under a context test
    sync = view.may_sleep("dev_sync")  # from the index
    assert sync is not None and sync.describe() == (
        "dev_sync() may sleep: it calls dev_wait() -> wait_for_completion() "
        "(drivers/dev/core.c:6)")
    assert view.may_sleep("dev_poke") is None


def test_facts_the_patch_removes_override_the_index(tree: Path) -> None:
    view = _view(tree, DROPS_WAIT)
    assert view.may_sleep("dev_wait") is None
    assert view.index is not None and view.index.may_sleep("dev_wait") is not None


def test_earlier_patches_count_and_no_index_still_knows_the_patch(tree: Path) -> None:
    later = _view(tree, NEW_HELPER, ADDS_SYNC)  # patch 2 sees patch 1's functions
    assert later.may_sleep("dev_reset") is not None
    alone = _view(None, NEW_HELPER)
    assert alone.index is None
    assert alone.may_sleep("dev_reset") is not None  # the patch's own evidence
    assert alone.may_sleep("dev_sync") is None  # a tree fact: unknown without the index
    assert alone.may_sleep("mutex_lock") is not None  # a primitive of sleeping.toml
