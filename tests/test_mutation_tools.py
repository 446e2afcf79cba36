"""benchmarks/mutation_recall.py mutates code, never comments: a READ_ONCE() quoted in a
comment (mmu_interval_read_begin()'s diagram of the locking) is no mutant."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mutation() -> Iterator[ModuleType]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import mutation_recall
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    yield mutation_recall


def test_comments_and_strings_are_blanked_column_for_column(mutation: ModuleType) -> None:
    lines = ["\t/* seq = READ_ONCE(s->seq);", "\t *  spin_lock */",
             "\tx = READ_ONCE(p->x); // READ_ONCE(p->y)", '\tpr_info("READ_ONCE(%d)", v);']
    code = mutation.blank_comments(lines)
    assert [len(c) for c in code] == [len(ln) for ln in lines]
    assert "READ_ONCE" not in code[0] + code[1] + code[3]
    assert code[2].rstrip() == "\tx = READ_ONCE(p->x);"


def test_a_read_once_in_a_comment_is_not_mutated(mutation: ModuleType) -> None:
    lines = ["void f(struct s *p)", "{", "\t/* v = READ_ONCE(p->v); then spin_lock */",
             "\tspin_lock(&p->lock);", "\tp->v = 1;", "\tspin_unlock(&p->lock);", "}"]
    fn = mutation.Function("f.c", "f", 0, lines, lines, mutation.blank_comments(lines))
    assert mutation.double_checked(fn, None) is None
    lines[2] = "\tv = READ_ONCE(p->v);"
    fn = mutation.Function("f.c", "f", 0, lines, lines, mutation.blank_comments(lines))
    mutant = mutation.double_checked(fn, None)
    assert mutant is not None and mutant.new_lines[2] == "\tv = p->v;" and mutant.marked == {2}


RT_TREE = {
    "include/linux/frob.h": "struct frob {\n\traw_spinlock_t raw_lock;\n\tspinlock_t lock;\n"
                            "\tint count;\n};\n",
    "kernel/frob.c": """\
void frob_sync(struct frob *f)
{
	raw_spin_lock(&f->raw_lock);
	f->count++;
	raw_spin_unlock(&f->raw_lock);
}

void frob_reset(struct frob *f)
{
	unsigned long flags;

	local_irq_save(flags);
	frob_sync(f);
	frob_bump(f);
	local_irq_restore(flags);
}

void frob_bump(struct frob *f)
{
	int n = 1;

	f->count += n;
}
""",
}


def test_rt_atomic_mutations(mutation: ModuleType, tmp_path: Path) -> None:
    import os

    from reviewbot.knowledge.lookup import Knowledge
    from tests.knowledge_tree import indexed_tree

    env = {"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]}
    top = tmp_path / "linux"
    top.mkdir()
    for name, text in RT_TREE.items():
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_text(text)
    indexed_tree(top, env)
    know = Knowledge.open(top, env)
    assert know is not None
    lines = RT_TREE["kernel/frob.c"].split("\n")

    def fn(name: str, first: int, last: int) -> object:
        body = lines[first:last]
        return mutation.Function("kernel/frob.c", name, first, body, lines,
                                 mutation.blank_comments(body))

    raw = mutation.raw_to_spinlock(fn("frob_sync", 0, 6), know)
    assert raw is not None and raw.marked == {2, 4}
    assert raw.new_lines[2:5] == ["\tspin_lock(&f->lock);", "\tf->count++;",
                                  "\tspin_unlock(&f->lock);"]
    wrapped = mutation.lock_in_rt_atomic(fn("frob_bump", 17, 23), know)
    assert wrapped is not None and wrapped.marked == {4, 6}
    assert wrapped.new_lines[4:7] == ["\tspin_lock(&f->lock);", "\tf->count += n;",
                                      "\tspin_unlock(&f->lock);"]
    # frob_reset() is called from nowhere atomic
    assert mutation.lock_in_rt_atomic(fn("frob_reset", 7, 16), know) is None
