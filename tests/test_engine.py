"""The rule engine: loader validation, every rule example as a test, the three engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.cmap.parser import CParser
from reviewbot.engine.examples import run_example
from reviewbot.engine.loader import load_rule, load_rules
from reviewbot.engine.schema import Rule
from reviewbot.errors import RuleError

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
    rule, errs = load_rule(p)
    assert rule is not None and not errs
    assert all(run_example(rule, n, ex, PARSER).ok
               for n, ex in enumerate(rule.examples, start=1))


def test_a_wrong_example_fails(tmp_path: Path) -> None:
    p = _write(tmp_path, "frob", GOOD.format(name="frob", pattern="nomatch"))
    rule, _ = load_rule(p)
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
    rule, errs = load_rule(p)
    assert rule is not None, errs
    assert all(run_example(rule, n, ex, PARSER).ok
               for n, ex in enumerate(rule.examples, start=1))
