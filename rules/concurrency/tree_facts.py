"""What the concurrency rules ask of the tree's index and of a function's own code.

- ``knowledge_of(patch)``: the index the review runs with (None without one);
- ``member_facts``: ``Knowledge.member()`` per struct member, asked once per patch;
- ``lockless``: an access outside every lock region that excludes a writer, in a
  function that neither says its caller holds a lock nor runs single-threaded;
- ``unpublished``: a store to an object the function allocated and has not yet made
  reachable (an initialising store, not a racing writer).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.engine.check import Hit, render

if TYPE_CHECKING:
    from reviewbot.analysis import PatchAnalysis
    from reviewbot.cmap.filemap import FileMap
    from reviewbot.cmap.model import FunctionSpan
    from reviewbot.diff.model import Hunk
    from reviewbot.knowledge.lookup import AccessFacts, Knowledge

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Wording:
    """One kind of finding of a rule: its message and reply (``[[params.wordings]]``)."""

    name: str
    message: str
    reply: str


def worded_hit(wordings: tuple[Wording, ...], name: str, path: str, line: int,
               **values: str) -> Hit:
    """A finding worded by the entry ``name`` of ``wordings``: the rule's message and
    reply are ``{message}`` and ``{reply}``, filled here from the values."""
    wording = next(w for w in wordings if w.name == name)
    return Hit(path, line, (("finding", name), *values.items(),
                            ("message", render(wording.message, values)),
                            ("reply", render(wording.reply, values))))


def knowledge_of(patch: PatchAnalysis) -> Knowledge | None:
    """The index of the tree the patch is reviewed against, if the review has one."""
    return getattr(patch, "knowledge", None)


def member_of(key: str) -> tuple[str, str]:
    """(struct type, member) of a one-link typed location key (``<struct zone*>->lock``),
    else ("", ...): ``Knowledge``'s ``split_key``, imported only when asked (a review
    without an index does not load the index's modules)."""
    from reviewbot.knowledge.lookup import split_key

    return split_key(key)


def member_facts(patch: PatchAnalysis, know: Knowledge, struct: str,
                 member: str) -> AccessFacts:
    """``know.member(struct, member)``, looked up once per patch for every check."""
    cache: dict[tuple[str, str], AccessFacts] = patch.kept(__name__ + ".members", dict)
    found = cache.get((struct, member))
    if found is None:
        found = cache[(struct, member)] = know.member(struct, member)
    return found


def function_text(fmap: FileMap, fn: FunctionSpan) -> str:
    return "\n".join(fmap.text[n] for n in range(fn.start, fn.end + 1) if n in fmap.text)


def function_of(fmap: FileMap, line: int) -> FunctionSpan | None:
    """The function holding ``line``; in a hunk whose heading names the function but
    whose span the mapping ends early (at a block's closing brace), the last function
    that starts above the line."""
    fn = fmap.function_at(line)
    if fn is not None:
        return fn
    above = [f for f in fmap.functions if f.start <= line]
    return max(above, key=lambda f: f.start) if above else None


def caller_holds_lock(fmap: FileMap, fn: FunctionSpan,
                      held_by_caller: re.Pattern[str] | None) -> bool:
    """The function says it runs with its caller's lock held: a ``_locked`` name, or a
    header or body matching ``held_by_caller`` (lockdep_assert_held(), __must_hold())."""
    if fn.name.endswith("_locked"):
        return True
    if held_by_caller is None:
        return False
    return bool(held_by_caller.search(fn.signature)
                or held_by_caller.search(function_text(fmap, fn)))


def single_threaded(fn: FunctionSpan, annotations: Collection[str],
                    names: re.Pattern[str] | None = None) -> bool:
    """The function is annotated to run alone (``__init``), or its name says it sets an
    object up (``names``: ``foo_init``, ``foo_alloc``...)."""
    if set(_WORD.findall(fn.signature)) & set(annotations):
        return True
    return names is not None and names.search(fn.name) is not None


def locked(fmap: FileMap, line: int, unprotecting: Collection[str]) -> bool:
    """A lock that excludes writers (not ``unprotecting``: rcu) is held at ``line``."""
    return any(r.lock not in unprotecting for r in fmap.locks_at(line))


def acquired_keys(fmap: FileMap, fn: FunctionSpan, unprotecting: Collection[str],
                  first: int | None = None) -> dict[str, str]:
    """The locks ``fn`` takes itself (visibly; from line ``first`` on): each keyed as
    the index keys it (``<struct inode*>->i_lock``) and as written (``inode->i_lock``),
    to the expression as written."""
    from reviewbot.knowledge.keys import lock_key

    out: dict[str, str] = {}
    for r in fmap.index.locks_starting(fn.start if first is None else first, fn.end):
        if not r.start_known or r.lock in unprotecting:
            continue
        out[r.lock] = r.lock
        base = re.match(r"\w+", r.lock)
        d = fmap.decl(base.group(0), r.start) if base else None
        if base is not None and d is not None:
            out[lock_key(r.lock, {base.group(0): (d.type, d.level)})] = r.lock
    return out


def tree_lock_key(know: Knowledge, function: str, path: str, expr: str) -> str | None:
    """The typed key (``<struct uart_port*>->lock``) of the lock written ``expr`` in
    ``function`` of ``path``, as the tree's own version of that function acquires it
    (``Knowledge.acquired_as``): for a hunk that shows the lock but not the declaration
    of its object. None when the tree's function does not take it, or takes it under
    two keys (ambiguous), or could not type it either."""
    keys = know.acquired_as(function, path, expr)
    if len(keys) != 1:
        return None
    (key,) = keys
    return key if key.startswith("<") else None


def unpublished(fmap: FileMap, fn: FunctionSpan, base: str, line: int,
                allocators: re.Pattern[str], publishers: re.Pattern[str]) -> bool:
    """``base`` (a local pointer) was set from an allocation (``allocators``: kzalloc(),
    kmem_cache_alloc()...) earlier in the function, and no line since hands it to a
    publishing call (``publishers``: rcu_assign_pointer(), list_add()...) or stores it
    anywhere (``x = base;``): a store through it initialises an object no other CPU
    can reach yet."""
    if not base.isidentifier():
        return False
    word = re.escape(base)
    assigned = re.compile(r"(?<![\w.>])" + word + r"\s*=\s*(?:\([^()]*\)\s*)?(\w+)\s*\(")
    mentioned = re.compile(r"(?<![\w.>])" + word + r"(?!\w)")
    stored = re.compile(r"[^=!<>]=\s*(?:\([^()]*\)\s*)?&?" + word + r"\s*[;,)]")
    start = None
    for n in range(fn.start, line):
        text = fmap.text.get(n)
        if text is None or mentioned.search(text) is None:
            continue
        m = assigned.search(text)
        if m is not None:
            start = n if allocators.search(m.group(1)) else None
        elif start is not None and (publishers.search(text) or stored.search(text)):
            start = None
    return start is not None


def call_argument(text: str, start: int) -> tuple[str, int] | None:
    """(the argument starting at ``start`` of a call, the index of the ``,`` or ``)``
    that ends it); None when it does not end on the line (or within 400 characters)."""
    depth = 0
    for i in range(start, min(len(text), start + 400)):
        c = text[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            if depth == 0:
                return text[start:i].strip(), i
            depth -= 1
        elif c == "," and depth == 0:
            return text[start:i].strip(), i
    return None


def first_argument(text: str, start: int) -> str | None:
    """The first argument of the call whose ``(`` is just before ``start``, blanks
    dropped (None when it does not end on the line)."""
    found = call_argument(text, start)
    return "".join(found[0].split()) if found is not None else None


def removed_markings(hunk: Hunk, names: dict[str, str]) -> dict[tuple[str, str], str]:
    """(expression, op) -> macro for each marked access on a removed line of ``hunk``:
    ``names`` maps a macro (READ_ONCE) to the access it makes (read); the expression is
    its first argument without blanks and a leading ``&``."""
    out: dict[tuple[str, str], str] = {}
    if not names:
        return out
    call = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\s*\(")
    for ln in hunk.lines:
        if ln.kind != "-":
            continue
        for m in call.finditer(ln.text):
            arg = first_argument(ln.text, m.end())
            if arg:
                out.setdefault((arg.removeprefix("&"), names[m.group(1)]), m.group(1))
    return out
