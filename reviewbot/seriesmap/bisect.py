"""Bisectability: a patch that does not build on its own.

Two ways a series breaks the build at one of its patches:

- **used before added**: patch N uses a symbol (a call, a name, a struct by value, a
  member of a known struct) that no patch up to N defines and a later patch M adds,
  with no sign that it existed before the series: no patch up to M shows it on a
  removed or unchanged line, M's definition is not the only branch of an ``#if``, the
  series adds its body (a prototype alone does not make a function new: its body is in
  the tree), and the tree (when known) does not define it.
- **removed while in use**: patch N removes (or renames) a definition, and an unchanged
  user still needs it after N: a context line of N itself, or a line a later patch K
  removes that no patch of the series added (so it was there, unchanged, from before
  the series until K).

Decided (and documented in docs/design.md): a prototype is enough to build (a later
patch that adds the body does not make an earlier caller fail to compile; whether it
links depends on the configuration); a use inside a ``#define`` compiles only where the
macro is expanded and is not a use; ``CONFIG_FOO`` that a later patch adds builds fine
(an unknown Kconfig symbol is off); a pointer to a struct that is not defined yet builds
(only a by-value use, ``sizeof`` or a member access needs the definition); a missing
patch between the use and the definition leaves the question open (nothing reported).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from reviewbot.seriesmap.gates import (
    added_names,
    may_break,
    may_remove_definition,
    may_use_before_added,
)
from reviewbot.seriesmap.model import Definition, PatchSymbols, Site, Symbol, Use
from reviewbot.seriesmap.scope import visible, world
from reviewbot.seriesmap.series import Key, SeriesMap, placement
from reviewbot.seriesmap.symbols import is_c

BreakKind = Literal["used-before-added", "removed-in-use"]
_HAS_BODY = frozenset(("function", "variable", "struct", "union", "enum"))
_NEEDS: dict[str, frozenset[str]] = {  # use kinds that need a definition of each kind
    "function": frozenset(("call", "name")),
    "macro": frozenset(("call", "name")),
    "variable": frozenset(("call", "name")),
    "enumerator": frozenset(("name",)),
    "typedef": frozenset(("name",)),
    "struct": frozenset(("type",)),
    "union": frozenset(("type",)),
    "enum": frozenset(("type",)),
    "member": frozenset(("member",)),
}


@dataclass(frozen=True)
class BuildBreak:
    """A patch that does not build on its own, and why.

    ``site``: where a reviewer says it (the added line that uses the symbol, or the
    removed line that defined it). ``evidence``: the later patch's definition, or the
    unchanged user. ``until``: the later patch that adds the symbol or changes the user
    (None when the user is unchanged by the whole series as far as it shows: a context
    line of this patch). ``renamed_to``: the new name when the removal is a rename.
    """

    kind: BreakKind
    site: Site
    symbol: Symbol
    evidence: Site
    until: int | None
    renamed_to: Symbol | None = None
    also: tuple[Symbol, ...] = ()  # more symbols the same removed lines took, still used

    def message(self, total: int) -> str:
        name = self.symbol.spelled()
        if self.also:
            name += " (and " + ", ".join(x.spelled() for x in self.also) + ")"
        if self.kind == "used-before-added":
            return (f"uses {name}, which patch {self.until}/{total} adds: this patch "
                    "does not build on its own")
        what = (f"renames {name} to {self.renamed_to.spelled()}" if self.renamed_to
                else f"removes {name}")
        user = f"{self.evidence.file}:{self.evidence.number}"
        if self.until is None:
            return (f"{what}, but {user} (not changed by this patch) still uses it: "
                    "this patch does not build on its own")
        return (f"{what}, but {user} still uses it until patch {self.until}/{total} "
                "changes that line: this patch does not build on its own")


def _mentions(smap: SeriesMap) -> dict[Key, int]:
    """For each symbol key, the first patch whose pre-image (removed or context lines)
    shows it: it existed before that patch. Members are also keyed without their struct
    (``->foo`` on an unknown struct still shows that some ``foo`` member exists)."""
    first: dict[Key, int] = {}

    def see(symbol: Symbol, index: int) -> None:
        for key in (symbol.key, ("member", "", symbol.name)) if symbol.kind == "member" \
                else (symbol.key,):
            first.setdefault(key, index)

    for pm in smap.patches:
        s = pm.symbols
        for d in (*s.removed, *s.kept):
            see(d.symbol, pm.index)
        for u in (*s.removed_uses, *s.context_uses):
            see(u.symbol, pm.index)
    return first


def _countable(use: Use, symbols: PatchSymbols) -> bool:
    """A use that needs a definition to compile."""
    if use.in_define or use.how == "config":
        return False
    if use.how == "type":
        return use.complete
    if use.how == "member":
        return bool(use.symbol.scope)
    return (use.site.file, use.symbol.name) not in symbols.declared


def _existed(smap: SeriesMap, first_seen: dict[Key, int], symbol: Symbol, by: int) -> bool:
    """Signs that ``symbol`` existed before patch ``by`` added it."""
    keys = [symbol.key]
    if symbol.kind == "member":
        keys.append(("member", "", symbol.name))
    if any(first_seen.get(k, by + 1) <= by for k in keys):
        return True
    files = smap.tree_files(symbol)
    return bool(files)


def used_before_added(smap: SeriesMap) -> list[BuildBreak]:
    first_seen = _mentions(smap)
    out: list[BuildBreak] = []
    for pm in smap.patches:
        n = pm.index
        reported: set[Key] = set()
        for use in pm.symbols.uses:
            key = use.symbol.key
            if key in reported or not _countable(use, pm.symbols):
                continue
            defs = list(smap.definitions(key, use.site.file))
            defs = [d for d in defs if use.how in _NEEDS.get(d.symbol.kind, frozenset())]
            if not defs or defs[0].site.patch <= n:
                continue
            m = defs[0].site.patch
            if not smap.complete_up_to(m):
                continue
            at_m = [d for d in defs if d.site.patch == m]
            if len(at_m) == 1 and at_m[0].conditional:
                continue  # one branch of an #if: the other may be in the tree
            kind = at_m[0].symbol.kind
            if kind in _HAS_BODY and not any(
                    not d.declaration and world(d.site.file) == world(use.site.file)
                    for d in smap.added.get(key, ())):
                continue  # only declarations are added: the body is in the tree
            if _existed(smap, first_seen, at_m[0].symbol, m):
                continue
            reported.add(key)
            out.append(BuildBreak("used-before-added", use.site, at_m[0].symbol,
                                  at_m[0].site, m))
    return out


def _needs(use: Use, defn: Definition) -> bool:
    """``use`` cannot compile without ``defn``'s symbol."""
    if use.in_define or use.how not in _NEEDS.get(defn.symbol.kind, frozenset()):
        return False
    return use.how != "type" or use.complete


def removed_in_use(smap: SeriesMap) -> list[BuildBreak]:
    out: list[BuildBreak] = []
    for pm in smap.patches:
        s = pm.symbols
        renames = {r.old.symbol.key: r.new.symbol for r in s.renames}
        groups: dict[Key, list[Definition]] = {}
        for d in s.removes:
            groups.setdefault(d.symbol.key, []).append(d)
        for key, defs in groups.items():
            symbol = defs[0].symbol
            if symbol.kind == "config" or (symbol.kind == "member" and not symbol.scope):
                continue
            bodies = [d for d in defs if not d.declaration]
            if not bodies:
                continue  # a prototype alone removed: the definition may stay
            if all(d.conditional for d in bodies) and len(bodies) < 2:
                continue  # one branch of an #if: another may stay
            tree = smap.tree_files(symbol)
            if tree and any(f not in {d.site.file for d in defs} for f in tree):
                continue  # the tree defines it elsewhere too
            found = _user_after(smap, pm.index, defs)
            if found is None:
                continue
            removed, user, until = found
            out.append(BuildBreak("removed-in-use", removed.site, symbol, user, until,
                                  renames.get(key)))
    return _merged(smap, out)


def _merged(smap: SeriesMap, found: list[BuildBreak]) -> list[BuildBreak]:
    """One finding per place: removals from one block of removed lines land on the same
    line, and a reviewer says it once, naming every symbol."""
    out: list[BuildBreak] = []
    at: dict[tuple[int, str, tuple[str, int]], int] = {}
    for b in found:
        where = (b.site.patch, b.site.file, placement(smap, b.site))
        if where in at:
            first = out[at[where]]
            out[at[where]] = replace(first, also=(*first.also, b.symbol))
            continue
        at[where] = len(out)
        out.append(b)
    return out


def _seen_by(defs: list[Definition], use: Use) -> Definition | None:
    """The removed definition ``use`` relied on (a header's before a body's)."""
    if not _needs(use, defs[0]):
        return None
    seen = [d for d in defs if visible(d, use.site.file)]
    return min(seen, key=lambda d: (not d.site.file.endswith(".h"), d.site.number),
               default=None)


def _user_after(smap: SeriesMap, n: int, defs: list[Definition]
                ) -> tuple[Definition, Site, int | None] | None:
    """An unchanged user of the removed ``defs`` after patch ``n``, the definition it
    relied on, and the patch that changes that user (None: patch ``n`` itself shows
    it unchanged)."""
    pm = smap.patch(n)
    if pm is None:
        return None
    key = defs[0].symbol.key
    for use in pm.symbols.context_uses:
        if use.symbol.key == key and \
                (use.site.file, use.symbol.name) not in pm.symbols.declared:
            d = _seen_by(defs, use)
            if d is not None:
                return d, use.site, None
    for later in smap.later(n):
        k = later.index
        if not smap.complete_up_to(k):
            return None
        if any(x.symbol.key == key for x in later.symbols.added):
            return None  # defined again
        old_paths = {f.path: f.old_path for f in later.patch.files}
        for use in later.symbols.removed_uses:
            if use.symbol.key != key:
                continue
            d = _seen_by(defs, use)
            if d is None:
                continue
            if smap.provenance.origin(k, old_paths.get(use.site.file), use.site.line):
                continue  # a line the series added: not an unchanged user
            return d, use.site, k
    return None


def _defines_what_earlier_added(smap: SeriesMap) -> bool:
    """A reviewed patch after the first defines, on its added lines of a C file, a name
    that an added line of an earlier one shows (``gates.may_use_before_added`` with the
    definitions read: only the post-images of the C hunks, not the series' uses or
    pre-images). Without one, nothing is used before the patch that adds it."""
    mentioned: set[str] = set()
    for p in smap.reviewed:
        c_files = [i for i, f in enumerate(p.files) if not f.is_binary and is_c(f.path)]
        if mentioned and not mentioned.isdisjoint(
                d.symbol.name for i in c_files for h in range(len(p.files[i].hunks))
                for d in smap.new_side(p.index, i, h).definitions
                if d.site.line.kind == "+"):
            return True
        mentioned.update(added_names(p))
    return False


def build_breaks(smap: SeriesMap) -> list[BuildBreak]:
    """Every way a patch of the series does not build on its own, in patch order.
    Nothing is read as C when neither can happen: a use before the patch that adds it
    needs two patches and a name a later one may define on an earlier one's added
    lines, a removal in use needs a removed line of a C file that may define."""
    patches = smap.reviewed
    if not may_break(patches):
        return []
    used = used_before_added(smap) if len(patches) > 1 and \
        may_use_before_added(patches) and _defines_what_earlier_added(smap) else []
    found = used + (removed_in_use(smap) if any(may_remove_definition(p) for p in patches)
                    else [])
    return sorted(found, key=lambda b: (b.site.patch, b.site.file, b.site.number))
