"""RCU pointers stored or read plainly (CON006).

- ``store``: a plain assignment, on an added line, to a pointer that is read under RCU:
  the patch removes an ``rcu_assign_pointer()`` of the same expression in the same hunk,
  or reads it with ``rcu_dereference*()`` itself, or (with an index) the tree reads the
  member with ``rcu_dereference*()`` (``min_rcu_reads``, and no more plainly). Quiet for ``NULL``
  (RCU_INIT_POINTER() territory: nothing to order), and for initialising stores: in a
  function that sets an object up (``setup_names``) or through a pointer the function
  allocated and has not published yet (``unpublished``).
- ``read`` (conservative): a plain read that takes the pointer's value (``x =
  p->ptr;``, ``return p->ptr;``) in a visible RCU read-side section and outside any
  lock, of a member that the tree
  publishes with ``rcu_assign_pointer()`` and mostly reads with ``rcu_dereference*()``
  (``min_rcu_reads``, ``ratio``); not in functions that tear an object down
  (``teardown_names``: nobody else can reach it) or that say their caller holds the
  update-side lock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.cmap.access import LVALUES, Access, FragmentAccesses
from reviewbot.engine.check import Hit
from reviewbot.engine.params import Names

from ..tree_facts import (
    Wording,
    caller_holds_lock,
    function_of,
    knowledge_of,
    locked,
    member_facts,
    member_of,
    removed_markings,
    single_threaded,
    unpublished,
    worded_hit,
)

if TYPE_CHECKING:
    from reviewbot.analysis import FileAnalysis, PatchAnalysis
    from reviewbot.cmap.filemap import FileMap
    from reviewbot.cmap.model import FunctionSpan
    from reviewbot.knowledge.lookup import AccessFacts

NODE_KINDS = LVALUES


@dataclass(frozen=True)
class Params:
    wordings: tuple[Wording, ...] = ()
    rcu_reads: Names = Names()  # rcu_dereference*(), rcu_access_pointer()...
    rcu_writes: Names = Names()  # rcu_assign_pointer(), RCU_INIT_POINTER()...
    other_marked: Names = Names()  # other calls whose argument is not a plain access
    min_rcu_reads: int = 3
    ratio: int = 2
    unprotecting_locks: tuple[str, ...] = ()
    held_by_caller: re.Pattern[str] | None = None
    single_threaded: Names = Names()
    setup_names: re.Pattern[str] | None = None
    teardown_names: re.Pattern[str] | None = None
    allocators: re.Pattern[str] | None = None
    publishers: re.Pattern[str] | None = None
    null_values: re.Pattern[str] | None = None  # a stored value that needs no ordering


def _stored_value(text: str, location: str) -> str | None:
    """The value of ``location = value;`` on the line ``text`` (blanks dropped)."""
    squeezed = "".join(text.split())
    i = squeezed.find(location + "=")
    if i < 0 or squeezed[i + len(location) + 1:i + len(location) + 2] == "=":
        return None
    end = squeezed.find(";", i)
    return squeezed[i + len(location) + 1:end if end >= 0 else None]


def _takes_value(text: str, location: str) -> bool:
    """``x = location;``, ``return location;``, ``T *x = location;``: the pointer's value
    is taken as a whole (blanks dropped)."""
    squeezed = "".join(text.split())
    return bool(re.search(r"(?:[^=!<>+\-*/%&|^]=|return)" + re.escape(location) + ";",
                          squeezed))


def check(patch: PatchAnalysis, file: FileAnalysis, params: Params) -> Iterable[Hit]:
    fmap = file.map
    if fmap is None or not fmap.added:
        return []
    marked_reads = params.rcu_reads | params.other_marked
    out = _dropped(file, fmap, params)
    done = {h.line for h in out}
    seen: set[tuple[str, str]] = set()
    for mf in fmap.fragments:
        frag = FragmentAccesses(fmap, mf, marked_reads, params.rcu_writes)
        accesses = frag.on_rows(mf.added_rows)
        for a in accesses:
            if a.line not in fmap.added or a.line in done or a.local \
                    or a.kind not in ("read", "write"):
                continue
            fn = function_of(fmap, a.line)
            if fn is None or (fn.name, a.key) in seen:
                continue
            text = fmap.text.get(a.line, "")
            location = "".join(a.text.split())
            if a.kind == "write":
                hit = _store(patch, file.path, fmap, fn, a, text, location, frag, params)
            else:
                hit = _read(patch, file.path, fmap, fn, a, text, location, params)
            if hit is not None:
                seen.add((fn.name, a.key))
                out.append(hit)
    return out


def _assignment(text: str) -> tuple[str, str] | None:
    """(target, value) of a line holding one plain assignment statement ``p = v;``
    (not ``==``, not a compound ``+=``), comments after it aside."""
    code = text.split("//", 1)[0].split("/*", 1)[0].strip()
    at = code.find("=")
    if not code.endswith(";") or at <= 0 or code[at + 1:at + 2] == "=" \
            or code[at - 1] in "=!<>+-*/%&|^" or ";" in code[:-1]:
        return None
    return code[:at].strip(), code[at + 1:-1].strip()




def _dropped(file: FileAnalysis, fmap: FileMap, params: Params) -> list[Hit]:
    """Plain stores ``p = v;`` on added lines of a hunk that removes an
    rcu_assign_pointer(p, ...) (any expression: a member, a global, ``*np``), ``v`` not
    NULL, outside __init code and initialising stores."""
    names = {n: "write" for n in params.rcu_writes}
    out: list[Hit] = []
    for h in file.hunks:
        removed = removed_markings(h.hunk, names)
        if not removed:
            continue
        for ln in h.hunk.lines:
            line = ln.new
            found = _assignment(ln.text) if ln.kind == "+" and line is not None else None
            if found is None or line is None:
                continue
            target = "".join(found[0].split())
            macro = removed.get((target, "write"))
            value = "".join(found[1].split())
            if macro is None or (params.null_values is not None
                                 and params.null_values.fullmatch(value)):
                continue
            fn = function_of(fmap, line)
            if fn is None or single_threaded(fn, params.single_threaded):
                continue
            base = re.match(r"\w+", target)
            if base is not None and params.allocators is not None \
                    and params.publishers is not None and unpublished(
                        fmap, fn, base.group(0), line, params.allocators, params.publishers):
                continue
            out.append(worded_hit(params.wordings, "store", file.path, line,
                                  location=found[0],
                                  evidence=f"the patch removes {macro}() from it"))
    return out


def _store(patch: PatchAnalysis, path: str, fmap: FileMap, fn: FunctionSpan, a: Access,
           text: str, location: str, frag: FragmentAccesses, params: Params) -> Hit | None:
    value = _stored_value(text, location)
    if value is None or not value or (params.null_values is not None
                                      and params.null_values.fullmatch(value)):
        return None
    if value.startswith("*") or "->" in value or "." in value:
        return None  # a pointer loaded from memory: its target is already published
    reads = [x for x in frag.of_key(a.key) if _rcu_argument(fmap, x, params)]
    # the same expression, or the same struct member of another object
    if any("".join(x.text.split()) == location for x in reads) or (
            reads and member_of(a.key)[0]):
        evidence = "the patch reads it with rcu_dereference()"
    else:
        evidence = _tree_store_evidence(patch, a, params)
        if not evidence:
            return None
    if single_threaded(fn, params.single_threaded, params.setup_names):
        return None
    base = re.match(r"\w+", a.text)
    if base is not None and params.allocators is not None and params.publishers is not None \
            and unpublished(fmap, fn, base.group(0), a.line, params.allocators,
                            params.publishers):
        return None
    return worded_hit(params.wordings, "store", path, a.line, location=a.text, evidence=evidence)


def _rcu_argument(fmap: FileMap, x: Access, params: Params) -> bool:
    """``x`` is the argument an rcu_dereference*() reads (not a subscript inside it)."""
    if x.kind != "marked_read" or x.via not in params.rcu_reads:
        return False
    line = "".join(fmap.text.get(x.line, "").split())
    return re.search(re.escape(x.via) + r"\(&?" + re.escape("".join(x.text.split()))
                     + r"[,)]", line) is not None


def _tree_store_evidence(patch: PatchAnalysis, a: Access, params: Params) -> str:
    know = knowledge_of(patch)
    if know is None:
        return ""
    struct, member = member_of(a.key)
    if not struct:
        return ""
    facts = member_facts(patch, know, struct, member)
    reads = facts.total("rcu", "read")
    plain = facts.total("plain", "read")
    if reads < params.min_rcu_reads or reads < plain:
        return ""
    rcu = next((d for d in facts.declared if "__rcu" in d.attrs), None)
    declared = f", declared __rcu ({rcu.site})" if rcu is not None else ""
    return (f"the tree reads {struct}.{member} with rcu_dereference() {_times(reads)}"
            f"{_example(facts, 'read')}, plainly {plain}{declared}")


def _read(patch: PatchAnalysis, path: str, fmap: FileMap, fn: FunctionSpan, a: Access,
          text: str, location: str, params: Params) -> Hit | None:
    know = knowledge_of(patch)
    if know is None or not _takes_value(text, location):
        return None
    struct, member = member_of(a.key)
    if not struct:
        return None
    facts = member_facts(patch, know, struct, member)
    published = facts.total("rcu", "write")
    rcu_reads = facts.total("rcu", "read")
    plain = facts.total("plain", "read")
    if not published or rcu_reads < params.min_rcu_reads or rcu_reads < params.ratio * plain:
        return None
    if not _in_rcu(fmap, a.line, params) or locked(fmap, a.line, params.unprotecting_locks) \
            or caller_holds_lock(fmap, fn, params.held_by_caller) \
            or single_threaded(fn, params.single_threaded, params.teardown_names) \
            or single_threaded(fn, (), params.setup_names):
        return None
    evidence = (f"the tree publishes {struct}.{member} with rcu_assign_pointer() "
                f"{_times(published)} and reads it with rcu_dereference() "
                f"{_times(rcu_reads)}{_example(facts, 'read')}, plainly {plain}")
    return worded_hit(params.wordings, "read", path, a.line, location=a.text, evidence=evidence)


def _in_rcu(fmap: FileMap, line: int, params: Params) -> bool:
    """``line`` is in a visible RCU read-side section (rcu_read_lock() ... unlock)."""
    return any(r.lock in params.unprotecting_locks and r.start_known
               for r in fmap.locks_at(line))


def _times(n: int) -> str:
    return f"{n} time{'s' if n != 1 else ''}"


def _example(facts: AccessFacts, op: str) -> str:
    x = next((x for x in facts.marked if x.how == "rcu" and x.op == op), None)
    return f" (e.g. in {x.site.function}(), {x.site})" if x is not None else ""
