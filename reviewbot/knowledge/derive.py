"""Facts that need the whole tree, worked out from the per-file facts of the index.

- ``may_sleep``: a function may sleep when its body shows direct evidence (``sleeps``)
  or, outside a guarded branch, calls a function that may sleep. Worked out breadth
  first from the direct evidence, so each function keeps a shortest chain.
- ``contexts``: a function runs in hard-irq or softirq context when it is registered
  as a handler (``regs``), or is called by such a function (depth-limited). A function
  with direct sleep evidence is never put in interrupt context by a call: either the
  tree has a bug there or the call was resolved to the wrong function, and a wrong
  context is worse than a missing one.

Calls are resolved by name (see ``Resolver``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import NamedTuple

from reviewbot.knowledge.resolve import FUNC_BITS, GUARDED, LOCAL, pick, visible

CONTEXT_DEPTH = 6  # calls followed from a handler


class Resolver:
    """Which definitions a call by name reaches, from the caller's file (``pick``), with
    every function of the index loaded once."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.dirs: dict[int, tuple[str, ...]] = {}
        self.paths: dict[int, str] = {}
        paths = self.paths
        for fid, path in conn.execute("SELECT id, path FROM files"):
            self.dirs[fid] = tuple(path.split("/")[:-1])
            paths[fid] = path
        self.by_name: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        self.name_of: dict[int, str] = {}
        for fid, name, flags, kind in conn.execute("SELECT id, name, flags, kind FROM funcs"):
            self.by_name[name].append((fid, visible(paths[fid >> FUNC_BITS], kind, flags)))
            self.name_of[fid] = name

    def resolve(self, name: str, file: int, local: bool) -> list[int]:
        defs = self.by_name.get(name)
        if not defs:
            return []
        return pick([(f, v, self.dirs.get(f >> FUNC_BITS, ())) for f, v in defs], file,
                    self.dirs.get(file, ()), local)

    def quiet(self, paths: tuple[str, ...], names: frozenset[str]) -> list[int]:
        """The functions defined under ``paths`` (directories end in "/") or named by
        ``names``."""
        files = {fid for fid, d in self.dirs.items()
                 if any(self.paths[fid].startswith(p) for p in paths)}
        return [f for name, fs in self.by_name.items() for f, _ in fs
                if f >> FUNC_BITS in files or name in names]

    def defines(self, file: int, name: str) -> bool:
        return any(f >> FUNC_BITS == file for f, _ in self.by_name.get(name, ()))


class Sleeper(NamedTuple):
    via: int | None
    call: str
    line: int
    reason: str
    depth: int


def may_sleep(conn: sqlite3.Connection, res: Resolver, quiet: tuple[str, ...] = (),
              never: frozenset[str] = frozenset()) -> dict[int, Sleeper]:
    """Functions that may sleep; none defined in a ``quiet`` path, nor one of the
    ``never`` names (sleeping.toml)."""
    found: dict[int, Sleeper] = {}
    for fid in res.quiet(quiet, never):
        found[fid] = Sleeper(None, "", 0, "", -1)  # placeholders, dropped at the end
    for func, call, line, reason in conn.execute(
            "SELECT func, call, line, reason FROM sleeps ORDER BY func, line"):
        if func not in found:
            found[func] = Sleeper(None, call, line, reason, 0)
    frontier = [f for f, s in found.items() if s.depth == 0]
    depth = 0
    while frontier:
        depth += 1
        by_name: dict[str, list[int]] = defaultdict(list)
        for f in frontier:
            by_name[res.name_of.get(f, "")].append(f)
        nxt: list[int] = []
        for name, sleepers in by_name.items():
            if not name:
                continue
            targets = set(sleepers)
            for caller, line, flags in conn.execute(
                    "SELECT caller, line, flags FROM calls WHERE callee = ?", (name,)):
                if flags & GUARDED or caller in found:
                    continue
                reached = res.resolve(name, caller >> FUNC_BITS, bool(flags & LOCAL))
                hit = [f for f in reached if f in targets]
                # every definition the call may reach must sleep (alternatives)
                if hit and all(f in found and found[f].depth >= 0 for f in reached):
                    found[caller] = Sleeper(hit[0], name, line, "", depth)
                    nxt.append(caller)
        frontier = nxt
    return {f: s for f, s in found.items() if s.depth >= 0}


class Context(NamedTuple):
    context: str
    via: int | None
    line: int
    reg_file: int
    reg_call: str
    depth: int


def contexts(conn: sqlite3.Connection, res: Resolver, direct_sleepers: set[int]
             ) -> dict[tuple[int, str], Context]:
    found: dict[tuple[int, str], Context] = {}
    frontier: list[tuple[int, str]] = []
    for file, handler, context, via, line in conn.execute(
            "SELECT file, handler, context, via, line FROM regs ORDER BY file, line"):
        targets = res.resolve(handler, file, res.defines(file, handler))
        if len(targets) != 1 or (targets[0], context) in found:
            continue
        found[targets[0], context] = Context(context, None, line, file, via, 0)
        frontier.append((targets[0], context))
    for depth in range(1, CONTEXT_DEPTH + 1):
        nxt: list[tuple[int, str]] = []
        for func, context in frontier:
            for callee, line, flags in conn.execute(
                    "SELECT callee, line, flags FROM calls WHERE caller = ?", (func,)):
                targets = res.resolve(callee, func >> FUNC_BITS, bool(flags & LOCAL))
                if len(targets) != 1:
                    continue
                target = targets[0]
                if (target, context) in found or target in direct_sleepers:
                    continue
                reg = found[func, context]
                found[target, context] = Context(context, func, line, reg.reg_file,
                                                 reg.reg_call, depth)
                nxt.append((target, context))
        frontier = nxt
    return found


def derive(conn: sqlite3.Connection) -> tuple[int, int]:
    """Replace the derived tables (inside the caller's transaction); return the number
    of functions that may sleep and of function/context pairs."""
    from reviewbot.knowledge.vocab import load_vocab

    res = Resolver(conn)
    vocab = load_vocab()
    sleepers = may_sleep(conn, res, vocab.quiet_paths, vocab.never_sleep)
    conn.execute("DELETE FROM may_sleep")
    conn.executemany("INSERT INTO may_sleep VALUES (?,?,?,?,?,?)",
                     [(f, *s) for f, s in sleepers.items()])
    direct = {f for f, s in sleepers.items() if s.depth == 0}
    ctx = contexts(conn, res, direct)
    conn.execute("DELETE FROM contexts")
    conn.executemany("INSERT INTO contexts VALUES (?,?,?,?,?,?,?)",
                     [(f, c.context, c.via, c.line, c.reg_file, c.reg_call, c.depth)
                      for (f, _), c in ctx.items()])
    return len(sleepers), len(ctx)
