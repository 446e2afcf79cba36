"""What C lines use: calls, names, types, members and Kconfig symbols.

Read from a ``SideMap`` (comments, strings and ``#if 0`` already left out). A token is
classed by its neighbours: after ``.``/``->`` a member (its struct known when the base is
a name declared ``struct foo *p`` in the patch's lines of that file, or a designator in
the initializer of a ``struct foo`` variable, or the member argument of
``container_of(p, struct foo, member)``), after ``struct``/``union``/``enum`` a type,
before ``(`` a call, ``CONFIG_FOO`` a Kconfig symbol, else a name. The name a line
defines is not a use; preprocessor conditions give only Kconfig uses; macro bodies are
marked (they compile only where the macro is expanded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from reviewbot.seriesmap.cdefs import NOT_NAMES, SideMap
from reviewbot.seriesmap.lexer import Token
from reviewbot.seriesmap.model import TAGS, Site, Symbol, Use

KEYWORDS = NOT_NAMES | frozenset((
    "auto", "restrict", "__restrict", "_Generic", "_Static_assert", "static_assert",
    "__builtin_expect", "__builtin_constant_p", "__builtin_offsetof", "offsetof",
    "likely", "unlikely", "true", "false", "NULL", "__func__", "__FUNCTION__",
    "__LINE__", "__FILE__", "typeof_member", "__user", "__iomem", "__rcu", "__percpu",
    "__force", "__must_check", "__maybe_unused", "__init", "__exit", "__always_unused",
    "IS_ENABLED", "IS_BUILTIN", "IS_MODULE", "IS_REACHABLE"))
_CONFIG = re.compile(r"^CONFIG_(\w+?)(?:_MODULE)?$")
_CONDITIONS = frozenset(("if", "ifdef", "ifndef", "elif", "elifdef", "elifndef"))
_TYPE_WORDS = frozenset(("int", "char", "short", "long", "unsigned", "signed", "void",
                         "bool", "float", "double", "const"))


def declared_names(side: SideMap) -> dict[str, str]:
    """Names declared on the side's lines, each with its struct or union type
    (``struct page *p`` gives ``p: struct page``), or "" for any other declaration
    (``int n``, ``u64 x``, a parameter)."""
    out: dict[str, str] = {}
    for cl in side.code:
        if cl.dead or cl.directive is not None:
            continue
        toks = cl.tokens
        for k, t in enumerate(toks):
            if t.kind != "id" or t.text in KEYWORDS or k == 0:
                continue
            nxt = toks[k + 1].text if k + 1 < len(toks) else ""
            if nxt not in (";", "=", ",", "[", ")", ":"):
                continue
            j = k - 1
            while j >= 0 and toks[j].text == "*":
                j -= 1
            if j < 0 or toks[j].kind != "id" or toks[j].text in ("return", "case", "goto",
                                                                  "sizeof", "else"):
                continue
            if j == k - 1 and toks[j].text not in _TYPE_WORDS and k >= 2 and \
                    toks[k - 2].text in ("=", "(", ",", "return", "&", "!"):
                continue  # "x = a b" does not happen; "(a b)" is a cast-like oddity
            type_ = ""
            if j >= 1 and toks[j - 1].text in ("struct", "union"):
                type_ = f"{toks[j - 1].text} {toks[j].text}"
            if out.get(t.text, type_) != type_:
                type_ = ""  # declared with two types: do not guess
            out[t.text] = type_
    return out


def _config(name: str) -> str | None:
    m = _CONFIG.match(name)
    return m.group(1) if m else None


def line_uses(site: Site, tokens: Sequence[Token], *, skip: Iterable[str] = (),
              types: dict[str, str] | None = None, initializer: str | None = None,
              directive: str | None = None, in_define: bool = False,
              names: frozenset[str] | None = None) -> list[Use]:
    """The uses on one line. ``skip``: names the line defines; ``types``: declared
    names with their struct type; ``initializer``: the struct the line initializes;
    ``names``: the only names whose uses are wanted (None: every name)."""
    types = types or {}
    skipped = set(skip)
    out: list[Use] = []
    if directive is not None:
        if directive in _CONDITIONS:
            out.extend(Use(Symbol("config", c), "config", site) for t in tokens
                       if t.kind == "id" and (c := _config(t.text)) is not None
                       and (names is None or c in names))
        if directive != "define":
            return out
    texts = [t.text for t in tokens]
    start = 0
    if directive == "define":  # skip "# define NAME" and a macro's parameter list
        start = texts.index("define") + 2 if "define" in texts else len(texts)
        if start < len(tokens) and texts[start] == "(" and \
                tokens[start].col == tokens[start - 1].col + len(texts[start - 1]):
            start = texts.index(")", start) + 1 if ")" in texts[start:] else len(texts)
    for k in range(start, len(tokens)):
        t = tokens[k]
        name = t.text
        if t.kind != "id" or name in KEYWORDS:
            continue
        if names is not None and name not in names and (
                not name.startswith("CONFIG_") or _config(name) not in names):
            continue  # a use of a name no analysis asks about (skipped the same way)
        if name in skipped:
            skipped.discard(name)
            continue
        prev = texts[k - 1] if k > 0 else ""
        nxt = texts[k + 1] if k + 1 < len(texts) else ""
        config = _config(name)
        if config is not None:
            out.append(Use(Symbol("config", config), "config", site, in_define=in_define))
        elif prev in (".", "->"):
            out.append(Use(Symbol("member", name, _member_scope(texts, k, types,
                                                               initializer)),
                           "member", site, in_define=in_define))
        elif prev in TAGS:
            if nxt in ("{", ";"):
                continue  # a definition or a forward declaration, not a use
            complete = nxt != "*" and not (k >= 3 and texts[k - 3] == "sizeof"
                                           and nxt == "*")
            out.append(Use(Symbol(prev, name), "type", site, complete=complete,  # type: ignore[arg-type]
                           in_define=in_define))
            if nxt == "," and k + 3 < len(texts) and texts[k + 2] != "" and \
                    tokens[k + 2].kind == "id" and texts[k + 3] in (")", ","):
                # container_of(p, struct foo, member), offsetof(struct foo, member)
                out.append(Use(Symbol("member", texts[k + 2], f"{prev} {name}"), "member",
                               site, in_define=in_define))
        elif nxt == "(":
            out.append(Use(Symbol("function", name), "call", site, in_define=in_define))
        else:
            out.append(Use(Symbol("variable", name), "name", site, in_define=in_define))
    return out


def _member_scope(texts: Sequence[str], k: int, types: dict[str, str],
                  initializer: str | None) -> str:
    """The struct a member access at ``k`` is on, when the line shows it."""
    if k >= 2 and texts[k - 1] == "." and texts[k - 2] in ("{", ",", "") and \
            k + 1 < len(texts) and texts[k + 1] == "=":
        return initializer or ""
    if k == 1 and texts[0] == "." and len(texts) > 2 and texts[2] == "=":
        return initializer or ""
    if k >= 2 and (k < 3 or texts[k - 3] not in (".", "->")):
        return types.get(texts[k - 2], "")
    return ""


def side_uses(side: SideMap, kinds: str, patch: int, path: str,
              types: dict[str, str], names: frozenset[str] | None = None) -> list[Use]:
    """The uses on the side's lines of ``kinds`` (``"+"``, ``"-"``, ``" "``); with
    ``names``, only the uses of those names (``FOO`` for ``CONFIG_FOO``)."""
    defined: dict[int, list[str]] = {}
    for d in side.definitions:
        defined.setdefault(id(d.site.line), []).append(d.symbol.name)
    out: list[Use] = []
    for ln, cl, init in zip(side.lines, side.code, side.initializers, strict=True):
        if ln.kind not in kinds or cl.dead or cl.blank:
            continue
        directive = cl.directive
        if cl.in_define and directive is None:
            directive = "define-body"
        out.extend(line_uses(Site(patch, path, ln), cl.tokens,
                             skip=defined.get(id(ln), ()), types=types, initializer=init,
                             directive=None if directive == "define-body" else directive,
                             in_define=cl.in_define, names=names))
    return out
