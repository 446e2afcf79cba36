"""Location keys, spelled as ``reviewbot.cmap.access.location_key`` spells them: blanks
dropped, subscripts ``[]``, a base name declared in the function replaced by its type
(``<struct zone*>->lock``). Shared by the index (which keys what it reads) and the checks
(which key what a patch shows, to look it up)."""

from __future__ import annotations

import re

Decls = dict[str, tuple[str, int] | None]  # name -> (type, pointer level); None: ambiguous

_SUBSCRIPT = re.compile(r"\[[^\[\]]*+\]")
_BLANKS = re.compile(r"\s+")
_LINK = re.compile(r"((?:\[\])*+)(->|\.)(\w++)((?:\[\])*+)")
_ID = re.compile(r"[A-Za-z_]\w*+")


def key_of(base: str, chain: str, decls: Decls) -> tuple[str, str, str] | None:
    """(key, type, member) of the name ``base`` followed by ``chain`` ("->a.b[i]");
    None for a member of a non-pointer local (a struct on the stack). ``type`` is the
    declared type of ``base`` ("" when it is not declared in ``decls``); ``member`` is
    the member a one-link chain names from a declared pointer or object ("" otherwise)."""
    if " " in chain or "\n" in chain or "\t" in chain:
        chain = _BLANKS.sub("", chain)
    if "[" in chain:
        chain = _SUBSCRIPT.sub("[]", chain)
    decl = decls.get(base)
    if decl is None:
        return base + chain, "", ""
    type_, level = decl
    if level == 0 and chain.startswith("."):
        return None
    member = ""
    link = _LINK.match(chain)
    if link is not None and link.end() == len(chain):  # one member link
        left = level - len(link.group(1)) // 2
        if (left == 1 and link.group(2) == "->") or (left == 0 and link.group(2) == "."):
            member = link.group(3)
    return f"<{type_}{'*' * level}>{chain}", type_, member


def lock_key(expression: str, decls: Decls) -> str:
    """The key of a lock expression as ``reviewbot.cmap.locks.normalize_lock`` gives it
    (``zone->lock``, ``hugetlb_lock``): ``<struct zone*>->lock`` when ``zone`` is
    declared ``struct zone *`` in ``decls``."""
    m = _ID.match(expression)
    if m is None or m.end() == len(expression):
        return expression
    keyed = key_of(m.group(), expression[m.end():], decls)
    return keyed[0] if keyed else expression
