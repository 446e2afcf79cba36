"""A lock taken and released under the same test, twice (CON005).

``if (x) spin_lock(l); ... if (x) spin_unlock(l);``: an ``if`` (without ``else``)
whose block takes a lock, and a later ``if`` of the same function, testing the same
expression (blanks aside), whose block releases it. The finding is on the acquire,
when the patch adds it (or the ``if`` around it).

Quiet for trylocks (their result is the condition, not a test of something else), for
a block that releases the lock again itself, for functions annotated for sparse
(``params.annotations``: ``__acquires``, ``__cond_acquires``...), and for the
double-lock idiom ``if (b != a) spin_lock_nested(b, ...)`` (``params.nested_locks``):
the second of two possibly-identical locks, taken only when it is another one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from reviewbot.cmap.access import call_name, compact
from reviewbot.cmap.locks import normalize_lock
from reviewbot.engine.check import Hit
from reviewbot.engine.params import Names

from ..tree_facts import function_of

if TYPE_CHECKING:
    from tree_sitter import Node

    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import FileMap, MappedFragment
    from reviewbot.cmap.model import FunctionSpan

NODE_KINDS = ("if_statement",)


@dataclass(frozen=True)
class Params:
    acquire: re.Pattern[str] | None = None  # lock calls (the whole name)
    release: re.Pattern[str] | None = None  # unlock calls
    annotations: Names = Names()  # function annotations that tell sparse about the lock
    nested_locks: re.Pattern[str] | None = None  # the double-lock idiom's acquires


class LockCall(NamedTuple):
    name: str  # spin_lock_irqsave
    family: str  # spin, raw_spin, mutex, read, write, rwsem_read, rwsem_write
    lock: str  # normalised lock expression
    line: int
    text: str  # the call as written


class Guarded(NamedTuple):
    """An ``if`` without else whose block takes or releases a lock."""

    condition: str  # compacted
    condition_text: str
    if_line: int
    acquires: tuple[LockCall, ...]  # not released again in the block
    releases: tuple[LockCall, ...]  # not taken before in the block


def _family(pattern: re.Pattern[str] | None, name: str) -> str | None:
    """What pairs an acquire with its release: ``spin`` for spin_lock_irqsave() and
    spin_unlock_irqrestore(), ``rwsem_read`` for down_read() and up_read()."""
    if pattern is None or pattern.fullmatch(name) is None:
        return None
    rwsem = re.fullmatch(r"(?:down|up)_(read|write)\w*", name)
    return f"rwsem_{rwsem.group(1)}" if rwsem else re.sub(r"_(?:un)?lock\w*$", "", name)


def _statements(node: Node) -> list[Node]:
    if node.type == "compound_statement":
        return [c for c in node.named_children if c is not None and c.type != "comment"]
    return [node]


def _lock_call(stmt: Node, mf: MappedFragment, params: Params
               ) -> tuple[str, LockCall] | None:
    """("acquire" | "release", the call) of an expression statement calling a lock
    primitive."""
    if stmt.type != "expression_statement" or stmt.named_child_count != 1:
        return None
    call = stmt.named_children[0]
    name = call_name(call)
    if not name or call is None:
        return None
    args = call.child_by_field_name("arguments")
    line = mf.line_of(call.start_point[0])
    if args is None or line is None:
        return None
    inner = (args.text or b"").decode("utf-8", "replace").strip()[1:]
    for role, pattern in (("acquire", params.acquire), ("release", params.release)):
        family = _family(pattern, name)
        if family is not None:
            text = " ".join((call.text or b"").decode("utf-8", "replace").split())
            return role, LockCall(name, family, normalize_lock(inner), line, text)
    return None


def _guarded(node: Node, mf: MappedFragment, params: Params) -> Guarded | None:
    cond = node.child_by_field_name("condition")
    body = node.child_by_field_name("consequence")
    line = mf.line_of(node.start_point[0])
    if cond is None or body is None or line is None \
            or node.child_by_field_name("alternative") is not None:
        return None
    acquires: list[LockCall] = []
    releases: list[LockCall] = []
    taken: set[tuple[str, str]] = set()
    for stmt in _statements(body):
        found = _lock_call(stmt, mf, params)
        if found is None:
            continue
        role, call = found
        key = (call.family, call.lock)
        if role == "acquire":
            taken.add(key)
            acquires.append(call)
        elif key in taken:  # taken and released in the block: an unconditional pair
            taken.discard(key)
            acquires = [a for a in acquires if (a.family, a.lock) != key]
        else:
            releases.append(call)
    if not acquires and not releases:
        return None
    text = " ".join((cond.text or b"").decode("utf-8", "replace").split())
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return Guarded(compact(cond), text, line, tuple(acquires), tuple(releases))


def _annotated(signature: str, params: Params) -> bool:
    return any(w in params.annotations for w in re.findall(r"\w+", signature))


def _touched_spans(fmap: FileMap) -> list[tuple[int, int]]:
    spans: dict[tuple[int, int], None] = {}
    for line in sorted(fmap.added):
        fn = function_of(fmap, line)
        if fn is not None:
            spans[(fn.start, fn.end)] = None
    return list(spans)


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    fmap = file.map
    if fmap is None or not fmap.added:
        return []
    spans = _touched_spans(fmap)
    if not spans:
        return []
    # per function (by name: each hunk of a function may give it a span of its own),
    # the hunks together
    guarded: dict[str, tuple[FunctionSpan, list[Guarded]]] = {}
    for mf in fmap.fragments:
        # a hunk's fragment whole (its function spans may end early); of a whole file,
        # the functions the patch touches
        rows = mf.rows_of_spans(spans) if mf.focus is not None else None
        if rows == ():
            continue
        for node in mf.nodes(NODE_KINDS, rows):
            g = _guarded(node, mf, params)
            if g is None:
                continue
            fn = function_of(fmap, g.if_line)
            if fn is not None:
                guarded.setdefault(fn.name, (fn, []))[1].append(g)
    out: list[Hit] = []
    for fn, items in guarded.values():
        if not _annotated(fn.signature, params):
            out.extend(_pairs(file.path, fmap, sorted(items, key=lambda g: g.if_line),
                              params))
    return out


def _pairs(path: str, fmap: FileMap, items: list[Guarded], params: Params) -> list[Hit]:
    hits = []
    for i, g in enumerate(items):
        for a in g.acquires:
            if a.line not in fmap.added and g.if_line not in fmap.added:
                continue
            if params.nested_locks is not None and params.nested_locks.fullmatch(a.name) \
                    and re.search(r"[!=]=", g.condition):
                continue
            release = next((r for later in items[i + 1:] if later.condition == g.condition
                            for r in later.releases
                            if (r.family, r.lock) == (a.family, a.lock)), None)
            if release is None:
                continue
            hits.append(Hit(path, a.line if a.line in fmap.added else g.if_line, (
                ("acquire", a.text), ("condition", g.condition_text),
                ("release", release.name), ("release_line", str(release.line)))))
    return hits
