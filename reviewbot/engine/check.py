"""What a rule's Python check is to the engine, and what it hands back.

A rule that needs Python has a ``check.py`` beside its ``rule.toml``; that module
exports:

- ``check(patch, file, params) -> Iterable[Hit]``: ``patch`` is the per-patch
  analysis (``reviewbot.analysis.PatchAnalysis``), ``file`` the ``FileAnalysis`` of the
  file being checked (the rule's ``paths`` and ``keywords`` already matched), ``params``
  the rule's validated ``[params]``;
- ``Params`` (optional): the frozen dataclass ``[params]`` is read into
  (``reviewbot.engine.params``; without it the rule takes no params);
- ``NODE_KINDS`` (optional): the tree-sitter node kinds the check looks for, which the C
  mapping finds for every hunk in one search with the other checks' kinds
  (``MappedFragment.nodes``).

``Checks`` maps each rule folder to its check; the engine receives it as a parameter
(``reviewbot.ruleset`` builds it for the bundled rules).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, NamedTuple

from reviewbot.engine.params import NoParams, check_params_type


class Hit(NamedTuple):
    """What a match engine or a check reports: a line and the values for the wording."""

    file: str
    line: int
    values: tuple[tuple[str, str], ...] = ()
    side: Literal["new", "old"] = "new"
    old_line: int | None = None  # for side == "old": the removed line's old number


CheckFunction = Callable[[Any, Any, Any], Iterable[Hit]]


class CheckSpec(NamedTuple):
    """A rule's ``check.py``, as the engine uses it."""

    function: CheckFunction
    params: type[Any]  # the Params dataclass (NoParams when the module declares none)
    node_kinds: tuple[str, ...]
    module: str  # the module's name, for messages


# rule folder (resolved) -> its check, or why it cannot be used
Checks = Mapping[Path, "CheckSpec | str"]


def check_spec(module: ModuleType) -> CheckSpec | str:
    """The check ``module`` exports, or what is wrong with it."""
    function = getattr(module, "check", None)
    if not callable(function):
        return "check.py must define check(patch, file, params)"
    params = getattr(module, "Params", NoParams)
    problem = check_params_type(params)
    if problem:
        return problem
    kinds = getattr(module, "NODE_KINDS", ())
    if not isinstance(kinds, tuple) or not all(isinstance(k, str) and k for k in kinds):
        return "NODE_KINDS must be a tuple of tree-sitter node kinds (strings)"
    return CheckSpec(function, params, kinds, module.__name__)


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(template: str, values: Mapping[str, str]) -> str:
    """``{name}`` placeholders filled from ``values``; unknown ones stay as they are."""
    try:
        return string.Formatter().vformat(template, (), _Values(values))
    except (ValueError, IndexError, AttributeError):
        return template
