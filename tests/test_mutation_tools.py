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
