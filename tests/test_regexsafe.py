"""Rule regexes: the loader's catastrophic-backtracking check and the run-time limit."""

from __future__ import annotations

import importlib
import pkgutil
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reviewbot
from reviewbot.cmap.parser import CParser
from reviewbot.engine.regexcheck import risky_regex
from reviewbot.engine.regexsafe import RegexGuard, RegexTimeout
from reviewbot.errors import RuleError
from reviewbot.pipeline import review_series
from reviewbot.ruleset import load_rules, rules_dir
from reviewbot.series.build import build_series
from reviewbot.series.mail import parse_mail
from tests.strategies import examples

CATASTROPHIC = [r"(a+)+b", r"(a*)*b", r"(\w+\s?)+$", r"(.*,)*x", r"(a|ab)*c", r"(a|a)*",
                r".*a.*b.*c", r"(a+a)+", r"(x\w+|y\w+)+!", r"((ab)*)+c", r"(?:a?)+",
                r"^(\s*\w+\s*)+$", r"(a{1,3})+b", r"\s*\s*\s*x", "a" * 2001]
LINEAR = [r"\bfoo\(", r"(\s*,)+", r"(\w+\s)+", r"([^,]*,)*", r'(\\.|[^"\\])*',
          r"(?:struct|union)\s+\w+", r"\bkmalloc\((.*),\s*GFP_ATOMIC\)",
          r"^\+\s*(if|for|while)\b", r"(foo|far)+", r"(ab)+", r"\s*x",
          r"(?P<name>\w+)\s*=\s*(?P<val>\d+);", r"(a++)+b", r"(?>a+)+b",
          r"\s*\(\s*\w+\s*,\s*\w+\s*\)\s*;", r"\b(spin_lock|spin_lock_irq)\s*\(([^;]*)"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_are_named(pattern: str) -> None:
    assert risky_regex(pattern)


@pytest.mark.parametrize("pattern", LINEAR)
def test_linear_patterns_pass(pattern: str) -> None:
    assert risky_regex(pattern) is None


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=40))
def test_risky_regex_takes_any_text(pattern: str) -> None:
    risky_regex(pattern)  # never raises, compilable or not


def _module_patterns() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    names = [info.name for info in pkgutil.walk_packages(reviewbot.__path__, "reviewbot.")]
    root = rules_dir()  # the bundled rules' modules (namespace folders: found by path)
    names += [".".join(("reviewbot.rules", *p.relative_to(root).with_suffix("").parts))
              for p in sorted(root.rglob("*.py")) if p.name != "__init__.py"]
    for name in names:
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)
        for key, value in vars(module).items():
            values = value.values() if isinstance(value, dict) else [value]
            for v in values:
                if isinstance(v, re.Pattern):
                    text = v.pattern if isinstance(v.pattern, str) else v.pattern.decode(
                        "latin-1")
                    found.append((f"{module.__name__}.{key}", text))
    return found


def test_every_regex_in_reviewbot_passes_the_check() -> None:
    patterns = _module_patterns()
    assert len(patterns) > 20
    bad = [(where, risky_regex(p)) for where, p in patterns if risky_regex(p)]
    assert bad == []


FILLERS = [" ", "a", "(", ")", "*", "\t", ":", ",", "[", "1", "_", "\\", "{", "/", "-"]


def test_every_regex_in_reviewbot_is_fast_on_adversarial_lines() -> None:
    """Each module-level regex against long runs of each character after each literal
    word of the pattern (where backtracking starts): no search may take long."""
    slow: list[tuple[str, str, float]] = []
    for where, pattern in _module_patterns():
        compiled = re.compile(pattern)
        words = set(re.findall(r"[A-Za-z_]{2,}", pattern)) or {""}
        for word in sorted(words)[:8]:
            for filler in FILLERS:
                for text in (word + filler * 20_000, word + " (" + filler * 20_000,
                             (word + filler) * 5_000):
                    probe: str | bytes = text if isinstance(compiled.pattern, str) \
                        else text.encode()
                    start = time.perf_counter()
                    compiled.search(probe)  # type: ignore[call-overload]
                    took = time.perf_counter() - start
                    if took > 0.25:
                        slow.append((where, text[:20], took))
    assert slow == []


def _rule(tmp: Path, pattern: str) -> Path:
    d = tmp / "rules" / "test"
    d.mkdir(parents=True)
    (d / "slow-regex.toml").write_text(f'''
id = "TST001"
name = "slow-regex"
class = "other"
severity = "info"
confidence = "low"
status = "stable"
summary = "a regex rule"
message = "matched {{match}}"
reply = "matched"
paths = ["*.c"]
[docs]
what = "w"
why = "w"
fix = "f"
false_positives = "f"
references = []
[match]
engine = "regex"
pattern = '{pattern}'
''', encoding="utf-8")
    return tmp / "rules"


def test_loader_rejects_a_catastrophic_rule(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as info:
        load_rules([_rule(tmp_path, r"(\w+\s?)+;")])
    assert "slow-regex.toml: match.pattern: nested quantifier" in str(info.value)


def test_slow_rule_regex_is_stopped_and_dropped(tmp_path: Path) -> None:
    """A pattern the static check lets through (cubic when it fails: 2.7 s per line
    with re) meets hostile lines: each search stops at the time limit (lowered here: the
    regex engine needs ~50 ms for this line), the rule is dropped after three, and the
    lines before are reviewed; with time enough the same input is reviewed in full."""
    pattern = r"\((.*),(.*)\);"
    assert risky_regex(pattern) is None
    rules = load_rules([_rule(tmp_path, pattern)])
    hostile = "f(" + "," * 4000
    lines = ["x = f(a, b);", *[hostile] * 10, "y = g(c, d);"]
    body = "".join(f"+{t}\n" for t in lines)
    mail = ("Subject: [PATCH] x\n\nx\n---\ndiff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n"
            f"@@ -1,0 +1,{len(lines)} @@\n{body}").encode()
    (series,) = build_series([parse_mail(mail)])
    guard = RegexGuard(timeout=0.002)
    start = time.perf_counter()
    review = review_series(series, rules, CParser(), None, guard=guard)
    assert time.perf_counter() - start < 10
    assert [f.line for pr in review.patches for f in pr.findings] == [1]
    assert guard.strikes == {"TST001": 3}
    patient = review_series(series, rules, CParser(), None, guard=RegexGuard(timeout=10))
    assert [f.line for pr in patient.patches for f in pr.findings] == [1, 12]


def test_guard_limits() -> None:
    guard = RegexGuard(timeout=0.001, max_line=5000)
    assert guard.search("R", r"a", "x" * 5001) is None  # longer than max_line: not searched
    assert guard.search("R", r"x", "x" * 100) is not None
    for _ in range(3):
        with pytest.raises(RegexTimeout):
            guard.search("R", r"\((.*),(.*)\);", "f(" + "," * 4000)
    assert not guard.active("R") and guard.active("S")
