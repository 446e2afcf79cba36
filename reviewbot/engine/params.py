"""A rule's ``[params]``, read into the typed ``Params`` its check declares.

A check that takes parameters declares ``Params``: a frozen dataclass whose fields are
the keys of the rule's ``[params]`` table. The loader reads the table into it when the
rules load (``reviewbot rules --check`` too), so a malformed table is a one-line error
naming the rule file and the key, and a check only ever sees a valid ``Params``.

Field types the reader knows (anything else is a mistake in the check, reported as such):

- ``str``, ``int``, ``bool``; ``Literal["a", "b"]`` (one of those strings);
- ``tuple[str, ...]``: an array of strings;
- ``re.Pattern[str]``: a regular expression, compiled (``re.Pattern[str] | None``: absent
  or ``""`` is None);
- ``Names``: an array of ``{name = "...", reason = "..."}`` tables, read as the set of the
  names: kernel knowledge carries its reason, so the list documents itself;
- a dataclass ``Entry``: a table, read the same way (its string fields must not be
  empty); ``tuple[Entry, ...]``: an array of such tables.

A field without a default is a required key; a key that is not a field is an error.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union

T = TypeVar("T")


class Names(frozenset[str]):
    """The names of an array of ``{name, reason}`` tables."""


@dataclasses.dataclass(frozen=True)
class Named:
    """One entry of a kernel-knowledge list: a name and why it is on the list."""

    name: str
    reason: str


@dataclasses.dataclass(frozen=True)
class NoParams:
    """The ``Params`` of a check that takes none: ``[params]`` must be absent or empty."""


class _Problems:
    """What one reading found wrong, and the field types of the classes it read."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.hints: dict[type[Any], dict[str, Any]] = {}  # entries repeat: read once

    def add(self, key: str, problem: str) -> None:
        self.items.append((key, problem))

    def hints_of(self, cls: type[Any]) -> dict[str, Any]:
        found = self.hints.get(cls)
        if found is None:
            found = self.hints[cls] = typing.get_type_hints(cls)
        return found


def read_params(cls: type[T], table: Mapping[str, Any]) -> tuple[T | None, list[tuple[str, str]]]:
    """``cls`` built from ``table``: (params, []) or (None, [(key, problem), ...]).

    Keys are spelled as in the TOML file (``contended_locks[2].match``)."""
    problems = _Problems()
    value = _table(cls, table, "", problems)
    if problems.items:
        return None, problems.items
    return typing.cast("T", value), []


def check_params_type(cls: object) -> str | None:
    """Why ``cls`` cannot be a check's ``Params`` (None: it can)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        return "Params must be a dataclass"
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError) as exc:
        return f"Params: cannot read its field types: {exc}"
    for f in dataclasses.fields(cls):
        problem = _type_problem(hints[f.name])
        if problem:
            return f"Params.{f.name}: {problem}"
    return None


def _type_problem(hint: Any) -> str | None:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in (str, int, bool, Names) or hint == re.Pattern[str]:
        return None
    if origin is Literal and all(isinstance(a, str) for a in args):
        return None
    if _optional_pattern(hint):
        return None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return check_params_type(hint)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if item is str:
            return None
        if isinstance(item, type) and dataclasses.is_dataclass(item):
            return check_params_type(item)
    return f"{hint!r} is not a type [params] can hold (see reviewbot/engine/params.py)"


def _optional_pattern(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    return origin in (Union, types.UnionType) and set(typing.get_args(hint)) == {
        re.Pattern[str], type(None)}


def _where(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _table(cls: type[Any], table: Mapping[str, Any], prefix: str,
           problems: _Problems) -> Any:
    hints = problems.hints_of(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    start = len(problems.items)
    for key in sorted(set(table) - set(fields)):
        problems.add(_where(prefix, key), "unknown key")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        where = _where(prefix, name)
        if name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.add(where, "missing")
            continue
        before = len(problems.items)
        value = _value(hints[name], table[name], where, problems, nested=bool(prefix))
        if len(problems.items) == before:
            values[name] = value
    if len(problems.items) > start:
        return None
    return cls(**values)


def _value(hint: Any, value: Any, where: str, problems: _Problems, nested: bool) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is str:
        if not isinstance(value, str):
            problems.add(where, "must be a string")
        elif nested and not value:
            problems.add(where, "must not be empty")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            problems.add(where, "must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(where, "must be a whole number")
        return value
    if origin is Literal:
        if value not in args:
            problems.add(where, f"must be one of {', '.join(args)}")
        return value
    if hint == re.Pattern[str] or _optional_pattern(hint):
        if not isinstance(value, str):
            problems.add(where, "must be a string (a regular expression)")
            return None
        if not value and _optional_pattern(hint):
            return None
        try:
            return re.compile(value)
        except re.error as exc:
            problems.add(where, f"bad regular expression: {exc}")
            return None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            problems.add(where, "must be a table")
            return None
        return _table(hint, value, where, problems)
    if hint is Names:
        entries = _value(tuple[Named, ...], value, where, problems, nested)
        return Names(e.name for e in entries or () if e is not None)
    if origin is tuple:
        item = args[0]
        if not isinstance(value, list):
            problems.add(where, "must be an array" + (" of strings" if item is str else
                                                      " of tables"))
            return ()
        out = []
        for i, entry in enumerate(value):
            if item is str:
                out.append(_value(str, entry, f"{where}[{i}]", problems, nested=False))
            elif not isinstance(entry, dict):
                problems.add(f"{where}[{i}]", "must be a table")
            else:
                out.append(_table(item, entry, f"{where}[{i}]", problems))
        return tuple(out)
    problems.add(where, f"the check's Params has a field type [params] cannot hold: {hint!r}")
    return None
