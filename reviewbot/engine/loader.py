"""Load and validate rule files; every problem is reported at once, with file and field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from reviewbot.engine.schema import (
    CLASSES,
    CONFIDENCES,
    ENGINES,
    EXAMPLE_KINDS,
    SCOPES,
    SEVERITIES,
    STATUSES,
    Docs,
    Example,
    Match,
    PatchSpec,
    Rule,
)
from reviewbot.errors import RuleError

_ID = re.compile(r"^[A-Z]{2,5}\d{3}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_TOP_KEYS = {"id", "name", "class", "severity", "confidence", "status", "since", "summary",
             "message", "reply", "paths", "exclude_paths", "keywords", "supersedes", "docs",
             "match", "params", "examples"}


def default_rules_dir() -> Path:
    """``rules/`` of a source checkout, or ``reviewbot/rules`` of an installed wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "rules", here.parent / "rules"):
        if candidate.is_dir() and any(candidate.glob("*/*.toml")):
            return candidate
    return here.parent / "rules"


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: Path, fieldname: str, problem: str) -> None:
        self.items.append(f"{path}: {fieldname}: {problem}")


def _str(data: dict[str, Any], key: str, path: Path, errs: _Errors, *, required: bool = True,
         choices: Sequence[str] | None = None, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        if required:
            errs.add(path, key, "missing")
        return default
    if not isinstance(value, str):
        errs.add(path, key, f"must be a string, not {type(value).__name__}")
        return default
    if choices is not None and value not in choices:
        errs.add(path, key, f"{value!r} is not one of {', '.join(choices)}")
        return default
    return value


def _strs(data: dict[str, Any], key: str, path: Path, errs: _Errors) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errs.add(path, key, "must be a list of strings")
        return ()
    return tuple(value)


def _docs(data: Any, path: Path, errs: _Errors) -> Docs:
    if not isinstance(data, dict):
        errs.add(path, "docs", "missing (needs what, why, fix, false_positives, references)")
        data = {}
    return Docs(
        what=_str(data, "what", path, errs),
        why=_str(data, "why", path, errs),
        fix=_str(data, "fix", path, errs),
        false_positives=_str(data, "false_positives", path, errs),
        references=_strs(data, "references", path, errs),
    )


def _match(data: Any, path: Path, errs: _Errors, checks: Iterable[str]) -> Match:
    if not isinstance(data, dict):
        errs.add(path, "match", "missing")
        return Match("regex")
    engine = _str(data, "engine", path, errs, choices=ENGINES, default="regex")
    m = Match(
        engine=cast(Any, engine),
        query=_str(data, "query", path, errs, required=engine == "query"),
        capture=_str(data, "capture", path, errs, required=False, default="target"),
        pattern=_str(data, "pattern", path, errs, required=engine == "regex"),
        not_pattern=_str(data, "not_pattern", path, errs, required=False),
        scope=cast(Any, _str(data, "scope", path, errs, required=False, choices=SCOPES,
                             default="added")),
        check=_str(data, "check", path, errs, required=engine == "check"),
    )
    for key in ("pattern", "not_pattern"):
        text = getattr(m, key)
        if text:
            try:
                re.compile(text)
            except (re.error, RecursionError, OverflowError) as exc:
                errs.add(path, f"match.{key}", f"bad regular expression: {exc}")
                continue
            from reviewbot.engine.regexcheck import risky_regex  # only for regex rules

            problem = risky_regex(text)
            if problem:
                errs.add(path, f"match.{key}", problem)
    if engine == "check" and m.check and m.check not in set(checks):
        errs.add(path, "match.check", f"no Python check named {m.check!r}")
    return m


def _examples(data: Any, path: Path, errs: _Errors) -> tuple[Example, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        errs.add(path, "examples", "must be an array of tables ([[examples]])")
        return ()
    out: list[Example] = []
    for i, ex in enumerate(data):
        where = f"examples[{i}]"
        if not isinstance(ex, dict):
            errs.add(path, where, "must be a table")
            continue
        kind = _str(ex, "kind", path, errs, choices=EXAMPLE_KINDS, default="todo")
        specs: list[PatchSpec] = []
        raw_patches = ex.get("patches", [ex])
        if not isinstance(raw_patches, list) or not raw_patches:
            errs.add(path, f"{where}.patches", "must be a non-empty array of tables")
            continue
        for j, p in enumerate(raw_patches):
            pw = f"{where}.patches[{j}]" if "patches" in ex else where
            if not isinstance(p, dict):
                errs.add(path, pw, "must be a table")
                continue
            spec = PatchSpec(
                before=p.get("before") if isinstance(p.get("before"), str) else None,
                after=p.get("after") if isinstance(p.get("after"), str) else None,
                code=p.get("code") if isinstance(p.get("code"), str) else None,
                diff=p.get("diff") if isinstance(p.get("diff"), str) else None,
            )
            forms = sum(x is not None for x in (spec.code, spec.diff)) + (
                spec.after is not None)
            if forms != 1 or (spec.before is not None and spec.after is None):
                errs.add(path, pw, "needs exactly one of: code, diff, or before+after")
                continue
            specs.append(spec)
        out.append(Example(kind=cast(Any, kind),
                           path=_str(ex, "path", path, errs, required=False, default="x.c"),
                           patches=tuple(specs), note=_str(ex, "note", path, errs,
                                                           required=False)))
    return tuple(out)


def _parse(path: Path) -> dict[str, Any] | str:
    """The TOML data of ``path``, or the problem."""
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path}: cannot read: {exc}"
    except tomllib.TOMLDecodeError as exc:
        return f"{path}: TOML: {exc}"


def load_rule(path: Path, checks: Iterable[str] = ()) -> tuple[Rule | None, list[str]]:
    """Load one rule file: (rule, []) or (None, problems)."""
    errs = _Errors()
    data = _parse(path)
    if isinstance(data, str):
        return None, [data]
    for key in sorted(set(data) - _TOP_KEYS):
        errs.add(path, key, "unknown field")
    rid = _str(data, "id", path, errs)
    if rid and not _ID.match(rid):
        errs.add(path, "id", f"{rid!r} must look like ABC123")
    name = _str(data, "name", path, errs)
    if name and name != path.stem:
        errs.add(path, "name", f"{name!r} must equal the file name {path.stem!r}")
    if name and not _NAME.match(name):
        errs.add(path, "name", "lower-case words joined by '-'")
    params = data.get("params", {})
    if not isinstance(params, dict):
        errs.add(path, "params", "must be a table")
        params = {}
    rule = Rule(
        id=rid,
        name=name,
        category=path.parent.name,
        cls=cast(Any, _str(data, "class", path, errs, choices=CLASSES, default="other")),
        severity=cast(Any, _str(data, "severity", path, errs, choices=SEVERITIES,
                                default="warning")),
        confidence=cast(Any, _str(data, "confidence", path, errs, choices=CONFIDENCES,
                                  default="medium")),
        status=cast(Any, _str(data, "status", path, errs, choices=STATUSES, default="preview")),
        since=_str(data, "since", path, errs, required=False, default="0.1.0"),
        summary=_str(data, "summary", path, errs),
        message=_str(data, "message", path, errs),
        reply=_str(data, "reply", path, errs),
        docs=_docs(data.get("docs"), path, errs),
        match=_match(data.get("match"), path, errs, checks),
        paths=_strs(data, "paths", path, errs) if "paths" in data else ("*.c", "*.h"),
        exclude_paths=_strs(data, "exclude_paths", path, errs),
        keywords=_strs(data, "keywords", path, errs),
        supersedes=_strs(data, "supersedes", path, errs),
        params=params,
        examples=_examples(data.get("examples"), path, errs),
        source=path,
    )
    if errs.items:
        return None, errs.items
    return rule, []


def load_rules(dirs: Sequence[Path] | None = None) -> list[Rule]:
    """Every rule under ``dirs`` (default: the bundled rules), validated, sorted by id.

    Raises RuleError listing every problem in every file.
    """
    from reviewbot.checks import CHECK_NAMES

    problems: list[str] = []
    rules: list[Rule] = []
    for d in dirs or [default_rules_dir()]:
        if not d.is_dir():
            problems.append(f"{d}: rules directory not found")
            continue
        for path in sorted(d.glob("*/*.toml")):
            rule, errs = load_rule(path, CHECK_NAMES)
            problems.extend(errs)
            if rule is not None:
                rules.append(rule)
    seen: dict[str, Path] = {}
    for rule in rules:
        if rule.id in seen:
            problems.append(f"{rule.source}: id: {rule.id} already used by {seen[rule.id]}")
        seen[rule.id] = rule.source
    known = set(seen)
    for rule in rules:
        for other in rule.supersedes:
            if other not in known:
                problems.append(f"{rule.source}: supersedes: no rule {other}")
    if problems:
        raise RuleError("invalid rules:\n  " + "\n  ".join(problems))
    return sorted(rules, key=lambda r: r.id)
