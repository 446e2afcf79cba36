"""CON005-CON007 reviewing patches against an index of a small tree written for these
tests: what the tree's facts add to what the patch shows, the wording with the tree's
counts, and the quiet cases (locks, initialising stores, thresholds, no index)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reviewbot.knowledge.build import build_index
from reviewbot.knowledge.location import find_tree
from tests.conftest import run_cli
from tests.knowledge_tree import patch_email

FILES = {
    "MAINTAINERS": "List of maintainers\n",
    "include/linux/frob.h": """\
struct frob_cfg {
	int len;
};

struct frob {
	spinlock_t lock;
	int state;
	int mode;
	unsigned long flags;
	struct frob_cfg __rcu *cfg;
	struct frob_cfg *plain_cfg;
	unsigned long nodes[4];
};
""",
    "drivers/frob/core.c": """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/frob.h>

int frob_a(struct frob *f) { return READ_ONCE(f->state); }
int frob_b(struct frob *f) { return READ_ONCE(f->state) + 1; }
int frob_c(struct frob *f) { return READ_ONCE(f->state) * 2; }
int frob_d(struct frob *f) { return READ_ONCE(f->state) - 1; }
int frob_e(struct frob *f) { return READ_ONCE(f->state) > 3; }
void frob_set1(struct frob *f) { WRITE_ONCE(f->state, 1); }
void frob_set2(struct frob *f) { WRITE_ONCE(f->state, 2); }
void frob_set3(struct frob *f) { WRITE_ONCE(f->state, 3); }
void frob_set4(struct frob *f) { WRITE_ONCE(f->state, 4); }
int frob_plain(struct frob *f) { return f->state; }

int frob_m1(struct frob *f) { return READ_ONCE(f->mode); }
int frob_m2(struct frob *f) { return f->mode; }
int frob_m3(struct frob *f) { return f->mode + 1; }

int frob_len1(struct frob *f) { return rcu_dereference(f->cfg)->len; }
int frob_len2(struct frob *f) { return rcu_dereference(f->cfg)->len + 1; }
int frob_len3(struct frob *f) { return rcu_dereference(f->cfg)->len + 2; }
void frob_pub(struct frob *f, struct frob_cfg *c) { rcu_assign_pointer(f->cfg, c); }

void frob_flag(struct frob *f)
{
	spin_lock(&f->lock);
	f->flags = 1;
	spin_unlock(&f->lock);
}

void frob_unflag(struct frob *f)
{
	spin_lock(&f->lock);
	f->flags = 0;
	spin_unlock(&f->lock);
}

void frob_see(struct frob *f, int n)
{
	spin_lock(&f->lock);
	set_bit(n, f->nodes);
	spin_unlock(&f->lock);
}

void frob_unsee(struct frob *f, int n)
{
	spin_lock(&f->lock);
	clear_bit(n, f->nodes);
	spin_unlock(&f->lock);
}
""",
}


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    top = tmp_path / "linux"
    for name, text in FILES.items():
        path = top / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    build_index(find_tree(top), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    return top


def _new_file(code: str, path: str = "drivers/frob/new.c") -> str:
    lines = code.rstrip("\n").split("\n")
    return "".join([f"diff --git a/{path} b/{path}\n", "new file mode 100644\n",
                    "index 0000000..1111111\n", "--- /dev/null\n", f"+++ b/{path}\n",
                    f"@@ -0,0 +1,{len(lines)} @@\n", *(f"+{ln}\n" for ln in lines)])


def _findings(capsys: pytest.CaptureFixture[str], tmp_path: Path, diff: str, rule: str,
              tree: Path | None) -> list[tuple[int, str]]:
    mbox = tmp_path / "p.mbox"
    mbox.write_bytes(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + patch_email(diff).data)
    where = ["--tree", str(tree)] if tree is not None else ["--no-tree"]
    code, out, err = run_cli(capsys, "check", *where, "--select", rule, "--format", "json",
                             str(mbox))
    assert code in (0, 1), err
    return [(f["line"], f["message"]) for p in json.loads(out)["patches"]
            for f in p["findings"]]


READS = """\
#include <linux/frob.h>

static int frob_peek(struct frob *f)
{
	int s = f->state;
	int m = f->mode;

	return s + m;
}

static int frob_peek_locked(struct frob *f)
{
	int s;

	spin_lock(&f->lock);
	s = f->state;
	spin_unlock(&f->lock);
	return s;
}
"""


def test_con007_plain_read_of_a_mostly_marked_member(tree: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    found = _findings(capsys, tmp_path, _new_file(READS), "CON007", tree)
    # f->state: READ_ONCE 5 times, plainly once; f->mode: READ_ONCE once, plainly twice
    # (below the threshold); under f->lock: not lockless
    assert found == [(5, "plain read of f->state outside any lock: the tree reads "
                      "struct frob.state with READ_ONCE() 5 times (e.g. in frob_a(), "
                      "drivers/frob/core.c:4), plainly 1; use READ_ONCE()")]
    assert _findings(capsys, tmp_path, _new_file(READS), "CON007", None) == []  # no index


WRITES = """\
#include <linux/frob.h>

static void frob_reset(struct frob *f)
{
	f->state = 0;
}

static struct frob *frob_make(void)
{
	struct frob *f = kzalloc(sizeof(*f), GFP_KERNEL);

	f->state = 1;
	list_add(&f->node, &frob_list);
	f->state = 2;
	return f;
}

static void frob_init_one(struct frob *f)
{
	f->state = 0;
}
"""


def test_con007_plain_store_and_initialising_stores(tree: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    found = _findings(capsys, tmp_path, _new_file(WRITES), "CON007", tree)
    # the store after list_add() publishes the object races; the one before does not;
    # an init function sets its object up
    assert [line for line, _ in found] == [5, 14]
    assert "writes struct frob.state with WRITE_ONCE() 4 times" in found[0][1]


RMW = """\
#include <linux/frob.h>

static void frob_or(struct frob *f, unsigned long bit)
{
	spin_lock(&f->lock);
	frob_touch(f);
	spin_unlock(&f->lock);
	WRITE_ONCE(f->flags, f->flags | bit);
}
"""


def test_con007_write_once_rmw_outside_the_writers_lock(tree: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    # the tree writes f->flags under f->lock, which this function takes elsewhere
    found = _findings(capsys, tmp_path, _new_file(RMW), "CON007", tree)
    assert found == [(8, "WRITE_ONCE() of f->flags reads it plainly outside "
                      "f->lock, which its other writers hold: a concurrent update in "
                      "between is lost")]
    assert _findings(capsys, tmp_path, _new_file(RMW), "CON007", None) == []


RCU = """\
#include <linux/frob.h>

static void frob_swap(struct frob *f, struct frob_cfg *c)
{
	spin_lock(&f->lock);
	f->cfg = c;
	f->plain_cfg = c;
	spin_unlock(&f->lock);
}

static void frob_clear(struct frob *f)
{
	f->cfg = NULL;
}

static int frob_len(struct frob *f)
{
	struct frob_cfg *c;
	int len;

	rcu_read_lock();
	c = f->cfg;
	len = c->len;
	rcu_read_unlock();
	return len;
}
"""


def test_con006_rcu_pointer_from_the_tree(tree: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    found = _findings(capsys, tmp_path, _new_file(RCU), "CON006", tree)
    assert [line for line, _ in found] == [6, 22]
    assert found[0][1] == (
        "plain store to the RCU pointer f->cfg (the tree reads struct frob.cfg with "
        "rcu_dereference() 3 times (e.g. in frob_len1(), drivers/frob/core.c:19), plainly "
        "0, declared __rcu (include/linux/frob.h:10)): use rcu_assign_pointer()")
    assert found[1][1].startswith("plain read of the RCU pointer f->cfg under "
                                  "rcu_read_lock() (the tree publishes struct frob.cfg "
                                  "with rcu_assign_pointer() 1 time")
    assert _findings(capsys, tmp_path, _new_file(RCU), "CON006", None) == []


def test_con005_needs_no_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = ("static void f(struct frob *f, bool x)\n{\n\tif (x)\n\t\tspin_lock(&f->lock);\n"
            "\tf->mode = 1;\n\tif (x)\n\t\tspin_unlock(&f->lock);\n}\n")
    found = _findings(capsys, tmp_path, _new_file(code), "CON005", None)
    assert found == [(4, "spin_lock(&f->lock) is taken only if (x) and released by "
                      "spin_unlock() under the same test at line 7: conditional locking "
                      "confuses sparse, lockdep and readers")]


CON001_READ = """\
#include <linux/frob.h>

static bool frob_claim(struct frob *f, unsigned long bit)
{
	bool ok;

	if (f->flags & bit)
		return false;
	spin_lock(&f->lock);
	if (f->flags & bit)
		ok = false;
	else
		ok = frob_set_flag(f, bit);
	spin_unlock(&f->lock);
	return ok;
}

static unsigned long frob_peek_flags(struct frob *f)
{
	unsigned long v = f->flags;

	spin_lock(&f->lock);
	frob_touch(f);
	spin_unlock(&f->lock);
	return v;
}

static unsigned long frob_any_flags(struct frob *f)
{
	return f->flags;
}
"""


def test_con008_writes_under_a_lock_elsewhere_in_the_tree(
        tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the tree writes f->flags under f->lock (frob_flag()); frob_claim() reads it, then
    # takes f->lock to check again: the double-checked pattern, its store elsewhere.
    # frob_peek_flags() takes the lock for something else; frob_any_flags() may be
    # called with the lock held
    found = _findings(capsys, tmp_path, _new_file(CON001_READ), "CON008", tree)
    assert found == [(7, "plain lockless read of f->flags, which is written under f->lock "
                      "in frob_flag() (drivers/frob/core.c:27): use READ_ONCE()")]
    assert _findings(capsys, tmp_path, _new_file(CON001_READ), "CON008", None) == []
    # the stable CON001 leaves a store elsewhere in the tree to CON008 (preview)
    assert _findings(capsys, tmp_path, _new_file(CON001_READ), "CON001", tree) == []


# CON008's quiet cases: the same double check of f->flags as CON001_READ's, its first
# look a tracepoint's argument (trace output) or in a function that asserts a lock is
# held (its caller's: the writers may hold it too); a bitmap the tree writes with bit
# operations alone, passed by its name (its address) to test_bit(); a read, then the
# lock, then a use of the value under it but no test of it again (not the double check:
# the function treats the value as stable, as CON001 does)
CON008_QUIET = """\
#include <linux/frob.h>

static void frob_trace_claim(struct frob *f)
{
	trace_frob_claim(f, f->flags);
	spin_lock(&f->lock);
	if (!f->flags)
		frob_set_flag(f, 1);
	spin_unlock(&f->lock);
}

static bool frob_claim_asserted(struct frob *f)
{
	WARN_ON(!mutex_is_locked(&frob_mutex));
	if (f->flags)
		return false;
	spin_lock(&f->lock);
	if (!f->flags)
		frob_set_flag(f, 1);
	spin_unlock(&f->lock);
	return true;
}

static bool frob_node_seen(struct frob *f, int n)
{
	if (test_bit(n, f->nodes))
		return true;
	spin_lock(&f->lock);
	__set_bit(n, f->nodes);
	spin_unlock(&f->lock);
	return false;
}

static unsigned long frob_take_flags(struct frob *f)
{
	unsigned long v;

	if (!f->flags)
		return 0;
	spin_lock(&f->lock);
	v = f->flags;
	frob_unflag(f);
	spin_unlock(&f->lock);
	return v;
}

static bool frob_claim_again(struct frob *f)
{
	if (f->flags)
		return false;
	spin_lock(&f->lock);
	if (!f->flags)
		frob_set_flag(f, 1);
	spin_unlock(&f->lock);
	return true;
}
"""


def test_con008_trace_output_asserted_locks_and_bitmap_addresses(
        tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = _findings(capsys, tmp_path, _new_file(CON008_QUIET), "CON008", tree)
    # only the plain double check, the last function, is reported
    assert [n for n, _ in found] == [49]


def test_con008_does_not_repeat_con001(
        take_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # frob_take()'s own double check (the tree's copy of it) is CON001's; CON008 is quiet
    diff = _unmark("drivers/frob/take.c", TAKE, "frob_take")
    assert [n for n, _ in _findings(capsys, tmp_path, diff, "CON001", take_tree)] == [11]
    assert _findings(capsys, tmp_path, diff, "CON008", take_tree) == []


# CON001 with 3 lines of context: the hunk shows neither the declaration of f nor the
# store under the lock; the tree's copy of the same function shows both.
TAKE = """\
#include <linux/frob.h>

void frob_take(void *data)
{
	struct frob *f = data;
	int n = 0;

	n++;
	n++;
	n++;
	if (READ_ONCE(f->owner))
		return;
	spin_lock(&f->lock);
	if (!f->owner)
		f->owner = n;
	spin_unlock(&f->lock);
}

void frob_drop(void *data)
{
	struct frob *f = data;
	int n = 0;

	n++;
	n++;
	n++;
	if (READ_ONCE(f->owner))
		return;
	f->owner = n;
}
"""
# #ifdef alternatives: f->owner of two struct types
EITHER = TAKE.split("\n\n", 1)[0] + "\n\n#ifdef CONFIG_A\n" + TAKE.split("\n\n", 1)[1].split(
    "\n\nvoid frob_drop")[0].replace("frob_take", "frob_either") + "\n#else\n" + \
    TAKE.split("\n\n", 1)[1].split("\n\nvoid frob_drop")[0].replace(
        "frob_take", "frob_either").replace("struct frob *f", "struct frob_cfg *f") + \
    "\n#endif\n"


@pytest.fixture()
def take_tree(tree: Path) -> Path:
    header = tree / "include/linux/frob.h"
    header.write_text(header.read_text().replace("\tint len;\n", "\tint len;\n\tint owner;\n")
                      .replace("\tint mode;\n", "\tint mode;\n\tint owner;\n"))
    (tree / "drivers/frob/take.c").write_text(TAKE)
    (tree / "drivers/frob/either.c").write_text(EITHER)
    build_index(find_tree(tree), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    return tree


def _unmark(path: str, text: str, function: str) -> str:
    """A 3-line-context hunk of ``path`` dropping the READ_ONCE() in ``function``."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("void " + function))
    at = next(i for i in range(start, len(lines)) if "READ_ONCE(f->owner)" in lines[i])
    body = [*(f" {ln}" for ln in lines[at - 3:at]), f"-{lines[at]}",
            "+\tif (f->owner)", *(f" {ln}" for ln in lines[at + 1:at + 4])]
    return (f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n"
            f"+++ b/{path}\n@@ -{at - 2},7 +{at - 2},7 @@ {lines[start]}\n"
            + "\n".join(body) + "\n")


def test_con001_the_double_check_in_the_trees_copy_of_the_function(
        take_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    diff = _unmark("drivers/frob/take.c", TAKE, "frob_take")
    assert "struct frob" not in diff and "spin_unlock" not in diff
    found = _findings(capsys, tmp_path, diff, "CON001", take_tree)
    assert found == [(11, "plain lockless read of f->owner, which is written under "
                      "<struct frob*>->lock in frob_take() (drivers/frob/take.c:15), which "
                      "reads it with READ_ONCE() at drivers/frob/take.c:11: use READ_ONCE()")]
    assert _findings(capsys, tmp_path, diff, "CON001", None) == []


def test_con001_the_trees_copy_quiet_cases(
        take_tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # frob_drop() stores it plainly, outside any lock: no racing writer shown
    drop = _unmark("drivers/frob/take.c", TAKE, "frob_drop")
    assert _findings(capsys, tmp_path, drop, "CON001", take_tree) == []
    # the tree's two frob_either() read ->owner of two struct types: which one is unknown
    either = _unmark("drivers/frob/either.c", EITHER, "frob_either")
    assert _findings(capsys, tmp_path, either, "CON001", take_tree) == []


# The tree's copy of frob_bump() reads b->inner.owner (a member of a member) with
# READ_ONCE() and then stores it with WRITE_ONCE(), outside any lock: other writers race
# with it (br_fdb_update()'s fdb->updated, tun_flow_update()'s e->queue_index).
BUMP = """\
#include <linux/frob.h>

void frob_bump(void *data)
{
	struct frob_box *b = data;
	int n = 0;

	n++;
	n++;
	n++;
	if (READ_ONCE(b->inner.owner) != n)
		WRITE_ONCE(b->inner.owner, n);
}

void frob_own(void *data)
{
	struct frob_box *b = data;
	int n = 0;

	n++;
	n++;
	n++;
	if (READ_ONCE(b->inner.owner) != n)
		b->inner.owner = n;
}
"""


def _unmark_bump(function: str) -> str:
    lines = BUMP.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("void " + function))
    at = next(i for i in range(start, len(lines)) if "READ_ONCE(b->inner.owner)" in lines[i])
    body = [*(f" {ln}" for ln in lines[at - 3:at]), f"-{lines[at]}",
            "+\tif (b->inner.owner != n)", *(f" {ln}" for ln in lines[at + 1:at + 3])]
    return ("diff --git a/drivers/frob/bump.c b/drivers/frob/bump.c\nindex 1111111..2222222 "
            f"100644\n--- a/drivers/frob/bump.c\n+++ b/drivers/frob/bump.c\n"
            f"@@ -{at - 2},6 +{at - 2},6 @@ {lines[start]}\n" + "\n".join(body) + "\n")


def test_con001_a_member_of_a_member_and_the_functions_own_marked_store(
        tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = tree / "include/linux/frob.h"
    header.write_text(header.read_text() + "struct frob_inner {\n\tint owner;\n};\n\n"
                      "struct frob_box {\n\tstruct frob_inner inner;\n};\n")
    (tree / "drivers/frob/bump.c").write_text(BUMP)
    build_index(find_tree(tree), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    diff = _unmark_bump("frob_bump")
    assert "struct frob_box" not in diff and "+\tif (b->inner.owner != n)" in diff
    found = _findings(capsys, tmp_path, diff, "CON001", tree)
    assert found == [(11, "plain lockless read of b->inner.owner, which is written with "
                      "WRITE_ONCE() in frob_bump() (drivers/frob/bump.c:12), which reads it "
                      "with READ_ONCE() at drivers/frob/bump.c:11: use READ_ONCE()")]
    assert _findings(capsys, tmp_path, diff, "CON001", None) == []
    # frob_own() stores it plainly itself: it owns the object, whatever its READ_ONCE()
    assert _findings(capsys, tmp_path, _unmark_bump("frob_own"), "CON001", tree) == []


# CON001's double check on data the tree treats as owned: frob_submit() tests
# req->flags, takes f->lock and tests it again before it stores it (__setup_irq()'s
# new->flags under desc->lock, nfs_setattr()'s attr->ia_valid under inode->i_lock).
SUBMIT = """\
#include <linux/frob.h>

static int frob_submit(struct frob *f, struct frob_req *req)
{
	if (req->flags & 1)
		return 0;
	spin_lock(&f->lock);
	if (!(req->flags & 1))
		req->flags |= 1;
	spin_unlock(&f->lock);
	return 1;
}
"""
REQ = """\
#include <linux/frob.h>

void frob_req_init(struct frob_req *req)
{
	req->flags = 0;
}

int frob_req_busy(struct frob_req *req)
{
	return req->flags & 2;
}
"""


def _with_req(tree: Path, req: str) -> Path:
    header = tree / "include/linux/frob.h"
    header.write_text(header.read_text() + "struct frob_req {\n\tunsigned long flags;\n"
                      "\tunsigned long more;\n};\n")
    (tree / "drivers/frob/req.c").write_text(req)
    build_index(find_tree(tree), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    return tree


def test_con001_a_double_check_on_data_the_tree_treats_as_owned(
        tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = [(5, "plain lockless read of req->flags, which is written under f->lock in "
                 "frob_submit(): use READ_ONCE()")]
    # without an index: the double-checked pattern, as the patch shows it
    assert _findings(capsys, tmp_path, _new_file(SUBMIT), "CON001", None) == expected
    # the tree writes req->flags plainly, without a lock, and never marks an access of
    # it: nothing shows another CPU touches it, the lock here protects something else
    _with_req(tree, REQ)
    assert _findings(capsys, tmp_path, _new_file(SUBMIT), "CON001", tree) == []
    # a member the tree does not know (new in the patch) is judged as without an index
    more = SUBMIT.replace("->flags", "->more")
    assert [n for n, _ in _findings(capsys, tmp_path, _new_file(more), "CON001", tree)] == [5]
    # the function's own copy in the tree counts as this function, not as another writer
    (tree / "drivers/frob/new.c").write_text(SUBMIT)
    build_index(find_tree(tree), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    assert _findings(capsys, tmp_path, _new_file(SUBMIT), "CON001", tree) == []


@pytest.mark.parametrize("shared", [
    # a marked access anywhere in the tree
    "int frob_req_peek(struct frob_req *req)\n{\n\treturn READ_ONCE(req->flags);\n}\n",
    "void frob_req_set(struct frob_req *req)\n{\n\tset_bit(1, &req->flags);\n}\n",
    # another function writes it with a lock held
    "void frob_req_done(struct frob *f, struct frob_req *req)\n{\n\tspin_lock(&f->lock);\n"
    "\treq->flags = 0;\n\tspin_unlock(&f->lock);\n}\n",
])
def test_con001_a_double_check_on_data_the_tree_shows_shared(
        shared: str, tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _with_req(tree, REQ + "\n" + shared)
    found = _findings(capsys, tmp_path, _new_file(SUBMIT), "CON001", tree)
    assert [n for n, _ in found] == [5]


def test_con001_the_functions_own_copy_elsewhere_is_not_another_writer(
        tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the patch adds frob_submit() to another file (it moves it): the tree's copy's store
    # under the lock is the same function's, not another writer of req->flags
    _with_req(tree, REQ)
    (tree / "drivers/frob/old.c").write_text(SUBMIT)
    build_index(find_tree(tree), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    assert _findings(capsys, tmp_path, _new_file(SUBMIT), "CON001", tree) == []


def test_con001_a_logged_read_of_a_location_the_tree_marks(
        tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logged = SUBMIT.replace("{\n\tif (req->flags & 1)",
                            "{\n\tpr_debug(\"req %lx\\n\", req->flags);\n\tif (req->flags & 1)")
    assert logged != SUBMIT
    done = ("void frob_req_done(struct frob *f, struct frob_req *req)\n{\n"
            "\tspin_lock(&f->lock);\n\treq->flags = 0;\n\tspin_unlock(&f->lock);\n}\n")
    # shared (another function writes it under a lock), never marked: the log line is
    # diagnostic, the test after it is the racy read
    _with_req(tree, REQ + "\n" + done)
    assert [n for n, _ in _findings(capsys, tmp_path, _new_file(logged), "CON001", tree)] \
        == [6]
    # the tree marks its accesses: even the logged read is one KCSAN reports
    (tree / "drivers/frob/peek.c").write_text(
        "#include <linux/frob.h>\n\nint frob_req_peek(struct frob_req *req)\n{\n"
        "\treturn READ_ONCE(req->flags);\n}\n")
    build_index(find_tree(tree), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    assert [n for n, _ in _findings(capsys, tmp_path, _new_file(logged), "CON001", tree)] \
        == [5]
