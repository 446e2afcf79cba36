"""An incremental update of the index gives exactly the facts of a full build of the
same tree: random kernel-shaped trees (functions calling each other across files and
directories, sleeping calls and calls under a context test, static and exported
definitions of the same name, macros, interrupt and timer registrations, a sanitizer
directory and panic(), which never "may sleep"), random edits of a few files at a time (a
function removed, added, renamed, moved, made static, a sleeping call added or removed,
a call added, a registration added, a file removed or added, the order of functions
changed), and after each update a full build of the same tree to compare with, fact by
fact (ids replaced by file paths and positions)."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reviewbot.knowledge.build import build_index
from reviewbot.knowledge.location import find_tree, index_path
from reviewbot.knowledge.store import FACT_TABLES, canonical_rows

DIRS = ("mm", "kernel/sched", "drivers/net/a", "drivers/net/b", "drivers/usb",
        "arch/x86/kernel", "arch/arm/kernel", "include/linux", "mm/kasan")
SLEEPS = ("msleep(1);", "mutex_lock(&big_mutex);", "might_sleep();",
          "p = kmalloc(8, GFP_KERNEL);", "if (in_atomic()) msleep(2);")
REGS = ("request_irq(irq, {h}, 0, \"x\", NULL);", "timer_setup(&t, {h}, 0);",
        "tasklet_setup(&tl, {h});")


@dataclass
class Func:
    name: str
    static: bool = False
    calls: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)  # sleeping calls, registrations


def render(funcs: list[Func], header: bool) -> str:
    out = ["#include <linux/kernel.h>\n\n"]
    for f in funcs:
        if f.static and header and f.calls:  # a function-like macro
            out.append(f"#define {f.name}(x) {f.calls[0]}(x)\n\n")
            continue
        head = ("static inline " if header else "static " if f.static else "") + \
            f"void {f.name}(int irq)\n"
        lines = [f"\tif (in_atomic())\n\t\t{c[1:]}(irq);\n" if c.startswith("?")
                 else f"\t{c}(irq);\n" for c in f.calls] + [f"\t{b}\n" for b in f.body]
        out.append(head + "{\n\tvoid *p;\n" + "".join(lines) + "}\n\n")
    return "".join(out)


class Model:
    def __init__(self, rng: random.Random, files: int = 14) -> None:
        self.rng = rng
        self.clock = 1_000_000_000 * 1_000_000_000
        self.pool = [f"fn_{i}" for i in range(60)] + ["panic"]
        self.files: dict[str, list[Func]] = {}
        for i in range(files):
            path = f"{rng.choice(DIRS)}/f{i}.{'h' if i % 5 == 4 else 'c'}"
            self.files[path] = [self.func() for _ in range(rng.randint(1, 6))]

    def func(self) -> Func:
        rng = self.rng
        f = Func(rng.choice(self.pool), rng.random() < 0.3,
                 [("?" if rng.random() < 0.1 else "") + c
                  for c in rng.sample(self.pool, rng.randint(0, 4))])
        if rng.random() < 0.25:
            f.body.append(rng.choice(SLEEPS))
        if rng.random() < 0.2:
            f.body.append(rng.choice(REGS).format(h=rng.choice(self.pool)))
        return f

    def write(self, top: Path, only: list[str] | None = None) -> None:
        for path in only if only is not None else list(self.files):
            target = top / path
            if path not in self.files:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(render(self.files[path], path.endswith(".h")))
            # a new time for every write: a rewrite of the same size within the
            # file system's clock tick would otherwise look unchanged
            self.clock += 1_000_000_000
            os.utime(target, ns=(self.clock, self.clock))

    def edit(self, n: int) -> list[str]:
        """Edit ``n`` files (or remove, or add one); return the paths touched."""
        rng = self.rng
        touched = rng.sample(sorted(self.files), min(n, len(self.files)))
        for path in touched:
            funcs = self.files[path]
            op = rng.randrange(10)
            if op == 0 and funcs:
                funcs.pop(rng.randrange(len(funcs)))
            elif op == 1:
                funcs.insert(rng.randrange(len(funcs) + 1), self.func())
            elif op == 2 and funcs:
                rng.choice(funcs).name = rng.choice(self.pool)
            elif op == 3 and funcs:
                f = rng.choice(funcs)
                f.static = not f.static
            elif op == 4 and funcs:
                rng.choice(funcs).body.append(rng.choice(SLEEPS))
            elif op == 5 and funcs:
                f = rng.choice(funcs)
                f.body = [b for b in f.body if "(" not in b or b.startswith("request")]
            elif op == 6 and funcs:
                rng.choice(funcs).calls.append(rng.choice(self.pool))
            elif op == 7 and funcs:
                rng.choice(funcs).body.append(rng.choice(REGS).format(h=rng.choice(self.pool)))
            elif op == 8:
                rng.shuffle(funcs)
            elif len(self.files) > 4:
                del self.files[path]
        if rng.random() < 0.3:
            path = f"{rng.choice(DIRS)}/new{rng.randrange(1000)}.c"
            self.files[path] = [self.func() for _ in range(rng.randint(1, 4))]
            touched.append(path)
        return touched


def facts(db: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        paths = dict(conn.execute("SELECT id, path FROM files"))
        return {table: sorted(canonical_rows(conn, table, paths), key=repr)
                for table in FACT_TABLES}
    finally:
        conn.close()


@pytest.mark.parametrize("seed", range(int(os.environ.get("KNOWLEDGE_SEEDS", "12"))))
def test_incremental_update_equals_a_full_build(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    top = tmp_path / "linux"
    (top / "kernel/locking").mkdir(parents=True)
    (top / "Kbuild").write_text("obj-y += mm/\n")
    (top / "kernel/locking/mutex.c").write_text(
        "void mutex_lock(struct mutex *lock)\n{\n\tmight_sleep();\n}\n")
    (top / "drivers/irq").mkdir(parents=True)
    (top / "drivers/irq/irq.c").write_text(  # a handler that calls into the random code
        "static void irq_handler(int irq)\n{\n\tfn_1(irq);\n\tfn_2(irq);\n\tfn_3(irq);\n}"
        "\n\nvoid irq_probe(int irq)\n{\n\trequest_irq(irq, irq_handler, 0, \"x\", NULL);"
        "\n}\n")
    model = Model(rng)
    model.write(top)
    inc = {"XDG_CACHE_HOME": str(tmp_path / "inc")}
    ref = {"XDG_CACHE_HOME": str(tmp_path / "ref")}
    build_index(find_tree(top), jobs=1, env=inc)
    seen = {"may_sleep": 0, "contexts": 0}
    for _ in range(8):
        model.write(top, model.edit(rng.randint(1, 4)))
        update = build_index(find_tree(top), jobs=1, env=inc)
        assert not update.full
        shutil.rmtree(tmp_path / "ref", ignore_errors=True)
        build_index(find_tree(top), jobs=1, env=ref)
        got, want = facts(index_path(top, inc)), facts(index_path(top, ref))
        assert got.keys() == want.keys()
        for table in want:
            assert got[table] == want[table], table
        for table in seen:
            seen[table] += len(want[table])
    assert all(seen.values())  # the trees exercise both


def test_a_change_to_the_code_that_makes_the_facts_rebuilds_the_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index built by other extraction code (a reviewbot upgrade: a lock function
    recognised, a call flag added) is not updated file by file, which would mix the
    old code's facts with the new one's: it is rebuilt from scratch."""
    from reviewbot.knowledge import build

    top = tmp_path / "linux"
    (top / "kernel").mkdir(parents=True)
    (top / "Kbuild").write_text("obj-y += kernel/\n")
    (top / "kernel/a.c").write_text("void a(void)\n{\n\tmsleep(1);\n}\n")
    env = {"XDG_CACHE_HOME": str(tmp_path / "c")}
    assert build_index(find_tree(top), jobs=1, env=env).full
    again = build_index(find_tree(top), jobs=1, env=env)
    assert not again.full and again.read == 0
    # the digest reads the code's bytes: another file stands for edited code
    monkeypatch.setattr(build, "FACT_CODE",
                        (*build.FACT_CODE, ("reviewbot.cmap", ("access.py",))))
    upgraded = build_index(find_tree(top), jobs=1, env=env)
    assert upgraded.full and upgraded.read == 1
