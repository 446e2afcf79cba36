"""Run rules over one patch: path and keyword filters, the three engines, suppression."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

from reviewbot.analysis import FileAnalysis, PatchAnalysis
from reviewbot.diff.model import Line
from reviewbot.engine.budget import PATCH_SECONDS, PatchOverrun, time_limit
from reviewbot.engine.check import Hit, render
from reviewbot.engine.regexsafe import RegexBudgetSpent, RegexGuard, RegexTimeout
from reviewbot.engine.schema import Match, Rule
from reviewbot.engine.vocab import STYLE_CLASSES
from reviewbot.findings import Finding


def path_matches(rule: Rule, path: str) -> bool:
    """The path, or its last component, matches one of the rule's ``paths`` globs
    (``fnmatch.fnmatchcase``) and none of its ``exclude_paths``."""
    name = path.rsplit("/", 1)[-1]

    def hit(globs: tuple[str, ...]) -> bool:
        pattern = _globs(globs)
        return pattern is not None and (pattern.match(path) is not None
                                        or pattern.match(name) is not None)

    return hit(rule.paths) and not hit(rule.exclude_paths)


@lru_cache(maxsize=256)
def _globs(globs: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex matching what any of ``globs`` matches: ``fnmatchcase`` is a match of
    ``fnmatch.translate(glob)``, and each translation is a self-contained group."""
    if not globs:
        return None
    return re.compile("|".join(fnmatch.translate(g) for g in globs))


def _keywords_present(rule: Rule, fc: FileAnalysis) -> bool:
    if not rule.keywords:
        return True
    texts = [ln.text for ln in fc.added_lines()]
    return any(k in t for t in texts for k in rule.keywords)


def _regex_hits(guard: RegexGuard, match: Match, rule: Rule, fc: FileAnalysis,
                notes: list[str]) -> Iterator[Hit]:
    """Lines of the rule's scope that match ``pattern`` and not ``not_pattern``.

    Searches run under the guard's time limits: a line that takes too long is skipped,
    a rule that keeps timing out is dropped for the rest of the run, and a rule whose
    searches have used up its time on this patch (``RegexGuard.patch_budget``) is
    stopped for the rest of the patch, with a note."""
    kind = {"added": "+", "removed": "-", "context": " "}[match.scope]
    for hunk in fc.diff.hunks:
        for ln in hunk.lines:
            if ln.kind != kind:
                continue
            if not guard.active(rule.id):
                return
            try:
                m = guard.search(rule.id, match.pattern, ln.text)
                if m is None or (match.not_pattern and guard.search(
                        rule.id, match.not_pattern, ln.text)):
                    continue
            except RegexBudgetSpent as exc:
                notes.append(f"{rule.id} stopped on this patch at {fc.path}:"
                             f"{ln.new if ln.new is not None else ln.old}: {exc}")
                return
            except RegexTimeout:
                continue
            values = {k: v for k, v in m.groupdict().items() if v is not None}
            values.setdefault("match", m.group(0))
            if kind == "-":
                yield Hit(fc.path, _removed_position(hunk.lines, ln), tuple(values.items()),
                          "old", ln.old)
            elif ln.new is not None:
                yield Hit(fc.path, ln.new, tuple(values.items()))


def _removed_position(lines: Sequence[Line], removed: Line) -> int:
    """Where a removed line was, in post-image numbers: the next post-image line."""
    after = False
    last_new = 0
    for ln in lines:
        if ln is removed:
            after = True
            continue
        if ln.new is not None:
            last_new = ln.new
            if after:
                return ln.new
    return last_new + 1


def _query_hits(patch: PatchAnalysis, match: Match, fc: FileAnalysis) -> Iterable[Hit]:
    if fc.map is None:
        return
    for mf in fc.map.fragments:
        ranges = mf.focus if mf.focus is not None else (None,)  # tree mode: the hunks
        matches = [m for rows in ranges
                   for m in patch.parser.matches(match.query, mf.root, rows)]
        for _, captures in matches:
            targets = captures.get(match.capture)
            if not targets:
                continue
            line = mf.line_of(targets[0].start_point[0])
            if line is None:
                continue
            values = {name: (nodes[0].text or b"").decode("utf-8", "replace")
                      for name, nodes in captures.items() if nodes}
            yield Hit(fc.path, line, tuple(values.items()))


def _hits(patch: PatchAnalysis, guard: RegexGuard, rule: Rule, fc: FileAnalysis
          ) -> Iterable[Hit]:
    if rule.check is not None:
        return rule.check.function(patch, fc, rule.params)
    assert rule.match is not None  # the loader gives every rule a check or a [match]
    if rule.match.engine == "regex":
        return _regex_hits(guard, rule.match, rule, fc, patch.notes)
    return _query_hits(patch, rule.match, fc)


def _finding(rule: Rule, fc: FileAnalysis, hit: Hit) -> Finding | None:
    if hit.side == "old":
        line = next((ln for h in fc.diff.hunks for ln in h.lines
                     if ln.kind == "-" and ln.old == hit.old_line), None)
    else:
        line = fc.new_line(hit.line)
        scope = rule.match.scope if rule.match is not None else "added"
        if line is None or (line.kind != "+" and scope == "added"):
            return None
    if line is None:
        return None
    fn = fc.map.function_at(hit.line) if fc.map is not None else None
    values = dict(hit.values)
    values.setdefault("line", line.text.strip())
    values.setdefault("function", fn.name if fn else "")
    values.setdefault("file", fc.path)
    return Finding(
        rule=rule.id, name=rule.name, cls=rule.cls, severity=rule.severity,
        confidence=rule.confidence, file=fc.path, line=hit.line, text=line.text,
        function=fn.name if fn else None, message=render(rule.message, values),
        reply=render(rule.reply, values).strip(), patch_line=line.patch_line,
        side=hit.side,
    )


Matched = dict[tuple[tuple[str, ...], tuple[str, ...], str], bool]


def _rule_findings(rule: Rule, patch: PatchAnalysis, guard: RegexGuard,
                   matched: Matched) -> list[Finding]:
    """The findings of one rule on the patch (``matched``: path matches, by globs)."""
    findings: list[Finding] = []
    seen: set[tuple[str, int, str]] = set()
    style = rule.cls in STYLE_CLASSES
    for fc in patch.files:
        globs = (rule.paths, rule.exclude_paths, fc.path)
        if globs not in matched:
            matched[globs] = path_matches(rule, fc.path)
        if fc.diff.is_binary or not matched[globs]:
            continue
        if not _keywords_present(rule, fc):
            continue
        for hit in _hits(patch, guard, rule, fc):
            key = (hit.file, hit.line, hit.side)
            if key in seen:
                continue
            seen.add(key)
            if style and hit.side == "new" and hit.line in patch.not_written(fc):
                continue
            f = _finding(rule, fc, hit)
            if f is not None:
                findings.append(f)
    return findings


def run_rules(rules: Sequence[Rule], patch: PatchAnalysis, guard: RegexGuard,
              seconds: float = PATCH_SECONDS) -> list[Finding]:
    """Every finding of ``rules`` on the patch, superseded ones dropped, in patch order.
    Regex rules search under ``guard``'s time limits (one guard per run). The rules run
    under the patch's time budget (``engine/budget.py``): a rule still running when it
    runs out is stopped, and it and the rules not run are named in the patch's notes."""
    findings: list[Finding] = []
    # rules mostly share their globs ("*.c", "*.h"): each file is matched once per globs
    matched: Matched = {}
    guard.begin_patch()
    not_run: list[str] = []
    with time_limit(seconds) as limit:  # one timer for the patch (not one per rule)
        for rule in rules:
            if rule.cls in STYLE_CLASSES and patch.takes_code_as_is():
                continue  # a revert or a stable backport: how the code is written is not its doing
            if limit.spent():
                not_run.append(rule.id)
                continue
            try:
                with limit.step():
                    findings.extend(_rule_findings(rule, patch, guard, matched))
            except PatchOverrun:
                patch.notes.append(f"{rule.id} stopped: the rules of this patch ran past "
                                   f"their time budget of {seconds:g} s; its findings on this "
                                   "patch are not reported")
    if not_run:
        patch.notes.append(f"not run on this patch, past its time budget of {seconds:g} s: "
                           + ", ".join(not_run))
    return _suppress(rules, findings)


def _suppress(rules: Sequence[Rule], findings: list[Finding]) -> list[Finding]:
    by_id = {r.id: r for r in rules}
    covered: set[tuple[str, str, int]] = set()
    for f in findings:
        for other in by_id[f.rule].supersedes if f.rule in by_id else ():
            covered.add((other, f.file, f.line))
    kept = [f for f in findings if (f.rule, f.file, f.line) not in covered]
    return sorted(kept, key=lambda f: (f.patch_line, f.rule))
