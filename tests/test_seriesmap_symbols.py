"""Symbols per patch: the lexer, definitions, uses, Kconfig, line origins, visibility."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.diff.model import Line
from reviewbot.seriesmap.cdefs import read_side, side_lines
from reviewbot.seriesmap.cuses import declared_names, side_uses
from reviewbot.seriesmap.kconfig import kconfig_definitions, kconfig_uses, make_uses
from reviewbot.seriesmap.lexer import code_lines
from reviewbot.seriesmap.model import Definition, Site, Symbol
from reviewbot.seriesmap.scope import visible
from reviewbot.seriesmap.tree import index_defines
from tests.seriesmap_helpers import mapped
from tests.strategies import C_LINES, examples

HEADER = """\
#define FOO 1
#define BAR(x) ((x) + 1)
#define baz baz
struct foo {
	int a, *b;
	void (*fn)(int x);
	union {
		long c;
		struct {
			int d;
		};
	};
	struct bar {
		int e;
	} f;
	DECLARE_BITMAP(bits, 4);
	unsigned int g : 3;
};

typedef struct {
	int x;
} foo_t;
typedef int (*cb_t)(void *);
typedef unsigned long ulong_t;

enum mode {
	MODE_A,
	MODE_B = 1 << 2,
	MODE_C = FOO | BAR(2),
};

static DEFINE_MUTEX(my_lock);
static DEFINE_PER_CPU(int, my_pcpu);
int global_count;
static unsigned long tbl[4] = {
	1, 2,
};
extern int ext_var;

__printf(2, 3) int my_log(int lvl, const char *fmt, ...);
static inline int helper(struct foo *f)
{
	int local = f->a;
	return bar(local);
}
int
other_func(int a,
	   int b)
{
	return a;
}
#if 0
static void dead(void)
{
}
#endif
EXPORT_SYMBOL(helper);
struct fwd;
"""


def _added(text: str) -> list[Line]:
    return [Line("+", t, None, n, n) for n, t in enumerate(text.split("\n"), 1)]


def _defs(path: str, text: str, section: str = "") -> list[Definition]:
    return list(read_side(1, path, _added(text), section).definitions)


def test_code_lines_leave_out_comments_strings_and_if0() -> None:
    lines = code_lines(["foo(); /* bar() */", '\tprintf("baz()");', "/* a", " * qux()",
                        " */ quux();", "#if 0", "\tdead();", "#endif", "live();"])
    ids = [[t.text for t in cl.tokens if t.kind == "id"] for cl in lines]
    assert ids[0] == ["foo"]
    assert ids[1] == ["printf"]
    assert ids[2] == ids[3] == []
    assert ids[4] == ["quux"]
    assert [cl.dead for cl in lines[5:9]] == [True, True, True, False]
    assert lines[1].tokens[2].text == '"baz()"'  # a literal keeps its text


def test_definitions_of_every_kind() -> None:
    found = {(d.symbol.kind, d.symbol.name, d.symbol.scope, d.declaration, d.local)
             for d in _defs("include/linux/x.h", HEADER)}
    assert found == {
        ("macro", "FOO", "", False, False), ("macro", "BAR", "", False, False),
        ("struct", "foo", "", False, False), ("struct", "bar", "", False, False),
        ("member", "a", "struct foo", False, False),
        ("member", "b", "struct foo", False, False),
        ("member", "fn", "struct foo", False, False),
        ("member", "c", "struct foo", False, False),  # anonymous union: the outer type's
        ("member", "d", "struct foo", False, False),
        ("member", "e", "struct bar", False, False),
        ("member", "f", "struct foo", False, False),
        ("member", "bits", "struct foo", False, False),
        ("member", "g", "struct foo", False, False),
        ("typedef", "foo_t", "", False, False), ("typedef", "cb_t", "", False, False),
        ("typedef", "ulong_t", "", False, False), ("enum", "mode", "", False, False),
        ("enumerator", "MODE_A", "", False, False),
        ("enumerator", "MODE_B", "", False, False),
        ("enumerator", "MODE_C", "", False, False),
        ("variable", "my_lock", "", False, False),  # static in a header: every includer
        ("variable", "my_pcpu", "", False, False),
        ("variable", "global_count", "", False, False), ("variable", "tbl", "", False, False),
        ("variable", "ext_var", "", True, False),
        ("function", "my_log", "", True, False), ("function", "helper", "", False, False),
        ("function", "other_func", "", False, False), ("struct", "fwd", "", True, False),
    }  # not "dead" (under #if 0), not "baz" (#define baz baz is a marker)


def test_static_and_local_types_in_a_c_file_are_file_local() -> None:
    defs = {d.symbol.name: d for d in _defs(
        "drivers/x.c", "static int a(void)\n{\n}\nint b(void)\n{\n}\n#define C 1\n")}
    assert defs["a"].local and not defs["b"].local and defs["C"].local


def test_a_hunk_inside_a_struct_takes_it_from_the_heading() -> None:
    text = ("\t\t\t\tstruct dev_pagemap *pgmap;\n\t\t\t};\n"
            "\t\t\tstruct address_space *mapping;\n\t\t\tunsigned long share;\n")
    found = {(d.symbol.kind, d.symbol.name, d.symbol.scope)
             for d in _defs("include/linux/mm_types.h", text, "struct folio {")}
    # deeper than the hunk shows: the "};" of a nested block does not end struct folio
    assert found == {("member", "pgmap", "struct folio"),
                     ("member", "mapping", "struct folio"),
                     ("member", "share", "struct folio")}


def test_owners_are_the_functions_and_types_lines_are_in() -> None:
    side = read_side(1, "x.c", _added("\tx = 1;\n}\n\nstatic void g(void)\n{\n\ty();\n}"),
                     "static int f(void)")
    assert side.owners[0] == "f"
    assert side.owners[5] == "g"
    assert side.owners[3] is None


def _uses(text: str, section: str = "") -> set[tuple[str, str, str, str, bool, bool]]:
    side = read_side(1, "drivers/x.c", _added(text), section)
    types = declared_names(side)
    return {(u.how, u.symbol.kind, u.symbol.name, u.symbol.scope, u.complete, u.in_define)
            for u in side_uses(side, "+", 1, "drivers/x.c", types)}


def test_uses_are_classed_by_their_neighbours() -> None:
    uses = _uses("static int f(struct zone *z, struct page *p)\n{\n"
                 "\tstruct foo_stats st;\n\tstruct bar *ptr;\n"
                 "\tz->lock_count++;\n\tfoo(BAR_MAX, p->flags);\n"
                 "\tif (IS_ENABLED(CONFIG_FROB))\n\t\tx = container_of(p, struct page, lru);\n"
                 "\t/* not_a_use() */\n\treturn sizeof(struct baz);\n}\n"
                 "#define WRAP(x) inner(x)\n#ifdef CONFIG_OTHER_MODULE\n#endif\n")
    assert ("member", "member", "lock_count", "struct zone", True, False) in uses
    assert ("member", "member", "flags", "struct page", True, False) in uses
    assert ("member", "member", "lru", "struct page", True, False) in uses
    assert ("call", "function", "foo", "", True, False) in uses
    assert ("name", "variable", "BAR_MAX", "", True, False) in uses
    assert ("config", "config", "FROB", "", True, False) in uses
    assert ("config", "config", "OTHER", "", True, False) in uses  # _MODULE stripped
    assert ("type", "struct", "foo_stats", "", True, False) in uses  # by value
    assert ("type", "struct", "bar", "", False, False) in uses  # a pointer builds alone
    assert ("type", "struct", "baz", "", True, False) in uses  # sizeof
    assert ("call", "function", "inner", "", True, True) in uses  # a macro body
    names = {u[2] for u in uses}
    assert "f" not in names  # the name a line defines
    assert "not_a_use" not in names and "WRAP" not in names


def test_a_designated_initializer_names_its_struct() -> None:
    uses = _uses("static const struct foo_ops ops = {\n\t.open = my_open,\n"
                 "\t.nested = { .inner = 1 },\n};\n")
    assert ("member", "member", "open", "struct foo_ops", True, False) in uses
    assert ("name", "variable", "my_open", "", True, False) in uses


def test_kconfig_and_makefile_symbols() -> None:
    lines = [Line("+", t, None, n, n) for n, t in enumerate(
        ["config FROB_STATS", '\tbool "Frob stats"', "\tdepends on FROB && !COMPILE_TEST",
         "\tselect CRC32 if FROB_FAST # comment NOT_THIS"], 1)]
    assert [d.symbol for d in kconfig_definitions(1, "drivers/Kconfig", lines)] == [
        Symbol("config", "FROB_STATS")]
    assert [u.symbol.name for u in kconfig_uses(1, "drivers/Kconfig", lines)] == [
        "FROB", "COMPILE_TEST", "CRC32", "FROB_FAST"]
    make = [Line("+", "obj-$(CONFIG_FROB) += frob.o", None, 1, 1)]
    assert [u.symbol.name for u in make_uses(1, "drivers/Makefile", make)] == ["FROB"]


def _def(path: str, kind: str = "function", local: bool = False) -> Definition:
    return Definition(Symbol(kind, "x"), Site(1, path, Line("+", "", None, 1, 1)),  # type: ignore[arg-type]
                      local=local)


def test_visibility() -> None:
    assert visible(_def("drivers/a.c", local=True), "drivers/a.c")
    assert not visible(_def("drivers/a.c", local=True), "drivers/b.c")
    assert not visible(_def("drivers/a.c"), "drivers/b.c")  # needs a header's prototype
    assert visible(_def("include/linux/a.h"), "fs/x.c")
    assert visible(_def("drivers/nvme/host/nvme.h"), "drivers/nvme/target/core.c")
    assert not visible(_def("drivers/nvme/host/nvme.h"), "fs/x.c")
    assert not visible(_def("arch/powerpc/include/asm/a.h"), "lib/x.c")
    assert visible(_def("arch/powerpc/include/asm/a.h"), "arch/powerpc/kernel/x.c")
    assert not visible(_def("include/linux/a.h"), "tools/testing/x.c")
    assert visible(_def("drivers/Kconfig", "config"), "fs/x.c")


def test_patch_symbols_defines_removes_renames() -> None:
    before = "int keep(void);\nstatic int old_name(int a)\n{\n\treturn a;\n}\n"
    after = "int keep(void);\nstatic int new_name(int a)\n{\n\treturn a;\n}\n"
    smap = mapped(("rename", "Rename it.", [("drivers/x.c", before, after)]))
    s = smap.patches[0].symbols
    assert [d.symbol.name for d in s.defines] == ["new_name"]
    assert [d.symbol.name for d in s.removes] == ["old_name"]
    assert [(r.old.symbol.name, r.new.symbol.name) for r in s.renames] == [
        ("old_name", "new_name")]
    assert [d.symbol.name for d in s.kept] == ["keep"]


def test_line_origins_follow_the_series() -> None:
    base = "".join(f"line{i};\n" for i in range(20))
    one = base.replace("line5;\n", "line5;\nadded_by_one;\n")
    two = "top;\n" + one  # shifts everything by one
    three = two.replace("added_by_one;\n", "")
    smap = mapped(("one", "1", [("a.c", base, one)]), ("two", "2", [("a.c", one, two)]),
                  ("three", "3", [("a.c", two, three)]))
    pm = smap.patches[2]
    removed = next(ln for hm in pm.hunks for ln in hm.hunk.lines if ln.kind == "-")
    origin = smap.provenance.origin(3, "a.c", removed)
    assert origin is not None and origin.patch == 1 and origin.line.text == "added_by_one;"
    context = next(ln for hm in pm.hunks for ln in hm.hunk.lines if ln.kind == " ")
    assert smap.provenance.origin(3, "a.c", context) is None  # from before the series


@dataclass(frozen=True)
class _Where:
    file: str


@dataclass(frozen=True)
class _Answer:
    kind: str
    site: _Where


class _Index:
    """Answers as the knowledge index's ``defines()`` does (kind and site.file)."""

    def __init__(self, facts: dict[str, list[tuple[str, str]]]) -> None:
        self.facts = facts
        self.asked: list[str] = []

    def defines(self, symbol: str) -> list[_Answer]:
        self.asked.append(symbol)
        return [_Answer(k, _Where(f)) for k, f in self.facts.get(symbol, [])]


def test_index_adapter_spells_and_filters_kinds() -> None:
    index = _Index({"foo": [("function", "mm/foo.c")], "struct page.lru": [
        ("member", "include/linux/mm_types.h")], "CONFIG_FROB": [("kconfig", "Kconfig")],
        "page": [("struct", "include/linux/mm_types.h"), ("function", "x.c")]})
    tree = index_defines(index)
    assert tree(Symbol("function", "foo")) == ("mm/foo.c",)
    assert tree(Symbol("member", "lru", "struct page")) == ("include/linux/mm_types.h",)
    assert tree(Symbol("config", "FROB")) == ("Kconfig",)
    assert tree(Symbol("struct", "page")) == ("include/linux/mm_types.h",)
    assert tree(Symbol("enumerator", "foo")) == ()  # a function is not an enumerator
    assert tree(Symbol("member", "lru")) == ()  # no struct: nothing to ask
    assert "lru" not in index.asked


HOSTILE = [*C_LINES, "typedef struct {", "} foo_t;", "enum {", "\tA, B = (1 << 2),",
           "#if 0", "#else", "#define f f", "\tunion {", "\t} u;", "struct x;",
           "static DEFINE_PER_CPU(int, v);", "int (*fp)(int);", "__printf(1, 2) int g(",
           "\t.a = b,", "= {", "\tcontainer_of(p, struct s, m);", "extern int e;"]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.tuples(st.sampled_from("+- "), st.sampled_from(HOSTILE)), max_size=40),
       st.sampled_from(["", "struct folio {", "static int f(void)", "enum x {", "x = {",
                        "((((", "typedef struct {"]),
       st.sampled_from(["drivers/a.c", "include/linux/a.h", "tools/x.c"]))
def test_any_lines_read_without_error(lines: list[tuple[str, str]], section: str,
                                      path: str) -> None:
    """Whatever a hunk holds, both sides read, every line gets an owner slot, and every
    definition and use is on a line of that side."""
    diff = [Line(k, t, n if k != "+" else None, n if k != "-" else None, n)  # type: ignore[arg-type]
            for n, (k, t) in enumerate(lines, 1)]
    for kind in ("old", "new"):
        side = read_side(1, path, side_lines(diff, kind), section)
        assert len(side.owners) == len(side.lines) == len(side.initializers)
        ids = {id(ln) for ln in side.lines}
        assert all(id(d.site.line) in ids for d in side.definitions)
        uses = side_uses(side, "+- ", 1, path, declared_names(side))
        assert all(id(u.site.line) in ids for u in uses)
