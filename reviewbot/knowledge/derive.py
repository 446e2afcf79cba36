"""Facts that need the whole tree, worked out from the per-file facts of the index.

- ``may_sleep``: a function may sleep when its body shows direct evidence (``sleeps``,
  depth 0) or, outside a guarded branch, calls a name whose every reachable definition
  may sleep. Its depth is the shortest such chain (at most ``max_depth`` calls from the
  evidence): depth(f) = min over f's calls c of 1 + max depth over the definitions c
  reaches. Of the calls that give that depth, the one to the smallest name is kept, and
  its ``via`` is the first reached definition at depth - 1.
- ``contexts``: a function runs in hard-irq or softirq context when it is registered as
  a handler (``regs``: depth 0, the registration with the smallest file, line wins), or
  is called, through a call that resolves to exactly one definition, by a function that
  does (depth = the shortest number of calls, at most ``CONTEXT_DEPTH``; the caller with
  the smallest id is kept). A function with direct sleep evidence is never put in
  interrupt context by a call: either the tree has a bug there or the call was resolved
  to the wrong function, and a wrong context is worse than a missing one.

Both are defined without reference to an order of work, so the same facts come out of
a full derivation (every function) and of an incremental one after some files changed:
the incremental one re-derives only the functions of the changed files, the callers of
the names whose set of definitions changed, and what depends on those (the callers
whose shortest chain got longer, the callers of a function whose depth changed, the
descendants of a changed context edge), breadth first, one depth at a time, taking the
rest from the index as it was. ``tests/test_knowledge_incremental.py`` holds the two
equal on random edits.

Calls are resolved by name (see ``Resolver``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from reviewbot.knowledge.resolve import FUNC_BITS, GUARDED, LOCAL, pick, visible
from reviewbot.knowledge.vocab import Vocab

CONTEXT_DEPTH = 6  # calls followed from a handler
Row = tuple[str, int, int, int]  # a call: callee, caller, line, flags


class Resolver:
    """Which definitions a call by name reaches, from the caller's file (``pick``).
    Definitions are read per name, when a name is first resolved, and answers are kept
    per (name, file or directory)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.paths: dict[int, str] = dict(conn.execute("SELECT id, path FROM files"))
        self.dirs: dict[int, tuple[str, ...]] = {
            fid: tuple(path.split("/")[:-1]) for fid, path in self.paths.items()}
        self._defs: dict[str, list[tuple[int, bool, tuple[str, ...]]]] = {}
        self._answers: dict[tuple[str, object, bool], list[int]] = {}
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS some_ids (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS some_names (name TEXT PRIMARY KEY) "
                     "WITHOUT ROWID")

    def def_of(self, fid: int, flags: int, kind: str) -> tuple[int, bool, tuple[str, ...]]:
        return fid, visible(self.paths[fid >> FUNC_BITS], kind, flags), \
            self.dirs[fid >> FUNC_BITS]

    def order(self, fid: int) -> tuple[str, int]:
        """Where a function is (its file's path, its index there): the order in which
        definitions and callers are preferred, the same whatever ids files got."""
        return self.paths[fid >> FUNC_BITS], fid & 0xFFFF

    def definitions(self, name: str) -> list[tuple[int, bool, tuple[str, ...]]]:
        found = self._defs.get(name)
        if found is None:
            found = self._defs[name] = sorted(
                (self.def_of(*row) for row in self.conn.execute(
                    "SELECT id, flags, kind FROM funcs WHERE name = ?", (name,))),
                key=lambda d: self.order(d[0]))
        return found

    def prefetch(self, names: Iterable[str]) -> None:
        """Read the definitions of many names at once."""
        fresh = [n for n in names if n not in self._defs]
        if len(fresh) < 64:
            return
        self.fill_names(fresh)
        found: dict[str, list[tuple[int, bool, tuple[str, ...]]]] = {n: [] for n in fresh}
        for name, fid, flags, kind in self.conn.execute(
                "SELECT f.name, f.id, f.flags, f.kind FROM some_names n CROSS JOIN funcs f "
                "ON f.name = n.name"):
            found[name].append(self.def_of(fid, flags, kind))
        for defs in found.values():
            if len(defs) > 1:
                defs.sort(key=lambda d: self.order(d[0]))
        self._defs.update(found)

    def resolve(self, name: str, file: int, local: bool) -> list[int]:
        where: object = file if local else self.dirs.get(file, ())
        key = (name, where, local)
        found = self._answers.get(key)
        if found is None:
            defs = self.definitions(name)
            found = self._answers[key] = pick(defs, file, self.dirs.get(file, ()), local) \
                if defs else []
        return found

    def defines(self, file: int, name: str) -> bool:
        return any(f >> FUNC_BITS == file for f, _, _ in self.definitions(name))

    # -- bulk queries through temporary tables ----------------------------------------

    def fill_ids(self, ids: Iterable[int]) -> None:
        self.conn.execute("DELETE FROM some_ids")
        self.conn.executemany("INSERT OR IGNORE INTO some_ids VALUES (?)",
                              [(i,) for i in ids])

    def fill_names(self, names: Iterable[str]) -> None:
        self.conn.execute("DELETE FROM some_names")
        self.conn.executemany("INSERT OR IGNORE INTO some_names VALUES (?)",
                              [(n,) for n in names])

    def names(self, ids: Iterable[int]) -> dict[int, str]:
        self.fill_ids(ids)
        return dict(self.conn.execute(
            "SELECT f.id, f.name FROM some_ids i CROSS JOIN funcs f ON f.id = i.id"))

    def callers_of(self, names: Iterable[str]) -> list[Row]:
        """Every call of these names (reverse edges)."""
        self.fill_names(names)
        return self.conn.execute("SELECT s.name, c.caller, c.line, c.flags FROM some_names s "
                                 "CROSS JOIN names n ON n.name = s.name CROSS JOIN calls c "
                                 "ON c.callee = n.id").fetchall()

    def calls_of(self, ids: Iterable[int]) -> list[Row]:
        """Every call these functions make (forward edges)."""
        self.fill_ids(ids)
        return self.conn.execute("SELECT n.name, c.caller, c.line, c.flags FROM some_ids i "
                                 "CROSS JOIN calls c ON c.caller = i.id CROSS JOIN names n "
                                 "ON n.id = c.callee").fetchall()


@dataclass
class Change:
    """What an update replaced: the files whose rows were deleted and re-read (or are
    new, or removed), and the functions those files had before."""

    files: set[int]
    old_funcs: list[tuple[int, str, bool]]  # id, name, visible tree-wide (before)


@dataclass
class _Delta:
    """How the changed files changed the definitions, from a Change."""

    files: set[int]
    changed_ids: set[int]  # the functions of the changed files now
    names: set[str]  # every name defined there, before or now
    moved: set[str]  # names whose definitions changed (added, removed, visibility)
    match: dict[int, int] = field(default_factory=dict)  # old id -> new id, same def
    old_names: dict[int, str] = field(default_factory=dict)  # old id -> name


def _delta(conn: sqlite3.Connection, res: Resolver, change: Change) -> _Delta:
    res.fill_ids(change.files)
    new = conn.execute("SELECT f.id, f.name, f.flags, f.kind FROM some_ids i CROSS JOIN "
                       "funcs f ON f.id BETWEEN i.id << 16 AND (i.id << 16) | 65535"
                       ).fetchall()
    before: dict[tuple[int, str], list[tuple[int, bool]]] = defaultdict(list)
    after: dict[tuple[int, str], list[tuple[int, bool]]] = defaultdict(list)
    for fid, name, seen in sorted(change.old_funcs):
        before[fid >> FUNC_BITS, name].append((fid, seen))
    for fid, name, flags, kind in sorted(new):
        after[fid >> FUNC_BITS, name].append((fid, res.def_of(fid, flags, kind)[1]))
    delta = _Delta(set(change.files), {r[0] for r in new}, set(), set(),
                   old_names={fid: name for fid, name, _ in change.old_funcs})
    for key in before.keys() | after.keys():
        name = key[1]
        delta.names.add(name)
        old, now = before.get(key, []), after.get(key, [])
        if [v for _, v in old] == [v for _, v in now]:
            delta.match.update((o, n) for (o, _), (n, _) in zip(old, now, strict=True))
        else:
            delta.moved.add(name)
    return delta


def old_functions(conn: sqlite3.Connection, files: dict[int, str]
                  ) -> list[tuple[int, str, bool]]:
    """The functions of ``files`` (id -> path) as the index has them, before an update
    replaces them: id, name, visible tree-wide."""
    out: list[tuple[int, str, bool]] = []
    for fid, path in files.items():
        out.extend((f, name, visible(path, kind, flags)) for f, name, flags, kind in
                   conn.execute("SELECT id, name, flags, kind FROM funcs WHERE id "
                                "BETWEEN ? AND ?", (fid << FUNC_BITS,
                                                    (fid << FUNC_BITS) | 0xFFFF)))
    return out


class Sleeper(NamedTuple):
    via: int | None
    call: str
    line: int
    reason: str
    depth: int


class _SleepState:
    """may_sleep, being worked out: ``new`` (re-derived) over ``old`` (the index)."""

    def __init__(self, conn: sqlite3.Connection, res: Resolver, vocab: Vocab,
                 old: dict[int, Sleeper], pending: set[int]) -> None:
        self.conn, self.res = conn, res
        self.old = old
        self.pending = pending  # to re-derive: their old facts may not hold
        self.new: dict[int, Sleeper] = {}
        self._calls: dict[int, list[Row]] = {}
        quiet = vocab.quiet_paths
        self.quiet_files = {f for f, p in res.paths.items() if p.startswith(quiet)} \
            if quiet else set()
        res.fill_names(vocab.never_sleep)
        self.never = {r[0] for r in conn.execute(
            "SELECT f.id FROM some_names n CROSS JOIN funcs f ON f.name = n.name")}

    def quiet(self, fid: int) -> bool:
        return fid >> FUNC_BITS in self.quiet_files or fid in self.never

    def depth(self, fid: int) -> int | None:
        s = self.new.get(fid)
        if s is not None:
            return s.depth
        if fid in self.pending:
            return None
        s = self.old.get(fid)
        return None if s is None else s.depth

    def calls_of(self, ids: set[int]) -> list[Row]:
        """The calls of ``ids`` (read once per function)."""
        fresh = [f for f in ids if f not in self._calls]
        if fresh:
            for f in fresh:
                self._calls[f] = []
            for row in self.res.calls_of(fresh):
                self._calls[row[1]].append(row)
        return [row for f in ids for row in self._calls[f]]

    def level(self, rows: list[Row], d: int, eligible: set[int] | None) -> dict[int, Sleeper]:
        """The functions that sleep at depth ``d`` through one of ``rows``: callers in
        ``eligible`` (any not derived yet, when None). A caller that is not pending and
        slept at depth ``d`` keeps its call unless a smaller name qualifies now (every
        call that qualifies now and did not before involves a name in ``rows``)."""
        best: dict[int, Sleeper] = {}
        res, new, depth, old = self.res, self.new, self.depth, self.old
        if eligible is not None:
            for f in eligible:
                s = old.get(f)
                if s is not None and s.depth == d and f not in self.pending:
                    best[f] = s
        for name, caller, line, flags in rows:
            if flags & GUARDED or caller in new:
                continue
            if eligible is None:
                if self.quiet(caller):
                    continue
            elif caller not in eligible:
                continue
            got = best.get(caller)
            if got is not None and got.call < name:
                continue
            reached = res.resolve(name, caller >> FUNC_BITS, bool(flags & LOCAL))
            if not reached:
                continue
            via = None
            for f in reached:
                k = depth(f)
                if k is None or k >= d:
                    break
                if k == d - 1 and via is None:
                    via = f
            else:
                if via is not None:
                    best[caller] = Sleeper(via, name, line, "", d)
        return best


def may_sleep(conn: sqlite3.Connection, res: Resolver, vocab: Vocab,
              delta: _Delta | None) -> dict[int, Sleeper | None]:
    """The functions whose may-sleep facts are (re)derived -> their facts (None: they do
    not sleep): every function (``delta`` None), or those the change can affect."""
    full = delta is None
    old: dict[int, Sleeper] = {} if full else {
        f: Sleeper(*r) for f, *r in conn.execute(
            "SELECT func, via, call, line, reason, depth FROM may_sleep")}
    pending: set[int] = set()
    old_changed: dict[int, Sleeper] = {}  # the facts of the changed files, by old id
    if delta is not None:
        pending = set(delta.changed_ids)
        pending.update(caller for _, caller, _, _ in res.callers_of(delta.moved))
        old_changed = {o: old.pop(o) for o in delta.old_names if o in old}
    st = _SleepState(conn, res, vocab, old, pending)
    # depth 0: direct evidence
    query = "SELECT func, call, line, reason FROM sleeps ORDER BY func, line, call"
    if not full:
        res.fill_ids(pending)
        query = ("SELECT s.func, s.call, s.line, s.reason FROM some_ids i CROSS JOIN "
                 "sleeps s ON s.func = i.id ORDER BY s.func, s.line, s.call")
    for func, call, line, reason in conn.execute(query).fetchall():
        if func not in st.new and not st.quiet(func):
            st.new[func] = Sleeper(None, call, line, reason, 0)
    moved = list(st.new) if full else _moved(st, delta, st.new)
    if delta is not None:
        _worse(st, delta, old_changed, 0)
    live: list[Row] = []  # calls of the names of the functions that moved, so far
    for d in range(1, vocab.max_depth + 1):
        names = set(res.names(moved).values()) if moved else set()
        res.prefetch(names)
        rows = res.callers_of(names) if names else []
        eligible: set[int] | None = None
        if delta is not None:
            # a call whose definitions include one that moved, at any depth below d,
            # may qualify now at depth d
            live += rows
            waiting = {f for f in st.pending if f not in st.new and not st.quiet(f)}
            eligible = waiting | {c for _, c, _, _ in live if c not in st.pending and (
                (s := old.get(c)) is None or s.depth >= d) and not st.quiet(c)}
            rows = live + st.calls_of(waiting)
        found = st.level(rows, d, eligible)
        if delta is not None:  # facts that come out as they were need no new row
            found = {f: s for f, s in found.items() if f in st.pending or old.get(f) != s}
        st.new.update(found)
        moved = list(found) if full else _moved(st, delta, found)
        if delta is not None:
            _worse(st, delta, old_changed, d)
    if full:
        return dict(st.new)
    out: dict[int, Sleeper | None] = dict.fromkeys(st.pending)
    out.update(st.new)
    return out


def _moved(st: _SleepState, delta: _Delta | None, found: Iterable[int]) -> list[int]:
    """Of the functions just derived, those whose callers must look again: those of the
    changed files (an id may stand for another function now), and those whose depth
    differs from before."""
    assert delta is not None
    out = []
    for f in found:
        s = st.old.get(f)
        if f in delta.changed_ids or s is None or s.depth != st.new[f].depth:
            out.append(f)
    return out


def _worse(st: _SleepState, delta: _Delta, old_changed: dict[int, Sleeper], d: int) -> None:
    """After depth ``d``: the functions that slept at depth ``d`` before and do not now
    (not that early) make the functions whose chains may go through them re-derive."""
    lost: set[str] = set()
    for o, was in old_changed.items():
        if was.depth == d:
            n = delta.match.get(o)
            got = st.new.get(n) if n is not None else None
            if got is None or got.depth > d:
                lost.add(delta.old_names[o])
    worse = [f for f in st.pending if f not in st.new and f not in delta.changed_ids
             and (w := st.old.get(f)) is not None and w.depth == d]
    if worse:
        lost.update(st.res.names(worse).values())
    if not lost:
        return
    for _, caller, _, _ in st.res.callers_of(lost):
        c = st.old.get(caller)
        if c is not None and c.depth > d and caller not in st.new:
            st.pending.add(caller)


class Context(NamedTuple):
    context: str
    via: int | None
    line: int
    reg_file: int | None  # the registration (of depth 0 only)
    reg_call: str | None
    depth: int


def _root_key(res: Resolver, c: Context) -> tuple[str, int, str]:
    return res.paths.get(c.reg_file or 0, ""), c.line, c.reg_call or ""


def _call_key(res: Resolver, c: Context) -> tuple[tuple[str, int], int]:
    return res.order(c.via or 0), c.line


def contexts(conn: sqlite3.Connection, res: Resolver, direct: set[int],
             delta: _Delta | None) -> dict[tuple[int, str], Context | None]:
    """The (function, context) pairs (re)derived -> their facts (None: removed)."""
    full = delta is None
    old: dict[tuple[int, str], Context] = {} if full else {
        (f, ctx): Context(ctx, *r) for f, ctx, *r in conn.execute(
            "SELECT func, context, via, line, reg_file, reg_call, depth FROM contexts")}
    cur = dict(old)  # the pairs as they stand
    new: dict[tuple[int, str], Context] = {}
    invalid: set[tuple[int, str]] = set()
    changed_ids: set[int] = set()
    outs: set[int] = set()  # functions whose calls (resolved) changed
    if delta is not None:
        changed_ids = delta.changed_ids
        outs = set(changed_ids) | {c for _, c, _, _ in res.callers_of(list(delta.moved))}
        root_names = res.names({f for (f, _), c in old.items() if c.via is None})
        children: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
        seeds: list[tuple[int, str]] = []
        for (f, ctx), c in old.items():
            if c.via is not None:
                children[c.via, ctx].append((f, ctx))
            if f >> FUNC_BITS in delta.files or (c.via is not None and (
                    c.via in outs or c.via >> FUNC_BITS in delta.files)) or (
                    c.via is None and ((c.reg_file or 0) in delta.files
                                       or root_names.get(f) in delta.names)):
                seeds.append((f, ctx))
        while seeds:
            pair = seeds.pop()
            if pair not in invalid:
                invalid.add(pair)
                seeds.extend(children.get(pair, ()))
        for pair in invalid:
            del cur[pair]
    # depth 0: registrations
    query = "SELECT file, handler, context, via, line FROM regs"
    args: tuple[object, ...] = ()
    if delta is not None:
        # the names of the functions whose pairs must be derived again: their handlers
        # may be registered elsewhere too
        open_names = set(res.names({f for f, _ in invalid}).values()) | delta.names
        res.fill_names(open_names)
        res.fill_ids(delta.files)
        query += (" WHERE file IN (SELECT id FROM some_ids) OR handler IN "
                  "(SELECT name FROM some_names)")
    expand: set[tuple[int, str]] = set()
    for file, handler, context, via, line in conn.execute(query, args).fetchall():
        targets = res.resolve(handler, file, res.defines(file, handler))
        if len(targets) != 1:
            continue
        pair = (targets[0], context)
        cand = Context(context, None, line, file, via, 0)
        have = cur.get(pair)
        if have is not None and have.depth == 0 and \
                _root_key(res, have) <= _root_key(res, cand):
            continue
        cur[pair] = new[pair] = cand
    expand.update(p for p in new if full or p[0] in outs or old.get(p) is None
                  or old[p].depth != 0)
    open_rows: list[Row] = []
    if delta is not None:
        open_rows = res.callers_of(open_names)
    for d in range(1, CONTEXT_DEPTH + 1):
        by_func: dict[int, list[str]] = defaultdict(list)
        for f, ctx in expand:
            by_func[f].append(ctx)
        rows = res.calls_of(by_func) if by_func else []
        at: dict[int, list[str]] = defaultdict(list)  # functions at depth d - 1
        if open_rows:
            for (f, ctx), c in cur.items():
                if c.depth == d - 1:
                    at[f].append(ctx)
        best: dict[tuple[int, str], Context] = {}
        for source, contexts_of in ((rows, by_func), (open_rows, at)):
            for name, caller, line, flags in source:
                ctxs = contexts_of.get(caller)
                if not ctxs:
                    continue
                targets = res.resolve(name, caller >> FUNC_BITS, bool(flags & LOCAL))
                if len(targets) != 1 or targets[0] in direct:
                    continue
                for ctx in ctxs:
                    pair = (targets[0], ctx)
                    cand = Context(ctx, caller, line, None, None, d)
                    got = best.get(pair)
                    if got is None or _call_key(res, cand) < _call_key(res, got):
                        best[pair] = cand
        expand = set()
        for pair, cand in best.items():
            have = cur.get(pair)
            if have is not None and (have.depth < d or (
                    have.depth == d and _call_key(res, have) <= _call_key(res, cand))):
                continue
            cur[pair] = new[pair] = cand
            if full or pair[0] in outs or (o := old.get(pair)) is None or o.depth != d:
                expand.add(pair)
    out: dict[tuple[int, str], Context | None] = {p: None for p in invalid}
    out.update(new)
    return out


def derive(conn: sqlite3.Connection, change: Change | None = None) -> tuple[int, int]:
    """Work out the derived tables again (inside the caller's transaction): all of them
    (``change`` None), or what the files of ``change`` can affect. Returns the number
    of functions that may sleep and of function/context pairs."""
    from reviewbot.knowledge.vocab import load_vocab

    res = Resolver(conn)
    vocab = load_vocab()
    delta = None if change is None else _delta(conn, res, change)
    sleepers = may_sleep(conn, res, vocab, delta)
    if delta is None:
        conn.execute("DELETE FROM may_sleep")
    else:
        _delete_ids(conn, res, "may_sleep", "func", set(sleepers), delta.files)
    conn.executemany("INSERT INTO may_sleep VALUES (?,?,?,?,?,?)",
                     [(f, *s) for f, s in sleepers.items() if s is not None])
    direct = {f for f, in conn.execute("SELECT func FROM may_sleep WHERE depth = 0")}
    ctx = contexts(conn, res, direct, delta)
    if delta is None:
        conn.execute("DELETE FROM contexts")
    else:
        res.fill_ids(delta.files)
        conn.execute("DELETE FROM contexts WHERE func >> 16 IN (SELECT id FROM some_ids)")
        conn.executemany("DELETE FROM contexts WHERE func = ? AND context = ?", list(ctx))
    conn.executemany("INSERT OR REPLACE INTO contexts VALUES (?,?,?,?,?,?,?)",
                     [(f, c.context, c.via, c.line, c.reg_file, c.reg_call, c.depth)
                      for (f, _), c in ctx.items() if c is not None])
    counts = conn.execute("SELECT (SELECT count(*) FROM may_sleep), "
                          "(SELECT count(*) FROM contexts)").fetchone()
    return int(counts[0]), int(counts[1])


def _delete_ids(conn: sqlite3.Connection, res: Resolver, table: str, column: str,
                ids: set[int], files: set[int]) -> None:
    res.fill_ids(files)
    conn.execute(f"DELETE FROM {table} WHERE {column} >> 16 IN (SELECT id FROM some_ids)")
    res.fill_ids(ids)
    conn.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM some_ids)")
