"""Kernel-tree mode on real git repositories built from fixtures/tree."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.cmap.build import map_file
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.whole import ParseCache
from reviewbot.config import UserConfig, load_config
from reviewbot.errors import ConfigError
from reviewbot.fetch.local import read_source
from reviewbot.pipeline import parse_messages
from reviewbot.series.build import build_series
from reviewbot.tree.apply import apply_series
from reviewbot.tree.git import GitTree, TreeError
from reviewbot.tree.locate import find_tree
from tests.kernel_repo import SUBJECTS, add_series, commit, edit, git, make_tree, series_mbox


@pytest.fixture(autouse=True)
def _private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary trees go to a directory of their own, so tests can see they are gone."""
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    return tmpdir


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI; text output unless the test names a format (reply is the default
    off a terminal)."""
    if "--format" not in argv:
        argv = (*argv, "--format", "text")
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def review_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code, out, err = run(capsys, "check", *argv, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)


def snapshot(repo: Path) -> dict[str, object]:
    """Everything of the user's that tree mode must leave alone."""
    objects = sorted(str(p.relative_to(repo)) for p in (repo / ".git" / "objects").rglob("*"))
    return {
        "status": git(repo, "status", "--porcelain=v2", "--untracked-files=all"),
        "index": hashlib.sha1((repo / ".git" / "index").read_bytes()).hexdigest(),
        "head": git(repo, "rev-parse", "HEAD"),
        "refs": git(repo, "for-each-ref"),
        "objects": objects,
        "files": {str(p.relative_to(repo)): p.read_bytes() for p in repo.rglob("*")
                  if p.is_file() and ".git" not in p.parts},
    }


# --- which tree -------------------------------------------------------------------

def test_find_tree_cwd_config_and_options(tmp_path: Path) -> None:
    repo = make_tree(tmp_path)
    none = UserConfig(tmp_path / "none.toml")
    assert find_tree(None, False, repo / "mm", none) == GitTree.open(repo)
    assert find_tree(None, True, repo, none) is None
    plain = tmp_path / "plain"
    plain.mkdir()
    git(plain, "init", "-q")
    assert find_tree(None, False, plain, none) is None  # no MAINTAINERS/Kbuild
    conf = UserConfig(tmp_path / "c.toml", tree=repo)
    assert find_tree(None, False, plain, conf) == GitTree.open(repo)
    assert find_tree(str(repo), False, plain, none) == GitTree.open(repo)
    with pytest.raises(TreeError, match="not a git repository"):
        find_tree(str(tmp_path), False, plain, none)
    bad = UserConfig(tmp_path / "c.toml", tree=tmp_path / "nowhere")
    with pytest.raises(TreeError, match=r"c\.toml"):
        find_tree(None, False, plain, bad)
    (repo / "MAINTAINERS").unlink()
    assert find_tree(None, False, repo, none) == GitTree.open(repo)  # Kbuild


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert load_config(path).tree is None
    path.write_text('tree = "~/linux"\n')
    conf = load_config(path)
    assert conf.tree == Path("~/linux").expanduser() and conf.path == path
    for text, message in (("tree = 3\n", "tree: expected a path"),
                          ('tree = ""\n', "tree: expected a path"),
                          ("tree = \n", "not valid TOML"),
                          ('tree = "x"\nidentity = "y"\n', "identity: unknown key")):
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_config(path)


def test_config_tree_used_by_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_tree(tmp_path)
    mbox = series_mbox(repo, tmp_path)
    conf = tmp_path / "xdg" / "reviewbot"
    conf.mkdir(parents=True)
    (conf / "config.toml").write_text(f"tree = {json.dumps(str(repo))}\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    _, data = review_json(capsys, str(mbox))
    assert data["patches"][0]["full_files"] == ["mm/frob.c"]  # type: ignore[index]
    _, data = review_json(capsys, str(mbox), "--no-tree")
    assert data["patches"][0]["full_files"] == []  # type: ignore[index]


# --- applying ------------------------------------------------------------------------

def test_series_applied_on_base_commit_without_touching_the_repo(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], _private_tmp: Path) -> None:
    repo = make_tree(tmp_path)
    mbox = series_mbox(repo, tmp_path)
    base = git(repo, "rev-parse", "HEAD").strip()
    # the user's tree has moved on, has staged and unstaged changes
    commit(repo, "frob: a comment at the top", ("mm/frob.c", "#include <linux/frob.h>\n",
                                                "/* moved on */\n#include <linux/frob.h>\n"))
    edit(repo, "drivers/misc/widget.c", "gone", "removed")
    git(repo, "add", "drivers/misc/widget.c")
    edit(repo, "mm/frob.c", "A small page pool", "A tiny page pool")
    before = snapshot(repo)
    code, data = review_json(capsys, str(mbox), "--tree", str(repo))
    assert snapshot(repo) == before
    assert list(_private_tmp.iterdir()) == []  # the temporary index is gone
    assert code == 1
    notes = data["series"][0]["notes"]  # type: ignore[index]
    assert notes == [f"kernel tree {repo}: 3 of 3 patches applied on {base[:12]} "
                     "(base-commit)"]
    patches = data["patches"]
    assert isinstance(patches, list)
    assert [p["full_files"] for p in patches] == [["mm/frob.c"], ["drivers/misc/widget.c"],
                                                  ["mm/frob.c"]]
    found = [(p["index"], f["line"], f["function"]) for p in patches for f in p["findings"]]
    assert found == [(1, 65, "frob_take"), (3, 95, "frob_put")]


def test_images_equal_the_authors_files(tmp_path: Path) -> None:
    repo = make_tree(tmp_path)
    mbox = series_mbox(repo, tmp_path)
    author = tmp_path / "author-clone"
    series = build_series(parse_messages(read_source(str(mbox))))[0]
    applied = apply_series(GitTree.open(repo), series)
    for patch in series.patches:
        for fdiff in patch.files:
            rev = f"HEAD~{3 - patch.index}"
            assert applied.full_text(patch, fdiff) == git(author, "show", f"{rev}:{fdiff.path}")
            image = applied.image(patch, fdiff)
            assert image is not None and image.source == "applied"


def test_applies_on_head_at_an_offset_keeping_patch_line_numbers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_tree(tmp_path)
    mbox = series_mbox(repo, tmp_path, base=False)
    commit(repo, "frob: longer header", ("mm/frob.c", "#include <linux/frob.h>\n",
                                         "/*\n * one\n * two\n */\n#include <linux/frob.h>\n"))
    _, tree_mode = review_json(capsys, str(mbox), "--tree", str(repo))
    _, patch_only = review_json(capsys, str(mbox), "--no-tree")
    assert "(HEAD)" in tree_mode["series"][0]["notes"][0]  # type: ignore[index]
    p_tree, p_only = tree_mode["patches"], patch_only["patches"]
    assert isinstance(p_tree, list) and isinstance(p_only, list)
    assert [p["full_files"] for p in p_tree] == [["mm/frob.c"], ["drivers/misc/widget.c"],
                                                 ["mm/frob.c"]]
    lines = [[(f["line"], f["text"]) for f in p["findings"]] for p in p_tree]
    assert lines == [[(f["line"], f["text"]) for f in p["findings"]] for p in p_only]
    assert lines[0] == [(65, "\tif (!page) {")]


def test_patch_that_does_not_apply_falls_back(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_tree(tmp_path)
    mbox = series_mbox(repo, tmp_path, base=False)
    commit(repo, "frob: reword", ("mm/frob.c", "pool over its limit", "pool is too full"))
    code, out, err = run(capsys, "check", str(mbox), "--tree", str(repo))
    assert code == 1 and err == ""
    assert ("note: patch 3/3 (frob: warn when the pool is over its limit) does not apply on "
            in out)
    assert "error: patch failed: mm/frob.c:" in out
    _, data = review_json(capsys, str(mbox), "--tree", str(repo))
    patches = data["patches"]
    assert isinstance(patches, list)
    assert [p["full_files"] for p in patches] == [["mm/frob.c"], ["drivers/misc/widget.c"], []]
    assert [f["line"] for f in patches[2]["findings"]] == [95]  # still reviewed


def test_base_commit_missing_applies_on_head(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_tree(tmp_path)
    mbox = series_mbox(repo, tmp_path)
    text = mbox.read_text()
    base = git(repo, "rev-parse", "HEAD").strip()
    mbox.write_text(text.replace(f"base-commit: {base}", "base-commit: " + "1" * 40))
    _, data = review_json(capsys, str(mbox), "--tree", str(repo))
    notes = data["series"][0]["notes"]  # type: ignore[index]
    assert notes[1] == f"base-commit {'1' * 12} is not in the tree; applying on HEAD " \
                       f"({base[:12]})"


def test_parse_cache_parses_each_blob_once(tmp_path: Path) -> None:
    text = (make_tree(tmp_path) / "mm" / "frob.c").read_text()
    cache = ParseCache(CParser())
    first = cache.get(text)
    assert cache.get(text) is first and cache.parses == 1
    cache.get(text + "\n/* more */\n")
    assert cache.parses == 2
    assert first.blob == git(tmp_path / "linux", "hash-object", "mm/frob.c").strip()


# --- what whole files give the rules --------------------------------------------------

def _maps(tmp_path: Path) -> tuple[object, object]:
    repo = make_tree(tmp_path)
    mbox = series_mbox(repo, tmp_path)
    series = build_series(parse_messages(read_source(str(mbox))))[0]
    applied = apply_series(GitTree.open(repo), series)
    patch = series.patches[0]
    fdiff = patch.files[0]
    parser = CParser()
    return (map_file(fdiff, parser, applied.full_text(patch, fdiff)),
            map_file(fdiff, parser))


def test_whole_file_map_sees_functions_locks_and_declarations(tmp_path: Path) -> None:
    from reviewbot.cmap.filemap import FileMap

    full, hunks = _maps(tmp_path)
    assert isinstance(full, FileMap) and isinstance(hunks, FileMap)
    line = 65  # "if (!page) {" deep inside frob_take
    assert full.full_file and not hunks.full_file
    fn = full.function_at(line)
    assert fn is not None and (fn.name, fn.start, fn.end, fn.complete) == (
        "frob_take", 31, 74, True)
    assert [r.lock for r in full.locks_at(line)] == ["pool->lock"]
    assert hunks.locks_at(line) == ()  # the hunk shows neither lock nor unlock
    page = full.decl("page", line)
    assert page is not None and (page.type, page.pointer, page.line) == ("struct page", 1, 33)
    assert hunks.decl("page", line) is None
    glob = full.decl("frob_failed", line)
    assert glob is not None and glob.type == "unsigned long" and glob.line == 13
    assert full.decl("frob_failed", 30) == glob  # at file scope, after the declaration
    assert full.decl("frob_failed", 5) is None  # before it
    # other functions of the file, e.g. the write side of a READ_ONCE()
    names = [f.name for f in full.functions]
    assert names == ["frob_pool_init", "frob_over_limit", "frob_take", "frob_set_limit",
                     "frob_limit", "frob_put"]
    # functions the patch does not touch: their locks and declarations, when asked
    put = next(f for f in full.functions if f.name == "frob_put")
    assert put != full.function_at(line)
    inside = next(n for n in range(put.start, put.end + 1) if "pool->nr_free++" in
                  full.text.get(n, ""))
    assert [r.lock for r in full.locks_at(inside)] == ["pool->lock"]
    assert [r.lock for r in full.locks] == ["pool->lock"]  # frob_take's, computed eagerly
    param = full.decl("page", inside)
    assert param is not None and param.line == put.start and param.type == "struct page"
    assert hunks.locks_at(inside) == ()
    writer = next(f for f in full.functions if f.name == "frob_set_limit")
    assert "frob_set_limit" not in [f.name for f in hunks.functions]
    assert full.text[writer.start] == "void frob_set_limit(struct frob_pool *pool, " \
                                      "unsigned long limit)"
    assert "WRITE_ONCE(pool->limit" in full.text[writer.start + 2]
    readers = [full.function_at(n) for n, t in sorted(full.text.items())
               if "READ_ONCE(pool->limit" in t]
    assert [f.name for f in readers if f is not None] == ["frob_over_limit", "frob_limit"]


# --- git ranges ------------------------------------------------------------------------

def test_git_range_reviews_commits_as_a_series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_tree(tmp_path)
    add_series(repo)
    monkeypatch.chdir(repo / "mm")
    code, out, _ = run(capsys, "check", "HEAD~3..")
    assert code == 1
    assert f"[PATCH 1/3] {SUBJECTS[0]}\n" in out
    assert "mm/frob.c:65: STY001 warning: braces {} are not necessary for a " \
           "single-statement if block (in frob_take())" in out
    assert "nothing to apply" in out  # the tree has every post-image
    for argv in (["--git", "HEAD~3..HEAD"], ["--git", "HEAD~3"], ["HEAD~3..HEAD"]):
        _, data = review_json(capsys, *argv)
        patches = data["patches"]
        assert isinstance(patches, list)
        assert [(p["index"], p["total"]) for p in patches] == [(1, 3), (2, 3), (3, 3)]
        assert [p["full_files"] for p in patches] == [["mm/frob.c"],
                                                      ["drivers/misc/widget.c"], ["mm/frob.c"]]
    _, data = review_json(capsys, "--git", "HEAD~1..", "--no-tree")
    patches = data["patches"]
    assert isinstance(patches, list)
    assert [(p["index"], p["total"], p["full_files"]) for p in patches] == [(1, 1, [])]


def test_git_range_from_another_directory_with_tree(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_tree(tmp_path)
    add_series(repo)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--git", "HEAD~2..HEAD~1", "--tree", str(repo))
    assert code == 0 and "0 findings in 1 patch" in out and err == ""


@pytest.mark.parametrize(("argv", "message"), [
    (["--git", "HEAD..HEAD"], "no commits in the range"),
    (["--git", "nosuch..HEAD"], "'nosuch' is not a commit"),
    (["--git", "HEAD~1...HEAD"], "symmetric ranges"),
    (["--git=--upload-pack=x..HEAD"], "is not a commit"),
    (["x.mbox", "--git", "HEAD~1.."], "either SOURCE or --git"),
])
def test_git_range_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str], argv: list[str],
                          message: str) -> None:
    repo = make_tree(tmp_path)
    add_series(repo)
    monkeypatch.chdir(repo)
    code, out, err = run(capsys, "check", *argv)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_git_range_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, _, err = run(capsys, "check", "--git", "HEAD~1..")
    assert code == 2 and "not inside a git work tree" in err


# --- paths from a patch are never trusted ----------------------------------------------

def _evil(diff: str) -> str:
    return ("From: Mallory <mallory@example.org>\nSubject: [PATCH] frob: tweak\n"
            "Message-ID: <evil@example.org>\n\nTweak.\n---\n" + diff)


BAD_DIFFS = {
    "dotdot": ("diff --git a/../outside.c b/../outside.c\n--- a/../outside.c\n"
               "+++ b/../outside.c\n@@ -1 +1,2 @@\n int x;\n+int y;\n",
               "path 'a/../outside.c' leaves the tree"),
    "absolute": ("--- /etc/frob.c\n+++ /etc/frob.c\n@@ -1 +1,2 @@\n int x;\n+int y;\n",
                 "path '/etc/frob.c' is absolute"),
    "through-symlink": ("diff --git a/drivers/escape/frob.c b/drivers/escape/frob.c\n"
                        "--- a/drivers/escape/frob.c\n+++ b/drivers/escape/frob.c\n"
                        "@@ -1 +1,2 @@\n int x;\n+int y;\n",
                        "goes through the symlink 'drivers/escape' -> '/etc', outside the "
                        "tree"),
    "new-symlink": ("diff --git a/mm/link.c b/mm/link.c\nnew file mode 120000\n"
                    "index 0000000..1234567\n--- /dev/null\n+++ b/mm/link.c\n@@ -0,0 +1 @@\n"
                    "+../../outside.c\n\\ No newline at end of file\n"
                    "diff --git a/mm/frob.c b/mm/frob.c\n--- a/mm/frob.c\n+++ b/mm/frob.c\n"
                    "@@ -1 +1,2 @@\n // SPDX-License-Identifier: GPL-2.0\n+int y;\n",
                    "'mm/link.c' becomes a symlink to '../../outside.c', outside the tree"),
    "git-dir": ("diff --git a/.git/hooks/x.c b/.git/hooks/x.c\n--- a/.git/hooks/x.c\n"
                "+++ b/.git/hooks/x.c\n@@ -1 +1,2 @@\n int x;\n+int y;\n",
                "points into .git"),
}


@pytest.mark.parametrize("case", sorted(BAD_DIFFS))
def test_unsafe_paths_refused_before_anything_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], _private_tmp: Path,
        case: str) -> None:
    repo = make_tree(tmp_path)
    (repo / "drivers" / "escape").symlink_to("/etc")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a symlink out of the tree")
    diff, message = BAD_DIFFS[case]
    patch = tmp_path / "evil.patch"
    patch.write_text(_evil(diff))
    before = snapshot(repo)
    code, out, err = run(capsys, "check", str(patch), "--tree", str(repo))
    assert code == 2 and out == ""
    assert err.startswith("reviewbot: error: patch 1/1 (frob: tweak): ") and message in err
    assert "refusing to apply it (use --no-tree to review the patch alone)" in err
    assert err.count("\n") == 1
    assert snapshot(repo) == before and list(_private_tmp.iterdir()) == []
    code, out, err = run(capsys, "check", str(patch), "--no-tree")
    assert code in (0, 1) and err == ""  # reviewing the patch alone writes nothing


def test_symlink_inside_the_tree_is_left_to_git(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_tree(tmp_path)
    (repo / "mm" / "alias").symlink_to("../drivers")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "an in-tree symlink")
    patch = tmp_path / "p.patch"
    patch.write_text(_evil("diff --git a/mm/alias/misc/widget.c b/mm/alias/misc/widget.c\n"
                           "--- a/mm/alias/misc/widget.c\n+++ b/mm/alias/misc/widget.c\n"
                           "@@ -1 +1,2 @@\n // SPDX-License-Identifier: GPL-2.0\n+int y;\n"))
    code, out, err = run(capsys, "check", str(patch), "--tree", str(repo))
    assert code == 0 and err == ""
    assert "note: patch 1/1 (frob: tweak) does not apply on" in out


# --- line numbers of a patch applied at an offset ---------------------------------------

def _fdiff(text: str) -> object:
    from reviewbot.diff.parse import parse_diff

    return parse_diff(text)[0]


def test_locate_identity_offsets_and_collisions() -> None:
    from reviewbot.cmap.linemap import locate
    from reviewbot.diff.model import FileDiff

    diff = ("--- a/f.c\n+++ b/f.c\n@@ -2,2 +2,3 @@\n b\n+B\n c\n"
            "@@ -10,2 +11,3 @@\n j\n+J\n k\n")
    fd = _fdiff(diff)
    assert isinstance(fd, FileDiff)
    post = ["a", "b", "B", "c", "d", "e", "f", "g", "h", "i", "j", "J", "k", "l"]
    lm = locate(fd, post)
    assert lm is not None and lm.identity and lm.rows()[12] == 13
    # the tree has two more lines at the top, and three fewer between the hunks
    shifted = ["0", "1", "a", "b", "B", "c", "d", "j", "J", "k", "l"]
    lm = locate(fd, shifted)
    assert lm is not None and not lm.identity
    rows = lm.rows()
    assert [rows[i] for i in (3, 4, 5, 7, 8, 9)] == [2, 3, 4, 11, 12, 13]  # hunks: exact
    numbers = [n for n in rows if n is not None]
    assert numbers == sorted(set(numbers)) and min(numbers) >= 1
    assert rows[0] is None  # "0" would be line 0
    assert locate(fd, ["nothing", "like", "it"]) is None


def test_incremental_parse_equals_a_fresh_parse(tmp_path: Path) -> None:
    """Patch 3 changes mm/frob.c again: its post-image is parsed incrementally from
    patch 1's tree, and must give what a fresh parse gives."""
    from reviewbot.cmap.whole import WholeFile

    repo = make_tree(tmp_path)
    mbox = series_mbox(repo, tmp_path)
    series = build_series(parse_messages(read_source(str(mbox))))[0]
    applied = apply_series(GitTree.open(repo), series)
    parser = CParser()
    cache = ParseCache(parser)
    texts = [applied.full_text(p, f) for p in (series.patches[0], series.patches[2])
             for f in p.files]
    assert all(texts) and texts[0] != texts[1]
    first = cache.get(texts[0] or "", path="mm/frob.c")
    again = cache.get(texts[1] or "", path="mm/frob.c")
    fresh = WholeFile(texts[1] or "", parser)
    assert str(again.tree.root_node) == str(fresh.tree.root_node)
    assert again.functions == fresh.functions and again.globals == fresh.globals
    assert str(first.tree.root_node) == str(WholeFile(texts[0] or "", parser).tree.root_node)
    assert cache.parses == 2


# --- lock regions over whole functions ---------------------------------------------------

def _regions(body: str) -> list[tuple[str, str, int, int, bool]]:
    from reviewbot.cmap.locks import lock_regions

    lines = list(enumerate(body.strip("\n").split("\n"), start=1))
    return [(r.lock, r.call, r.start, r.end, r.start_known)
            for r in lock_regions(lines, "f", True)]


def test_lock_taken_by_a_helper_starts_there() -> None:
    """mm/vmalloc.c alloc_vmap_area(): preload_this_cpu_lock() takes the lock that
    spin_unlock() releases; the lines above it do not hold it."""
    body = """
static struct vmap_area *alloc_vmap_area(unsigned long size)
{
	if (unlikely(!size))
		return ERR_PTR(-EINVAL);
	spin_lock_init(&free_vmap_area_lock);
	lockdep_assert_not_held(&free_vmap_area_lock);
	preload_this_cpu_lock(&free_vmap_area_lock, gfp_mask, node);
	addr = __alloc_vmap_area(&free_vmap_area_root, size);
	spin_unlock(&free_vmap_area_lock);
	return va;
}
"""
    assert _regions(body) == [("free_vmap_area_lock", "preload_this_cpu_lock", 7, 9, True)]


def test_second_unlock_on_another_path_belongs_to_the_same_lock() -> None:
    body = """
static int f(struct zone *zone)
{
	int ret = 0;

	spin_lock(&zone->lock);
	if (!zone->free) {
		spin_unlock(&zone->lock);
		return -ENOMEM;
	}
	zone->free--;
	spin_unlock(&zone->lock);
	return ret;
}
"""
    assert _regions(body) == [("zone->lock", "spin_lock", 5, 7, True),
                              ("zone->lock", "spin_lock", 5, 11, True)]


def test_unlock_of_a_lock_the_caller_holds() -> None:
    body = """
static void g(struct zone *zone)
	__releases(&zone->lock)
{
	lockdep_assert_held(&zone->lock);
	zone->free++;
	spin_unlock(&zone->lock);
}
"""
    assert _regions(body) == [("zone->lock", "spin_lock", 1, 6, False)]


def test_git_range_with_an_empty_commit_is_numbered_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_tree(tmp_path)
    add_series(repo)
    git(repo, "commit", "-q", "--allow-empty", "-m", "an empty commit")
    commit(repo, "widget: one more line", ("drivers/misc/widget.c", "gone", "removed"))
    monkeypatch.chdir(repo)
    _, data = review_json(capsys, "HEAD~5..")
    patches = data["patches"]
    assert isinstance(patches, list)
    assert [(p["index"], p["total"], p["skipped"]) for p in patches] == [
        (1, 4, None), (2, 4, None), (3, 4, None), (4, 4, None)]
    assert data["series"][0]["missing"] == []  # type: ignore[index]


def test_colour_on_a_terminal_only(tmp_path: Path) -> None:
    """Run as a user would, on a pseudo-terminal and through a pipe."""
    import os
    import pty
    import subprocess
    import sys

    repo = make_tree(tmp_path)
    add_series(repo)
    exe = str(Path(sys.executable).parent / "reviewbot")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GIT_DIR")}
    master, slave = pty.openpty()
    proc = subprocess.run([exe, "check", "HEAD~3.."], cwd=repo, env=env, stdout=slave,
                          stderr=subprocess.PIPE, timeout=60, check=False)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    shown = b"".join(chunks).decode()
    assert proc.returncode == 1
    assert "\033[1;33mwarning\033[0m: braces {} are not necessary" in shown
    piped = subprocess.run([exe, "check", "HEAD~3..", "--format", "text"], cwd=repo, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert piped.returncode == 1 and "\033[" not in piped.stdout
    assert "STY001 warning: braces {} are not necessary" in piped.stdout


@pytest.mark.parametrize("chunk", [4, 1 << 16])
def test_common_prefix_and_suffix(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The edit handed to tree-sitter for an incremental parse: the changed span."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    import reviewbot.cmap.whole as whole

    monkeypatch.setattr(whole, "_CHUNK", chunk)

    def naive(a: bytes, b: bytes) -> int:
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        return n

    @settings(max_examples=300, deadline=None)
    @given(st.binary(max_size=80), st.binary(max_size=8), st.binary(max_size=8),
           st.binary(max_size=80))
    def check(head: bytes, x: bytes, y: bytes, tail: bytes) -> None:
        a, b = head + x + tail, head + y + tail
        start = whole._common_prefix(a, b, min(len(a), len(b)))
        assert start == naive(a, b)
        end = whole._common_suffix(a, b, min(len(a), len(b)) - start)
        assert end == naive(a[start:][::-1], b[start:][::-1])

    check()


def test_rule_that_needs_the_whole_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """TRE001 (fixtures/rules-tree) matches a function's parameter list and a branch in
    its body: a hunk deep in the function shows only the branch."""
    from tests.conftest import FIXTURES, ROOT

    repo = make_tree(tmp_path)
    add_series(repo)
    monkeypatch.chdir(repo)
    rules = ["--rules-dir", str(ROOT / "rules"), "--rules-dir", str(FIXTURES / "rules-tree")]
    _, tree_mode = review_json(capsys, "HEAD~3..", *rules)
    _, patch_only = review_json(capsys, "HEAD~3..", *rules, "--no-tree")

    def found(data: dict[str, object]) -> list[tuple[int, str, int]]:
        patches = data["patches"]
        assert isinstance(patches, list)
        return [(p["index"], f["rule"], f["line"]) for p in patches for f in p["findings"]]

    assert found(tree_mode) == [(1, "STY001", 65), (1, "TRE001", 65), (3, "STY001", 95),
                                (3, "TRE001", 95)]
    assert found(patch_only) == [(1, "STY001", 65), (3, "STY001", 95)]
