"""The tree's knowledge, as the analyses ask for it: where the tree defines a symbol.

The analyses take an optional ``TreeDefines``: given a ``Symbol``, the paths of the
files where the kernel tree the series applies to defines (or declares) it before the
series, empty when it does not. Without one they say only what the series itself
proves. ``index_defines`` adapts an index with a ``defines(name)`` lookup (the
``reviewbot index`` knowledge base: ``defines("foo")``, ``defines("struct foo.bar")``
for a member, ``defines("CONFIG_FOO")``, each answer with a ``kind`` and a
``site.file``) without importing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from reviewbot.seriesmap.model import TAGS, Symbol

TreeDefines = Callable[[Symbol], Sequence[str]]

# what an index's answer "kind" may be for each kind of symbol the analyses ask about
_KINDS: dict[str, frozenset[str]] = {
    "function": frozenset(("function", "macro", "variable")),
    "macro": frozenset(("macro", "function", "variable", "enumerator")),
    "variable": frozenset(("variable", "macro", "enumerator", "function", "typedef")),
    "enumerator": frozenset(("enumerator", "macro", "variable")),
    "typedef": frozenset(("typedef", "macro")),
    "struct": frozenset(("struct",)),
    "union": frozenset(("union",)),
    "enum": frozenset(("enum",)),
    "member": frozenset(("member",)),
    "config": frozenset(("kconfig", "config")),
}


class DefinesIndex(Protocol):
    def defines(self, symbol: str) -> Sequence[Any]: ...


def index_key(symbol: Symbol) -> str:
    """How an index spells the symbol."""
    if symbol.kind == "member":
        return f"{symbol.scope}.{symbol.name}"
    if symbol.kind == "config":
        return f"CONFIG_{symbol.name}"
    return symbol.name


def index_defines(index: DefinesIndex) -> TreeDefines:
    """A ``TreeDefines`` answered by ``index.defines``."""
    def defines(symbol: Symbol) -> Sequence[str]:
        if symbol.kind == "member" and not symbol.scope:
            return ()
        kinds = _KINDS.get(symbol.kind, frozenset())
        out: list[str] = []
        for d in index.defines(index_key(symbol)):
            kind = str(getattr(d, "kind", ""))
            if kind in kinds or (symbol.kind in TAGS and kind == symbol.kind):
                site = getattr(d, "site", None)
                out.append(str(getattr(site, "file", "")))
        return tuple(out)

    return defines
