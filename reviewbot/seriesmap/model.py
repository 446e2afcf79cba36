"""What the series analysis says: symbols, where they are defined and used (frozen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reviewbot.diff.model import Line

SymbolKind = Literal["function", "macro", "struct", "union", "enum", "typedef", "member",
                     "enumerator", "variable", "config"]
Namespace = Literal["ordinary", "tag", "member", "config"]
UseKind = Literal["call", "name", "type", "member", "config"]
TAGS = ("struct", "union", "enum")


@dataclass(frozen=True)
class Symbol:
    """A named thing of C or Kconfig.

    ``name`` is the identifier: a tag without its keyword (``page`` for ``struct page``),
    a Kconfig symbol without ``CONFIG_``. ``scope`` is the struct or union a member
    belongs to (``struct zone``; empty when not known).
    """

    kind: SymbolKind
    name: str
    scope: str = ""

    @property
    def namespace(self) -> Namespace:
        if self.kind in TAGS:
            return "tag"
        if self.kind == "member":
            return "member"
        if self.kind == "config":
            return "config"
        return "ordinary"

    @property
    def key(self) -> tuple[str, str, str]:
        """What two symbols share when they are the same C name: namespace, tag keyword
        or member's struct, name (a function and a macro of one name share a key)."""
        if self.kind in TAGS:
            return "tag", self.kind, self.name
        if self.kind == "member":
            return "member", self.scope, self.name
        return self.namespace, "", self.name

    def spelled(self) -> str:
        """How a reviewer writes it: ``foo()``, ``FOO``, ``struct foo``, ``foo->bar``."""
        if self.kind == "function":
            return f"{self.name}()"
        if self.kind in TAGS:
            return f"{self.kind} {self.name}"
        if self.kind == "member":
            return f"{self.scope}.{self.name}" if self.scope else f"->{self.name}"
        if self.kind == "config":
            return f"CONFIG_{self.name}"
        return self.name


@dataclass(frozen=True)
class Site:
    """A line of a patch of the series: the patch's 1-based index, the file (its new
    path, or the old one for a deleted file) and the diff line (added, removed or
    context; ``line.new``/``line.old`` are its post-/pre-image numbers)."""

    patch: int
    file: str
    line: Line

    @property
    def number(self) -> int:
        """The post-image line for an added or context line, the pre-image line for a
        removed one."""
        if self.line.new is not None:
            return self.line.new
        return self.line.old or 0


@dataclass(frozen=True)
class Definition:
    """A symbol defined (or declared) on a line.

    ``declaration``: a prototype, ``extern``, forward struct declaration or Kconfig
    reference with no body; ``local``: visible in its own file only (``static``, or a
    macro or type defined in a ``.c`` file); ``conditional``: inside an ``#if`` branch the
    hunk shows; ``shape``: the definition's header tokens without its name, to tell a
    rename (same shape, other name) from an unrelated pair.
    """

    symbol: Symbol
    site: Site
    declaration: bool = False
    local: bool = False
    conditional: bool = False
    shape: tuple[str, ...] = ()


@dataclass(frozen=True)
class Use:
    """A symbol used on a line: ``how`` is ``call`` (``foo(``), ``name`` (a plain
    identifier: variable, enumerator, macro, typedef), ``type`` (``struct foo``),
    ``member`` (``->foo``/``.foo``) or ``config`` (``CONFIG_FOO``, Kconfig ``FOO``).

    ``complete``: the use needs the symbol's full definition to compile (a struct used
    by value or in ``sizeof``, not through a pointer); ``in_define``: in a macro body,
    which compiles only where the macro is expanded.
    """

    symbol: Symbol
    how: UseKind
    site: Site
    complete: bool = True
    in_define: bool = False


@dataclass(frozen=True)
class Rename:
    """A definition removed and one of the same shape added under another name."""

    old: Definition
    new: Definition


class DefinitionSets:
    """What a patch's ``added``, ``removed`` and ``kept`` definitions say together
    (``PatchSymbols`` and the series map's ``PatchMap`` have them)."""

    added: tuple[Definition, ...]
    removed: tuple[Definition, ...]
    kept: tuple[Definition, ...]

    @property
    def defines(self) -> tuple[Definition, ...]:
        """Added definitions of symbols the patch does not also remove (new ones)."""
        gone = {d.symbol.key for d in self.removed}
        return tuple(d for d in self.added if d.symbol.key not in gone)

    @property
    def removes(self) -> tuple[Definition, ...]:
        """Removed definitions of symbols the patch does not define again."""
        back = {d.symbol.key for d in self.added} | {d.symbol.key for d in self.kept}
        return tuple(d for d in self.removed if d.symbol.key not in back)


@dataclass(frozen=True)
class PatchSymbols(DefinitionSets):
    """What one patch does to symbols, from its diff alone.

    ``added``/``removed``: definitions on added/removed lines; ``kept``: definitions on
    context lines (there before and after); ``uses``: on added lines;
    ``removed_uses``/``context_uses``: on removed and context lines (what the code
    looked like before the patch); ``declared``: (file, name) of every name declared as
    a local, parameter or member in the patch's post-image (a use of such a name is not
    a use of a global of that name).
    """

    index: int
    added: tuple[Definition, ...]
    removed: tuple[Definition, ...]
    kept: tuple[Definition, ...]
    uses: tuple[Use, ...]
    removed_uses: tuple[Use, ...]
    context_uses: tuple[Use, ...]
    renames: tuple[Rename, ...]
    declared: frozenset[tuple[str, str]]
