"""A change that belongs in another patch of the series.

- **reformat**: a change group whose removed lines an earlier patch M added and whose
  added lines are the same C tokens (indentation, alignment, wrapping, blank lines):
  the layout should have been right in M. (SER001's case, found through line origins.)
- **revert**: the group puts back exactly what M's change to those lines replaced.
- **fixup**: the group changes a few tokens (at most ``MAX_FIXUP_TOKENS``) of lines M
  added, all of them names or strings (not keywords such as ``static``/``const``, not
  numbers, not punctuation alone), it is the patch's only change in that function, and
  nothing it brings in or takes out appears in the patch's other changes or its commit
  message: a typo or a wrong type corrected after the fact.
- **only-used-later**: a hunk that only adds definitions (a function, macro, type,
  member) that nothing else in this patch uses or names, in a patch that does other
  things and does not announce preparatory work, and that a later patch M is the
  first to use: the hunk belongs in M.

Each comes with its evidence: M's line the change touches, or M's first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from reviewbot.diff.layout import same_tokens
from reviewbot.diff.model import Line
from reviewbot.series.model import Patch
from reviewbot.seriesmap.changes import (
    Change,
    is_blank,
    texts,
    token_edits,
)
from reviewbot.seriesmap.cuses import KEYWORDS
from reviewbot.seriesmap.model import Definition, Site, Symbol
from reviewbot.seriesmap.provenance import Origin
from reviewbot.seriesmap.scope import visible
from reviewbot.seriesmap.series import SeriesMap
from reviewbot.seriesmap.symbols import HunkMap, PatchMap, is_c

MisplacedKind = Literal["reformat", "revert", "fixup", "only-used-later"]
MAX_FIXUP_TOKENS = 4
MIN_DISTINCTIVE = 10  # characters without whitespace: enough to identify a line
# A commit message that says some of its additions are for later patches.
_PREPARES = re.compile(
    r"prepar|later (?:patch|change|commit)|follow[- ]?up|subsequent|upcoming|future|"
    r"next (?:patch|change|commit)|will (?:be used|use|need)|to be used|in a later",
    re.IGNORECASE)
# A subject whose summary starts with one of these provides something: what it adds is
# its purpose, even when a later patch is the first user.
_PROVIDES = re.compile(
    r"^(?:add|adds|introduce|introduces|provide|provides|define|implement|export|expose|"
    r"support|create|allow|enable|extend|prepare|teach|plumb|wire|pass|make|let|new)\b",
    re.IGNORECASE)


def provides(title: str) -> bool:
    """The subject's summary (after the last ``prefix:``) says it provides something."""
    return bool(_PROVIDES.match(title.rsplit(": ", 1)[-1].strip()))


@dataclass(frozen=True)
class Misplaced:
    """A change of patch ``site.patch`` that belongs in patch ``target``.

    ``site``: the line a reviewer comments under (the change's first added line, or
    first removed one); ``evidence``: patch ``target``'s line (the added line this change
    touches, or the first use of what the hunk defines); ``lines``: the change's lines;
    ``symbol``: for only-used-later, what the hunk defines; ``detail``: for a fixup,
    the tokens it changes (``int -> long``).
    """

    kind: MisplacedKind
    site: Site
    target: int
    evidence: Site
    lines: tuple[Line, ...]
    symbol: Symbol | None = None
    detail: str = ""

    def message(self, total: int) -> str:
        m = f"patch {self.target}/{total}"
        if self.kind == "reformat":
            return (f"only re-formats lines that {m} added: this belongs in patch "
                    f"{self.target}")
        if self.kind == "revert":
            return (f"puts back what {m} replaced here: drop that change from patch "
                    f"{self.target} instead")
        if self.kind == "fixup":
            return (f"changes only {self.detail} in lines that {m} added: fold this into "
                    f"patch {self.target}")
        name = self.symbol.spelled() if self.symbol else "this"
        return (f"adds {name}, which nothing in this patch uses and {m} is the first to "
                f"use: this hunk belongs in patch {self.target}")


def _squashed(line: Line) -> str:
    return "".join(line.text.split())


def same_layout_free(old: tuple[Line, ...], new: tuple[Line, ...]) -> bool:
    """The lines say the same thing, comments included, once whitespace is squashed
    (one space kept between two words, string literals kept): only indentation,
    alignment, wrapping or blank lines differ (``diff.layout.same_tokens``)."""
    return same_tokens([ln.text for ln in old], [ln.text for ln in new])


def _distinctive(line: Line | None) -> bool:
    return line is not None and len(_squashed(line)) >= MIN_DISTINCTIVE


class _Finder:
    def __init__(self, smap: SeriesMap, pm: PatchMap) -> None:
        self.smap, self.pm = smap, pm
        self.n = pm.index
        # per earlier patch: (file, id of an added line) -> the change that adds it
        self._added: dict[int, dict[tuple[str, Line], Change]] = {}

    def origin(self, hm: HunkMap, line: Line | None) -> Origin | None:
        if line is None:
            return None
        return self.smap.provenance.origin(self.n, hm.old_path, line)

    def source(self, hm: HunkMap, change: Change) -> tuple[int, Origin] | None:
        """The one earlier patch that added every non-blank removed line (blank ones
        may come from it or from before the series)."""
        found: Origin | None = None
        for ln in change.removed:
            o = self.origin(hm, ln)
            if is_blank(ln):
                if o is not None and found is not None and o.patch != found.patch:
                    return None
                continue
            if o is None or (found is not None and o.patch != found.patch):
                return None
            found = found or o
        if found is None:
            return None
        blanks = [self.origin(hm, ln) for ln in change.removed if is_blank(ln)]
        if any(o is not None and o.patch != found.patch for o in blanks):
            return None
        return found.patch, found

    def layout_source(self, hm: HunkMap, change: Change) -> tuple[int, Origin] | None:
        """For a change of blank lines only: the earlier patch that added the blank
        lines it removes and a distinctive line next to them, or (for blank lines
        inserted) the lines on both sides, one of them distinctive."""
        before, after = self.origin(hm, change.before), self.origin(hm, change.after)
        near = [(o, ln) for o, ln in ((before, change.before), (after, change.after))
                if o is not None]
        if change.removed:
            gone = [self.origin(hm, ln) for ln in change.removed]
            first = gone[0]
            if first is None or any(o is None or o.patch != first.patch for o in gone):
                return None
            if any(o.patch == first.patch and _distinctive(ln) for o, ln in near) or \
                    self.framed(first, len(gone), change):
                return first.patch, first
            return None
        if before is None or after is None or before.patch != after.patch:
            return None
        if not (_distinctive(change.before) or _distinctive(change.after)):
            return None
        return before.patch, before

    def framed(self, first: Origin, count: int, change: Change) -> bool:
        """The ``count`` lines patch M added from ``first`` on sit between the same lines
        in M's post-image as the change does here (one of them distinctive): the line
        numbers followed the right lines."""
        pm = self.smap.patch(first.patch)
        hunk = next((hm.hunk for hm in pm.hunks if hm.file == first.file
                     and any(ln is first.line for ln in hm.hunk.lines)), None) \
            if pm is not None else None
        if hunk is None:
            return False
        post = [ln for ln in hunk.lines if ln.kind != "-"]
        i = next(k for k, ln in enumerate(post) if ln is first.line)
        prev = post[i - 1] if i > 0 else None
        nxt = post[i + count] if i + count < len(post) else None
        pairs = [(a, b) for a, b in ((prev, change.before), (nxt, change.after))
                 if a is not None and b is not None]
        return bool(pairs) and all(_squashed(a) == _squashed(b) for a, b in pairs) and \
            any(_distinctive(a) for a, _ in pairs) and len(pairs) == 2

    def isolated(self, hm: HunkMap, change: Change) -> bool:
        """``change`` is the patch's only code change in its function (or, outside any
        function, in its hunk)."""
        owner = _owner(hm, change)
        for other_hm in self.pm.hunks:
            for ch in other_hm.changes:
                if ch.anchor is change.anchor or same_layout_free(ch.removed, ch.added):
                    continue
                if owner is None and other_hm is hm:
                    return False
                if owner is not None and other_hm.file == hm.file \
                        and _owner(other_hm, ch) == owner:
                    return False
        return True

    def earlier_change(self, origin: Origin) -> Change | None:
        """Patch M's change group that added ``origin``'s line (the first, in hunk
        order, of ``origin.file``): each patch's added lines are indexed once (a search
        of every change per origin was quadratic in the patch)."""
        found = self._added.get(origin.patch)
        if found is None:
            found = self._added[origin.patch] = {}
            pm = self.smap.patch(origin.patch)
            for hm in pm.hunks if pm is not None else ():
                for ch in hm.changes:
                    for ln in ch.added:
                        found.setdefault((hm.file, ln), ch)  # (a patch's lines differ)
        return found.get((origin.file, origin.line))


def _owner(hm: HunkMap, change: Change) -> str | None:
    """The function or type a change is in (its first line's, on either side)."""
    for side, line in ((hm.new, change.added[:1]), (hm.old, change.removed[:1])):
        if side is None or not line:
            continue
        for ln, owner in zip(side.lines, side.owners, strict=True):
            if ln is line[0]:
                return owner
    return None


def _code(hm: HunkMap, lines: tuple[Line, ...]) -> list[str]:
    return texts(hm.tokens(lines))


def _is_word(token: str) -> bool:
    return token[:1].isalnum() or token[:1] in "_\"'"


def _meaningful(token: str) -> bool:
    """A token whose change can be a fix of a typo or a wrong type: a name or a string.
    Not punctuation alone (``.`` to ``->``, an added ``*``: they follow a change of a
    type elsewhere) and not a number (a limit or a size changed on purpose)."""
    return _is_word(token) and not token[:1].isdigit() and token not in KEYWORDS


def _words(hm: HunkMap, lines: tuple[Line, ...]) -> set[str]:
    return {t.text for t in hm.tokens(lines) if t.kind in ("id", "num", "str", "chr")}


def _linked(pm: PatchMap, hm: HunkMap, change: Change, message: str) -> bool:
    """What ``change`` brings in or takes out is part of the patch's own work: a name,
    number or literal it adds appears on the patch's other added lines, one it drops on
    its other removed lines (the same change made elsewhere), a name the patch defines
    or removes, or one its commit message names."""
    edits = token_edits(_code(hm, change.removed), _code(hm, change.added))
    brought = {t for _, _, b in edits for t in b if _is_word(t)}
    dropped = {t for _, a, _ in edits for t in a if _is_word(t)}
    if (brought | dropped) & {d.symbol.name for d in (*pm.defines, *pm.removes)}:
        return True
    if any(len(w) > 3 and w in message for w in brought | dropped if w[:1].isalpha()):
        return True
    for other in pm.hunks:
        for ch in other.changes:
            if ch.anchor is change.anchor:
                continue
            if brought & _words(other, ch.added) or dropped & _words(other, ch.removed):
                return True
    return False


def _describe(edits: list[tuple[str, list[str], list[str]]]) -> str:
    parts = []
    for _, old, new in edits:
        a, b = " ".join(old) or "nothing", " ".join(new) or "nothing"
        parts.append(f"`{a}` to `{b}`")
    return ", ".join(parts)


def changes_earlier_lines(smap: SeriesMap, patch: Patch) -> bool:
    """Some non-blank line ``patch`` removes was added by an earlier patch of the series
    (read from the diffs alone): without one there is no revert or fix-up to find."""
    origin = smap.provenance.origin
    return any(ln.kind == "-" and not is_blank(ln) and
               origin(patch.index, f.old_path, ln) is not None
               for f in patch.files for h in f.hunks for ln in h.lines)


def may_add_for_later(smap: SeriesMap, patch: Patch) -> bool:
    """``patch`` can hold a hunk that only adds what a later patch uses (read from its
    diff alone): the next patch of the series is in the input (and every one before
    it), its commit message does not announce preparatory work, and it has a hunk of a
    C file that only adds lines, and another hunk of a C file."""
    if not smap.complete_up_to(patch.index + 1):
        return False
    message = patch.mail.subject.title + "\n" + patch.commit_message
    if _PREPARES.search(message) or provides(patch.mail.subject.title):
        return False
    hunks = [h for f in patch.files if not f.is_binary and is_c(f.path) for h in f.hunks]
    return len(hunks) >= 2 and any(all(ln.kind != "-" for ln in h.lines) for h in hunks)


def earlier_changes(smap: SeriesMap, pm: PatchMap) -> list[Misplaced]:
    """Reformats, reverts and fix-ups of lines an earlier patch added."""
    f = _Finder(smap, pm)
    found: list[tuple[MisplacedKind, HunkMap, Change, int, Origin, str]] = []
    for hm in pm.hunks:
        for ch in hm.changes:
            if not any(not is_blank(ln) for ln in ch.removed):
                if all(is_blank(ln) for ln in (*ch.removed, *ch.added)):
                    src = f.layout_source(hm, ch)
                    if src is not None:
                        found.append(("reformat", hm, ch, src[0], src[1], ""))
                continue
            src = f.source(hm, ch)
            if src is None:
                continue
            m, origin = src
            earlier = f.earlier_change(origin)
            if same_layout_free(ch.removed, ch.added):
                found.append(("reformat", hm, ch, m, origin, ""))
            elif earlier is not None and earlier.removed and ch.added and [
                    _squashed(ln) for ln in earlier.removed if not is_blank(ln)] == [
                    _squashed(ln) for ln in ch.added if not is_blank(ln)]:
                found.append(("revert", hm, ch, m, origin, ""))
            elif ch.added and f.isolated(hm, ch):
                old, new = _code(hm, ch.removed), _code(hm, ch.added)
                edits = token_edits(old, new)
                size = sum(max(len(a), len(b)) for _, a, b in edits)
                words = [t for _, a, b in edits for t in (*a, *b) if _is_word(t)]
                if size and size <= MAX_FIXUP_TOKENS and size * 3 <= len(old) and words \
                        and all(_meaningful(t) for t in words):
                    found.append(("fixup", hm, ch, m, origin, _describe(edits)))
    if not found:
        return []
    message = pm.patch.mail.subject.title + "\n" + pm.patch.commit_message
    out: list[Misplaced] = []
    for kind, hm, ch, m, origin, detail in found:
        if kind in ("fixup", "revert") and _linked(pm, hm, ch, message):
            continue  # what it changes is part of this patch's own work
        anchor = ch.anchor
        out.append(Misplaced(kind, Site(pm.index, hm.file, anchor), m,
                             Site(m, origin.file, origin.line),
                             (*ch.removed, *ch.added), detail=detail))
    return out


def only_used_later(smap: SeriesMap, pm: PatchMap) -> list[Misplaced]:
    """Hunks that only add what a later patch is the first to use."""
    message = pm.patch.mail.subject.title + "\n" + pm.patch.commit_message
    if _PREPARES.search(message) or provides(pm.patch.mail.subject.title):
        return []
    defines = pm.defines
    new = {d.symbol.key: d for d in defines if not d.declaration}
    if not new:
        return []
    # only the uses of what the patch defines matter here: read no other patch for them
    uses = pm.added_uses(frozenset(d.symbol.name for d in defines))
    used = {u.symbol.key for u in uses} | {("member", "", u.symbol.name) for u in uses
                                           if u.how == "member"}
    candidates: list[tuple[HunkMap, list[Definition]]] = []
    others = 0
    for hm in pm.hunks:
        if hm.new is None:
            continue  # documentation, Kconfig, build files: not what a patch is about
        if any(ln.kind == "-" for ln in hm.hunk.lines):
            others += 1
            continue
        defs = [d for d in hm.new.definitions if d.site.line.kind == "+"
                and d.symbol.key in new]
        if not defs or not _only_definitions(hm, defs):
            others += 1
            continue
        if any(d.symbol.key in used or _loose(d) in used or d.symbol.name in message
               for d in defs):
            others += 1
            continue
        candidates.append((hm, defs))
    if not candidates or not others:
        return []  # a patch made only of such hunks prepares for later ones: fine
    chosen = {id(hm) for hm, _ in candidates}
    elsewhere = {d.symbol.key for hm in pm.hunks if id(hm) not in chosen
                 and hm.new is not None for d in hm.new.definitions
                 if d.site.line.kind == "+"}
    new_keys = {d.symbol.key for d in defines}
    out: list[Misplaced] = []
    for hm, defs in candidates:
        if any(d.symbol.key in elsewhere for d in defs):
            continue  # also defined (its body, a stub) in a hunk that does other work
        group = {d.symbol.key for d in defs}
        lines = {id(ln) for h in pm.hunks if h.new is not None and any(
            d.site.line.kind == "+" and d.symbol.key in group for d in h.new.definitions)
            for ln in h.hunk.lines}
        if any(id(u.site.line) in lines and u.symbol.key in new_keys - group
               for u in uses):
            continue  # built on what the rest of this patch adds: part of its work
        first = _first_later_use(smap, pm.index, defs)
        if first is None:
            continue
        defn, use_site = first
        added = [ln for ln in hm.hunk.lines if ln.kind == "+"]
        anchor = next((ln for ln in added if not is_blank(ln)), added[0])
        out.append(Misplaced("only-used-later", Site(pm.index, hm.file, anchor),
                             use_site.patch, use_site,
                             tuple(ln for ln in hm.hunk.lines if ln.kind == "+"), defn.symbol))
    return out


def _loose(d: Definition) -> tuple[str, str, str]:
    if d.symbol.kind == "member":
        return ("member", "", d.symbol.name)
    return d.symbol.key


def _only_definitions(hm: HunkMap, defs: list[Definition]) -> bool:
    """Every added code line of the hunk is part of ``defs`` (their lines, the bodies
    of the functions among them, or the type they are members of)."""
    assert hm.new is not None
    names = {d.symbol.name for d in defs}
    scopes = {d.symbol.scope for d in defs if d.symbol.kind == "member"}
    def_lines = {id(d.site.line) for d in defs}
    for ln, cl, owner in zip(hm.new.lines, hm.new.code, hm.new.owners, strict=True):
        if ln.kind != "+" or cl.blank:
            continue
        if id(ln) in def_lines or owner in names or owner in scopes:
            continue
        if cl.in_define or cl.directive is not None:
            continue  # a macro's body, or the #if around a definition
        if all(t.text in "{};" for t in cl.tokens):
            continue
        return False
    return True


def _first_later_use(smap: SeriesMap, n: int, defs: list[Definition]
                     ) -> tuple[Definition, Site] | None:
    keys = {d.symbol.key: d for d in defs}
    names = frozenset(d.symbol.name for d in defs)
    for later in smap.later(n):
        if not smap.complete_up_to(later.index):
            return None
        for u in later.added_uses(names):
            d = keys.get(u.symbol.key)
            if d is None and u.how == "member":
                d = next((x for x in defs if x.symbol.kind == "member"
                          and x.symbol.name == u.symbol.name and not u.symbol.scope), None)
            if d is not None and visible(d, u.site.file):
                return d, u.site
    return None


def misplaced_changes(smap: SeriesMap) -> list[Misplaced]:
    """Every change of the series that belongs in another of its patches, in order."""
    out: list[Misplaced] = []
    for pm in smap.patches:
        out.extend(earlier_changes(smap, pm))
        out.extend(only_used_later(smap, pm))
    return sorted(out, key=lambda x: (x.site.patch, x.site.file, x.site.number))
