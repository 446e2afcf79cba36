"""CON003 (sleep-in-atomic) and CON004 (lock-irq-flavour) on patches to a small tree
written for the tests (tests/knowledge_tree.py), with and without its index: each
fires on the pattern it names, with the evidence, and stays quiet on the look-alikes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewbot.config import Settings
from reviewbot.findings import Finding
from reviewbot.knowledge.build import build_index
from reviewbot.knowledge.location import find_tree
from reviewbot.knowledge.lookup import Knowledge
from reviewbot.knowledge.source import KnowledgeSource
from reviewbot.pipeline import review_messages
from reviewbot.ruleset import load_rules
from tests.conftest import ROOT
from tests.knowledge_tree import FILES, indexed_tree, patch_email, write_tree

RULES = [r for r in load_rules() if r.id in ("CON003", "CON004")]
CORE = FILES["drivers/dev/core.c"].splitlines()


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return indexed_tree(tmp_path / "linux", {"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})


def _function(name: str) -> tuple[int, list[str]]:
    """(first line, lines) of a function of drivers/dev/core.c."""
    start = next(i for i, ln in enumerate(CORE) if f" {name}(" in ln and not ln[0].isspace())
    end = next(i for i in range(start, len(CORE)) if CORE[i] == "}")
    return start + 1, CORE[start:end + 1]


def _change(name: str, new: list[str]) -> str:
    """A diff of drivers/dev/core.c replacing function ``name`` by ``new``."""
    first, old = _function(name)
    body = [f"-{ln}" for ln in old] + [f"+{ln}" for ln in new]
    return (f"diff --git a/drivers/dev/core.c b/drivers/dev/core.c\nindex 1111111..2222222 "
            f"100644\n--- a/drivers/dev/core.c\n+++ b/drivers/dev/core.c\n"
            f"@@ -{first},{len(old)} +{first},{len(new)} @@\n" + "\n".join(body) + "\n")


def _review(tree: Path | None, *diffs: str) -> list[Finding]:
    source = KnowledgeSource.find(tree) if tree is not None else None
    if tree is not None:
        assert source is not None
    mails = [patch_email(d, i, len(diffs)) for i, d in enumerate(diffs, start=1)]
    review = review_messages(mails, Settings(), rules=RULES, knowledge=source)
    return list(review.findings)


def _update(*body: str) -> list[str]:
    return ["void dev_update(struct dev *d)", "{", *body, "}"]


def test_added_call_that_may_sleep_by_the_index(tree: Path) -> None:
    diff = _change("dev_update", _update("\tspin_lock(&d->lock);", "\td->state = 2;",
                                         "\tdev_sync(d);", "\tspin_unlock(&d->lock);"))
    (f,) = _review(tree, diff)
    first, _ = _function("dev_update")
    assert (f.rule, f.line) == ("CON003", first + 4)
    assert f.message == (
        f"dev_sync() under spin_lock(&d->lock) taken at line {first + 2}; dev_sync() may "
        "sleep: it calls dev_wait() -> wait_for_completion() (drivers/dev/core.c:6)")
    assert _review(None, diff) == []  # a tree fact: no index, no finding
    shown = f"{f.file}:{f.line}: {f.rule} {f.severity}: {f.message} (in {f.function}())"
    assert f"    {shown}\n" in (ROOT / "README.md").read_text()  # README's sample is real


def test_added_lock_wraps_unchanged_sleeping_code(tree: Path) -> None:
    first, old = _function("dev_sync")
    diff = (f"diff --git a/drivers/dev/core.c b/drivers/dev/core.c\nindex 1111111..2222222 "
            f"100644\n--- a/drivers/dev/core.c\n+++ b/drivers/dev/core.c\n"
            f"@@ -{first},{len(old)} +{first},{len(old) + 2} @@\n"
            f" {old[0]}\n {old[1]}\n+\tspin_lock(&d->lock);\n {old[2]}\n"
            f"+\tspin_unlock(&d->lock);\n {old[3]}\n {old[4]}\n")
    (f,) = _review(tree, diff)
    assert (f.rule, f.line) == ("CON003", first + 2)
    assert f.message.startswith(f"spin_lock(&d->lock) now covers dev_wait() at line "
                                f"{first + 3}; dev_wait() may sleep: it calls "
                                "wait_for_completion() (drivers/dev/core.c:6)")


@pytest.mark.parametrize("body", [
    # GFP_ATOMIC, GFP_NOWAIT, flags from a variable
    ("\tspin_lock(&d->lock);", "\tp = kmalloc(8, GFP_ATOMIC);",
     "\tq = kzalloc(8, GFP_NOWAIT | __GFP_NOWARN);", "\tr = kmalloc(8, d->gfp);",
     "\tspin_unlock(&d->lock);"),
    # the unlock comes before the sleep
    ("\tspin_lock(&d->lock);", "\td->state = 2;", "\tspin_unlock(&d->lock);",
     "\tdev_sync(d);", "\tmsleep(1);"),
    # the lock dropped around schedule()
    ("\tspin_lock_irq(&d->lock);", "\twhile (d->state) {", "\t\tspin_unlock_irq(&d->lock);",
     "\t\tschedule();", "\t\tspin_lock_irq(&d->lock);", "\t}", "\tspin_unlock_irq(&d->lock);"),
    # a mutex may be held while sleeping; a guarded sleep
    ("\tmutex_lock(&d->mutex);", "\tdev_sync(d);", "\tmutex_unlock(&d->mutex);",
     "\tspin_lock(&d->lock);", "\tif (gfpflags_allow_blocking(d->gfp))",
     "\t\tmsleep(1);", "\tspin_unlock(&d->lock);"),
    # a function that does not sleep by the index; an error path that unlocks and returns
    ("\tspin_lock(&d->lock);", "\tif (d->state) {", "\t\tspin_unlock(&d->lock);",
     "\t\tmsleep(1);", "\t\treturn;", "\t}", "\tdev_poke(d);", "\tspin_unlock(&d->lock);"),
    # conditional locking
    ("\tif (d->irq)", "\t\tspin_lock(&d->lock);", "\tmsleep(1);", "\tif (d->irq)",
     "\t\tspin_unlock(&d->lock);"),
])
def test_quiet_on_the_look_alikes(tree: Path, body: tuple[str, ...]) -> None:
    assert _review(tree, _change("dev_update", _update(*body))) == []


def test_primitives_and_sections_without_an_index() -> None:
    diff = _change("dev_update", _update(
        "\tunsigned long flags;", "", "\tlocal_irq_save(flags);", "\tmsleep(1);",
        "\tlocal_irq_restore(flags);", "\trcu_read_lock();",
        "\tp = kzalloc(sizeof(*p), GFP_KERNEL);", "\trcu_read_unlock();"))
    first, _ = _function("dev_update")
    found = _review(None, diff)
    assert [(f.rule, f.line - first) for f in found] == [("CON003", 5), ("CON003", 8)]
    assert "with interrupts disabled (local_irq_save() at line" in found[0].message
    assert found[1].message.startswith("kzalloc(GFP_KERNEL) in an RCU read-side critical "
                                       "section (rcu_read_lock() at line")


def test_sleep_in_a_hard_irq_handler(tree: Path) -> None:
    first, old = _function("dev_irq")
    new = [*old[:-2], "\tmsleep(1);", *old[-2:]]
    found = _review(tree, _change("dev_irq", new))
    assert [(f.rule, f.line - first) for f in found] == [("CON003", len(old) - 2)]
    assert "in dev_irq(), which runs in hard-irq context (dev_irq(), registered with " \
           "request_irq() at drivers/dev/core.c:" in found[0].message
    assert _review(None, _change("dev_irq", new)) == []


def test_a_patch_that_removes_the_sleep_is_believed(tree: Path) -> None:
    wait = _change("dev_wait", ["static void dev_wait(struct dev *d)", "{",
                                "\tcomplete(&d->done);", "}"])
    sync = _change("dev_update", _update("\tspin_lock(&d->lock);", "\tdev_sync(d);",
                                         "\tspin_unlock(&d->lock);"))
    assert _review(tree, wait, sync) == []  # dev_wait() no longer sleeps after patch 1


def test_lock_taken_in_hard_irq_context_needs_irqsave(tree: Path) -> None:
    diff = _change("dev_update", _update("\tspin_lock(&d->irq_lock);", "\td->state = 2;",
                                         "\tspin_unlock(&d->irq_lock);"))
    (f,) = _review(tree, diff)
    first, _ = _function("dev_update")
    irq, _ = _function("dev_irq")
    registered = next(i for i, ln in enumerate(CORE, start=1) if "request_irq(" in ln)
    assert (f.rule, f.line) == ("CON004", first + 2)
    assert f.message == (
        "spin_lock(&d->irq_lock) leaves interrupts enabled, but the tree also takes "
        "<struct dev*>->irq_lock in hard-irq context: dev_irq() at drivers/dev/core.c:"
        f"{irq + 4} (registered with request_irq() at drivers/dev/core.c:{registered}): "
        "use spin_lock_irqsave()")
    assert _review(None, diff) == []


@pytest.mark.parametrize("body", [
    ("\tunsigned long flags;", "\tspin_lock_irqsave(&d->irq_lock, flags);",
     "\tspin_unlock_irqrestore(&d->irq_lock, flags);"),
    ("\tspin_lock_irq(&d->irq_lock);", "\tspin_unlock_irq(&d->irq_lock);"),
    ("\tspin_lock(&d->lock);", "\tspin_unlock(&d->lock);"),  # no handler takes it
    ("\tspin_lock(&to_dev(d)->irq_lock);",  # a key that does not resolve
     "\tspin_unlock(&to_dev(d)->irq_lock);"),
    ("\tspin_lock(&e->irq_lock);", "\tspin_unlock(&e->irq_lock);"),  # an undeclared base
])
def test_lock_flavour_quiet(tree: Path, body: tuple[str, ...]) -> None:
    assert _review(tree, _change("dev_update", _update(*body))) == []


def test_irq_restore_and_rt_from_the_patch_alone() -> None:
    diff = _change("dev_update", _update(
        "\tunsigned long flags;", "\tspin_lock_irqsave(&d->irq_lock, flags);",
        "\tspin_lock_irq(&d->lock);", "\tspin_unlock_irq(&d->lock);",
        "\tspin_unlock_irqrestore(&d->irq_lock, flags);", "\traw_spin_lock(&d->raw_lock);",
        "\tspin_lock(&d->lock);", "\tspin_unlock(&d->lock);",
        "\traw_spin_unlock(&d->raw_lock);"))
    first, _ = _function("dev_update")
    found = _review(None, diff)
    assert [(f.rule, f.line - first) for f in found] == [("CON004", 4), ("CON004", 8)]
    assert "re-enables interrupts at its unlock, but interrupts are already disabled" \
        in found[0].message
    assert "sleeps on PREEMPT_RT, but it runs under raw_spin_lock(&d->raw_lock)" \
        in found[1].message


# CON004 with 3 lines of context: the hunk shows the lock but not the declaration of its
# object; the tree's own version of the function (same file, else the one of that name)
# says how it keys the same expression.
POLL = """\
#include <linux/dev.h>

void dev_poll(void *data)
{
	struct dev *d = data;
	unsigned long flags;

	d->state = 3;
	d->state = 4;
	d->state = 5;
	spin_lock_irqsave(&d->irq_lock, flags);
	d->state = 0;
	spin_unlock_irqrestore(&d->irq_lock, flags);
}
"""
# two definitions (#ifdef alternatives) that key the same expression differently
ALT = POLL.replace("dev_poll", "dev_alt").replace(
    "\nvoid dev_alt", "\n#ifdef CONFIG_ALT\nvoid dev_alt", 1) + "#else\n" + \
    POLL.split("\n", 2)[2].replace("dev_poll", "dev_alt").replace(
        "struct dev *d", "struct other *d") + "#endif\n"


@pytest.fixture()
def poll_tree(tmp_path: Path) -> Path:
    top = tmp_path / "linux"
    write_tree(top)
    (top / "drivers/dev/poll.c").write_text(POLL)
    (top / "drivers/dev/alt.c").write_text(ALT)
    build_index(find_tree(top), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    return top


def _plain_lock_hunk(path: str, function: str, text: str) -> str:
    """A 3-line-context hunk of ``path`` (``text``, the tree's copy) turning the first
    spin_lock_irqsave()/spin_unlock_irqrestore() of ``function`` into plain ones."""
    lines = text.splitlines()
    lock = next(i for i, ln in enumerate(lines) if "spin_lock_irqsave" in ln)
    unlock = lock + 2
    heading = next(ln for ln in reversed(lines[:lock]) if ln.startswith("void "))
    assert function in heading
    body = [f" {ln}" for ln in lines[lock - 3:lock]] + [
        f"-{lines[lock]}", f"-{lines[lock + 1]}", f"-{lines[unlock]}",
        "+\tspin_lock(&d->irq_lock);", f"+{lines[lock + 1]}", "+\tspin_unlock(&d->irq_lock);",
        *(f" {ln}" for ln in lines[unlock + 1:unlock + 4])]
    n = len(lines[lock - 3:unlock + 4])
    return (f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n"
            f"+++ b/{path}\n@@ -{lock - 2},{n} +{lock - 2},{n} @@ {heading}\n"
            + "\n".join(body) + "\n")


def test_lock_key_from_the_trees_version_of_the_function(poll_tree: Path) -> None:
    diff = _plain_lock_hunk("drivers/dev/poll.c", "dev_poll", POLL)
    assert "struct dev" not in diff  # the hunk does not show what d is
    (f,) = _review(poll_tree, diff)
    lock = next(i for i, ln in enumerate(POLL.splitlines(), start=1) if "irqsave" in ln)
    assert (f.rule, f.line) == ("CON004", lock)
    assert "leaves interrupts enabled (the code took it with spin_lock_irqsave()), but " \
        "the tree also takes <struct dev*>->irq_lock in hard-irq context: dev_irq() at " \
        "drivers/dev/core.c:" in f.message
    # a file the tree does not have: the one function of that name in the tree
    assert [g.rule for g in _review(poll_tree, diff.replace("dev/poll.c", "new/poll.c"))
            ] == ["CON004"]
    assert _review(None, diff) == []


def test_lock_key_from_the_tree_quiet_when_ambiguous(poll_tree: Path) -> None:
    # the tree's two dev_alt() key d->irq_lock as struct dev's and as struct other's
    diff = _plain_lock_hunk("drivers/dev/alt.c", "dev_alt", ALT)
    assert _review(poll_tree, diff) == []
    # dev_poll() defined in two files, neither the patch's: which one is unknown
    (poll_tree / "drivers/other").mkdir()
    (poll_tree / "drivers/other/poll.c").write_text(POLL)
    build_index(find_tree(poll_tree), jobs=1,
                env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    moved = _plain_lock_hunk("drivers/new/poll.c", "dev_poll", POLL)
    assert _review(poll_tree, moved) == []
    assert [g.rule for g in _review(poll_tree, moved.replace("new/poll.c", "dev/poll.c"))
            ] == ["CON004"]


# CON004's softirq case: a lock the tree takes in a timer callback (softirq context),
# and with spin_lock_bh() in process context.
TIMER = """\
#include <linux/dev.h>

static void dev_tick(struct timer_list *t)
{
	struct dev *d = from_timer(d, t, timer);

	spin_lock(&d->tick_lock);
	d->state++;
	spin_unlock(&d->tick_lock);
}

void dev_start(struct dev *d)
{
	spin_lock_bh(&d->tick_lock);
	d->state = 0;
	spin_unlock_bh(&d->tick_lock);
	timer_setup(&d->timer, dev_tick, 0);
}
"""


@pytest.fixture()
def timer_tree(tmp_path: Path) -> Path:
    top = tmp_path / "linux"
    write_tree(top)
    header = top / "include/linux/dev.h"
    header.write_text(header.read_text().replace(
        "\tint irq;\n", "\tint irq;\n\tspinlock_t tick_lock;\n\tstruct timer_list timer;\n"))
    (top / "drivers/dev/timer.c").write_text(TIMER)
    build_index(find_tree(top), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    return top


def test_lock_taken_in_softirq_context_needs_bh(timer_tree: Path) -> None:
    diff = _change("dev_update", _update("\tspin_lock(&d->tick_lock);", "\td->state = 2;",
                                         "\tspin_unlock(&d->tick_lock);"))
    (f,) = _review(timer_tree, diff)
    first, _ = _function("dev_update")
    assert (f.rule, f.line) == ("CON004", first + 2)
    assert f.message == (
        "spin_lock(&d->tick_lock) leaves bottom halves enabled, but the tree also takes "
        "<struct dev*>->tick_lock in softirq context: dev_tick() at drivers/dev/timer.c:7 "
        "(registered with timer_setup() at drivers/dev/timer.c:17): use spin_lock_bh()")
    assert "softirq runs on this CPU" in f.reply
    assert _review(None, diff) == []


@pytest.mark.parametrize("body", [
    ("\tspin_lock_bh(&d->tick_lock);", "\tspin_unlock_bh(&d->tick_lock);"),
    ("\tspin_lock_irq(&d->tick_lock);", "\tspin_unlock_irq(&d->tick_lock);"),
    ("\tlocal_bh_disable();", "\tspin_lock(&d->tick_lock);", "\tspin_unlock(&d->tick_lock);",
     "\tlocal_bh_enable();"),
    ("\tspin_lock_bh(&d->lock);", "\tspin_lock(&d->tick_lock);",  # nested in a _bh region
     "\tspin_unlock(&d->tick_lock);", "\tspin_unlock_bh(&d->lock);"),
])
def test_softirq_flavour_quiet(timer_tree: Path, body: tuple[str, ...]) -> None:
    assert [f for f in _review(timer_tree, _change("dev_update", _update(*body)))
            if "leaves bottom halves enabled" in f.message] == []


def test_the_softirq_callback_itself_is_quiet(timer_tree: Path) -> None:
    text = TIMER.splitlines()
    diff = ("diff --git a/drivers/dev/timer.c b/drivers/dev/timer.c\nindex 1111111..2222222 "
            "100644\n--- a/drivers/dev/timer.c\n+++ b/drivers/dev/timer.c\n"
            "@@ -7,3 +7,4 @@ static void dev_tick(struct timer_list *t)\n"
            f" {text[6]}\n {text[7]}\n+\td->state++;\n {text[8]}\n")
    assert _review(timer_tree, diff) == []


# CON004's spin_lock_irq() in a function the tree calls with interrupts disabled.
KICK = """\
#include <linux/dev.h>

static void dev_kick(struct dev *d)
{
	d->state = 7;
}

void dev_reset_all(struct dev *d)
{
	unsigned long flags;

	spin_lock_irqsave(&d->irq_lock, flags);
	dev_kick(d);
	spin_unlock_irqrestore(&d->irq_lock, flags);
}
"""


@pytest.fixture()
def kick_tree(tmp_path: Path) -> Path:
    top = tmp_path / "linux"
    write_tree(top)
    (top / "drivers/dev/kick.c").write_text(KICK)
    build_index(find_tree(top), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    return top


def _kick(*body: str) -> str:
    lines = KICK.splitlines()
    old = lines[2:6]
    new = ["static void dev_kick(struct dev *d)", "{", *body, "}"]
    return ("diff --git a/drivers/dev/kick.c b/drivers/dev/kick.c\nindex 1111111..2222222 "
            "100644\n--- a/drivers/dev/kick.c\n+++ b/drivers/dev/kick.c\n"
            f"@@ -3,{len(old)} +3,{len(new)} @@\n"
            + "\n".join([*(f"-{ln}" for ln in old), *(f"+{ln}" for ln in new)]) + "\n")


def test_spin_lock_irq_in_a_function_called_with_interrupts_disabled(kick_tree: Path) -> None:
    diff = _kick("\tspin_lock_irq(&d->lock);", "\td->state = 7;", "\tspin_unlock_irq(&d->lock);")
    (f,) = _review(kick_tree, diff)
    assert (f.rule, f.line) == ("CON004", 5)
    assert f.message == (
        "spin_lock_irq(&d->lock) re-enables interrupts at its unlock, but dev_reset_all() "
        "calls dev_kick() with interrupts disabled, under an _irqsave/_irq lock "
        "(drivers/dev/kick.c:13): use spin_lock_irqsave()")
    assert _review(None, diff) == []
    # irqsave is right whatever the caller; a plain lock is not this case
    assert _review(kick_tree, _kick("\tunsigned long flags;",
                                    "\tspin_lock_irqsave(&d->lock, flags);",
                                    "\tspin_unlock_irqrestore(&d->lock, flags);")) == []
    assert _review(kick_tree, _kick("\tspin_lock(&d->lock);", "\tspin_unlock(&d->lock);")
                   ) == []


def test_a_function_that_drops_and_retakes_its_callers_lock_is_quiet(kick_tree: Path) -> None:
    # btrfs's run_delayed_iput_locked(): called under the caller's spin_lock_irq(), it
    # drops that lock and takes it back: the caller's _irq is what it restores
    diff = _kick("\tspin_unlock_irqrestore(&d->irq_lock, flags);", "\td->state = 7;",
                 "\tspin_lock_irq(&d->irq_lock);")
    assert _review(kick_tree, diff) == []


def test_irqs_off_callers_only_where_the_lock_surely_holds(tmp_path: Path) -> None:
    top = tmp_path / "linux"
    write_tree(top)
    (top / "drivers/dev/kick.c").write_text(KICK + """
void dev_lazy(struct dev *d, int x)
{
	spin_lock_irq(&d->irq_lock);
	if (x) {
		spin_unlock_irq(&d->irq_lock);
		dev_poke(d);
	} else {
		spin_unlock_irq(&d->irq_lock);
	}
}
""")
    build_index(find_tree(top), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    source = KnowledgeSource.find(top)
    know = source.get() if source is not None else None
    assert know is not None
    (site,) = know.irqs_off_callers("dev_kick", "drivers/dev/kick.c")
    assert (site.function, site.file, site.line) == ("dev_reset_all", "drivers/dev/kick.c", 13)
    # dev_lazy() releases the lock (in a branch) before it calls dev_poke()
    assert know.irqs_off_callers("dev_poke", "drivers/dev/core.c") == ()


# Calls made in sections that stay atomic on PREEMPT_RT, and calls made with a lock held.
HELD = """\
#include <linux/dev.h>

static void dev_ping(struct dev *d)
{
	d->state = 1;
}

void dev_raw(struct dev *d)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&d->raw_lock, flags);
	dev_ping(d);
	raw_spin_unlock_irqrestore(&d->raw_lock, flags);
}

void dev_irqs_off(struct dev *d)
{
	unsigned long flags;

	local_irq_save(flags);
	dev_tick(d);
	local_irq_restore(flags);
	dev_after(d);
}

void dev_preempt(struct dev *d)
{
	preempt_disable();
	if (d->state) {
		preempt_enable();
		return;
	}
	dev_branch(d);
	preempt_enable();
}

void dev_guards(struct dev *d)
{
	scoped_guard(raw_spinlock, &d->raw_lock) {
		dev_scoped(d);
	}
	dev_out(d);
	guard(preempt)();
	dev_guarded(d);
}

void dev_cond(struct dev *d, int x)
{
	if (x)
		local_irq_disable();
	dev_maybe(d);
	if (x)
		local_irq_enable();
	if (x) {
		local_irq_disable();
	}
	dev_maybe2(d);
}

void dev_plain(struct dev *d)
{
	spin_lock_irq(&d->irq_lock);
	dev_under_spin(d);
	spin_unlock_irq(&d->irq_lock);
	mutex_lock(&d->mutex);
	dev_under_mutex(d);
	mutex_unlock(&d->mutex);
	rcu_read_lock();
	dev_under_rcu(d);
	rcu_read_unlock();
}

void dev_lib_users(struct dev *d)
{
	dev_lib(d);
	local_irq_disable();
	dev_lib2(d);
	local_irq_enable();
}

void dev_lib_more(struct dev *d)
{
	dev_lib(d);
}

void dev_lib_odd(struct dev *d)
{
	local_irq_disable();
	dev_lib(d);
	local_irq_enable();
	dev_lib2(d);
}

static irqreturn_t dev_handler(int irq, void *data)
{
	struct dev *d = data;

	d->state = 3;
	return IRQ_HANDLED;
}

void dev_poll_controller(struct dev *d)
{
	unsigned long flags;

	local_irq_save(flags);
	dev_handler(d->irq, d);
	local_irq_restore(flags);
}

int dev_setup(struct dev *d)
{
	return request_irq(d->irq, dev_handler, 0, "dev", d);
}
"""
CALLEES = "".join(f"void {n}(struct dev *d)\n{{\n\td->state = 2;\n}}\n\n" for n in (
    "dev_tick", "dev_after", "dev_branch", "dev_scoped", "dev_out", "dev_guarded",
    "dev_maybe", "dev_maybe2", "dev_under_spin", "dev_under_mutex", "dev_under_rcu",
    "dev_lib", "dev_lib2"))


@pytest.fixture()
def held_tree(tmp_path: Path) -> Path:
    top = tmp_path / "linux"
    write_tree(top)
    (top / "drivers/dev/held.c").write_text(HELD)
    (top / "drivers/dev/callees.c").write_text(CALLEES)
    build_index(find_tree(top), jobs=1, env={"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    return top


def _know(top: Path) -> Knowledge:
    source = KnowledgeSource.find(top)
    know = source.get() if source is not None else None
    assert know is not None
    return know


def test_rt_atomic_callers_name_what_makes_the_section_atomic(held_tree: Path) -> None:
    know = _know(held_tree)

    def rt(name: str, file: str = "drivers/dev/callees.c") -> list[tuple[str, int, str]]:
        return [(c.site.function, c.site.line, c.describe())
                for c in know.rt_atomic_callers(name, file)]

    held = "drivers/dev/held.c"
    assert rt("dev_ping", held) == [
        ("dev_raw", 13, f"under raw_spin_lock_irqsave(&d->raw_lock) ({held}:12)")]
    assert rt("dev_tick") == [
        ("dev_irqs_off", 22, f"with interrupts disabled by local_irq_save() ({held}:21)")]
    assert rt("dev_scoped") == [
        ("dev_guards", 41, f"under scoped_guard(raw_spinlock, &d->raw_lock) ({held}:40)")]
    assert rt("dev_guarded") == [
        ("dev_guards", 45, f"with preemption disabled by guard(preempt)() ({held}:44)")]
    (call,) = know.rt_atomic_callers("dev_ping", held)
    assert (call.call, call.lock, call.key) == ("raw_spin_lock_irqsave", "&d->raw_lock",
                                                "<struct dev*>->raw_lock")
    # after the section; after a release written in a branch; a section opened under a
    # braceless if, or in a block that ended; spinlock_t, mutex and RCU are not atomic
    # on PREEMPT_RT
    for name in ("dev_after", "dev_branch", "dev_out", "dev_maybe", "dev_maybe2",
                 "dev_under_spin", "dev_under_mutex", "dev_under_rcu"):
        assert rt(name) == [], name


def test_locked_callers_any_lock_but_rcu(held_tree: Path) -> None:
    know = _know(held_tree)

    def locked(name: str) -> list[tuple[str, str, str]]:
        return [(c.site.function, c.written, c.key)
                for c in know.locked_callers(name, "drivers/dev/callees.c")]

    assert locked("dev_under_spin") == [("dev_plain", "spin_lock_irq(&d->irq_lock)",
                                         "<struct dev*>->irq_lock")]
    assert locked("dev_under_mutex") == [("dev_plain", "mutex_lock(&d->mutex)",
                                          "<struct dev*>->mutex")]
    assert locked("dev_scoped") == [("dev_guards", "scoped_guard(raw_spinlock, &d->raw_lock)",
                                     "<struct dev*>->raw_lock")]
    assert locked("dev_under_rcu") == locked("dev_tick") == locked("dev_guarded") == []


def _replace(path: str, text: str, name: str, new: list[str]) -> str:
    """A diff of ``path`` (whose content is ``text``) replacing function ``name``."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if f" {name}(" in ln and not ln[0].isspace())
    end = next(i for i in range(start, len(lines)) if lines[i] == "}")
    old = lines[start:end + 1]
    return (f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n"
            f"+++ b/{path}\n@@ -{start + 1},{len(old)} +{start + 1},{len(new)} @@\n"
            + "\n".join([*(f"-{ln}" for ln in old), *(f"+{ln}" for ln in new)]) + "\n")


def _callee(name: str, *body: str) -> str:
    return _replace("drivers/dev/callees.c", CALLEES, name,
                    [f"void {name}(struct dev *d)", "{", *body, "}"])


def test_spinlock_t_in_a_function_called_from_an_rt_atomic_section(held_tree: Path) -> None:
    locked = ("\tspin_lock(&d->lock);", "\td->state = 2;", "\tspin_unlock(&d->lock);")
    (f,) = _review(held_tree, _callee("dev_tick", *locked))
    assert (f.rule, f.line) == ("CON004", 3)
    assert f.message == (
        "spin_lock(&d->lock) takes a spinlock_t, which sleeps on PREEMPT_RT, but dev_tick() "
        "is called from dev_irqs_off() with interrupts disabled by local_irq_save() "
        "(drivers/dev/held.c:21): use a raw_spinlock_t or move the call")
    (f,) = _review(held_tree, _replace("drivers/dev/held.c", HELD, "dev_ping", [
        "static void dev_ping(struct dev *d)", "{", "\tunsigned long flags;", "",
        "\tspin_lock_irqsave(&d->irq_lock, flags);", "\td->state = 1;",
        "\tspin_unlock_irqrestore(&d->irq_lock, flags);", "}"]))
    assert (f.rule, f.line) == ("CON004", 7)
    assert f.message.endswith(
        "but dev_ping() is called from dev_raw() under raw_spin_lock_irqsave(&d->raw_lock) "
        "(drivers/dev/held.c:12): use a raw_spinlock_t or move the call")
    (f,) = _review(held_tree, _callee("dev_guarded", "\tguard(spinlock)(&d->lock);",
                                      "\td->state = 2;"))
    assert "dev_guarded() is called from dev_guards() with preemption disabled by " \
        "guard(preempt)() (drivers/dev/held.c:44)" in f.message
    assert _review(None, _callee("dev_tick", *locked)) == []


@pytest.mark.parametrize("name,body", [
    # called after the section, after a release in a branch, in no section, under a
    # spinlock_t (a sleeping lock on PREEMPT_RT too)
    ("dev_after", ("\tspin_lock(&d->lock);", "\tspin_unlock(&d->lock);")),
    ("dev_branch", ("\tspin_lock(&d->lock);", "\tspin_unlock(&d->lock);")),
    ("dev_maybe", ("\tspin_lock(&d->lock);", "\tspin_unlock(&d->lock);")),
    ("dev_under_spin", ("\tspin_lock(&d->lock);", "\tspin_unlock(&d->lock);")),
    # a raw spinlock, a trylock
    ("dev_tick", ("\traw_spin_lock(&d->raw_lock);", "\traw_spin_unlock(&d->raw_lock);")),
    ("dev_tick", ("\tif (spin_trylock(&d->lock))", "\t\tspin_unlock(&d->lock);")),
    # it ends its caller's section before it takes the lock
    ("dev_tick", ("\tlocal_irq_enable();", "\tspin_lock(&d->lock);", "\tspin_unlock(&d->lock);",
                  "\tlocal_irq_disable();")),
    # the index declares the lock another type than spinlock_t
    ("dev_tick", ("\tspin_lock(&d->mutex);", "\tspin_unlock(&d->mutex);")),
])
def test_rt_caller_quiet(held_tree: Path, name: str, body: tuple[str, ...]) -> None:
    assert _review(held_tree, _callee(name, *body)) == []


def test_rt_caller_quiet_after_restoring_the_callers_interrupts(held_tree: Path) -> None:
    # bcachefs's rcu_pending_enqueue_list(): it drops the lock its caller took with
    # interrupts disabled, restoring the caller's flags, and takes it back
    diff = _callee("dev_tick", "\tspin_unlock_irqrestore(&d->lock, *flags);",
                   "\td->state = 2;", "\tspin_lock_irqsave(&d->lock, *flags);")
    assert _review(held_tree, diff) == []


def test_rt_caller_needs_half_the_trees_calls(held_tree: Path) -> None:
    # dev_lib() is called atomically by one of its three callers (skb_queue_tail(),
    # mempool_free(): the odd caller is the one to fix); dev_lib2() by one of two
    know = _know(held_tree)
    assert [s.function for s in know.callers("dev_lib", "drivers/dev/callees.c")] == [
        "dev_lib_users", "dev_lib_more", "dev_lib_odd"]
    locked = ("\tspin_lock(&d->lock);", "\tspin_unlock(&d->lock);")
    assert _review(held_tree, _callee("dev_lib", *locked)) == []
    (f,) = _review(held_tree, _callee("dev_lib2", *locked))
    assert "dev_lib2() is called from dev_lib_users() with interrupts disabled" in f.message


def test_rt_caller_quiet_in_a_threaded_interrupt_handler(held_tree: Path) -> None:
    # a handler registered with request_irq() runs in a thread on PREEMPT_RT; a caller
    # that disables interrupts to call it directly (a netpoll controller) is the odd one
    diff = _replace("drivers/dev/held.c", HELD, "dev_handler", [
        "static irqreturn_t dev_handler(int irq, void *data)", "{", "\tstruct dev *d = data;",
        "", "\tspin_lock(&d->lock);", "\td->state = 3;", "\tspin_unlock(&d->lock);",
        "\treturn IRQ_HANDLED;", "}"])
    assert _review(held_tree, diff) == []
