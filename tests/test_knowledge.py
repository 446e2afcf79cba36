"""The knowledge index (``reviewbot index``) on a small kernel-shaped tree written for
these tests (fixtures/knowledge/tree): the facts, their evidence, the traps a may-sleep
analysis must not fall into, incremental updates, atomicity, and the command."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.knowledge.build import build_index, list_files
from reviewbot.knowledge.location import KnowledgeError, find_tree, index_path
from reviewbot.knowledge.lookup import Knowledge
from tests.conftest import FIXTURES
from tests.kernel_repo import git

TREE = FIXTURES / "knowledge" / "tree"


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return {"XDG_CACHE_HOME": str(cache)}


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    top = tmp_path / "linux"
    shutil.copytree(TREE, top)
    return top


@pytest.fixture()
def know(tree: Path, env: dict[str, str]) -> Knowledge:
    build_index(find_tree(tree), jobs=1, env=env)
    k = Knowledge.open(tree, env)
    assert k is not None
    return k


# -- may sleep -----------------------------------------------------------------------

def test_direct_evidence_with_its_line(know: Knowledge) -> None:
    chain = know.may_sleep("mutex_lock")
    assert chain is not None and chain.describe() == (
        "mutex_lock() may sleep: it calls might_sleep() (kernel/locking/mutex.c:7)")
    alloc = know.may_sleep("pool_alloc")
    assert alloc is not None and alloc.describe() == (
        "pool_alloc() may sleep: it calls kmalloc(GFP_KERNEL) (mm/alloc.c:17)")
    assert "reclaim" in alloc.reason


def test_transitive_chain_is_kept(know: Knowledge) -> None:
    chain = know.may_sleep("pool_grow")
    assert chain is not None
    assert [(s.function, s.call, str(s.site)) for s in chain.steps] == [
        ("pool_grow", "pool_refill", "mm/alloc.c:66"),
        ("pool_refill", "mutex_lock", "mm/alloc.c:56")]
    assert chain.describe() == ("pool_grow() may sleep: it calls pool_refill() -> "
                                "mutex_lock() (mm/alloc.c:56)")


@pytest.mark.parametrize("function", [
    "pool_alloc_atomic",  # GFP_ATOMIC
    "pool_alloc_gfp",  # the caller's gfp_t
    "pool_alloc_maybe",  # might_sleep_if() and a gfpflags_allow_blocking() branch
    "pool_alloc_noreclaim",  # GFP_KERNEL & ~__GFP_DIRECT_RECLAIM
    "pool_alloc_either",  # atomic ? GFP_ATOMIC : GFP_KERNEL
    "pool_flush",  # if (wait) wait_for_completion()
    "pool_sync",  # if (in_atomic()) return ...; synchronize_rcu()
    "pool_wait_unlocked",  # releases the caller's lock before msleep()
    "pool_drain",  # calls the above under its lock
    "mutex_trylock",
    "net_b_reset",  # its directory's net_common_flush() does not sleep
    "bar_poke",  # its file's static foo_helper() does not sleep
])
def test_traps_are_not_may_sleep(know: Knowledge, function: str) -> None:
    assert know.may_sleep(function) is None


def test_static_functions_resolve_in_their_file(know: Knowledge) -> None:
    here = know.may_sleep("foo_helper", "drivers/foo/foo_main.c")
    assert here is not None and here.primitive is not None and here.primitive.call == "msleep"
    assert know.may_sleep("foo_helper", "drivers/bar/bar_main.c") is None
    start = know.may_sleep("foo_start")
    assert start is not None and [s.call for s in start.steps] == ["foo_helper", "msleep"]


def test_macros_and_host_code(know: Knowledge) -> None:
    chain = know.may_sleep("foo_lock_all")  # a function-like macro in a header
    assert chain is not None and chain.primitive is not None
    assert str(chain.primitive.site) == "include/linux/foo.h:6"
    assert all(not d.site.file.startswith("tools/") for d in know.defines("mutex_lock"))


# -- locks and contexts ---------------------------------------------------------------

def test_lock_flavours_declaration_and_contexts(know: Knowledge) -> None:
    lock = know.lock("<struct foo*>->lock")
    assert lock.flavours == {"spinlock plain": 2, "spinlock bh": 1, "spinlock irqsave": 2}
    assert lock.lock_class == "spinlock"
    assert [(d.type, str(d.site)) for d in lock.declared] == [
        ("spinlock_t", "include/linux/foo.h:11")]
    hard = lock.taken_in("hardirq")
    assert hard is not None and hard.chain == ("foo_irq",) and hard.reg_call == \
        "request_threaded_irq" and str(hard.registered) == "drivers/foo/foo_main.c:67"
    assert str(hard.site) == "drivers/foo/foo_main.c:15"
    soft = {c.site.function for c in lock.contexts if c.context == "softirq"}
    assert soft == {"foo_timeout", "bar_tasklet"}  # timer_setup, tasklet_setup
    guard = [a for a in lock.acquires if a.call.startswith("scoped_guard")]
    assert [(a.call, a.flavour) for a in guard] == [("scoped_guard(spinlock_irqsave)",
                                                     "irqsave")]


def test_contexts_follow_calls_but_not_the_irq_thread(know: Knowledge) -> None:
    ack = know.lock("<struct foo*>->raw_lock").taken_in("hardirq")
    assert ack is not None and ack.chain == ("foo_irq", "foo_ack")
    assert know.contexts("foo_thread") == ()  # request_threaded_irq's thread function
    assert [c.context for c in know.contexts("foo_hrtimer")] == ["hardirq"]
    assert [c.context for c in know.contexts("foo_timeout")] == ["softirq"]


def test_global_lock(know: Knowledge) -> None:
    lock = know.lock("pool_lock")
    assert [(d.type, str(d.site)) for d in lock.declared] == [("spinlock_t", "mm/alloc.c:5")]
    assert lock.flavours == {"spinlock irqsave": 1}
    assert know.lock("pool_mutex").lock_class == "mutex"


# -- member accesses -------------------------------------------------------------------

def test_marked_and_plain_accesses(know: Knowledge) -> None:
    state = know.member("struct foo", "state")
    assert state.counts[("read", "once")] == 2  # pool_peek, foo_busy in the header
    assert state.counts[("write", "once")] == 1
    assert state.counts[("write", "plain")] == 3
    assert {str(a.site) for a in state.marked} == {"mm/alloc.c:113", "mm/alloc.c:120",
                                                   "include/linux/foo.h:40"}
    flags = know.member("struct foo", "flags")
    assert {(a.via, a.op) for a in flags.marked} == {("smp_store_release", "write"),
                                                    ("set_bit", "rmw"), ("test_bit", "read")}
    assert flags.locked_writes == {"<struct foo*>->lock": 2}
    assert know.location("<struct foo*>->flags").counts == flags.counts


def test_rcu_member(know: Knowledge) -> None:
    bar = know.member("struct foo", "bar")
    assert bar.rcu and bar.counts == {("write", "rcu"): 1, ("read", "rcu"): 1}
    assert [d.attrs for d in bar.declared] == ["__rcu"]
    assert not know.member("struct foo", "state").rcu


def test_sizeof_and_addresses_are_not_accesses(know: Knowledge) -> None:
    flags = know.member("struct foo", "flags")
    plain_reads = flags.counts.get(("read", "plain"), 0)
    # pool_plain reads f->flags in its if(); the sizeof() and the &f->flags handed to
    # set_bit/test_bit are not plain reads
    assert plain_reads == 2 and all(a.how == "plain" for a in flags.examples)


def test_lexical_keys_are_spelled_like_cmap(tmp_path: Path) -> None:
    """The index joins the rules' locations by key: the lexical key of a location is the
    key reviewbot.cmap.access gives it."""
    from reviewbot.cmap.access import location_key, location_nodes
    from reviewbot.cmap.build import map_file
    from reviewbot.cmap.parser import CParser
    from reviewbot.diff.parse import parse_diff
    from reviewbot.knowledge.extract import Extractor
    from reviewbot.knowledge.vocab import load_vocab

    code = ("static void f(struct zone *zone, pg_data_t *pgdat, struct page **pages)\n"
            "{\n\tstruct foo *p = zone->data;\n\tzone->lock_x = 1;\n"
            "\tpgdat->node_zones[3].lock_x = 2;\n\tpages[1]->private = 3;\n"
            "\tp->a.b = 4;\n}\n")
    facts = Extractor(load_vocab()).extract("mm/x.c", code.encode())
    lexical = {row[1] for row in facts.accesses}
    diff = "".join(["diff --git a/mm/x.c b/mm/x.c\nnew file mode 100644\n",
                    "--- /dev/null\n+++ b/mm/x.c\n",
                    f"@@ -0,0 +1,{code.count(chr(10))} @@\n",
                    *(f"+{line}\n" for line in code.splitlines())])
    fdiff = parse_diff(diff)[0]
    parser = CParser()
    fmap = map_file(fdiff, parser)
    cmap_keys = set()
    for mf in fmap.fragments:
        for node in location_nodes(mf):
            line = mf.line_of(node.start_point[0])
            if line is not None:
                cmap_keys.add(location_key(node, fmap, line))
    assert lexical == {"<struct zone*>->data", "<struct zone*>->lock_x",
                       "<pg_data_t*>->node_zones[].lock_x", "<struct page**>[]->private",
                       "<struct foo*>->a.b"}
    assert lexical <= cmap_keys
    members = {row[1]: (row[2], row[3]) for row in facts.accesses}
    assert members["<struct zone*>->lock_x"] == ("struct zone", "lock_x")
    assert members["<struct foo*>->a.b"] == ("struct foo", "")  # not a write of ->a


def test_lock_keys() -> None:
    from reviewbot.knowledge.keys import lock_key

    decls: dict[str, tuple[str, int] | None] = {"zone": ("struct zone", 1),
                                                "pgdat": ("pg_data_t", 1)}
    assert lock_key("zone->lock", decls) == "<struct zone*>->lock"
    assert lock_key("pgdat->node_zones[i].lock", decls) == "<pg_data_t*>->node_zones[].lock"
    assert lock_key("hugetlb_lock", decls) == "hugetlb_lock"
    assert lock_key("dev->lock", decls) == "dev->lock"


# -- definitions -----------------------------------------------------------------------

def test_definitions(know: Knowledge) -> None:
    def kinds(symbol: str) -> list[tuple[str, str]]:
        return [(d.kind, str(d.site)) for d in know.defines(symbol)]

    assert kinds("FOO_MAX_QUEUES") == [("macro", "include/linux/foo.h:5")]
    assert kinds("foo_start") == [("function", "drivers/foo/foo_main.c:53")]
    assert kinds("foo_stats_t") == [("typedef", "include/linux/foo.h:27")]
    assert kinds("FOO_MODE_AUTO") == [("enumerator", "include/linux/foo.h:35")]
    assert kinds("CONFIG_FOO_EXTRA") == [("kconfig", "drivers/foo/Kconfig:6")]
    assert kinds("struct foo.callback") == [("member", "include/linux/foo.h:17")]
    assert kinds("struct foo.count") == [("member", "include/linux/foo.h:19")]
    assert kinds("foo") == [("struct", "include/linux/foo.h:10")]
    assert kinds("no_such_symbol") == []


# -- building --------------------------------------------------------------------------

def test_host_code_and_build_output_are_left_out(tree: Path) -> None:
    (tree / "drivers/foo/foo.mod.c").write_text("int x;\n")
    paths = {f.path for f in list_files(find_tree(tree))}
    assert "tools/perf/util.c" not in paths and "drivers/foo/foo.mod.c" not in paths
    assert {"drivers/foo/Kconfig", "mm/alloc.c", "include/linux/foo.h"} <= paths


def test_incremental_update_reads_only_changed_content(tree: Path,
                                                       env: dict[str, str]) -> None:
    first = build_index(find_tree(tree), jobs=1, env=env)
    assert first.full and first.read == first.files == 9
    again = build_index(find_tree(tree), jobs=1, env=env)
    assert not again.full and again.read == 0
    os.utime(tree / "mm/alloc.c", ns=(1, 1))  # same content, new time: hashed, not read
    assert build_index(find_tree(tree), jobs=1, env=env).read == 0
    alloc = tree / "mm/alloc.c"
    alloc.write_text(alloc.read_text().replace("\tmutex_lock(&pool_mutex);\n\tp->nr = 0;",
                                               "\tp->nr = 0;"))
    (tree / "drivers/net/b/user.c").unlink()
    (tree / "drivers/new.c").write_text("void new_fn(void)\n{\n\tmsleep(1);\n}\n")
    update = build_index(find_tree(tree), jobs=1, env=env)
    assert (update.read, update.removed, update.files) == (2, 1, 9)
    know = Knowledge.open(tree, env)
    assert know is not None
    assert know.may_sleep("pool_grow") is None  # the sleeping call is gone
    assert know.may_sleep("new_fn") is not None
    assert know.defines("net_b_reset") == ()


def test_a_failed_update_leaves_the_old_index(tree: Path, env: dict[str, str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    build_index(find_tree(tree), jobs=1, env=env)
    (tree / "mm/alloc.c").write_text("void only(void)\n{\n}\n")

    def crash(conn: sqlite3.Connection, change: object = None) -> tuple[int, int]:
        raise RuntimeError("killed while deriving")

    monkeypatch.setattr("reviewbot.knowledge.derive.derive", crash)
    with pytest.raises(RuntimeError):
        build_index(find_tree(tree), jobs=1, env=env)
    know = Knowledge.open(tree, env)
    assert know is not None and know.may_sleep("pool_alloc") is not None
    assert know.defines("only") == ()
    assert [p.name for p in index_path(tree, env).parent.iterdir()
            if p.name.startswith(".build-")] == []


def test_parallel_build_equals_one_process(tree: Path, env: dict[str, str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def dump() -> list[tuple[object, ...]]:
        conn = sqlite3.connect(index_path(tree, env))
        try:
            calls = conn.execute("SELECT f.path, n.name, c.line, c.flags FROM calls c JOIN "
                                 "files f ON f.id = c.caller >> 16 JOIN names n "
                                 "ON n.id = c.callee").fetchall()
            return sorted(calls) + sorted(conn.execute(
                "SELECT func & 65535, call, depth FROM may_sleep").fetchall())
        finally:
            conn.close()

    build_index(find_tree(tree), jobs=1, env=env)
    one = dump()
    monkeypatch.setattr("reviewbot.knowledge.build.CHUNK_BYTES", 1)  # a task per file
    monkeypatch.setattr("reviewbot.knowledge.build.SMALL_JOB", 0)
    build_index(find_tree(tree), jobs=2, env=env, full=True)
    assert dump() == one


def test_git_checkout_lists_tracked_and_untracked_files(tree: Path,
                                                        env: dict[str, str]) -> None:
    git(tree, "init", "-q", "-b", "master")
    (tree / ".gitignore").write_text("*.o.c\n")
    (tree / "mm/gen.o.c").write_text("void gen(void) {}\n")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "base")
    (tree / "mm/untracked.c").write_text("void untracked(void)\n{\n}\n")
    result = build_index(find_tree(tree), jobs=1, env=env)
    know = Knowledge.open(tree / "mm", env)  # any directory inside the tree
    assert know is not None and result.files == 10
    assert know.defines("untracked") and not know.defines("gen")
    assert know.meta["kind"] == "git" and len(know.meta["commit"]) == 40
    assert know.describe(now=know.updated + 7200).endswith("updated 2 h ago")


def test_two_trees_have_two_indexes(tmp_path: Path, tree: Path, env: dict[str, str]) -> None:
    other = tmp_path / "other"
    shutil.copytree(TREE, other)
    build_index(find_tree(tree), jobs=1, env=env)
    assert Knowledge.open(other, env) is None
    build_index(find_tree(other), jobs=1, env=env)
    a, b = Knowledge.open(tree, env), Knowledge.open(other, env)
    assert a is not None and b is not None and a.path != b.path and a.tree != b.tree


def test_not_a_kernel_tree(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not inside a kernel tree"):
        find_tree(tmp_path)
    assert Knowledge.open(tmp_path) is None


# -- the command -----------------------------------------------------------------------

def test_index_command(tree: Path, env: dict[str, str],
                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "--status", str(tree)]) == 1
    assert "no index of" in capsys.readouterr().out
    assert main(["index", str(tree), "-j", "1"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"index of {tree} built in ") and out.count("\n") == 1
    assert "9 files (9 read" in out and "may sleep" in out and err == ""  # no bar off a tty
    assert main(["index", str(tree)]) == 0
    assert "updated in" in capsys.readouterr().out
    assert main(["index", "--status", str(tree)]) == 0
    status = capsys.readouterr().out
    assert "plain tree" in status and "updated:" in status and "0 files differ" in status


def test_index_command_errors(tmp_path: Path, env: dict[str, str],
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reviewbot: error: ") and err.count("\n") == 1
    assert main(["index", str(tmp_path / "missing")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_progress_bar_on_a_terminal_only(tree: Path, env: dict[str, str]) -> None:
    """stderr a terminal: a progress bar there; stdout (a pipe) gets the summary alone."""
    import pty
    import subprocess
    import sys

    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "reviewbot", "index", str(tree), "-j", "1"],
                              stdout=subprocess.PIPE, stderr=secondary,
                              env={**os.environ, **env}, timeout=120, check=False)
        os.close(secondary)
        chunks = []
        while True:
            try:
                data = os.read(primary, 4096)
            except OSError:  # EIO: the terminal has no writer left
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(primary)
    bar = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert "indexing (MB) [" in bar and "\r" in bar
    out = proc.stdout.decode()
    assert out.startswith("index of ") and out.count("\n") == 1 and "[" not in out
