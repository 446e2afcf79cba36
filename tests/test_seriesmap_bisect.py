"""Bisectability: a patch that uses what a later one adds, or removes what is still used."""

from __future__ import annotations

from reviewbot.seriesmap.bisect import build_breaks
from reviewbot.seriesmap.model import Symbol
from tests.seriesmap_helpers import PatchSpec, fixture, mapped

HDR = "#ifndef _FOO_H\n#define _FOO_H\n\nint foo_start(void);\n\n#endif\n"
USER = "#include <linux/foo.h>\n\nstatic int user(void)\n{\n\treturn foo_start();\n}\n"


def _breaks(*patches: PatchSpec,
            **kw: object) -> list[tuple[str, int, str, str, int | None]]:
    smap = mapped(*patches, **kw)  # type: ignore[arg-type]
    return [(b.kind, b.site.patch, b.site.file, b.symbol.name, b.until)
            for b in build_breaks(smap)]


def _calling(name: str) -> str:
    return USER.replace("\treturn foo_start();\n", f"\t{name}();\n\treturn foo_start();\n")


def _adding(name: str, header: str = HDR) -> str:
    return header.replace("int foo_start(void);\n", f"int foo_start(void);\nvoid {name}(void);\n")


def _body(name: str) -> str:
    return f"#include <linux/foo.h>\n\nvoid {name}(void)\n{{\n}}\n"


def test_the_whole_series_examples() -> None:
    bad = fixture("bisect-bad")
    found = build_breaks(bad)
    assert [(b.kind, b.site.patch, b.site.file, b.site.number, b.symbol, b.until)
            for b in found] == [
        ("used-before-added", 1, "drivers/misc/widget.c", 17, Symbol("function", "frob_reset"),
         2),
        ("removed-in-use", 3, "include/linux/frob.h", 13,
         Symbol("function", "frob_old_count"), 4)]
    assert found[0].message(4) == ("uses frob_reset(), which patch 2/4 adds: this patch does "
                                   "not build on its own")
    assert found[1].evidence.file == "drivers/misc/widget.c" and found[1].evidence.number == 12
    assert found[0].site.line.text == "\tfrob_reset(fd);"
    assert build_breaks(fixture("bisect-good")) == []


def test_a_call_before_the_patch_that_adds_it() -> None:
    assert _breaks(("use", "Use it.", [("drivers/a.c", USER, _calling("foo_new"))]),
                   ("add", "Add it.", [("include/linux/foo.h", HDR, _adding("foo_new")),
                                       ("drivers/foo.c", None, _body("foo_new"))])) == [
        ("used-before-added", 1, "drivers/a.c", "foo_new", 2)]


def test_defined_in_the_same_patch_or_earlier_is_fine() -> None:
    assert _breaks(("both", "Add and use.", [("drivers/a.c", USER, _calling("foo_new")),
                                             ("include/linux/foo.h", HDR, _adding("foo_new")),
                                             ("drivers/foo.c", None, _body("foo_new"))])) == []


def test_a_prototype_is_enough_to_build() -> None:
    """The prototype comes with the caller, the body in a later patch: it compiles
    (whether it links depends on the configuration), so nothing is said."""
    assert _breaks(("use", "Declare and use.", [
        ("drivers/a.c", USER, _calling("foo_new")),
        ("include/linux/foo.h", HDR, _adding("foo_new"))]),
        ("body", "The body.", [("drivers/foo.c", None, _body("foo_new"))])) == []


def test_only_a_declaration_added_later_means_the_body_is_in_the_tree() -> None:
    assert _breaks(("use", "Use it.", [("drivers/a.c", USER, _calling("foo_old"))]),
                   ("export", "Declare it.", [
                       ("include/linux/foo.h", HDR, _adding("foo_old"))])) == []


def test_a_static_function_of_another_file_is_another_function() -> None:
    other = "static void helper(void)\n{\n}\n"
    assert _breaks(("use", "Use the tree's helper.", [
        ("drivers/a.c", USER, _calling("helper"))]),
        ("other", "Another helper.", [("drivers/b.c", None, other)])) == []
    # ... but one added later to the same file is the same one
    assert _breaks(("use", "Use it.", [("drivers/a.c", USER, _calling("helper"))]),
                   ("add", "Add it.", [("drivers/a.c", _calling("helper"),
                                        other + _calling("helper"))])) == [
        ("used-before-added", 1, "drivers/a.c", "helper", 2)]


def test_comments_strings_and_if0_are_not_uses() -> None:
    user = USER.replace("\treturn foo_start();\n",
                        "\t/* foo_new() one day */\n\tpr_info(\"foo_new()\");\n"
                        "#if 0\n\tfoo_new();\n#endif\n\treturn foo_start();\n")
    assert _breaks(("mention", "Mention it.", [("drivers/a.c", USER, user)]),
                   ("add", "Add it.", [("include/linux/foo.h", HDR, _adding("foo_new")),
                                       ("drivers/foo.c", None, _body("foo_new"))])) == []


def test_a_macro_body_compiles_only_where_it_is_used() -> None:
    hdr = HDR.replace("#endif", "#define FOO_WRAP() foo_new()\n\n#endif")
    assert _breaks(("wrap", "A wrapper.", [("include/linux/foo.h", HDR, hdr)]),
                   ("add", "Add it.", [("include/linux/foo.h", hdr, _adding("foo_new", hdr)),
                                       ("drivers/foo.c", None, _body("foo_new"))])) == []


def test_a_moved_declaration_existed_before() -> None:
    """Patch 2 moves FOO_MAX from one header to another: it was in the tree all along."""
    old = HDR.replace("int foo_start", "#define FOO_MAX 16\n\nint foo_start")
    user = USER.replace("return foo_start();", "return foo_start() + FOO_MAX;")
    assert _breaks(("use", "Use the limit.", [("drivers/a.c", USER, user)]),
                   ("move", "Move it.", [("include/linux/foo.h", old, HDR),
                                         ("include/linux/foo_types.h", None,
                                          "#define FOO_MAX 16\n")])) == []


def test_a_macro_named_like_itself_is_a_marker() -> None:
    """``#define foo foo`` says foo exists (an arch override); it does not define it."""
    hdr = HDR.replace("#endif", "#define foo_new foo_new\n\n#endif")
    assert _breaks(("use", "Use it.", [("drivers/a.c", USER, _calling("foo_new"))]),
                   ("mark", "Mark it.", [("include/linux/foo.h", HDR, hdr)])) == []


def test_kconfig_symbols_never_break_the_build() -> None:
    user = USER.replace("\treturn foo_start();\n",
                        "\tif (IS_ENABLED(CONFIG_FOO_FAST))\n\t\treturn 1;\n"
                        "\treturn foo_start();\n")
    kconfig = "config FOO\n\tbool \"Foo\"\n"
    assert _breaks(("use", "Fast path.", [("drivers/a.c", USER, user)]),
                   ("kconfig", "The option.", [("drivers/Kconfig", kconfig,
                                                kconfig + "\nconfig FOO_FAST\n\tbool\n")])) == []


def test_a_pointer_to_a_struct_defined_later_builds() -> None:
    user = USER.replace("static int user", "struct foo_stats;\nstatic struct foo_stats *s;\n\n"
                                           "static int user")
    by_value = USER.replace("static int user", "static struct foo_stats s;\n\nstatic int user")
    hdr = HDR.replace("#endif", "struct foo_stats {\n\tint hits;\n};\n\n#endif")
    later = ("define", "Define it.", [("include/linux/foo.h", HDR, hdr)])
    assert _breaks(("ptr", "Keep a pointer.", [("drivers/a.c", USER, user)]), later) == []
    assert _breaks(("value", "Keep one.", [("drivers/a.c", USER, by_value)]), later) == [
        ("used-before-added", 1, "drivers/a.c", "foo_stats", 2)]


def test_a_member_of_a_known_struct_added_later() -> None:
    hdr = "struct foo {\n\tint a;\n};\n"
    user = ("static int f(struct foo *p)\n{\n\treturn p->a;\n}\n")
    used = user.replace("p->a;", "p->a + p->b;")
    assert _breaks(("use", "Use b.", [("drivers/a.c", user, used)]),
                   ("add", "Add b.", [("include/linux/foo.h", hdr,
                                       hdr.replace("int a;", "int a;\n\tint b;"))])) == [
        ("used-before-added", 1, "drivers/a.c", "b", 2)]


def test_the_tree_knows_what_exists() -> None:
    patches = (("use", "Use it.", [("drivers/a.c", USER, _calling("foo_new"))]),
               ("add", "Add it.", [("include/linux/foo.h", HDR, _adding("foo_new")),
                                   ("drivers/foo.c", None, _body("foo_new"))]))
    asked: list[Symbol] = []

    def tree(symbol: Symbol) -> tuple[str, ...]:
        asked.append(symbol)
        return ("include/linux/foo.h",) if symbol.name == "foo_new" else ()

    assert _breaks(*patches, tree=tree) == []
    assert Symbol("function", "foo_new") in asked
    assert _breaks(*patches, tree=lambda s: ()) == [
        ("used-before-added", 1, "drivers/a.c", "foo_new", 2)]


def test_a_missing_patch_leaves_the_question_open() -> None:
    patches = (("use", "Use it.", [("drivers/a.c", USER, _calling("foo_new"))]),
               ("other", "Something else.", [("drivers/b.c", None, "int b;\n")]),
               ("add", "Add it.", [("include/linux/foo.h", HDR, _adding("foo_new")),
                                   ("drivers/foo.c", None, _body("foo_new"))]))
    assert _breaks(*patches) != []
    assert _breaks(*patches, skip=(2,)) == []


def test_removed_while_still_used() -> None:
    body = "#include <linux/foo.h>\n\nint foo_start(void)\n{\n\treturn 0;\n}\n"
    gone = ("remove", "Remove it.", [("include/linux/foo.h", HDR,
                                      HDR.replace("int foo_start(void);\n", "")),
                                     ("drivers/foo.c", body, "#include <linux/foo.h>\n")])
    fixed = ("convert", "Stop using it.", [("drivers/a.c", USER,
                                            USER.replace("foo_start()", "0"))])
    assert _breaks(gone, fixed) == [("removed-in-use", 1, "include/linux/foo.h",
                                     "foo_start", 2)]
    assert _breaks(fixed, gone) == []  # the user changed first: fine


def test_a_removed_prototype_alone_or_one_if_branch_says_nothing() -> None:
    proto_only = ("remove", "Drop the prototype.", [
        ("include/linux/foo.h", HDR, HDR.replace("int foo_start(void);\n", ""))])
    fixed = ("convert", "Stop using it.", [("drivers/a.c", USER,
                                            USER.replace("foo_start()", "0"))])
    assert _breaks(proto_only, fixed) == []
    branches = HDR.replace("int foo_start(void);\n",
                           "#ifdef CONFIG_FOO\nint foo_start(void);\n#else\n"
                           "static inline int foo_start(void)\n{\n\treturn 0;\n}\n#endif\n")
    one_branch = branches.replace("#else\nstatic inline int foo_start(void)\n{\n"
                                  "\treturn 0;\n}\n", "#else\n")
    assert _breaks(("stub", "Drop the stub.", [("include/linux/foo.h", branches,
                                                 one_branch)]), fixed) == []


def test_a_user_the_series_added_is_not_an_unchanged_user() -> None:
    body = "#include <linux/foo.h>\n\nint foo_start(void)\n{\n\treturn 0;\n}\n"
    added_user = _calling("foo_start")  # patch 1 adds a second call
    assert _breaks(
        ("another call", "Call it twice.", [("drivers/b.c", USER, added_user)]),
        ("remove", "Remove it.", [("drivers/foo.c", body, "#include <linux/foo.h>\n"),
                                  ("include/linux/foo.h", HDR,
                                   HDR.replace("int foo_start(void);\n", ""))]),
        ("convert", "Stop using it.", [("drivers/b.c", added_user,
                                        added_user.replace("\tfoo_start();\n", ""))])) == []


def _long_body(extra: str = "") -> str:
    """A function long enough that a hunk in its middle shows no column-0 line."""
    body = "".join(f"\tx += {k};\n" for k in range(12))
    middle = "".join(f"\tx -= {k};\n" for k in range(12))
    return f"static inline int g(void)\n{{\n\tint x = 0;\n{body}{extra}{middle}\treturn x;\n}}\n"


def test_a_macro_defined_inside_a_body_by_a_later_patch_is_still_read() -> None:
    """The gate that skips reading the series as C (``may_use_before_added``) lets
    through a ``#define`` on an added line with no column-0 line around it."""
    from reviewbot.seriesmap.gates import may_use_before_added

    use = ("use", "Use it.", [("drivers/a.c", USER, USER.replace(
        "\treturn foo_start();\n", "\treturn foo_start() + FOO_LIMIT;\n"))])
    add = ("add", "Add it.", [("include/linux/foo.h", _long_body(),
                               _long_body("#define FOO_LIMIT 4\n"))])
    smap = mapped(use, add)
    assert may_use_before_added(smap.reviewed)
    assert _breaks(use, add) == [("used-before-added", 1, "drivers/a.c", "FOO_LIMIT", 2)]
    # the later patch defines nothing: the series is not read as C for it
    plain = ("add", "Change it.", [("include/linux/foo.h", _long_body(),
                                    _long_body("\tx += FOO_LIMIT;\n"))])
    assert not may_use_before_added(mapped(use, plain).reviewed)
    assert _breaks(use, plain) == []
