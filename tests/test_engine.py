"""The rule engine: loader validation, every rule example as a test, the three engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reviewbot import ruleset
from reviewbot.cli import main
from reviewbot.cmap.parser import CParser
from reviewbot.engine.loader import load_rule
from reviewbot.engine.schema import Rule
from reviewbot.errors import RuleError
from reviewbot.examples import run_example
from reviewbot.ruleset import load_rules

RULES = load_rules()
PARSER = CParser()


def _cases() -> list[tuple[Rule, int]]:
    return [(r, n) for r in RULES for n in range(1, len(r.examples) + 1)]


@pytest.mark.parametrize(("rule", "n"), _cases(),
                         ids=[f"{r.id}-{r.name}-{n}" for r, n in _cases()])
def test_rule_example(rule: Rule, n: int) -> None:
    result = run_example(rule, n, rule.examples[n - 1], PARSER)
    assert result.ok, f"{rule.source} example {n} ({result.kind}): {result.detail}"


def test_every_rule_has_docs_and_examples() -> None:
    assert RULES
    for rule in RULES:
        kinds = [ex.kind for ex in rule.examples]
        assert kinds.count("bad") >= 1 and kinds.count("good") >= 1, rule.source
        assert rule.docs.what and rule.docs.why and rule.docs.fix


GOOD = """\
id = "TST001"
name = "{name}"
class = "other"
severity = "info"
confidence = "low"
status = "stable"
summary = "test"
message = "found {{match}}"
reply = "Found it."
[docs]
what = "a"
why = "b"
fix = "c"
false_positives = "d"
references = []
[match]
engine = "regex"
pattern = "{pattern}"
[[examples]]
kind = "bad"
path = "a.c"
code = "int frobnicate;  // expect"
[[examples]]
kind = "good"
path = "a.c"
code = "int x;"
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / "rules" / "test"
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{name}.toml"
    p.write_text(text)
    return p


def test_regex_rule_runs_its_examples(tmp_path: Path) -> None:
    p = _write(tmp_path, "frob", GOOD.format(name="frob", pattern="frobnicate"))
    rule, errs = load_rule(p, {})
    assert rule is not None and not errs
    assert all(run_example(rule, n, ex, PARSER).ok
               for n, ex in enumerate(rule.examples, start=1))


def test_a_wrong_example_fails(tmp_path: Path) -> None:
    p = _write(tmp_path, "frob", GOOD.format(name="frob", pattern="nomatch"))
    rule, _ = load_rule(p, {})
    assert rule is not None
    result = run_example(rule, 1, rule.examples[0], PARSER)
    assert not result.ok and "not flagged" in result.detail


def test_loader_reports_every_problem_with_file_and_field(tmp_path: Path) -> None:
    bad = GOOD.format(name="other-name", pattern="(a+)+").replace('severity = "info"',
                                                                   'severity = "loud"')
    bad = "bogus = 1\n" + bad.replace('id = "TST001"', 'id = "lower1"')
    _write(tmp_path, "broken", bad)
    _write(tmp_path, "syntax", "id = \n")
    with pytest.raises(RuleError) as info:
        load_rules([tmp_path / "rules"])
    text = str(info.value)
    for needle in ("broken.toml: id:", "broken.toml: name:", "broken.toml: severity:",
                   "broken.toml: bogus: unknown field", "broken.toml: match.pattern:",
                   "syntax.toml: TOML:"):
        assert needle in text, needle


def test_query_engine(tmp_path: Path) -> None:
    text = GOOD.format(name="q", pattern="x").replace(
        'engine = "regex"\npattern = "x"',
        "engine = \"query\"\nquery = '''((call_expression function: (identifier) @fn "
        "(#eq? @fn \"BUG_ON\")) @target)'''")
    text = text.replace("int frobnicate;  // expect",
                        "void f(void) { BUG_ON(1); }  // expect")
    p = _write(tmp_path, "q", text)
    rule, errs = load_rule(p, {})
    assert rule is not None, errs
    assert all(run_example(rule, n, ex, PARSER).ok
               for n, ex in enumerate(rule.examples, start=1))


def _bundled_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled rules that ``reviewbot.ruleset`` loads instead (with the
    bundled checks, found by the folders' package names)."""
    copy = tmp_path / "rules"
    shutil.copytree(ruleset.rules_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(ruleset, "rules_dir", lambda: copy.resolve())
    return copy.resolve()


@pytest.mark.parametrize(("old", "new", "problem"), [
    ('kind = "rmw"', 'kind = "sometimes"', "params.marked_writes[2].kind: must be one of "
                                           "rmw, store"),
    ('paired_store = "', 'paired_storr = "', "params.paired_storr: unknown key"),
    ("held_by_caller = '\\b(", "held_by_caller = '\\b((", "params.held_by_caller: bad "
                                                          "regular expression"),
    ('name = "READ_ONCE"\nreason', 'name = "READ_ONCE"\nwhy', "params.marked_reads[0].reason: "
                                                              "missing"),
    ("unprotecting_locks = [\"rcu\"]", "unprotecting_locks = \"rcu\"",
     "params.unprotecting_locks: must be an array of strings"),
])
def test_rules_check_reports_a_bad_param_with_file_and_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        old: str, new: str, problem: str) -> None:
    toml = _bundled_copy(tmp_path, monkeypatch) / "concurrency" / \
        "lockless_read_needs_read_once" / "rule.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new, 1))
    assert main(["rules", "--check"]) == 2
    err = capsys.readouterr().err
    assert f"{toml}: {problem}" in err
    assert err.count(str(toml)) == 1 + ("why" in new)  # one line per problem (why: unknown)


def test_a_check_py_outside_the_bundled_rules_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "rules" / "style" / "braces_single_statement"
    shutil.copytree(ruleset.rules_dir() / "style" / "braces_single_statement", folder,
                    ignore=shutil.ignore_patterns("__pycache__"))
    with pytest.raises(RuleError, match=r"check\.py: check: not one of reviewbot's bundled"):
        load_rules([tmp_path / "rules"])


def test_a_review_reads_each_bundled_rule_without_its_docs_and_examples() -> None:
    """A rule file puts [docs] and [[examples]] after its other tables: a review reads
    the file up to them (``engine.loader._head``), and gets the same rule otherwise."""
    import tomllib

    from reviewbot.engine.loader import _head, rule_files

    for path in rule_files(ruleset.rules_dir()):
        text = path.read_text(encoding="utf-8")
        head = _head(text)
        assert head is not None, f"{path}: [docs] and [[examples]] must come last"
        whole = tomllib.loads(text)
        assert "docs" in whole and "examples" in whole
        del whole["docs"], whole["examples"]
        assert tomllib.loads(head) == whole, path


def test_a_review_loads_only_the_selected_rules_with_their_check_and_params() -> None:
    whole = {r.id: r for r in RULES}
    chosen = load_rules(select=lambda rules: [r for r in rules if r.id in ("CON001",
                                                                           "STY001")])
    assert [r.id for r in chosen] == ["CON001", "STY001"]
    for rule in chosen:
        assert rule.docs is None and rule.examples == ()  # not read for a review
        assert rule.check is not None and rule.check == whole[rule.id].check
        assert rule.params == whole[rule.id].params  # [params] read, typed as in full


def test_a_review_reads_a_rule_whose_tables_follow_its_examples_whole(
        tmp_path: Path) -> None:
    """[docs] first, [match] after it, [[examples]] last: the tail holds another
    table, so the file is read whole, and the rule is the same."""
    _write(tmp_path, "frob", GOOD.format(name="frob", pattern="frobnicate"))
    _write(tmp_path, "late", GOOD.format(name="late", pattern="x").replace(
        'id = "TST001"', 'id = "TST002"').replace("[match]\n", "[[examples]]\nkind = "
        '"good"\npath = "b.c"\ncode = "int y;"\n[match]\n', 1))
    full = {r.id: r for r in load_rules([tmp_path / "rules"])}
    chosen = load_rules([tmp_path / "rules"], select=list)
    assert [r.id for r in chosen] == ["TST001", "TST002"]
    for rule in chosen:
        assert rule.match == full[rule.id].match and rule.match is not None
        assert rule.summary == full[rule.id].summary


def test_check_reports_a_bad_param_of_a_rule_it_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    toml = _bundled_copy(tmp_path, monkeypatch) / "concurrency" / \
        "lockless_read_needs_read_once" / "rule.toml"
    text = toml.read_text()
    toml.write_text(text.replace('paired_store = "', 'paired_storr = "', 1))
    patch = Path(__file__).parent.parent / "fixtures" / "series" / "frob-v2.mbox"
    assert main(["check", "--no-tree", "-q", "--select", "CON001", str(patch)]) == 2
    assert f"{toml}: params.paired_storr: unknown key" in capsys.readouterr().err
