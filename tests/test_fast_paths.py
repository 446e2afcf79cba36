"""Fast paths give exactly what the slow definitions they replace give.

Each optimised helper is compared with its plain definition on generated inputs built
from the characters and shapes that decide the answer (Unicode spaces and word
characters, repeated lines, blank lines), so a speed-up can never change a finding.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import re
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from reviewbot.rules.concurrency.lockless_read_needs_read_once.check import is_store
from reviewbot.rules.style.braces_single_statement.check import _FOR_EACH

from reviewbot.cmap import locks
from reviewbot.cmap.access import FragmentAccesses, accesses
from reviewbot.cmap.build import map_file
from reviewbot.cmap.filemap import FileMap, MappedFragment
from reviewbot.cmap.model import LockRegion
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.rows import Rows, intersect, merge
from reviewbot.cmap.scan import ScannedLine, scan_line, scan_lines
from reviewbot.diff.layout import (
    _ANNOUNCED,
    _ANNOUNCEMENTS,
    _STRING,
    _rediff_keys,
    _squash_re,
    edits,
    hunk_edits,
    layout_changes,
    same_tokens,
    squash,
)
from reviewbot.diff.model import Hunk, Line
from reviewbot.diff.parse import parse_diff, split_body
from reviewbot.diff.seqmatch import opcodes
from reviewbot.engine.runner import path_matches
from reviewbot.ruleset import load_rules
from tests.conftest import CORPUS, FIXTURES
from tests.strategies import examples
from tests.test_cmap_index import _maps as tree_mode_maps

ROOT = Path(__file__).resolve().parent.parent
_A_RULE = load_rules()[0]

# characters where str.split()/isalnum() and the regexes' \s/\w could disagree
_TRICKY = ["a", "Z", "_", "1", " ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f",
           "\x85", "\xa0", "\u2028", "\u3000", "é", "²", "٣", "Ⅷ", "\u0300", "ª", "+", "(",
           ";", "\x01", '"', "-", ">"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_TRICKY), max_size=14).map("".join))
def test_squash_is_the_regex_definition(text: str) -> None:
    assert squash(text) == _squash_re(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_squash_on_any_text(text: str) -> None:
    assert squash(text) == _squash_re(text)


_TOKENS = st.lists(st.sampled_from(["x", "=", "1", "ab", "(", "_", "\xe9", "\x01", '"', ";"]),
                   max_size=4)
_SPACES = st.sampled_from(["", "", " ", "\t", "  ", "\xa0", "\u3000", "\x1f"])


@st.composite
def _spaced(draw: st.DrawFn) -> list[str]:
    """Lines that are a few token runs, each spaced in several ways (what makes lines
    equal for ``squash`` and not for ``==``)."""
    bases = draw(st.lists(_TOKENS, min_size=1, max_size=3))
    texts = []
    for _ in range(draw(st.integers(0, 8))):
        tokens = draw(st.sampled_from(bases))
        texts.append("".join(draw(_SPACES) + t for t in tokens) + draw(_SPACES))
    return texts


_SPACED = _spaced()


@settings(max_examples=examples(500), deadline=None)
@given(_SPACED)
def test_rediff_keys_are_equal_exactly_where_squash_is(texts: list[str]) -> None:
    hunk = _hunk([(" ", t) for t in texts])
    keys = _rediff_keys(hunk)
    sq = [squash(t) for t in texts]
    assert len(keys) == len(texts)
    assert [[k == m for m in keys] for k in keys] == [[s == t for t in sq] for s in sq]


@settings(max_examples=examples(500), deadline=None)
@given(_SPACED, _SPACED)
def test_same_tokens_is_its_definition(removed: list[str], added: list[str]) -> None:
    want = squash(" ".join(removed)) == squash(" ".join(added)) and _STRING.findall(
        "\n".join(removed)) == _STRING.findall("\n".join(added))
    assert same_tokens(removed, added) == want


_WORDS = st.sampled_from(["", "}", "{", "return 0;", "x = 1;", "y = 2;"])


@settings(max_examples=examples(1000), deadline=None)
@given(st.lists(_WORDS, max_size=8), st.lists(_WORDS, max_size=8), st.booleans())
def test_opcodes_are_difflibs(a: list[str], b: list[str], same: bool) -> None:
    if same:
        b = list(a)
    want = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    assert opcodes(a, b) == want


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(_WORDS, max_size=40), st.lists(_WORDS, max_size=40))
def test_opcodes_are_difflibs_on_long_runs(a: list[str], b: list[str]) -> None:
    want = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    assert opcodes(a, b) == want


_HUNK_LINES = st.lists(st.tuples(st.sampled_from(["+", "-", " "]), st.sampled_from(
    ["", " ", "}", "\t}", "{", "return 0;", "\treturn 0;", "x = 1;", "x  =  1;", "\tx\t= 1;",
     "foo(a,", "    b);", "foo(a, b);", 'pr("a  b");', 'pr("a b");'])), max_size=14)


def _hunk(spec: list[tuple[str, str]]) -> Hunk:
    lines, old, new = [], 1, 1
    for n, (kind, text) in enumerate(spec):
        lines.append(Line(kind, text, None if kind == "+" else old,  # type: ignore[arg-type]
                          None if kind == "-" else new, n + 2))
        old += kind != "+"
        new += kind != "-"
    return Hunk(1, old - 1, 1, new - 1, "", tuple(lines), 1)


def _assert_runs_are_the_edits(hunk: Hunk) -> None:
    a = [squash(ln.text) for ln in hunk.lines if ln.kind != "+"]
    b = [squash(ln.text) for ln in hunk.lines if ln.kind != "-"]
    assert opcodes(a, b) == difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    full, runs = hunk_edits(hunk), edits(hunk)
    assert layout_changes(hunk, runs) == layout_changes(hunk, full)
    assert [e for e in runs if e.kind != "same"] == [e for e in full if e.kind != "same"]
    assert [ln for e in runs for ln in e.pre] == [ln for e in full for ln in e.pre]


@settings(max_examples=examples(600), deadline=None)
@given(_HUNK_LINES)
def test_merged_runs_give_the_layout_changes_of_the_edits(spec: list[tuple[str, str]]
                                                            ) -> None:
    _assert_runs_are_the_edits(_hunk(spec))


def test_merged_runs_on_the_corpus_fixtures_and_synthetic_series(corpus: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import synth
    finally:
        sys.path.pop(0)
    paths = sorted(corpus.glob("*.patch")) + sorted((FIXTURES / "series").glob("*.mbox"))
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
    hunks = [h for text in [*texts, *synth.messages(200)] for part in text.split("\nFrom ")
             for fdiff in parse_diff(split_body(part).diff or "", 1) for h in fdiff.hunks]
    assert len(hunks) > 500
    for hunk in hunks:
        _assert_runs_are_the_edits(hunk)


_PLAIN_ANNOUNCED = re.compile("|".join(_ANNOUNCEMENTS), re.IGNORECASE)
_PIECES = ["white", "space", " ", "-", "coding", "style", "indent", "re", "ation", "fix",
           "blank line", "clang-format", "CHECKPATCH", "Cosmetic", "\u017ftyle", "\u212a",
           "\u0130", "\u0131ndent", "x", "\n", "empty", "format", "ting", "code"]


@settings(max_examples=examples(800), deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=10).map("".join))
def test_announced_is_the_plain_alternation(text: str) -> None:
    assert all(a[0].isalpha() for a in _ANNOUNCEMENTS)  # what the lookahead relies on
    assert bool(_ANNOUNCED.search(text)) == bool(_PLAIN_ANNOUNCED.search(text))


_GLOBS = st.lists(st.sampled_from(["*.c", "*.h", "*", "mm/*", "*/x*.c", "*a*b", "[!a]*",
                                    "[a-c]?.c", "Makefile", "*.[ch]", "**", "x?y", "\\*"]),
                  max_size=3).map(tuple)
_PATHS = st.lists(st.sampled_from(["mm/", "a", "b", "x", "y", ".c", ".h", "/", "Makefile",
                                   "*", "\n", "\u00e9"]), max_size=6).map("".join)


@settings(max_examples=examples(800), deadline=None)
@given(_GLOBS, _GLOBS, _PATHS)
def test_path_matches_is_fnmatchcase(paths: tuple[str, ...], exclude: tuple[str, ...],
                                     path: str) -> None:
    rule = dataclasses.replace(_A_RULE, paths=paths, exclude_paths=exclude)

    def hit(globs: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatchcase(path, g)
                   or fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], g) for g in globs)

    assert path_matches(rule, path) == (hit(paths) and not hit(exclude))


# -------------------------------------------------------------- C mapping (cmap)

def _corpus_maps(parser: CParser) -> list[FileMap]:
    maps = []
    for path in sorted(CORPUS.glob("*.patch")) + sorted((FIXTURES / "series").glob("*.mbox")):
        for part in path.read_text(encoding="utf-8", errors="replace").split("\nFrom "):
            body = split_body(part)
            if not body.diff:
                continue
            for fdiff in parse_diff(body.diff):
                if fdiff.maps_to_c:
                    maps.append(map_file(fdiff, parser, kinds=_GROUPS))
    return maps


def _row_choices(fmap: FileMap, mf: MappedFragment) -> list[Rows | None]:
    n = len(mf.fragment.rows)
    return [None, mf.added_rows, ((0, n),), ((0, 0),), ((2, 5), (9, 9)),
            merge((r, r + 1) for r in range(0, n, 3)),
            mf.rows_of_spans([(fn.start, fn.end) for fn in fmap.functions[1:]])]


def test_stores_are_the_writes_of_the_accesses(corpus: Path) -> None:
    # CON001's evidence keys work out only the stores' accesses (``is_store``)
    parser = CParser()
    maps = _corpus_maps(parser) + tree_mode_maps(parser)
    marks = (frozenset({"READ_ONCE"}), frozenset({"WRITE_ONCE", "cmpxchg", "xchg"}))
    checked = 0
    for fmap in maps:
        for mf in fmap.fragments:
            for rows in _row_choices(fmap, mf):
                want = [a for a in accesses(fmap, mf, *marks, rows)
                        if a.kind in ("write", "marked_write")]
                got = FragmentAccesses(fmap, mf, *marks).where(rows,
                                                               lambda n: is_store(n, *marks))
                assert got == want
                checked += len(want)
    assert checked > 50


_RANGES = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 6)), max_size=6).map(
    lambda xs: merge((lo, lo + n) for lo, n in xs))


@settings(max_examples=500, deadline=None)
@given(_RANGES, _RANGES)
def test_intersect_is_the_rows_in_both(a: Rows, b: Rows) -> None:
    def rows(r: Rows) -> set[int]:
        return {x for lo, hi in r for x in range(lo, hi + 1)}

    got = intersect(a, b)
    assert rows(got) == rows(a) & rows(b)
    assert got == merge(got)  # sorted, merged


_C_BITS = ["a", " ", "\t", "{", "}", "/", "*", '"', "'", "\\", ";", "x = 1", "//", "/*", "*/"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_C_BITS), max_size=8).map("".join), max_size=6),
       st.booleans())
def test_scan_lines_is_scan_line_in_turn(lines: list[str], in_comment: bool) -> None:
    want = []
    state = in_comment
    for text in lines:
        s = scan_line(text, state)
        state = s.in_comment_after
        want.append(s)
    got = scan_lines(lines, in_comment)
    assert got == want
    assert all(type(s) is ScannedLine for s in got)


_LOCK_LINES = ["spin_lock(&a->lock);", "spin_unlock(&a->lock);", "mutex_lock(&m);",
               "mutex_unlock(&m);", "guard(mutex)(&m);", "scoped_guard(spinlock, &s) {",
               "{", "}", "x = 1;", "up_read(&sem);", "take(&a->lock);", "if (y) {"]


def _lock_regions_walk(lines: list[tuple[int, str]], function: str | None,
                       last_known: bool) -> list[LockRegion]:
    """lock_regions as it was before its early answers: every line walked."""
    if not lines:
        return []
    regions: list[LockRegion] = []
    open_: dict[str, tuple[str, int]] = {}
    taken: dict[str, tuple[str, int]] = {}  # the last acquire of each lock, even released
    released: dict[str, int] = {}  # index in ``lines`` after the last release of a lock
    depth = 0
    guards: list[tuple[str, str, int, int]] = []  # lock, call, start, depth
    first, last = lines[0][0], lines[-1][0]
    for index, (number, code) in enumerate(lines):
        calls = any(k in code for k in locks._HINTS)  # else no lock call or guard on the line
        for m in locks._GUARD.finditer(code) if calls else ():
            kind, arg = m.group(2), m.group(3)
            lock = locks.normalize_lock(arg.rstrip(") "))
            guards.append((lock, f"{m.group(1)}({kind})", number,
                           depth + (1 if m.group(1) == "scoped_guard" else 0)))
        for m in locks._CALL.finditer(code) if calls else ():
            name = m.group(1)
            if name in locks.RELEASE:
                base = locks.RELEASE[name]
                lock = locks.normalize_lock(m.group(2), base)
                if lock in open_:
                    call, start = open_.pop(lock)
                    regions.append(LockRegion(lock, call, start, number, function))
                elif lock in taken:
                    call, start = taken[lock]
                    regions.append(LockRegion(lock, call, start, number, function))
                else:
                    helper = locks._helper_acquire(lines[released.get(lock, 0):index], lock)
                    if helper is not None:
                        regions.append(LockRegion(lock, helper[0], helper[1], number,
                                                  function))
                    else:
                        regions.append(LockRegion(lock, base, first, number, function,
                                                  start_known=False))
                released[lock] = index + 1
            else:
                lock = locks.normalize_lock(m.group(2), name)
                open_[lock] = taken[lock] = (name, number)
        depth += code.count("{") - code.count("}")
        while guards and depth < guards[-1][3]:
            lock, call, start, _ = guards.pop()
            regions.append(LockRegion(lock, call, start, number, function))
    for lock, (call, start) in open_.items():
        regions.append(LockRegion(lock, call, start, last, function, end_known=last_known))
    for lock, call, start, _ in guards:
        regions.append(LockRegion(lock, call, start, last, function, end_known=last_known))
    return regions


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_LOCK_LINES), max_size=10), st.booleans())
def test_lock_regions_is_the_walk(lines: list[str], last_known: bool) -> None:
    numbered = list(enumerate(lines, start=10))
    assert locks.lock_regions(numbered, "f", last_known) == _lock_regions_walk(
        numbered, "f", last_known)


# one query per hunk fragment (cmap.nodes) gives what a query per group gave

_C_PIECES = ["int a;", "struct page *p = q + 1;", "p[3] += 2 - 1;", "a - 4 + b[5]",
             "if (x) {", "} else {", "}", "{",
             "for (;;)", "while (n--)", "do {", "} while (0);", "x->y[2] = z.w;",
             "foo(a, b);", "list_for_each(p, h)", "return s->t;", "(", ")", ";",
             "static int f(struct s *s,", "int n)", "#define X 1", "/* c */"]


def _nodes_are_finds(mf: MappedFragment) -> None:
    """A hunk's fragment answers ``nodes`` from the one search made when it was mapped:
    exactly what a search of its own gives, on any rows."""
    parser = mf.parser
    assert parser is not None and mf.batch
    n = len(mf.fragment.rows)
    for kinds in mf.batch:
        for rows in (None, ((0, n),), ((1, 2),), ((0, 0), (3, 5)), ()):
            assert [x.id for x in mf.nodes(kinds, rows)] == [
                x.id for x in parser.find(mf.root, kinds, rows)], (kinds, rows)


_GROUPS = (("if_statement", "for_statement", "while_statement", "do_statement",
            "expression_statement"), ("field_expression", "subscript_expression"),
           ("binary_expression", "subscript_expression", "assignment_expression"))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_C_PIECES), max_size=12).map("\n".join))
def test_find_groups_is_a_find_per_group(text: str) -> None:
    parser = CParser()
    root = parser.parse(text).root_node
    got = parser.find_groups(root, _GROUPS)
    assert [[n.id for n in g] for g in got] == [[n.id for n in parser.find(root, g)]
                                                for g in _GROUPS]
    patch = ("diff --git a/x.c b/x.c\n--- /dev/null\n+++ b/x.c\n"
             f"@@ -0,0 +1,{text.count(chr(10)) + 1} @@\n"
             + "".join(f"+{line}\n" for line in text.split("\n")))
    for fdiff in parse_diff(patch):
        for mf in map_file(fdiff, parser, kinds=_GROUPS).fragments:
            _nodes_are_finds(mf)


def test_batched_nodes_are_the_finds_on_the_corpus(corpus: Path) -> None:
    parser = CParser()
    checked = 0
    for fmap in _corpus_maps(parser):
        for mf in fmap.fragments:
            _nodes_are_finds(mf)
            checked += sum(len(nodes) for nodes in mf.batch.values())
    assert checked > 300


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(["for", "_", "each", "fore", "ach", "f", "or", "x", "1",
                                 " ", "\n"]), max_size=8).map("".join))
def test_for_each_names_spell_what_braces_looks_for(name: str) -> None:
    # braces._candidates skips a fragment's statements when its text spells neither
    if _FOR_EACH.search(name):
        assert "for_" in name or "foreach" in name
