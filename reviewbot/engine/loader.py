"""Load and validate rules; every problem is reported at once, with file and field.

A rules directory holds ``<category>/<rule_name>/rule.toml``, with a ``check.py`` beside
it when the rule needs Python (the rule's ``name`` is the folder's, hyphenated). A rule
without Python may also be one file, ``<category>/<name>.toml``. The checks come from
the caller (``Checks``: rule folder -> check); a ``check.py`` it does not know is an error.

A review reads less (``load_rules(..., select=...)``): each file without its ``[docs]`` and
``[[examples]]`` (the bulk of it; a rule file puts them after its other tables), and only
the rules the run selects get their check (imported then) and their ``[params]``.
``reviewbot rules``, ``rules --check`` and ``explain`` read everything.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from reviewbot.engine.check import Checks, CheckSpec
from reviewbot.engine.params import NoParams, read_params
from reviewbot.engine.schema import (
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
_CLASS = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {"id", "name", "class", "severity", "confidence", "status", "since", "summary",
             "message", "reply", "paths", "exclude_paths", "keywords", "supersedes", "docs",
             "match", "params", "examples"}


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


def _match(data: Any, path: Path, errs: _Errors) -> Match:
    if not isinstance(data, dict):
        errs.add(path, "match", "missing (a rule without check.py needs [match])")
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
    )
    for key in sorted(set(data) - {"engine", "query", "capture", "pattern", "not_pattern",
                                   "scope"}):
        errs.add(path, f"match.{key}", "unknown field")
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
    return m


_PATCH_KEYS = {"before", "after", "code", "diff", "path", "subject", "message", "files"}
_EXAMPLE_KEYS = {"kind", "path", "note", "patches", "tree"}


def _text(p: dict[str, Any], key: str) -> str | None:
    value = p.get(key)
    return value if isinstance(value, str) else None


def _patch_spec(p: Any, path: Path, where: str, errs: _Errors, *, top: bool = False,
                nested: bool = False) -> PatchSpec | None:
    """One patch of an example (or, ``nested``, one file of a patch's ``files``)."""
    if not isinstance(p, dict):
        errs.add(path, where, "must be a table")
        return None
    allowed = _PATCH_KEYS | (_EXAMPLE_KEYS if top else set())
    if nested:
        allowed = allowed - {"subject", "message", "files"}
    for key in sorted(set(p) - allowed):
        errs.add(path, f"{where}.{key}", "unknown field")
    files: list[PatchSpec] = []
    raw_files = p.get("files")
    if raw_files is not None:
        if not isinstance(raw_files, list) or not raw_files:
            errs.add(path, f"{where}.files", "must be a non-empty array of tables")
            return None
        for k, f in enumerate(raw_files):
            spec = _patch_spec(f, path, f"{where}.files[{k}]", errs, nested=True)
            if spec is None:
                return None
            if spec.path is None:
                errs.add(path, f"{where}.files[{k}]", "needs a path")
                return None
            files.append(spec)
    spec = PatchSpec(before=_text(p, "before"), after=_text(p, "after"),
                     code=_text(p, "code"), diff=_text(p, "diff"),
                     path=_text(p, "path") if not top else None,
                     subject=_text(p, "subject") or "", message=_text(p, "message") or "",
                     files=tuple(files))
    forms = sum(x is not None for x in (spec.code, spec.diff)) + (spec.after is not None)
    if files:
        if forms:
            errs.add(path, where, "a patch with files has no code, diff, before or after "
                     "of its own")
            return None
        return spec
    if forms != 1 or (spec.before is not None and spec.after is None):
        errs.add(path, where, "needs exactly one of: code, diff, or before+after")
        return None
    return spec


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
            spec = _patch_spec(p, path, pw, errs, top="patches" not in ex)
            if spec is not None:
                specs.append(spec)
        out.append(Example(kind=cast(Any, kind),
                           path=_str(ex, "path", path, errs, required=False, default="x.c"),
                           patches=tuple(specs), note=_str(ex, "note", path, errs,
                                                           required=False),
                           tree=_tree(ex.get("tree"), f"{where}.tree", path, errs)))
    return tuple(out)


def _tree(data: Any, where: str, path: Path, errs: _Errors) -> tuple[tuple[str, str], ...]:
    """``[examples.tree]``: relative file paths (no ``..``) to their text."""
    if data is None:
        return ()
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        errs.add(path, where, "must be a table of file paths to their text")
        return ()
    for name in data:
        parts = name.split("/")
        if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
            errs.add(path, where, f"{name!r}: a relative path without '..' is needed")
            return ()
    return tuple(sorted(data.items()))


# The line that starts a rule file's tail: its [docs] table or its first [[examples]].
_TAIL = re.compile(r"^(?:\[docs\]|\[\[examples\]\])[ \t]*$", re.M)
# A line of the tail that may be a table header (in a string it is text, but this is not
# known without parsing), and the headers of [docs] and [[examples]] and their tables.
_BRACKET_LINE = re.compile(r"^[ \t]*\[.*$", re.M)
_TAIL_HEADER = re.compile(r"\[\[?[ \t]*(?:docs|examples)(?:\.[\w-]+)*[ \t]*\]\]?[ \t]*(?:#.*)?")


def _head(text: str) -> str | None:
    """``text`` up to its tail, when the tail holds nothing but [docs] and [[examples]]
    (None: the whole text must be read).

    The cut is exact when the head parses: a TOML document that ends at a line end and
    parses is the same statements in any text it begins (a cut inside a multi-line
    string or array does not parse), and every table of the tail has a header line,
    all of which are checked to be [docs] or [[examples]] ones (a line in a string that
    only looks like another header makes the whole text read: slower, never wrong)."""
    m = _TAIL.search(text)
    if m is None:
        return None
    for line in _BRACKET_LINE.finditer(text, m.start()):
        if not _TAIL_HEADER.fullmatch(line.group().lstrip(" \t")):
            return None
    return text[:m.start()]


def _parse(path: Path, docs: bool = True) -> dict[str, Any] | str:
    """The TOML data of ``path``, or the problem; without ``docs``, its [docs] and
    [[examples]] may be left unread (see ``_head``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path}: cannot read: {exc}"
    head = None if docs else _head(text)
    if head is not None:
        try:
            return tomllib.loads(head)
        except tomllib.TOMLDecodeError:
            pass  # the cut is inside a string: the whole text says what is wrong
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"{path}: TOML: {exc}"


def rule_files(directory: Path) -> list[Path]:
    """The rule files of a rules directory, in path order."""
    return sorted([*directory.glob("*/*/rule.toml"), *directory.glob("*/*.toml")])


def _check(path: Path, checks: Checks, errs: _Errors) -> CheckSpec | None:
    """The check of the rule folder holding ``path`` (None: the rule has no check.py)."""
    if path.name != "rule.toml" or not (path.parent / "check.py").is_file():
        return None
    found = checks.get(path.parent.resolve())
    if found is None:
        errs.add(path.parent / "check.py", "check",
                 "not one of reviewbot's bundled checks: a rule from another directory "
                 "cannot run Python (use [match] with engine regex or query)")
    elif isinstance(found, str):
        errs.add(path.parent / "check.py", "check", found)
    else:
        return found
    return None


def _params(data: Any, path: Path, check: CheckSpec | None, errs: _Errors) -> Any:
    """The check's ``Params`` read from ``[params]`` (see ``engine/params.py``)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        errs.add(path, "params", "must be a table")
        return None
    if check is None and data:
        errs.add(path, "params", "only a rule with a check.py takes [params]")
        return None
    params, problems = read_params(check.params if check is not None else NoParams, data)
    for key, problem in problems:
        errs.add(path, f"params.{key}", problem)
    return params


def load_rule(path: Path, checks: Checks) -> tuple[Rule | None, list[str]]:
    """Load one rule (``path`` is its ``rule.toml``): (rule, []) or (None, problems)."""
    errs = _Errors()
    data = _parse(path)
    if isinstance(data, str):
        return None, [data]
    rule = _rule(path, data, checks, errs)
    if errs.items:
        return None, errs.items
    return rule, []


def _rule(path: Path, data: dict[str, Any], checks: Checks | None, errs: _Errors) -> Rule:
    """The rule ``data`` (read from ``path``) describes, its problems added to ``errs``.
    Without ``checks`` (a run's first reading, see ``load_rules``) the rule has neither
    its check nor its params, nor its docs and examples (``docs`` is None)."""
    for key in sorted(set(data) - _TOP_KEYS):
        errs.add(path, key, "unknown field")
    rid = _str(data, "id", path, errs)
    if rid and not _ID.match(rid):
        errs.add(path, "id", f"{rid!r} must look like ABC123")
    folder = path.name == "rule.toml"
    stem = path.parent.name if folder else path.stem
    name = _str(data, "name", path, errs)
    if name and name.replace("-", "_") != stem.replace("-", "_"):
        errs.add(path, "name", f"{name!r} must be the rule's "
                 f"{'folder' if folder else 'file'} name {stem!r} (with '-' for '_')")
    if name and not _NAME.match(name):
        errs.add(path, "name", "lower-case words joined by '-'")
    cls = _str(data, "class", path, errs, default="other")
    if cls and not _CLASS.match(cls):
        errs.add(path, "class", f"{cls!r} must be a lower-case word (letters, digits, _)")
    check = _check(path, checks, errs) if checks is not None else None
    match = None
    if not (folder and (path.parent / "check.py").is_file()):  # (then check is None)
        match = _match(data.get("match"), path, errs)
    elif "match" in data:
        errs.add(path, "match", "a rule with a check.py has no [match]")
    rule = Rule(
        id=rid,
        name=name,
        category=(path.parent.parent if folder else path.parent).name,
        cls=cls,
        severity=cast(Any, _str(data, "severity", path, errs, choices=SEVERITIES,
                                default="warning")),
        confidence=cast(Any, _str(data, "confidence", path, errs, choices=CONFIDENCES,
                                  default="medium")),
        status=cast(Any, _str(data, "status", path, errs, choices=STATUSES, default="preview")),
        since=_str(data, "since", path, errs, required=False, default="0.1.0"),
        summary=_str(data, "summary", path, errs),
        message=_str(data, "message", path, errs),
        reply=_str(data, "reply", path, errs),
        docs=_docs(data.get("docs"), path, errs) if checks is not None else None,
        match=match,
        check=check,
        params=_params(data.get("params"), path, check, errs) if checks is not None else None,
        paths=_strs(data, "paths", path, errs) if "paths" in data else ("*.c", "*.h"),
        exclude_paths=_strs(data, "exclude_paths", path, errs),
        keywords=_strs(data, "keywords", path, errs),
        supersedes=_strs(data, "supersedes", path, errs),
        examples=_examples(data.get("examples"), path, errs) if checks is not None else (),
        source=path,
    )
    return rule


def _complete(rule: Rule, data: dict[str, Any], checks: Checks, errs: _Errors) -> Rule:
    """A rule read without ``checks`` (``_rule``), with its check and params."""
    check = _check(rule.source, checks, errs)
    return dataclasses.replace(rule, check=check,
                               params=_params(data.get("params"), rule.source, check, errs))


Select = Callable[[list[Rule]], Sequence[Rule]]


def load_rules(dirs: Sequence[Path], checks: Checks, select: Select | None = None
               ) -> list[Rule]:
    """Every rule under ``dirs``, validated, sorted by id; ``checks`` are the Python
    checks rules may have (by rule folder).

    With ``select`` (a run's choice of rules, given them all sorted by id), only what
    a review needs is read: the files without their [docs] and [[examples]], and only
    the chosen rules get their check (``checks`` is asked for them alone) and params;
    the chosen rules are returned, in the order ``select`` gives.

    Raises RuleError listing every problem in every file (of a rule not chosen, those
    of its check and params are not looked for).
    """
    problems: list[str] = []
    rules: list[Rule] = []
    data_of: dict[Path, dict[str, Any]] = {}
    for d in dirs:
        if not d.is_dir():
            problems.append(f"{d}: rules directory not found")
            continue
        for path in rule_files(d):
            if select is None:
                rule, errs = load_rule(path, checks)
            else:
                data = _parse(path, docs=False)
                if isinstance(data, str):
                    rule, errs = None, [data]
                else:
                    found = _Errors()
                    rule, errs = _rule(path, data, None, found), found.items
                    data_of[path] = data
            problems.extend(errs)
            if rule is not None and not errs:
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
    rules.sort(key=lambda r: r.id)
    if select is None:
        return rules
    wrong = _Errors()
    chosen = [_complete(r, data_of[r.source], checks, wrong) for r in select(rules)]
    if wrong.items:
        raise RuleError("invalid rules:\n  " + "\n  ".join(wrong.items))
    return chosen
