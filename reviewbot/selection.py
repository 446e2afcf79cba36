"""Which rules a run uses: ``--select`` / ``--ignore`` / ``--preview`` (and the watch
policy's ``[rules]``), resolved against the loaded rule set.

A key names rules by id, name, class or category, case-insensitively (``sty001`` is
STY001). A key that names no rule is an error with the close matches, never a silent
"no rule ran": in a pre-send hook or a CI gate that would be a silent pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewbot.config import Settings
from reviewbot.engine.schema import Rule
from reviewbot.errors import ConfigError

_ID = re.compile(r"\A([a-z]+)(\d{1,6})\Z")  # anchored: a search cannot backtrack from every start


def rule_keys(rule: Rule) -> tuple[str, ...]:
    """What names ``rule``, lower-cased: its id, name, class and category."""
    return tuple(k.lower() for k in (rule.id, rule.name, rule.cls, rule.category))


def unknown_key_error(key: str, rules: Sequence[Rule], where: str,
                      names_only: bool = False) -> ConfigError:
    """The one-line error for a key that names no rule, with the close matches (among
    the ids and names only, with ``names_only``)."""
    spelled: dict[str, str] = {}
    for rule in rules:
        for k in (rule.id, rule.name) if names_only else (rule.id, rule.name, rule.cls,
                                                          rule.category):
            spelled.setdefault(k.lower(), k)
    low = key.lower()
    import difflib  # only for an error

    near = difflib.get_close_matches(low, sorted(spelled), n=3, cutoff=0.6)
    if not near and len(low) >= 3:  # a part of a name: "braces" for braces-single-...
        near = [k for k in sorted(spelled) if low in k][:3]
    # an id with a digit too many or too few ("STY01", "sty0001"): that rule first
    number = _id_number(low)
    same = [k for k in sorted(spelled) if number is not None and _id_number(k) == number]
    near = list(dict.fromkeys([*same, *near]))[:3]
    hint = f" (did you mean {' or '.join(spelled[n] for n in near)}?)" if near else ""
    return ConfigError(f"{where}: no rule is called {key!r}{hint}; 'reviewbot rules' "
                       "lists the ids, names and classes")


def _id_number(key: str) -> tuple[str, int] | None:
    """A rule id's letters and number ("sty001" -> ("sty", 1)), else None."""
    match = _ID.fullmatch(key)
    return (match.group(1), int(match.group(2))) if match else None


def check_keys(rules: Sequence[Rule], keys: Sequence[str], where: str) -> None:
    """Raise for the first key of ``keys`` that names no rule of ``rules``."""
    known = {k for rule in rules for k in rule_keys(rule)}
    for key in keys:
        if key.lower() not in known:
            raise unknown_key_error(key, rules, where)


def find_rule(rules: Sequence[Rule], key: str) -> Rule:
    """The rule whose id or name is ``key`` (any case), for ``explain``."""
    for rule in rules:
        if key.lower() in (rule.id.lower(), rule.name.lower()):
            return rule
    raise unknown_key_error(key, rules, "explain", names_only=True)


def select_rules(rules: Sequence[Rule], settings: Settings,
                 where: tuple[str, str] = ("--select", "--ignore")) -> list[Rule]:
    """The rules this run uses: stable ones (and preview ones with --preview, or named
    in --select), filtered; ``where`` names the two lists in an error."""
    check_keys(rules, settings.select, where[0])
    check_keys(rules, settings.ignore, where[1])
    select = {k.lower() for k in settings.select}
    ignore = {k.lower() for k in settings.ignore}
    out = []
    for rule in rules:
        keys = rule_keys(rule)
        explicitly = any(k in select for k in keys)
        if rule.status == "preview" and not (settings.preview or explicitly):
            continue
        if select and not explicitly:
            continue
        if any(k in ignore for k in keys):
            continue
        out.append(rule)
    return out
