"""C mapping on hunk fragments: functions, lock regions, declarations."""

from __future__ import annotations

import pytest

from reviewbot.cmap.build import map_file
from reviewbot.cmap.fragment import heading_function
from reviewbot.cmap.locks import normalize_lock
from reviewbot.cmap.parser import CParser
from reviewbot.diff.parse import parse_diff


@pytest.fixture(scope="module")
def parser() -> CParser:
    return CParser()


HUNK_IN_FUNCTION = """\
diff --git a/mm/x.c b/mm/x.c
--- a/mm/x.c
+++ b/mm/x.c
@@ -100,6 +100,13 @@ static struct page *get_tail(unsigned int order, int node)
 	unsigned long pfn;
 	struct page *tail, *p;
 
+	pfn = NODE_DATA(node)->tails[order];
+	spin_lock(&hugetlb_lock);
+	if (!NODE_DATA(node)->tails[order])
+		NODE_DATA(node)->tails[order] = pfn;
+	spin_unlock(&hugetlb_lock);
+	list_for_each_entry(p, &head, lru)
+		put_page(p);
 	return pfn_to_page(pfn);
 }
 
"""


def test_function_from_heading_and_locks(parser: CParser) -> None:
    fmap = map_file(parse_diff(HUNK_IN_FUNCTION)[0], parser)
    fn = fmap.function_at(103)
    assert fn is not None and fn.name == "get_tail" and not fn.complete
    assert fmap.function_at(108) is fn
    assert [r.lock for r in fmap.locks_at(105)] == ["hugetlb_lock"]
    assert fmap.locks_at(103) == () and fmap.locks_at(107) == ()
    d = fmap.decl("p", 108)
    assert d is not None and d.type == "struct page" and d.pointer == 1
    assert fmap.unmapped == ()


WHOLE_FUNCTIONS = """\
diff --git a/mm/y.c b/mm/y.c
--- a/mm/y.c
+++ b/mm/y.c
@@ -10,3 +10,18 @@ int other(void)
 	return 0;
 }
 
+static __meminit unsigned long alloc_tail(struct page *start, int node)
+{
+	guard(mutex)(&tail_mutex);
+	return start->flags;
+}
+
+static void walk(struct zone *zone)
+{
+	unsigned long flags;
+
+	spin_lock_irqsave(&zone->lock, flags);
+	zone->nr = 0;
+	spin_unlock_irqrestore(&zone->lock, flags);
+	zone->x = 1;
+}
"""


def test_whole_functions_guard_and_irqsave(parser: CParser) -> None:
    fmap = map_file(parse_diff(WHOLE_FUNCTIONS)[0], parser)
    a = fmap.function_at(14)
    assert a is not None and a.name == "alloc_tail" and a.complete
    assert (a.start, a.end) == (13, 17)
    assert [r.lock for r in fmap.locks_at(16)] == ["tail_mutex"]
    w = fmap.function_at(24)
    assert w is not None and w.name == "walk"
    assert [r.lock for r in fmap.locks_at(24)] == ["zone->lock"]
    assert fmap.locks_at(26) == ()
    other = fmap.function_at(10)
    assert other is not None and other.name == "other"
    d = fmap.decl("start", 16)
    assert d is not None and d.type == "struct page"


def test_heading_function() -> None:
    assert heading_function("static int __hugetlb_vmemmap_restore_folio(const struct "
                            "hstate *h,") == "__hugetlb_vmemmap_restore_folio"
    assert heading_function("static struct page *vmemmap_get_tail(unsigned int order,") \
        == "vmemmap_get_tail"
    assert heading_function("struct memory_failure_stats {") is None
    assert heading_function("") is None
    assert heading_function("static int x = foo(3);") is None


def test_normalize_lock() -> None:
    assert normalize_lock("&hugetlb_lock)") == "hugetlb_lock"
    assert normalize_lock("&zone->lock, flags)") == "zone->lock"
    assert normalize_lock("mm)", "mmap_read_lock") == "mm->mmap_lock"
    assert normalize_lock("&vma->vm_mm->page_table_lock)") == "vma->vm_mm->page_table_lock"


def test_kernel_macros_do_not_drop_hunks(parser: CParser) -> None:
    diff = """\
diff --git a/k.c b/k.c
--- a/k.c
+++ b/k.c
@@ -1,2 +1,9 @@
 #include <x.h>
 
+static DEFINE_SPINLOCK(lock);
+SYSCALL_DEFINE2(frob, int, a, int, b)
+{
+	scoped_guard(spinlock, &lock) {
+		a++;
+	}
+}
"""
    fmap = map_file(parse_diff(diff)[0], parser)
    assert fmap.function_at(7) is not None
    assert [r.lock for r in fmap.locks_at(7)] == ["lock"]
    # every added line is either mapped to a function or reported as unmapped
    for n in fmap.added:
        assert fmap.function_at(n) is not None or n < 4 or any(
            u.line == n for u in fmap.unmapped)


ARRAYS_AND_HEADERS = """\
diff --git a/mm/z.c b/mm/z.c
--- a/mm/z.c
+++ b/mm/z.c
@@ -40,6 +40,22 @@ static int __init early_thing(struct zone *zone,
 	int a;
 	struct page *pages[4], *one, **pp;
 
+	return 0;
+}
+
+static __meminit struct page *
+get_tail(unsigned int order, struct zone *zone)
+{
+	struct frob st;
+
+	st.x = zone->tails[order];
+	spin_lock(&zone->lock);
+	WRITE_ONCE(zone->tails[order], NULL);
+	zone->nr++;
+	spin_unlock(&zone->lock);
+	return READ_ONCE(zone->tails[order]) + sizeof(zone->tails[0]);
+}
+
 int other(void)
 {
 	return 1;
"""


def test_array_dimensions_and_levels(parser: CParser) -> None:
    fmap = map_file(parse_diff(ARRAYS_AND_HEADERS)[0], parser)
    pages, one, pp = (fmap.decl(n, 43) for n in ("pages", "one", "pp"))
    assert pages is not None and (pages.pointer, pages.array, pages.level) == (1, 1, 2)
    assert one is not None and (one.pointer, one.array, one.level) == (1, 0, 1)
    assert pp is not None and pp.level == 2


def test_function_headers_and_added_functions(parser: CParser) -> None:
    fmap = map_file(parse_diff(ARRAYS_AND_HEADERS)[0], parser)
    early = fmap.function_at(42)
    assert early is not None and early.name == "early_thing" and not early.complete
    # the header is above the hunk: the hunk heading stands in for it
    assert "__init" in early.signature and not fmap.adds(early)
    tail = fmap.function_at(50)
    assert tail is not None and tail.name == "get_tail" and fmap.adds(tail)
    assert tail.signature.startswith("static __meminit struct page * get_tail(")
    other = fmap.function_at(59)
    assert other is not None and other.name == "other" and not fmap.adds(other)


def test_accesses_keys_and_kinds(parser: CParser) -> None:
    from reviewbot.cmap.access import FragmentAccesses

    fmap = map_file(parse_diff(ARRAYS_AND_HEADERS)[0], parser)
    found = [(a.line, a.text, a.key, a.kind, a.via, a.local)
             for mf in fmap.fragments
             for a in FragmentAccesses(fmap, mf, {"READ_ONCE"}, {"WRITE_ONCE"}).on_rows()]
    assert found == [
        (51, "st.x", "<struct frob>.x", "write", "", True),
        (51, "zone->tails[order]", "<struct zone*>->tails[]", "read", "", False),
        (52, "zone->lock", "<struct zone*>->lock", "lock", "spin_lock", False),
        (53, "zone->tails[order]", "<struct zone*>->tails[]", "marked_write", "WRITE_ONCE",
         False),
        (54, "zone->nr", "<struct zone*>->nr", "write", "", False),
        (55, "zone->lock", "<struct zone*>->lock", "lock", "spin_unlock", False),
        (56, "zone->tails[order]", "<struct zone*>->tails[]", "marked_read", "READ_ONCE",
         False),
    ]  # sizeof(zone->tails[0]) is not evaluated: no access


def test_location_key_of_calls_and_unknown_names(parser: CParser) -> None:
    from reviewbot.cmap.access import FragmentAccesses

    diff = """\
diff --git a/mm/k.c b/mm/k.c
--- a/mm/k.c
+++ b/mm/k.c
@@ -1,1 +1,6 @@
 #include <x.h>
+void f(int node, int nid)
+{
+	a = NODE_DATA(node)->tails[idx];
+	b = NODE_DATA(nid) -> tails[ 3 ] + glob.x;
+}
"""
    fmap = map_file(parse_diff(diff)[0], parser)
    keys = [(a.text, a.key) for mf in fmap.fragments
            for a in FragmentAccesses(fmap, mf, (), ()).on_rows()]
    assert keys == [("NODE_DATA(node)->tails[idx]", "NODE_DATA()->tails[]"),
                    ("NODE_DATA(nid) -> tails[ 3 ]", "NODE_DATA()->tails[]"),
                    ("glob.x", "glob.x")]


def test_hunk_starting_at_the_body_brace_keeps_the_parameters(parser: CParser) -> None:
    diff = """\
diff --git a/mm/a.c b/mm/a.c
--- a/mm/a.c
+++ b/mm/a.c
@@ -10,3 +10,4 @@ static void f(struct page *head)
 {
 	clear(head + 4);
+	clear(head + 5);
 }
"""
    fmap = map_file(parse_diff(diff)[0], parser)
    fn = fmap.function_at(12)
    assert fn is not None and fn.name == "f" and fn.signature.startswith("static void f(")
    d = fmap.decl("head", 12)
    assert d is not None and d.type == "struct page" and d.level == 1
    assert fmap.unmapped == ()


def test_lock_arguments_are_not_data(parser: CParser) -> None:
    from reviewbot.cmap.access import FragmentAccesses

    diff = """\
diff --git a/mm/k.c b/mm/k.c
--- a/mm/k.c
+++ b/mm/k.c
@@ -1,1 +1,8 @@
 #include <x.h>
+void f(struct frob *p)
+{
+	spin_lock_init(&p->lk);
+	pte_unmap_unlock(pte, p->ptl);
+	block_write(p->blocks);
+	clock_set(&p->clock);
+}
"""
    fmap = map_file(parse_diff(diff)[0], parser)
    kinds = [(a.text, a.kind) for mf in fmap.fragments
             for a in FragmentAccesses(fmap, mf, (), ()).on_rows()]
    assert kinds == [("p->lk", "lock"), ("p->ptl", "lock"), ("p->blocks", "read"),
                     ("p->clock", "address")]


def test_blank_annotations_only_whole_words() -> None:
    from reviewbot.cmap.parser import blank_annotations

    text = ("static noinline notrace int xnoinline(void) __must_hold(&l) __init;\n"
            "int __initdata_x, a__init, noinline_y, nonotrace, notrace2;")
    assert blank_annotations(text) == (
        "static " + " " * 8 + " " + " " * 7 + " int xnoinline(void) " + " " * 15 + " "
        + " " * 6 + ";\nint __initdata_x, a__init, noinline_y, nonotrace, notrace2;")


def test_of_key_is_the_accesses_of_that_key_each_worked_out_once(parser: CParser) -> None:
    """Many keys spell one word (``->lock`` of every struct): ``of_key`` gives each
    key's accesses as filtering all of them does, and looks at each location once
    for all the keys of its word (not once per key: quadratic in a huge file)."""
    from reviewbot.cmap.access import FragmentAccesses

    structs = [f"s{i}" for i in range(40)]
    body = "".join(f"+\tx += {s}->lock + {s}->count;\n+\t{s}->lock = 0;\n" for s in structs)
    n = 3 + 2 * len(structs)
    diff = (f"diff --git a/mm/k.c b/mm/k.c\n--- a/mm/k.c\n+++ b/mm/k.c\n@@ -1,1 +1,{n + 1} @@\n"
            " #include <x.h>\n+void f(void)\n+{\n" + body + "+}\n")
    fmap = map_file(parse_diff(diff)[0], parser)
    (mf,) = fmap.fragments
    every = FragmentAccesses(fmap, mf, (), ()).on_rows()
    keys = sorted({a.key for a in every})
    assert len(keys) >= 2 * len(structs)
    accesses = FragmentAccesses(fmap, mf, (), ())
    looked: list[int] = []
    real = accesses._access

    def counted(node):  # type: ignore[no-untyped-def]
        looked.append(node.id)
        return real(node)

    accesses._access = counted  # type: ignore[method-assign]
    for key in keys:
        assert [(a.key, a.line, a.kind) for a in accesses.of_key(key)] == \
            [(a.key, a.line, a.kind) for a in every if a.key == key]
    assert len(looked) == len(set(looked))  # each location once, whatever the keys
