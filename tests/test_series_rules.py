"""The series rules (SER001-SER004) through the whole pipeline, on real ``git
format-patch`` series (fixtures/seriesmap, made by its make.py), with and without the
kernel tree's index, and what they read of a series."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from reviewbot.analysis import PatchAnalysis, SeriesAnalysis
from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.engine.regexsafe import RegexGuard
from reviewbot.engine.schema import Rule
from reviewbot.fetch.local import read_source
from reviewbot.findings import Finding
from reviewbot.knowledge.build import build_index
from reviewbot.knowledge.location import find_tree
from reviewbot.knowledge.lookup import Knowledge
from reviewbot.pipeline import node_kinds, review_messages, review_patch
from reviewbot.ruleset import load_rules
from reviewbot.series.model import Series
from reviewbot.seriesmap import series as series_module
from tests.conftest import FIXTURES
from tests.seriesmap_helpers import series_of
from tests.test_engine import GOOD

RULES = {r.id: r for r in load_rules()}
Found = tuple[int, str, str, int, str]  # patch, rule, file, line, side


def _review(name: str, *ids: str) -> list[tuple[int, Finding]]:
    raw = read_source(str(FIXTURES / "seriesmap" / f"{name}.mbox"), 1 << 26)
    review = review_messages(raw, Settings(), rules=[RULES[i] for i in ids])
    return [(pr.patch.index, f) for s in review.series for pr in s.patches
            for f in pr.findings]


def _where(found: Sequence[tuple[int, Finding]]) -> list[Found]:
    return [(n, f.rule, f.file, f.line, f.side) for n, f in found]


def test_a_patch_that_does_not_build_alone() -> None:
    found = _review("bisect-bad", "SER002")
    assert _where(found) == [
        (1, "SER002", "drivers/misc/widget.c", 17, "new"),
        (3, "SER002", "include/linux/frob.h", 13, "old")]
    used, removed = (f for _, f in found)
    assert used.message == ("uses frob_reset(), which patch 2/4 adds: this patch does "
                            "not build on its own")
    assert used.reply.startswith("frob_reset() is only added in patch 2/4, so this patch "
                                 "does not build on its own")
    assert removed.text.startswith("int frob_old_count(")  # the removed definition
    assert "still uses it until patch 4/4" in removed.reply
    assert _review("bisect-good", "SER002") == []


def test_changes_that_belong_in_another_patch() -> None:
    found = _review("misplaced-bad", "SER001")
    assert _where(found) == [
        (2, "SER001", "drivers/misc/foo.c", 13, "new"),  # fix-up of u16
        (2, "SER001", "drivers/misc/foo.c", 18, "new"),  # re-format (the layout check)
        (2, "SER001", "drivers/misc/foo.c", 24, "new"),  # revert
        (3, "SER001", "include/linux/foo.h", 5, "new")]  # a member only patch 4 uses
    replies = [f.reply for _, f in found]
    assert replies[0] == ("This only changes `u16` to `u32` in lines that patch 1 added: "
                          "please fold it into patch 1.")
    assert replies[2].startswith("This puts back what patch 1 changed here.")
    assert replies[3] == ("Nothing in this patch uses struct foo.grown; patch 4 is the "
                          "first to use it, so this belongs in patch 4.")
    assert _review("misplaced-good", "SER001") == []


def test_the_preview_rules() -> None:
    found = _review("nfc-unrelated", "SER003", "SER004")
    assert _where(found) == [
        (1, "SER004", "drivers/misc/bar.c", 15, "new"),
        (1, "SER004", "drivers/misc/bar.c", 22, "old"),
        (3, "SER003", "drivers/net/baz.c", 8, "new")]
    assert found[0][1].reply.startswith("The commit message says there is no functional "
                                        "change, but this changes `>` to `>=`")
    assert "removes spin_lock()/spin_unlock()" in found[1][1].reply
    assert found[2][1].reply.startswith("How is this change to baz_wait() related to the "
                                        "rest of the patch (")
    preview = {r.id for r in RULES.values() if r.status == "preview"}
    assert {"SER003", "SER004"} <= preview and not {"SER001", "SER002"} & preview


# -- the tree's index ------------------------------------------------------------------

USER = "#include <linux/foo.h>\n\nstatic int frob(struct foo *f)\n{\n\treturn 0;\n}\n"
BUSY = USER.replace("\treturn 0;", "\tif (foo_busy(f))\n\t\treturn -EBUSY;\n\treturn 0;")
EXTRA = "static inline bool foo_busy(struct foo *f)\n{\n\treturn f->busy;\n}\n"


def _series() -> Series:
    """Patch 1 calls foo_busy(); patch 2 adds a foo_busy() in a new header. The knowledge
    fixture tree defines foo_busy() in include/linux/foo.h before the series."""
    return series_of(("frob: refuse a busy foo", "Return -EBUSY.",
                      [("drivers/foo/frob.c", USER, BUSY)]),
                     ("foo: busy helper for the extras", "The extras need it.",
                      [("include/linux/foo_extra.h", None, EXTRA)]))


def _with(series: Series, rules: Sequence[Rule], knowledge: Knowledge | None,
          monkeypatch: pytest.MonkeyPatch) -> list[Found]:
    """Review ``series`` with ``knowledge`` as the index of its tree (what ``check
    --tree`` gives each patch's analysis as ``PatchAnalysis.knowledge``)."""
    monkeypatch.setattr(PatchAnalysis, "knowledge", property(lambda _: knowledge),
                        raising=False)
    analysis = SeriesAnalysis(series, CParser(), node_kinds(rules))
    guard = RegexGuard()
    out: list[Found] = []
    for position, patch in enumerate(series.patches):
        for f in review_patch(analysis.patch(position), rules, guard).findings:
            out.append((patch.index, f.rule, f.file, f.line, f.side))
    return out


def test_what_the_tree_defines_is_not_missing(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    rules = [RULES["SER002"]]
    assert _with(_series(), rules, None, monkeypatch) == [
        (1, "SER002", "drivers/foo/frob.c", 5, "new")]
    tree = tmp_path / "linux"
    shutil.copytree(FIXTURES / "knowledge" / "tree", tree)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    build_index(find_tree(tree), jobs=1, env=env)
    knowledge = Knowledge.open(tree, env)
    assert knowledge is not None
    try:
        assert _with(_series(), rules, knowledge, monkeypatch) == []
    finally:
        knowledge.close()


# -- what a run reads ------------------------------------------------------------------

def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    read: list[int] = []
    real = vars(series_module)["map_patch"]

    def counted(patch, wanted=None, scans=None, new_side=None):  # type: ignore[no-untyped-def]
        read.append(patch.index)
        return real(patch, wanted, scans, new_side)

    monkeypatch.setattr(series_module, "map_patch", counted)
    return read


def test_each_patch_is_read_once_and_only_when_a_rule_needs_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    read = _counting(monkeypatch)
    raw = read_source(str(FIXTURES / "seriesmap" / "bisect-bad.mbox"), 1 << 26)
    every = [RULES[i] for i in ("SER001", "SER002", "SER003", "SER004")]
    review_messages(raw, Settings(), rules=every)
    assert sorted(read) == [1, 2, 3, 4]  # SER002 needs the whole series, once
    read.clear()
    # no patch claims no functional change, changes an earlier patch's lines or adds a
    # hunk of definitions only: nothing is read as C
    review_messages(raw, Settings(), rules=[RULES["SER001"], RULES["SER004"]])
    assert read == []
    # only the patches with two hunks of kernel C files to compare
    review_messages(raw, Settings(), rules=[RULES["SER003"]])
    assert read == [2, 3]
    read.clear()
    review_messages(raw, Settings(), rules=[RULES["STY001"]])
    assert read == []


def test_later_definitions_are_read_from_post_images_alone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SER002 looks for a use before the patch that adds it only when a later patch
    defines a name an earlier patch's added lines show, which it reads from the C
    post-images alone: the later patches of misplaced-bad.mbox add code at column 0
    whose names (``ret``, ...) are on earlier added lines too, which lets the regex gate
    through, but define none of them; bisect-bad.mbox's do."""
    from reviewbot.pipeline import _Input
    from reviewbot.seriesmap.bisect import _defines_what_earlier_added
    from reviewbot.seriesmap.gates import may_use_before_added
    from reviewbot.seriesmap.series import map_series

    read = _counting(monkeypatch)
    found = {}
    for name in ("misplaced-bad", "bisect-bad"):
        raw = read_source(str(FIXTURES / "seriesmap" / f"{name}.mbox"), 1 << 26)
        source = _Input(raw, Settings().limits)
        series = source.series(source.plan(None)[0])
        assert may_use_before_added(series.patches)
        found[name] = _defines_what_earlier_added(map_series(series))
    assert found == {"misplaced-bad": False, "bisect-bad": True}
    assert read == []  # no patch mapped: its pre-image and uses are not read


# -- examples that are whole series ----------------------------------------------------

# test_engine's regex rule (it flags "frobnicate"), with an example of two patches
SERIES_RULE = GOOD.format(name="frob", pattern="frobnicate").split("[[examples]]")[0] + \
    '''[[examples]]
kind = "bad"
path = "a.c"
[[examples.patches]]
subject = "a: first"
message = "The first patch."
code = "int x;"
[[examples.patches]]
subject = "b: second"
message = "The second patch."
'''
TWO_FILES = '''[[examples.patches.files]]
path = "b.c"
code = "int y;"
[[examples.patches.files]]
path = "include/c.h"
before = "int z;"
after = "int z;\\nint frobnicate;  // expect"
'''


def _load(tmp_path: Path, second: str) -> tuple[Rule | None, list[str]]:
    from reviewbot.engine.loader import load_rule

    folder = tmp_path / "rules" / "test"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "frob.toml"
    path.write_text(SERIES_RULE + second)
    return load_rule(path, {})


def test_an_example_patch_with_its_subject_message_and_files(tmp_path: Path) -> None:
    from reviewbot.examples import example_emails, run_example
    from reviewbot.report.explain import render_explain

    rule, errs = _load(tmp_path, TWO_FILES)
    assert rule is not None, errs
    ex = rule.examples[0]
    assert [p.subject for p in ex.patches] == ["a: first", "b: second"]
    assert [path for path, _ in ex.patches[1].file_specs(ex.path)] == ["b.c", "include/c.h"]
    mails, expected = example_emails(rule, 1, ex)
    second = mails[1].data.decode()
    assert "Subject: [PATCH 2/2] b: second" in second and "\nThe second patch.\n" in second
    assert "diff --git a/b.c b/b.c" in second and "+++ b/include/c.h" in second
    lines = second.split("\n")
    assert [lines[n - 1] for n in expected[2]] == ["+int frobnicate;"]
    assert expected[1] == set()
    assert run_example(rule, 1, ex, CParser()).ok
    text = render_explain(rule)
    assert "patch 2/2: b: second\n  | The second patch.\n" in text
    assert "  include/c.h:" in text


@pytest.mark.parametrize(("second", "problem"), [
    ('[[examples.patches.files]]\ncode = "int y;"\n', "files[0]: needs a path"),
    ('code = "int y;"\n' + TWO_FILES, "a patch with files has no code"),
    ('code = "int y;"\nsubjcet = "typo"\n', "patches[1].subjcet: unknown field"),
    ('[[examples.patches.files]]\npath = "b.c"\nsubject = "x"\ncode = "int y;"\n',
     "files[0].subject: unknown field"),
])
def test_bad_example_patches_are_reported(tmp_path: Path, second: str,
                                          problem: str) -> None:
    rule, errs = _load(tmp_path, second)
    assert rule is None and any(problem in e for e in errs), errs


def test_what_a_check_imports_of_the_series_analyses(tmp_path: Path) -> None:
    from tests.test_startup import _modules

    mbox = str(FIXTURES / "seriesmap" / "bisect-bad.mbox")
    default = _modules(["check", mbox, "--fail-on", "never"], tmp_path)
    assert "reviewbot.seriesmap.bisect" in default  # SER002 is stable: it ran
    assert "reviewbot.seriesmap.nfc" not in default  # SER003/SER004 are preview
    assert "reviewbot.seriesmap.unrelated" not in default
    style = _modules(["check", mbox, "--select", "STY001", "--fail-on", "never"], tmp_path)
    assert not any(m.startswith("reviewbot.seriesmap.") and m != "reviewbot.seriesmap.gates"
                   for m in style)
    # one patch that removes nothing: no break and no misplaced change can be there
    one = tmp_path / "one.patch"
    one.write_text("From: A <a@example.org>\nSubject: [PATCH] foo: add foo.c\n\nAdd it.\n"
                   "---\ndiff --git a/drivers/foo.c b/drivers/foo.c\nnew file mode 100644\n"
                   "--- /dev/null\n+++ b/drivers/foo.c\n@@ -0,0 +1,3 @@\n+int foo(void)\n"
                   "+{\n+\treturn 0;\n")
    alone = _modules(["check", str(one), "--fail-on", "never"], tmp_path)
    assert "reviewbot.rules.series.does_not_build_alone.check" in alone
    assert not any(m.startswith("reviewbot.seriesmap.") and m != "reviewbot.seriesmap.gates"
                   for m in alone), sorted(m for m in alone if "seriesmap" in m)


# -- real traffic ----------------------------------------------------------------------

# the analyses each rule reports (SER001's layout case is its own check: reformat)
ANALYSES = {"SER001": ("misplaced/reformat", "misplaced/revert", "misplaced/fixup",
                       "misplaced/only-used-later"),
            "SER002": ("bisect/used-before-added", "bisect/removed-in-use"),
            "SER003": ("unrelated/other-area", "unrelated/other-function"),
            "SER004": ("nfc/behaviour",)}


def test_every_finding_on_every_revision_of_the_traffic_is_a_judged_tp() -> None:
    """What the four rules say on every revision of every series of the traffic and on
    the hvo series is exactly the judged candidates of the analyses, each a TP; the
    seed's "should go into patch 8" is among them."""
    import json

    from reviewbot.evaluate.traffic import read_traffic, review_revisions
    from tests.conftest import CORPUS, ROOT, corpus_path

    traffic = corpus_path("traffic/linux-block-2025-10.mbox") / "traffic" / \
        "linux-block-2025-10.mbox"
    rules = [RULES[i] for i in ANALYSES]
    found = {(x.msgid, x.finding.rule, x.finding.file, x.finding.line, x.finding.side)
             for src in (traffic, CORPUS / "hvo-v4-subset.mbox")
             for x in review_revisions(read_traffic(str(src), Settings()), Settings(),
                                       rules)}
    judged = json.loads((ROOT / "benchmarks" / "judged" /
                         "seriesorg-linux-block-2025-10.json").read_text())["findings"]
    expected = {(j["msgid"], rule, j["file"], j["line"], j["side"]) for j in judged
                for rule, analyses in ANALYSES.items()
                if j["rule"] in analyses and j["verdict"] == "TP"}
    assert found == expected
    assert ("20260121162253.2216580-10-kas@kernel.org", "SER001", "mm/hugetlb_vmemmap.c",
            418, "new") in found


def test_each_post_image_is_scanned_once_for_the_c_mapping_and_the_series_map(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SER002 reads every patch of the series as C, and each patch is also mapped to C
    for its own review: both read the one scan of each hunk's post-image, which the
    series' analysis keeps (``SeriesAnalysis.post_scan``)."""
    import reviewbot.analysis as analysis_module
    import reviewbot.seriesmap.lexer as lexer_module

    scanned: list[int] = []
    posts: set[tuple[str, ...]] = set()
    real_scan = vars(analysis_module)["scan_post_image"]

    def counted(hunk):  # type: ignore[no-untyped-def]
        scanned.append(id(hunk))
        posts.add(tuple(ln.text for ln in hunk.lines if ln.kind != "-"))
        return real_scan(hunk)

    lexed: list[tuple[str, ...]] = []
    real_lex = vars(lexer_module)["scan_lines"]

    def lexing(texts, in_comment=False):  # type: ignore[no-untyped-def]
        lexed.append(tuple(texts))
        return real_lex(texts, in_comment)

    monkeypatch.setattr(analysis_module, "scan_post_image", counted)
    monkeypatch.setattr(lexer_module, "scan_lines", lexing)
    read = _counting(monkeypatch)
    raw = read_source(str(FIXTURES / "seriesmap" / "bisect-bad.mbox"), 1 << 26)
    review_messages(raw, Settings(), rules=[RULES["SER002"], RULES["STY001"]])
    assert sorted(read) == [1, 2, 3, 4] and scanned
    assert len(scanned) == len(set(scanned))  # no hunk's post-image scanned twice
    assert lexed and posts and not posts & set(lexed)  # the lexer read none again
