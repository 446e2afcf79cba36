"""The bundled rules: the top-level ``rules/`` folder, installed as ``reviewbot.rules``.

A rule is one folder, ``rules/<category>/<rule_name>/``: its ``rule.toml`` (id, name,
wording, docs, params, examples) and, when it needs Python, a ``check.py`` beside it
(see ``reviewbot/engine/check.py`` for what it exports). ``checks()`` gives the
``check.py`` of every bundled rule, imported by the package path of its folder when the
loader first asks for it: the engine's loader gets them as a parameter and gives each
rule the check beside its ``rule.toml`` (a review asks only for the rules it runs).
Adding a rule touches only its folder: packaging (``setup.py``) finds it too.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from reviewbot.engine.check import Checks, CheckSpec, check_spec
from reviewbot.engine.loader import Select
from reviewbot.engine.loader import load_rules as load_rules_from
from reviewbot.engine.schema import Rule

PACKAGE = "reviewbot.rules"


def rules_dir() -> Path:
    """Where the bundled rules are (``rules/`` of a checkout, or of the installed wheel)."""
    return Path(next(iter(importlib.import_module(PACKAGE).__path__))).resolve()


class _Bundled(Mapping[Path, "CheckSpec | str"]):
    """The bundled checks by rule folder, each imported when first asked for."""

    def __init__(self) -> None:
        self._folders = [p.parent for p in sorted(rules_dir().glob("*/*/check.py"))]
        self._found: dict[Path, CheckSpec | str] = {}

    def __getitem__(self, folder: Path) -> CheckSpec | str:
        if folder not in self._found:
            if folder not in self._folders:
                raise KeyError(folder)
            self._found[folder] = _import(folder)
        return self._found[folder]

    def __iter__(self) -> Iterator[Path]:
        return iter(self._folders)

    def __len__(self) -> int:
        return len(self._folders)


def _import(folder: Path) -> CheckSpec | str:
    """The check of one bundled rule folder (a check that cannot be used is a message,
    reported with its rule when the rules load)."""
    name = f"{PACKAGE}.{folder.parent.name}.{folder.name}.check"
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # a broken check is reported as its rule's error
        return f"cannot import {name}: {type(exc).__name__}: {exc}"
    return check_spec(module)


def checks() -> Checks:
    """The check of every bundled rule that has a ``check.py``, by rule folder,
    imported when first asked for."""
    return _Bundled()


def load_rules(dirs: Sequence[Path] | None = None, select: Select | None = None
               ) -> list[Rule]:
    """The rules of ``dirs`` (default: the bundled rules), with the bundled checks; with
    ``select``, only the rules it chooses, read for a review (``engine.loader``)."""
    return load_rules_from(list(dirs or ()) or [rules_dir()], checks(), select)


def rule_table(rules: Sequence[Rule], markdown: bool = False,
               precision: dict[str, str] | None = None) -> str:
    """One line per rule: id, name, status, severity and summary (``reviewbot rules``);
    with ``markdown``, the table the README shows (``--format markdown``), with the
    precision measured on judged list traffic when ``precision`` gives it per rule id."""
    if markdown:
        extra = " precision on linux-block traffic |" if precision is not None else ""
        rows = ["| id | name | status | severity | summary |" + extra,
                "|---|---|---|---|---|" + ("---|" if extra else "")]
        rows += [f"| {r.id} | `{r.name}` | {r.status} | {r.severity} | "
                 f"{r.summary.replace('|', chr(92) + '|')} |"
                 + (f" {precision.get(r.id, '')} |" if precision is not None else "")
                 for r in rules]
        return "\n".join(rows) + "\n"
    width = max((len(r.name) for r in rules), default=4)
    return "".join(f"{r.id}  {r.name:<{width}}  {r.status:<7}  {r.severity:<7}  {r.summary}\n"
                   for r in rules)
