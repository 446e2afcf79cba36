"""The README's samples come from the program: each ```console block is run and its
output compared; the usage synopsis is compared with the parser's options; the config
and policy examples are loaded; the set-up command's review is run; the rules table is
what ``reviewbot rules --format markdown`` prints.
``REVIEWBOT_UPDATE_GOLDEN=1`` rewrites the console blocks from what the program prints."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from reviewbot.bot.policy import parse_policy
from reviewbot.cli import build_parser, main
from reviewbot.config import parse_config
from tests.conftest import ROOT

README = ROOT / "README.md"
BIN = Path(sys.executable).parent
CONSOLE = re.compile(r"```console\n\$ (reviewbot [^\n]*)\n(.*?)```\n", re.S)
OPTION = re.compile(r"(?<![\w-])(--?[a-z][a-z0-9-]*)(?: ([a-z0-9-]+(?:\|[a-z0-9-]+)+))?")


def run_sample(command: str) -> str:
    """What ``command`` prints in the project's top directory, as a user runs it."""
    argv = shlex.split(command)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REVIEWBOT_", "XDG_", "GIT_", "B4_"))}
    env.update({"NO_COLOR": "1", "XDG_CONFIG_HOME": "/nonexistent",
                "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", "/nonexistent")})
    proc = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def test_console_samples_are_what_the_program_prints() -> None:
    text = README.read_text()
    samples = CONSOLE.findall(text)
    assert len(samples) >= 3  # text report, checkpatch, eval
    if os.environ.get("REVIEWBOT_UPDATE_GOLDEN") == "1":
        README.write_text(CONSOLE.sub(lambda m: f"```console\n$ {m.group(1)}\n"
                                      f"{run_sample(m.group(1))}```\n", text))
        return
    for command, shown in samples:
        assert run_sample(command) == shown, f"README sample '$ {command}' has drifted"


ERROR_SAMPLE = re.compile(r"^    \$ (reviewbot [^\n]*)\n    (reviewbot: error: [^\n]*)$", re.M)


def test_error_samples_are_what_the_program_prints() -> None:
    """An indented ``$ reviewbot ...`` line followed by ``reviewbot: error: ...``: the
    command fails with exactly that line (exit 2)."""
    samples = ERROR_SAMPLE.findall(README.read_text())
    assert samples  # the --select/--ignore typo
    for command, shown in samples:
        argv = shlex.split(command)
        proc = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=ROOT, capture_output=True,
                              text=True, timeout=300, check=False,
                              env={**os.environ, "XDG_CONFIG_HOME": "/nonexistent"})
        assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", shown + "\n"), command


def _synopsis() -> dict[str, str]:
    """The README's usage block, per subcommand (continuation lines joined)."""
    text = README.read_text()
    block = text.split("## Usage\n\n", 1)[1].split("\n\n", 1)[0]
    out: dict[str, str] = {}
    command = ""
    for line in block.splitlines():
        words = line.split()
        if words[:1] == ["reviewbot"]:
            top = words[1].startswith("-")  # reviewbot --version
            command = "" if top else words[1]
            out[command] = out.get(command, "") + " " + " ".join(words[1 if top else 2:])
        elif words[:1] != ["python"]:
            out[command] += " " + line
    return out


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **sub.choices}


def test_usage_synopsis_is_the_programs() -> None:
    synopsis, parsers = _synopsis(), _subparsers()
    assert set(synopsis) == set(parsers), "a subcommand is missing from the synopsis"
    for command, parser in parsers.items():
        shown = {m.group(1): m.group(2) for m in OPTION.finditer(synopsis[command])}
        options = [a for a in parser._actions if a.option_strings and a.dest != "help"]
        known = {o for a in options for o in a.option_strings}
        assert set(shown) <= known, (command, set(shown) - known)
        for action in options:
            names = [o for o in action.option_strings if o in shown]
            assert names, f"reviewbot {command}: {action.option_strings} not in the README"
            choices = shown[names[0]]
            if choices and action.choices:
                assert choices.split("|") == list(action.choices), (command, names[0])


def _toml_after(heading: str) -> str:
    text = README.read_text()
    return text.split(heading, 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]


def test_config_and_policy_examples_load() -> None:
    config = parse_config(tomllib.loads(_toml_after("## Configuration\n")), Path("c.toml"))
    assert config.lore_url and config.tree and config.reply.lists
    policy = parse_policy(tomllib.loads(_toml_after("### Policy file\n")), "README")
    assert policy.smtp is not None and policy.smtp.server == "smtp.example.org"


def test_set_up_command_reviews_the_example() -> None:
    text = README.read_text()
    line = next(ln for ln in text.splitlines() if "pip install . &&" in ln)
    review = line.rsplit("&& ", 1)[1].strip()
    assert review.startswith(".venv/bin/reviewbot check fixtures/")
    out = run_sample(review.removeprefix(".venv/bin/"))
    assert out.startswith("From mboxrd@z ") and out.count("\nFrom mboxrd@z ") == 1
    assert "From: Reviewer <reviewer@example.org>" in out


@pytest.mark.parametrize("section", ["## Text output\n", "### b4 check commands\n"])
def test_each_format_section_has_a_sample(section: str) -> None:
    body = README.read_text().split(section, 1)[1].split("\n## ", 1)[0]
    assert "```console\n$ reviewbot check" in body


_TABLE = re.compile(r"<!-- rules table: generated by `reviewbot rules --format markdown`"
                    r"[^>]*-->\n(.*?)<!-- end of rules table -->", re.S)


def test_the_readme_rules_table_is_the_generated_one(
        capsys: pytest.CaptureFixture[str]) -> None:
    found = _TABLE.search(README.read_text(encoding="utf-8"))
    assert found is not None, "README.md has no generated rules table"
    assert main(["rules", "--format", "markdown"]) == 0
    generated = capsys.readouterr().out
    assert found.group(1) == generated, (
        "README.md's rules table is not what `reviewbot rules --format markdown` prints: "
        "paste its output between the markers")
