"""Property tests of the shared helpers, each against what it is documented to do: the
whitespace-insensitive comparison (squash, same_tokens, a hunk's edits), rule path
globs (fnmatch's meaning), row-range arithmetic, the C mapping's one search for every
declared node kind, and the prefilters two checks use to skip work (CON001's stores,
STY001's for_each macros), on generated inputs and on every diff of the corpus."""

from __future__ import annotations

import dataclasses
import fnmatch
import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from reviewbot.rules.concurrency.lockless_read_needs_read_once.check import is_store
from reviewbot.rules.style.braces_single_statement.check import _FOR_EACH

from reviewbot.cmap.access import FragmentAccesses
from reviewbot.cmap.build import map_file
from reviewbot.cmap.filemap import FileMap, MappedFragment
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.rows import Rows, intersect, merge
from reviewbot.diff.layout import edits, same_tokens, squash
from reviewbot.diff.model import Hunk, Line
from reviewbot.diff.parse import DiffError, parse_diff, split_body
from reviewbot.engine.runner import path_matches
from reviewbot.fetch.local import split_mbox
from reviewbot.ruleset import load_rules
from reviewbot.series.mail import parse_mail
from tests.conftest import CORPUS, FIXTURES
from tests.strategies import examples

_A_RULE = load_rules()[0]

# ------------------------------------------------------------------- whitespace

# characters where whitespace and word characters are decided (Unicode spaces, letters
# and digits of other scripts, combining marks, control characters)
_TRICKY = ["a", "Z", "_", "1", " ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f",
           "\x85", "\xa0", "\u2028", "\u3000", "é", "²", "٣", "Ⅷ", "\u0300", "ª", "+", "(",
           ";", "\x01", '"', "-", ">"]


def _word(c: str) -> bool:
    return c.isalnum() or c == "_"


@settings(max_examples=examples(3000), deadline=None)
@given(st.one_of(st.lists(st.sampled_from(_TRICKY), max_size=14).map("".join),
                 st.text(max_size=60)))
def test_squash_keeps_a_space_only_between_two_words(text: str) -> None:
    text = text.replace('"', "").replace("' '", "")  # literals: the next test
    out = squash(text)
    assert "".join(out.split()) == "".join(text.split())  # every other character kept
    assert out.split(" ") == out.split() or out == ""  # single spaces, nothing else
    for i, c in enumerate(out):
        if c == " ":
            assert _word(out[i - 1]) and _word(out[i + 1]), (text, out)
    # and a space wherever two words would otherwise run together
    words = text.split()
    for a, b in itertools.pairwise(words):
        if _word(a[-1]) and _word(b[0]):
            assert f"{a[-1]} {b[0]}" in out


_NO_QUOTE = st.text(max_size=30).map(lambda t: t.replace('"', "").replace("'", ""))


@settings(max_examples=examples(1000), deadline=None)
@given(_NO_QUOTE, st.text(max_size=20).map(lambda t: t.replace('"', "").replace("\\", "")),
       _NO_QUOTE)
def test_squash_keeps_string_literals(before: str, inside: str, after: str) -> None:
    """Spacing inside a string literal is content: kept as it is, while the code
    around it is squashed as without it."""
    literal = f'"{inside}"'
    assert squash(before + literal + after) == squash(before) + literal + squash(after)


_TOKENS = st.lists(st.sampled_from(["x", "=", "1", "ab", "(", "_", "é", "\x01", ";",
                                    "foo", "->", "[i]"]), min_size=1, max_size=6)  # no string
_GAPS = st.sampled_from([" ", "\t", "  ", "\xa0", "\u3000", " \t "])


@settings(max_examples=examples(800), deadline=None)
@given(_TOKENS, st.lists(_GAPS, min_size=6, max_size=6),
       st.lists(_GAPS, min_size=6, max_size=6), st.lists(st.booleans(), min_size=6,
                                                         max_size=6))
def test_squash_does_not_see_how_much_whitespace(tokens: list[str], one: list[str],
                                                 two: list[str], spaced: list[bool]) -> None:
    def joined(gaps: list[str]) -> str:
        return tokens[0] + "".join((g if s else "") + t for g, s, t in
                                   zip(gaps, spaced, tokens[1:], strict=False))

    assert squash(joined(one)) == squash(joined(two))


_CODE = st.lists(st.sampled_from(["x", "=", "1", "ab", "(", "_", "é", "\x01", ";", "foo",
                                  "->", "[i]"]), min_size=1, max_size=6)  # no string


@settings(max_examples=examples(500), deadline=None)
@given(_CODE, st.lists(st.integers(0, 6), max_size=3), _GAPS)
def test_rewrapped_lines_have_the_same_tokens(tokens: list[str], cuts: list[int],
                                              indent: str) -> None:
    line = " ".join(tokens)
    pieces, start = [], 0
    for cut in sorted(set(cuts)):
        if 0 < cut < len(tokens):
            pieces.append(" ".join(tokens[start:cut]))
            start = cut
    pieces.append(" ".join(tokens[start:]))
    assert same_tokens([line], [indent + p for p in pieces])
    assert not same_tokens([line], [line + " extra"])
    assert not same_tokens([line], ["".join(tokens) + " zz"])


def test_spacing_inside_a_string_is_not_layout() -> None:
    assert not same_tokens(['pr_info("a  b");'], ['pr_info("a b");'])
    assert same_tokens(['pr_info("a b",', "\tx);"], ['pr_info("a b", x);'])


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


def _edits_are_the_hunk(hunk: Hunk) -> None:
    found = edits(hunk)
    assert [ln for e in found for ln in e.pre] == [ln for ln in hunk.lines if ln.kind != "+"]
    assert [ln for e in found for ln in e.post] == [ln for ln in hunk.lines if ln.kind != "-"]
    for prev, e in zip((None, *found), found, strict=False):
        texts = ([ln.text for ln in e.pre], [ln.text for ln in e.post])
        if e.kind == "same":
            assert texts[0] == texts[1] and not (prev is not None and prev.kind == "same")
        elif e.kind == "layout":  # (lines difflib pairs: equal squash, strings and all)
            assert squash(" ".join(texts[0])) == squash(" ".join(texts[1]))
            assert texts[0] != texts[1]
        else:
            assert not same_tokens(*texts)


@settings(max_examples=examples(600), deadline=None)
@given(_HUNK_LINES)
def test_a_hunks_edits_are_its_lines_compared_without_layout(spec: list[tuple[str, str]]
                                                             ) -> None:
    _edits_are_the_hunk(_hunk(spec))


def _corpus_hunks() -> list[Hunk]:
    """Every hunk of the corpus, a day of list traffic and the fixtures."""
    paths = [*sorted(CORPUS.glob("*.patch")), *sorted(CORPUS.glob("traffic/*.mbox")),
             *sorted((FIXTURES / "series").glob("*.mbox"))]
    out = []
    for path in paths:
        for raw in split_mbox(path.read_bytes(), path.name):
            mail = parse_mail(raw.data)
            try:
                out += [h for f in parse_diff(split_body(mail.body).diff or "") for h in f.hunks]
            except DiffError:
                continue
    return out


def test_the_corpus_hunks_edits(corpus: Path) -> None:
    hunks = _corpus_hunks()
    assert len(hunks) > 1000
    for hunk in hunks:
        _edits_are_the_hunk(hunk)


# ------------------------------------------------------------------- rule paths

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


# ------------------------------------------------------------------- rows

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


# ------------------------------------------------------------------- C mapping

_GROUPS = (("if_statement", "for_statement", "while_statement", "do_statement",
            "expression_statement"), ("field_expression", "subscript_expression"),
           ("binary_expression", "subscript_expression", "assignment_expression"))
_C_PIECES = ["int a;", "struct page *p = q + 1;", "p[3] += 2 - 1;", "a - 4 + b[5]",
             "if (x) {", "} else {", "}", "{",
             "for (;;)", "while (n--)", "do {", "} while (0);", "x->y[2] = z.w;",
             "foo(a, b);", "list_for_each(p, h)", "return s->t;", "(", ")", ";",
             "static int f(struct s *s,", "int n)", "#define X 1", "/* c */"]


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


def _nodes_are_finds(mf: MappedFragment) -> None:
    """A hunk's fragment answers ``nodes`` from the one search made when it was mapped:
    exactly what a search of its own gives, on any rows."""
    assert mf.batch
    n = len(mf.fragment.rows)
    for kinds in mf.batch:
        for rows in (None, ((0, n),), ((1, 2),), ((0, 0), (3, 5)), ()):
            assert [x.id for x in mf.nodes(kinds, rows)] == [
                x.id for x in mf.parser.find(mf.root, kinds, rows)], (kinds, rows)


@settings(max_examples=examples(400), deadline=None)
@given(st.lists(st.sampled_from(_C_PIECES), max_size=12).map("\n".join))
def test_one_search_finds_what_a_search_per_group_finds(text: str) -> None:
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
    checked = 0
    for fmap in _corpus_maps(CParser()):
        for mf in fmap.fragments:
            _nodes_are_finds(mf)
            checked += sum(len(nodes) for nodes in mf.batch.values())
    assert checked > 300


def test_con001_stores_are_the_writes_of_the_accesses(corpus: Path) -> None:
    # CON001's evidence keys work out only the stores' accesses (``is_store``)
    marks = (frozenset({"READ_ONCE"}), frozenset({"WRITE_ONCE", "cmpxchg", "xchg"}))
    checked = 0
    for fmap in _corpus_maps(CParser()):
        for mf in fmap.fragments:
            n = len(mf.fragment.rows)
            for rows in (None, mf.added_rows, ((0, n),), ((2, 5), (9, 9)),
                         mf.rows_of_spans([(fn.start, fn.end) for fn in fmap.functions[1:]])):
                want = [a for a in FragmentAccesses(fmap, mf, *marks).on_rows(rows)
                        if a.kind in ("write", "marked_write")]
                got = FragmentAccesses(fmap, mf, *marks).where(rows,
                                                               lambda n: is_store(n, *marks))
                assert got == want
                checked += len(want)
    assert checked > 50


@settings(max_examples=examples(2000), deadline=None)
@given(st.lists(st.sampled_from(["for", "_", "each", "fore", "ach", "f", "or", "x", "1",
                                 " ", "\n"]), max_size=8).map("".join))
def test_for_each_names_spell_what_braces_looks_for(name: str) -> None:
    # STY001 skips a fragment's statements when its text spells neither
    if _FOR_EACH.search(name):
        assert "for_" in name or "foreach" in name
