"""Read a rule's ``[params]``: the kernel knowledge a check needs, validated on use.

A malformed table raises RuleError naming the rule file and the key, so a broken rule
file is a one-line error, never a traceback or a silently empty list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from reviewbot.errors import RuleError
from reviewbot.memo import derived

if TYPE_CHECKING:
    from reviewbot.engine.schema import Rule

T = TypeVar("T")


def per_rule(rule: Rule, name: str, read: Callable[[Rule], T]) -> T:
    """``read(rule)`` (a check's reading of the rule's params), worked out once per rule
    object: rules do not change once loaded. A malformed table raises RuleError on every
    use, as before (nothing is kept then)."""
    return derived(rule, "params_" + name, lambda: read(rule))


def _where(rule: Rule, key: str) -> str:
    return f"{rule.source}: params.{key}"


def strings(rule: Rule, key: str) -> tuple[str, ...]:
    """``key = ["a", "b"]`` as a tuple (missing key: empty)."""
    value = rule.params.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{_where(rule, key)}: must be a list of strings")
    return tuple(value)


def tables(rule: Rule, key: str, required: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    """``[[params.key]]`` tables whose values are strings; ``required`` fields must be set.

    Every entry of a kernel-knowledge list carries its reason (a ``reason`` or
    ``protects`` field), so the list documents itself.
    """
    value = rule.params.get(key, [])
    if not isinstance(value, list):
        raise RuleError(f"{_where(rule, key)}: must be an array of tables")
    out: list[dict[str, str]] = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in entry.items()):
            raise RuleError(f"{_where(rule, key)}[{i}]: must be a table of strings")
        missing = [f for f in required if not entry.get(f)]
        if missing:
            raise RuleError(f"{_where(rule, key)}[{i}]: missing {', '.join(missing)}")
        out.append(dict(entry))
    return tuple(out)


def names(rule: Rule, key: str) -> frozenset[str]:
    """The ``name`` fields of ``[[params.key]]`` entries that give a ``name`` and ``reason``."""
    return frozenset(e["name"] for e in tables(rule, key, ("name", "reason")))


def text(rule: Rule, key: str, default: str = "") -> str:
    value = rule.params.get(key, default)
    if not isinstance(value, str):
        raise RuleError(f"{_where(rule, key)}: must be a string")
    return value
