"""FileMap.index and the restricted access walks answer exactly what full scans answer."""

from __future__ import annotations

import difflib
import re

import pytest

from reviewbot.cmap.access import FragmentAccesses, key_word, location_nodes
from reviewbot.cmap.build import map_file
from reviewbot.cmap.filemap import FileMap, MappedFragment, file_map
from reviewbot.cmap.model import Decl, FunctionSpan
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.rows import in_rows, merge, row_filter
from reviewbot.diff.parse import parse_diff

POST = """\
#include <linux/mm.h>

static DEFINE_SPINLOCK(frob_lock);
static unsigned long frob_tab[16];
struct frob *frob_global;

static int frob_first(struct frob *f, int n)
{
	struct zone *z = f->zone;
	int i;

	spin_lock(&z->lock);
	z->tails[n] = f->pages[n]->lru.next;
	(f->stats).count++;
	frob_tab[n] = ((struct frob *)f->priv)->count;
	spin_unlock(&z->lock);
	for (i = 0; i < n; i++)
		f->a[f->b[i]] = z
			->tails[i];
	return READ_ONCE(f->count) + sizeof(f->stats);
}

#ifdef CONFIG_FROB
static void frob_dup(struct frob *f)
{
	WRITE_ONCE(f->count, 1);
}
#else
static void frob_dup(struct frob *f)
{
	f->count = 2; /* f->count in a comment */
}
#endif

static void frob_broken(struct frob *f)
{
	f->x = ;
	rcu_assign_pointer(f->ptr, NULL);
	cmpxchg(&f->count, 0, 1);
	(*f->pp)[2] = f->q.r.s;
}

static void frob_last(struct frob *f, struct zone *zone)
{
	struct frob local;

	local.count = f->count;
	mutex_lock(&f->mutex);
	zone->tails[local.count] = frob_global->tails[0];
	frob_tab[f->count] = f->count_max;
	mutex_unlock(&f->mutex);
}

static void frob_new(struct frob *f)
{
	spin_lock(&f->lock);
	f->count_max = f->count;
	spin_unlock(&f->lock);
}
"""
ADDED = ("\tfrob_tab[n] = ((struct frob *)f->priv)->count;",
         "\tf->x = ;",
         "\tzone->tails[local.count] = frob_global->tails[0];")
MARKED = ({"READ_ONCE"}, {"WRITE_ONCE", "cmpxchg", "rcu_assign_pointer"})


@pytest.fixture(scope="module")
def parser() -> CParser:
    return CParser()


def _diff(shifts: tuple[int, ...] = ()) -> str:
    post = POST.rstrip("\n").split("\n")
    new = post.index("static void frob_new(struct frob *f)")
    pre = [line for i, line in enumerate(post)
           if line not in ADDED and i < new - 1]
    body = list(difflib.unified_diff(pre, post, "a/mm/frob.c", "b/mm/frob.c", lineterm="",
                                     n=2))
    hunk = 0
    for i, line in enumerate(body):
        m = re.match(r"@@ -(\d+),(\d+) \+(\d+),(\d+) @@", line)
        if m and shifts:
            d = shifts[min(hunk, len(shifts) - 1)]
            body[i] = (f"@@ -{int(m[1]) + d},{m[2]} +{int(m[3]) + d},{m[4]} @@")
            hunk += 1
    return "diff --git a/mm/frob.c b/mm/frob.c\n" + "\n".join(body) + "\n"


def _maps(parser: CParser) -> list[FileMap]:
    out = []
    for shifts in ((), (9, 4, 0)):
        fdiff = parse_diff(_diff(shifts))[0]
        out.append(map_file(fdiff, parser, POST))
        out.append(map_file(fdiff, parser))
    assert [m.full_file for m in out] == [True, False, True, False]
    whole_shifted = out[2].fragments[0].fragment.rows
    assert None in whole_shifted  # lines renumbered between hunks, some left out
    return out


# the scans the index replaces

def _function_at(fmap: FileMap, line: int) -> FunctionSpan | None:
    best: FunctionSpan | None = None
    for fn in fmap.functions:
        if fn.start <= line <= fn.end and (best is None or fn.end - fn.start
                                             < best.end - best.start):
            best = fn
    return best


def _decl(fmap: FileMap, name: str, line: int) -> Decl | None:
    fn = _function_at(fmap, line)
    best: Decl | None = None
    extra = fmap.expand(fn)[1] if fmap.expand is not None and fn is not None else ()
    for d in fmap.decls + extra:
        if d.name != name or d.line > line:
            continue
        if fn is not None and d.line and not fn.start <= d.line <= fn.end:
            continue
        if best is None or d.line >= best.line:
            best = d
    if best is None:
        for d in fmap.globals:
            if d.name == name and d.line <= line and (best is None or best.line < d.line):
                best = d
    return best


def _adds(fmap: FileMap, fn: FunctionSpan) -> bool:
    name = re.compile(rf"\b{re.escape(fn.name)}\s*\(")
    for n in range(fn.start, min(fn.end, fn.start + 3) + 1):
        if n in fmap.text and name.search(fmap.text[n]):
            return n in fmap.added
    return False


def test_index_answers_what_a_scan_answers(parser: CParser) -> None:
    for fmap in _maps(parser):
        names = {d.name for d in fmap.decls + fmap.globals} | {"f", "z", "nothing"}
        if fmap.expand is not None:
            names |= {d.name for fn in fmap.functions for d in fmap.expand(fn)[1]}
        last = max(fmap.text) + 2
        for line in range(-1, last):
            assert fmap.function_at(line) is _function_at(fmap, line)
            for name in sorted(names):
                assert fmap.decl(name, line) == _decl(fmap, name, line), (name, line)
        for fn in fmap.functions:
            assert fmap.adds(fn) == _adds(fmap, fn)
        assert any(fmap.adds(fn) for fn in fmap.functions) or not fmap.full_file


def test_innermost_function_ties_go_to_the_first(parser: CParser) -> None:
    """Overlapping spans (heuristic ones around tree-sitter ones): the narrowest wins,
    the first of equally narrow ones."""
    spans = (FunctionSpan("outer", 1, 20, "heuristic", True),
             FunctionSpan("a", 3, 8, "tree-sitter", True),
             FunctionSpan("b", 3, 8, "heading", False),
             FunctionSpan("c", 6, 12, "tree-sitter", True),
             FunctionSpan("tiny", 10, 10, "tree-sitter", True),
             FunctionSpan("empty", 15, 14, "heuristic", False))
    fmap = file_map("x.c", (), spans, (), (), {}, frozenset(), (), parser)
    for line in range(0, 23):
        assert fmap.function_at(line) is _function_at(fmap, line), line
    assert [getattr(fmap.function_at(n), "name", None) for n in (2, 4, 7, 10, 15)] == [
        "outer", "a", "a", "tiny", "outer"]


def test_rows_merge_and_overlap() -> None:
    rows = merge([(10, 12), (3, 4), (5, 5), (20, 30), (25, 26)])
    assert rows == ((3, 5), (10, 12), (20, 30))
    overlaps = in_rows(rows)
    assert [overlaps(a, b) for a, b in ((0, 2), (0, 3), (6, 9), (6, 10), (13, 19), (31, 40),
                                        (12, 20), (0, 100))] == [
        False, True, False, True, False, False, True, True]
    assert not in_rows(())(0, 100)


def test_row_filter_is_none_when_every_row_is_wanted(parser: CParser) -> None:
    root = parser.parse("int x;\nint y;\nint z;\n").root_node
    assert row_filter(None, root) is None
    assert row_filter(((0, 3),), root) is None and row_filter(((0, 2),), root) is None
    assert row_filter(((0, 1),), root) is not None  # the last line is left out
    keep = row_filter(((1, 1),), root)
    assert keep is not None and keep(1, 1) and not keep(2, 3)
    assert row_filter(((0, 0), (2, 3)), root) is not None


def _row(mf: MappedFragment, line: int) -> int:
    return mf.fragment.rows.index(line)


def test_accesses_on_some_rows_are_those_of_the_full_walk(parser: CParser) -> None:
    for fmap in _maps(parser):
        for mf in fmap.fragments:
            full = FragmentAccesses(fmap, mf, *MARKED).on_rows()
            assert full  # the fixture has accesses in every fragment
            n = len(mf.fragment.rows)
            choices = [mf.added_rows, ((0, n),), ((0, 0),), ((2, 5), (9, 9)),
                       merge((r, r + 1) for r in range(0, n, 4)),
                       mf.rows_of_spans([(fn.start, fn.end) for fn in fmap.functions[1:]])]
            for rows in choices:
                inside = in_rows(rows)
                want = [a for a in full if inside(_row(mf, a.line), _row(mf, a.line))]
                assert FragmentAccesses(fmap, mf, *MARKED).on_rows(rows) == want, rows
            nodes = location_nodes(mf)
            assert location_nodes(mf, ((0, n),)) == nodes


def test_accesses_of_a_key_are_found_where_its_word_is_spelled(parser: CParser) -> None:
    for fmap in _maps(parser):
        for mf in fmap.fragments:
            full = FragmentAccesses(fmap, mf, *MARKED).on_rows()
            keys = {a.key for a in full}
            assert {"<struct zone*>->tails[]", "<struct frob*>->count"} <= keys or \
                not fmap.full_file
            frag = FragmentAccesses(fmap, mf, *MARKED)
            for key in sorted(keys | {"<struct frob*>->nothing", "frob_tab[]",
                                      "<struct page*>[]"}):
                assert frag.of_key(key) == [a for a in full if a.key == key], key


def test_key_word() -> None:
    assert key_word("<struct zone*>->tails[]") == "tails"
    assert key_word("NODE_DATA()->tails[][]") == "tails"
    assert key_word("frob_tab[]") == "frob_tab"
    assert key_word("NODE_DATA()[]") == "NODE_DATA"
    assert key_word("<struct frob>.q.r.s") == "s"
    assert key_word("<struct page*>[]") is None
    assert key_word("*f->pp[]") == "pp"
    assert key_word("a+b[]") is None
