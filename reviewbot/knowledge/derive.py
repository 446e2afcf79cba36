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
    """Which definitions a call by name reaches, from the caller's file (``pick``).
    Definitions are read per name, when a name is first resolved, and answers are kept
    per (name, file or directory)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.paths: dict[int, str] = dict(conn.execute("SELECT id, path FROM files"))
        self.dirs: dict[int, tuple[str, ...]] = {
            fid: tuple(path.split("/")[:-1]) for fid, path in self.paths.items()}
        self.name_of: dict[int, str] = dict(conn.execute("SELECT id, name FROM funcs"))
        self._defs: dict[str, list[tuple[int, bool, tuple[str, ...]]]] = {}
        self._answers: dict[tuple[str, object, bool], list[int]] = {}

    def definitions(self, name: str) -> list[tuple[int, bool, tuple[str, ...]]]:
        found = self._defs.get(name)
        if found is None:
            found = self._defs[name] = [
                (fid, visible(self.paths[fid >> FUNC_BITS], kind, flags),
                 self.dirs[fid >> FUNC_BITS])
                for fid, flags, kind in self.conn.execute(
                    "SELECT id, flags, kind FROM funcs WHERE name = ?", (name,))]
        return found

    def prefetch(self, query: str) -> None:
        """Read the definitions of many names at once: ``query`` gives (name, id, flags,
        kind) rows, every definition of each name it names."""
        fresh: dict[str, list[tuple[int, bool, tuple[str, ...]]]] = defaultdict(list)
        for name, fid, flags, kind in self.conn.execute(query):
            if name not in self._defs:
                fresh[name].append((fid, visible(self.paths[fid >> FUNC_BITS], kind, flags),
                                    self.dirs[fid >> FUNC_BITS]))
        self._defs.update(fresh)

    def resolve(self, name: str, file: int, local: bool) -> list[int]:
        where: object = file if local else self.dirs.get(file, ())
        key = (name, where, local)
        found = self._answers.get(key)
        if found is None:
            defs = self.definitions(name)
            found = self._answers[key] = pick(defs, file, self.dirs.get(file, ()), local) \
                if defs else []
        return found

    def quiet(self, paths: tuple[str, ...], names: frozenset[str]) -> list[int]:
        """The functions defined under ``paths`` (directories end in "/") or named by
        ``names``."""
        files = {fid for fid, path in self.paths.items() if path.startswith(paths)}
        return [f for f, name in self.name_of.items()
                if f >> FUNC_BITS in files or name in names]

    def defines(self, file: int, name: str) -> bool:
        return any(f >> FUNC_BITS == file for f, _, _ in self.definitions(name))


class Sleeper(NamedTuple):
    via: int | None
    call: str
    line: int
    reason: str
    depth: int


def may_sleep(conn: sqlite3.Connection, res: Resolver, quiet: tuple[str, ...] = (),
              never: frozenset[str] = frozenset(), max_depth: int = 1 << 30
              ) -> dict[int, Sleeper]:
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
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS frontier (name TEXT PRIMARY KEY)")
    while frontier and depth < max_depth:
        depth += 1
        by_name: dict[str, set[int]] = defaultdict(set)
        for f in frontier:
            by_name[res.name_of.get(f, "")].add(f)
        by_name.pop("", None)
        conn.execute("DELETE FROM frontier")
        conn.executemany("INSERT INTO frontier VALUES (?)", [(n,) for n in by_name])
        res.prefetch("SELECT f.name, f.id, f.flags, f.kind FROM frontier CROSS JOIN funcs f "
                     "ON f.name = frontier.name")
        nxt: list[int] = []
        for name, caller, line, flags in conn.execute(
                "SELECT c.callee, c.caller, c.line, c.flags FROM frontier "
                "CROSS JOIN calls c ON c.callee = frontier.name").fetchall():
            if flags & GUARDED or caller in found:
                continue
            reached = res.resolve(name, caller >> FUNC_BITS, bool(flags & LOCAL))
            targets = by_name[name]
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
    sleepers = may_sleep(conn, res, vocab.quiet_paths, vocab.never_sleep, vocab.max_depth)
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
