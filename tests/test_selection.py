"""--select / --ignore / explain: keys resolved against the loaded rule set, any case;
a key that names no rule is an error (exit 2, one line, the close matches), never a
silent pass. Reviewed: a real series from ``git format-patch`` of a real repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.conftest import run_cli as run
from tests.kernel_repo import add_series, git_env, make_tree

RULES_TREE = str(FIXTURES / "rules-tree")


@pytest.fixture(scope="module")
def patches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``git format-patch`` output of a three-patch series (STY001 findings)."""
    where = tmp_path_factory.mktemp("sel")
    repo = make_tree(where)
    add_series(repo)
    out = where / "patches"
    subprocess.run(["git", "format-patch", "-q", "-o", str(out), "HEAD~3..HEAD"], cwd=repo,
                   env=git_env(), check=True)
    return out


def rules_of(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    code, out, err = run(capsys, "check", "--no-tree", "--format", "json", *argv)
    assert code in (0, 1), err
    return sorted({f["rule"] for p in json.loads(out)["patches"] for f in p["findings"]})


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert err.startswith("reviewbot: error: ")
    return err


def test_any_case_selects_the_same_rules(capsys: pytest.CaptureFixture[str],
                                         patches: Path) -> None:
    everything = rules_of(capsys, str(patches))
    assert "STY001" in everything
    for key in ("STY001", "sty001", "Braces-Single-Statement", "BRACES", "sTyLe"):
        assert rules_of(capsys, str(patches), "--select", key) == ["STY001"], key
    assert "STY001" not in rules_of(capsys, str(patches), "--ignore", "sty001")
    assert rules_of(capsys, str(patches), "--select", "sty001,STY001", "--ignore",
                    "braces") == []


@pytest.mark.parametrize(("option", "key", "hint"), [
    ("--select", "NOPE", ""),
    ("--select", "STY01", " (did you mean STY001 or STY012 or STY011?)"),
    ("--ignore", "sty01", " (did you mean STY001 or STY012 or STY011?)"),
    ("--ignore", "sty0001", " (did you mean STY001 or STY012 or STY011?)"),
    ("--select", "STY013", " (did you mean STY012 or STY011 or STY010?)"),
    ("--ignore", "brace", " (did you mean braces"),
])
def test_unknown_key_is_an_error(capsys: pytest.CaptureFixture[str], patches: Path,
                                 option: str, key: str, hint: str) -> None:
    for fmt in ("text", "checkpatch", "b4-json"):
        err = one_line_error(*run(capsys, "check", "--format", fmt, str(patches), option,
                                  f"STY001,{key}"))
        assert err.startswith(f"reviewbot: error: {option}: no rule is called {key!r}{hint}")
        assert err.endswith("'reviewbot rules' lists the ids, names and classes\n")


def test_unknown_key_fails_before_anything_is_fetched(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    err = one_line_error(*run(capsys, "check", "--lore-url", "http://127.0.0.1:9/all/",
                              "--select", "NOPE", "x@example.org"))
    assert "--select: no rule is called 'NOPE'" in err and "127.0.0.1" not in err


def test_keys_are_resolved_against_the_loaded_rules(capsys: pytest.CaptureFixture[str],
                                                    patches: Path) -> None:
    only_tree = ["--rules-dir", RULES_TREE]
    code, _, err = run(capsys, "check", *only_tree, "--select", "tre001", str(patches))
    assert code in (0, 1), err
    err = one_line_error(*run(capsys, "check", *only_tree, "--select", "STY001",
                              str(patches)))
    assert "no rule is called 'STY001'" in err  # not among the rules loaded from DIR
    code, out, _ = run(capsys, "rules", *only_tree, "--rules-dir", str(ROOT / "rules"),
                       "--select", "FRob-pool-branch")
    assert code == 0 and out.startswith("TRE001  frob-pool-branch") and out.count("\n") == 1


def test_rules_eval_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, upper, _ = run(capsys, "explain", "STY001")
    assert code == 0 and upper.startswith("STY001 braces-single-statement")
    assert run(capsys, "explain", "sty001") == (0, upper, "")
    assert run(capsys, "explain", "BRACES-single-statement") == (0, upper, "")
    err = one_line_error(*run(capsys, "explain", "braces"))  # a class names no one rule
    assert "explain: no rule is called 'braces' (did you mean " in err
    err = one_line_error(*run(capsys, "explain", "sty01"))
    assert "(did you mean STY001 or STY012 or STY011?)" in err
    one_line_error(*run(capsys, "rules", "--select", "nope"))
    one_line_error(*run(capsys, "rules", "--check", "--ignore", "nope"))
    one_line_error(*run(capsys, "eval", str(FIXTURES / "eval-corpus"), "--select", "sty01"))
    code, out, _ = run(capsys, "rules", "--ignore", "STYLE")
    assert code == 0 and out and "STY0" not in out
