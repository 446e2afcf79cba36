"""Per-name lookups in an index, for checks reviewing a patch line by line.

``Knowledge.open(tree)`` opens the index file read-only (one SQLite connection and one
query for its metadata: no fact is loaded up front); each lookup is a few indexed
queries. Every fact carries the file:line it rests on.

Keys are spelled as ``reviewbot.cmap.access`` spells locations: a member of an object
whose declaration is visible is ``<struct zone*>->lock`` (the declared type, a ``*`` per
level of indirection), a global is its name (``hugetlb_lock``), a chain keeps its links
(``<struct pglist_data*>->node_zones[].lock``). ``reviewbot.knowledge.keys.lock_key``
turns a lock region's expression (``zone->lock``) into such a key.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from reviewbot.knowledge.location import describe_index, find_tree, index_path
from reviewbot.knowledge.resolve import FUNC_BITS, IRQS_OFF, LOCKED, RT_ATOMIC, pick, visible
from reviewbot.knowledge.store import ACCESS_BITS, SCHEMA_VERSION, read_meta

EVIDENCE = 8  # example sites kept per fact


class Site(NamedTuple):
    """A place in the tree: a line of a file, in a function (or at file scope)."""

    file: str
    line: int
    function: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Step(NamedTuple):
    """``function`` calls ``call`` at ``site``."""

    function: str
    call: str
    site: Site


class SleepChain(NamedTuple):
    """Why a function may sleep: the calls from it down to a sleeping primitive. No
    steps: the function is itself a primitive listed in sleeping.toml."""

    function: str
    steps: tuple[Step, ...]
    reason: str  # why the last call sleeps (from sleeping.toml)

    @property
    def primitive(self) -> Step | None:
        return self.steps[-1] if self.steps else None

    def describe(self) -> str:
        """``fsg_wait() may sleep: it calls wait_for_completion() (file:612)``; a longer
        chain names the calls in between."""
        if not self.steps:
            return f"{self.function}() may sleep: {self.reason}"
        last = self.steps[-1]
        call = last.call if "(" in last.call else f"{last.call}()"
        via = "".join(f"{s.call}() -> " for s in self.steps[:-1])
        return f"{self.function}() may sleep: it calls {via}{call} ({last.site})"


class HeldCall(NamedTuple):
    """A call made while a lock is held, or in a section that stays atomic on PREEMPT_RT:
    ``site`` is the call (in its caller), ``call`` what took the lock or opened the
    section (``raw_spin_lock_irqsave``, ``local_irq_save``, ``guard(preempt)``) at
    ``at``, ``lock`` the lock as written (``&rq->__lock``; "" for a section) and ``key``
    its index key (``<struct rq*>->__lock``)."""

    site: Site
    call: str
    lock: str
    key: str
    at: Site

    @property
    def written(self) -> str:
        """``raw_spin_lock(&rq->__lock)``, ``guard(raw_spinlock)(&x)``,
        ``scoped_guard(raw_spinlock, &x)``, ``local_irq_save()``, ``guard(preempt)()``."""
        if self.call.startswith("scoped_guard("):
            return self.call[:-1] + (f", {self.lock})" if self.lock else ")")
        return f"{self.call}({self.lock})"

    def describe(self) -> str:
        """``under raw_spin_lock(&rq->__lock) (kernel/sched/core.c:120)``, ``with
        interrupts disabled by local_irq_save() (mm/foo.c:88)``."""
        if self.lock or "lock" in self.call:
            return f"under {self.written} ({self.at})"
        state = "preemption" if "preempt" in self.call or "cpu" in self.call else "interrupts"
        return f"with {state} disabled by {self.written} ({self.at})"


class Acquire(NamedTuple):
    """One acquisition of a lock: ``call`` (spin_lock_irqsave, guard(mutex)...)."""

    site: Site
    call: str
    lock_class: str  # spinlock, raw_spinlock, rwlock, mutex, rwsem, bit_spinlock
    flavour: str  # plain, irq, irqsave, bh, trylock


class ContextUse(NamedTuple):
    """Code at ``site`` runs in ``context`` (hardirq, softirq): it is in a handler
    registered at ``registered`` by ``reg_call``, or reached from one by ``chain``."""

    context: str
    site: Site
    chain: tuple[str, ...]  # handler, ..., the function at ``site``
    registered: Site
    reg_call: str  # request_irq, timer_setup, ...


class Declaration(NamedTuple):
    """Where a name or member is declared, with its type (``spinlock_t``...)."""

    site: Site
    type: str
    attrs: str = ""  # "__rcu", ...


class LockFacts(NamedTuple):
    key: str
    declared: tuple[Declaration, ...]  # the lock's declared type where visible
    flavours: dict[str, int]  # "spinlock irqsave" -> acquisitions in the tree
    acquires: tuple[Acquire, ...]  # examples (at most EVIDENCE)
    contexts: tuple[ContextUse, ...]  # acquisitions in interrupt context

    lock_class: str | None  # from the declaration, else from how it is taken, if one

    def taken_in(self, context: str) -> ContextUse | None:
        return next((c for c in self.contexts if c.context == context), None)


@dataclass(frozen=True)
class Access:  # a dataclass: its field ``count`` would hide tuple.count
    """Accesses of one kind at one place (``count`` of them in that function)."""

    site: Site
    op: str  # read, write, rmw
    how: str  # plain, once, acquire_release, atomic, bitop, rcu, data_race
    via: str  # the macro or helper ("" for plain)
    locks: str  # locks held at a write (comma-separated keys), "" when none or a read
    count: int
    key: str


class AccessFacts(NamedTuple):
    """How the tree accesses one member (or one location key)."""

    struct: str
    member: str
    counts: dict[tuple[str, str], int]  # (op, how) -> accesses in the tree
    marked: tuple[Access, ...]  # marked accesses (examples, at most EVIDENCE per how)
    locked_writes: dict[str, int]  # locks held -> writes under them
    examples: tuple[Access, ...] = ()  # plain accesses (a few)
    declared: tuple[Declaration, ...] = ()

    def total(self, how: str | None = None, op: str | None = None) -> int:
        return sum(n for (o, h), n in self.counts.items()
                   if (how is None or h == how) and (op is None or o == op))

    @property
    def marked_count(self) -> int:
        return sum(n for (_, h), n in self.counts.items() if h != "plain")

    @property
    def rcu(self) -> bool:
        """Accessed with rcu_dereference()/rcu_assign_pointer() or declared __rcu."""
        return self.total("rcu") > 0 or any("__rcu" in d.attrs for d in self.declared)


class Definition(NamedTuple):
    name: str
    kind: str  # function, macro, struct, union, enum, typedef, enumerator, variable, kconfig
    site: Site
    info: str  # "static" for a static function, the target of a typedef, a lock's type


class Knowledge:
    """An open index. Cheap to open; every lookup reads only what it answers, and
    ``may_sleep()`` and ``defines()`` remember their answers (open one per review)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, meta: dict[str, str]) -> None:
        self._conn = conn
        self.path = path
        self.meta = meta
        self._file_ids: dict[str, int | None] = {}
        self._paths: dict[int, str] = {}
        self._functions: dict[int, tuple[str, Site]] = {}
        # answers already given (a review asks about the same names again and again)
        self._sleep_answers: dict[tuple[str, str | None], SleepChain | None] = {}
        self._definitions: dict[str, tuple[Definition, ...]] = {}
        self._prefixes: list[tuple[str, str]] | None = None
        self._lock_types: dict[str, str] | None = None

    def _sleep_reason(self, name: str) -> str | None:
        """Why ``name`` is a sleeping primitive (sleeping.toml, as the index copied it)."""
        q = self._conn.execute
        row = q("SELECT value FROM vocab WHERE kind = 'sleep' AND name = ?", (name,)
                ).fetchone()
        if row is not None:
            return str(row[0])
        if q("SELECT 1 FROM vocab WHERE kind = 'sleep_except' AND name = ?", (name,)
             ).fetchone():
            return None
        if self._prefixes is None:
            self._prefixes = q("SELECT name, value FROM vocab WHERE kind = 'sleep_prefix'"
                               ).fetchall()
        return next((r for p, r in self._prefixes if name.startswith(p)), None)

    @classmethod
    def open(cls, tree: Path | str, env: dict[str, str] | None = None) -> Knowledge | None:
        """The index of the kernel tree holding ``tree``; None when there is none (or it
        cannot be read, or was built by an incompatible reviewbot)."""
        try:
            top = find_tree(Path(tree)).top
        except Exception:  # not a kernel tree: no index
            return None
        path = index_path(top, env)
        if not path.is_file():
            return None
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                   check_same_thread=False)
            meta = read_meta(conn)
        except sqlite3.Error:
            return None
        if meta.get("schema") != SCHEMA_VERSION:
            conn.close()
            return None
        return cls(conn, path, meta)

    def close(self) -> None:
        self._conn.close()

    @property
    def tree(self) -> str:
        return self.meta.get("tree", "")

    @property
    def updated(self) -> float:
        return float(self.meta.get("updated", "0"))

    def describe(self, now: float | None = None) -> str:
        """One line: which index, of what, how old."""
        return describe_index(self.meta, now)

    def counts(self) -> dict[str, int]:
        """How many facts of each kind the index holds (for --status)."""
        q = self._conn.execute
        return {
            "files": q("SELECT count(*) FROM files").fetchone()[0],
            "functions": q("SELECT count(*) FROM funcs WHERE kind = 'function'").fetchone()[0],
            "may_sleep": q("SELECT count(*) FROM may_sleep").fetchone()[0],
            "contexts": q("SELECT count(*) FROM contexts").fetchone()[0],
            "locks": q("SELECT count(DISTINCT key) FROM acquires").fetchone()[0],
            "definitions": q("SELECT count(*) FROM defs").fetchone()[0]
            + q("SELECT count(*) FROM funcs WHERE kind = 'function'").fetchone()[0],
        }

    def files(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime in ns) of every indexed file."""
        return {p: (s, m) for p, s, m in self._conn.execute(
            "SELECT path, size, mtime FROM files")}

    # -- functions -------------------------------------------------------------------

    def _file_id(self, path: str) -> int | None:
        if path not in self._file_ids:
            row = self._conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
            self._file_ids[path] = row[0] if row else None
        return self._file_ids[path]

    def _path(self, file_id: int) -> str:
        if file_id not in self._paths:
            row = self._conn.execute("SELECT path FROM files WHERE id = ?", (file_id,)
                                     ).fetchone()
            self._paths[file_id] = row[0] if row else "?"
        return self._paths[file_id]

    def functions(self, name: str, file: str | None = None) -> list[int]:
        """The definitions a call of ``name`` from ``file`` reaches (``resolve.pick``);
        without ``file``, every definition visible tree-wide."""
        rows = self._conn.execute("SELECT id, flags, kind FROM funcs WHERE name = ?",
                                  (name,)).fetchall()
        defs = []
        for fid, flags, kind in rows:
            path = self._path(fid >> FUNC_BITS)
            defs.append((fid, visible(path, kind, flags), tuple(path.split("/")[:-1])))
        here = self._file_id(file) if file else None
        if here is None:  # from nowhere in particular: every alternative
            return pick(defs, -1, (), False) or [f for f, _, _ in defs]
        local = any(f >> FUNC_BITS == here for f, _, _ in defs)
        return pick(defs, here, tuple((file or "").split("/")[:-1]), local)

    def _function(self, fid: int) -> tuple[str, Site]:
        found = self._functions.get(fid)
        if found is None:
            row = self._conn.execute("SELECT name, line FROM funcs WHERE id = ?", (fid,)
                                     ).fetchone()
            name, line = row if row else ("?", 0)
            found = self._functions[fid] = (name, Site(self._path(fid >> FUNC_BITS), line,
                                                       name))
        return found

    def may_sleep(self, function: str, file: str | None = None) -> SleepChain | None:
        """Why a call of ``function`` (from ``file``, for static functions) may sleep,
        or None when the index has no evidence that it does."""
        asked = (function, file)
        if asked not in self._sleep_answers:
            self._sleep_answers[asked] = self._may_sleep(function, file)
        return self._sleep_answers[asked]

    def _may_sleep(self, function: str, file: str | None) -> SleepChain | None:
        chains = [self._sleep_chain(fid) for fid in self.functions(function, file)]
        if chains and all(c is not None for c in chains):  # every alternative sleeps
            return chains[0]
        reason = self._sleep_reason(function)
        return SleepChain(function, (), reason) if reason else None

    def _sleep_chain(self, fid: int) -> SleepChain | None:
        steps: list[Step] = []
        reason = ""
        seen = set()
        cur: int | None = fid
        while cur is not None and cur not in seen:
            seen.add(cur)
            row = self._conn.execute("SELECT via, call, line, reason FROM may_sleep "
                                     "WHERE func = ?", (cur,)).fetchone()
            if row is None:
                return None if not steps else SleepChain(steps[0].function, tuple(steps),
                                                         reason)
            via, call, line, reason = row
            name, _ = self._function(cur)
            steps.append(Step(name, call, Site(self._path(cur >> FUNC_BITS), line, name)))
            cur = via
        return SleepChain(steps[0].function, tuple(steps), reason) if steps else None

    def calls(self, function: str, file: str | None = None) -> frozenset[str]:
        """The names the definitions a call of ``function`` reaches call directly
        (all of them together: what one of them may call)."""
        out: set[str] = set()
        for fid in self.functions(function, file):
            out.update(n for n, in self._conn.execute(
                "SELECT n.name FROM calls c JOIN names n ON n.id = c.callee "
                "WHERE c.caller = ?", (fid,)))
        return frozenset(out)

    def irqs_off_callers(self, function: str, file: str | None = None) -> tuple[Site, ...]:
        """Where the tree calls ``function`` (the definitions a call from ``file``
        reaches) with interrupts disabled: a direct call made under an ``_irqsave``/
        ``_irq`` lock its caller holds. Only calls that reach those definitions alone
        count (a name two subsystems define is two functions)."""
        return tuple(Site(site.file, line, site.function) for _, site, line
                     in self._callers(function, file, IRQS_OFF))

    def rt_atomic_callers(self, function: str, file: str | None = None
                          ) -> tuple[HeldCall, ...]:
        """Where the tree calls ``function`` (as ``irqs_off_callers``: only calls that
        reach the definitions a call from ``file`` reaches, and those alone) in a section
        that stays atomic on PREEMPT_RT: with a raw spinlock held, or with interrupts or
        preemption disabled (``local_irq_save()``, ``preempt_disable()``, their guards),
        no release written between. Each names what makes it so."""
        return self._held_callers(function, file, RT_ATOMIC, 1)

    def locked_callers(self, function: str, file: str | None = None
                       ) -> tuple[HeldCall, ...]:
        """Where the tree calls ``function`` (only calls that reach the definitions a
        call from ``file`` reaches, and those alone) with a lock held (a spinlock,
        rwlock, mutex, rwsem or raw spinlock; not RCU), no release written between the
        acquire and the call; each names the innermost lock held and where it was taken."""
        return self._held_callers(function, file, LOCKED, 0)

    def callers(self, function: str, file: str | None = None) -> tuple[Site, ...]:
        """The functions that call ``function`` directly (each once, at the line the
        index keeps for its calls of the name), counting only calls that reach the
        definitions a call from ``file`` reaches, and those alone."""
        return tuple(Site(site.file, line, site.function) for _, site, line
                     in self._callers(function, file, 0))

    def _callers(self, function: str, file: str | None, flag: int
                 ) -> list[tuple[int, Site, int]]:
        """(caller id, its site, line of the call) of the direct calls of ``function``
        with ``flag`` (any call for 0) that reach the definitions a call from ``file``
        reaches, and those alone."""
        targets = set(self.functions(function, file))
        if not targets:
            return []
        out = []
        for caller, line in self._conn.execute(
                "SELECT c.caller, c.line FROM calls c JOIN names n ON n.id = c.callee "
                "WHERE n.name = ? AND (? = 0 OR c.flags & ?) ORDER BY c.caller",
                (function, flag, flag)).fetchall():
            _, site = self._function(caller)
            reached = set(self.functions(function, site.file))
            if reached and reached <= targets:
                out.append((caller, site, line))
        return out

    def _held_callers(self, function: str, file: str | None, flag: int, atomic: int
                      ) -> tuple[HeldCall, ...]:
        out: list[HeldCall] = []
        for caller, site, _ in self._callers(function, file, flag):
            row = self._conn.execute("SELECT line, lock, key, call, at FROM held WHERE "
                                     "func = ? AND callee = ? AND atomic = ?",
                                     (caller, function, atomic)).fetchone()
            if row is not None:
                line, lock, key, call, at = row
                out.append(HeldCall(Site(site.file, line, site.function), call, lock, key,
                                    Site(site.file, at, site.function)))
        return tuple(out)

    def contexts(self, function: str, file: str | None = None) -> tuple[ContextUse, ...]:
        """The interrupt contexts ``function`` runs in (with how it gets there)."""
        out: list[ContextUse] = []
        for fid in self.functions(function, file):
            out.extend(self._contexts_of(fid, self._function(fid)[1]))
        return tuple(out)

    def _contexts_of(self, fid: int, site: Site) -> list[ContextUse]:
        out = []
        for context, in self._conn.execute("SELECT context FROM contexts WHERE func = ?",
                                           (fid,)).fetchall():
            chain: list[str] = []
            cur: int | None = fid
            reg: tuple[int, str, int] = (0, "", 0)
            while cur is not None and len(chain) < 32:
                row = self._conn.execute(
                    "SELECT via, line, reg_file, reg_call FROM contexts "
                    "WHERE func = ? AND context = ?", (cur, context)).fetchone()
                if row is None:
                    break
                chain.append(self._function(cur)[0])
                via, line, reg_file, reg_call = row
                if via is None:
                    reg = (reg_file, reg_call, line)
                cur = via
            out.append(ContextUse(context, site, tuple(reversed(chain)),
                                  Site(self._path(reg[0]), reg[2]), reg[1]))
        return out

    # -- locks -----------------------------------------------------------------------

    def lock(self, key: str) -> LockFacts:
        """How the tree takes the lock ``key`` and where it is declared."""
        flavours: Counter[str] = Counter()
        examples: list[Acquire] = []
        contexts: list[ContextUse] = []
        seen_ctx: set[tuple[int, str]] = set()
        rows = self._conn.execute(
            "SELECT a.func, a.call, a.class, a.flavour, a.line, c.context FROM acquires a "
            "LEFT JOIN contexts c ON c.func = a.func WHERE a.key = ? ORDER BY a.func, a.line",
            (key,)).fetchall()
        for func, call, cls, flavour, line, context in rows:
            name, fsite = self._function(func)
            site = Site(fsite.file, line, name)
            acquire = Acquire(site, call, cls, flavour)
            if context is None or (func, context) not in seen_ctx:
                flavours[f"{cls} {flavour}"] += 1
                if len(examples) < EVIDENCE:
                    examples.append(acquire)
            if context is not None and (func, context) not in seen_ctx:
                seen_ctx.add((func, context))
                contexts.extend(c for c in self._contexts_of(func, site)
                                if c.context == context)
        declared = self._declared(key)
        types = self.lock_types()
        kinds = {types[d.type] for d in declared if d.type in types} or {
            k.split()[0] for k in flavours}
        return LockFacts(key, declared, dict(flavours), tuple(examples), tuple(contexts),
                         kinds.pop() if len(kinds) == 1 else None)

    def lock_types(self) -> dict[str, str]:
        """Declared lock type -> lock class (``spinlock_t`` -> ``spinlock``: locking.toml,
        as the index copied it)."""
        if self._lock_types is None:
            self._lock_types = dict(self._conn.execute(
                "SELECT name, value FROM vocab WHERE kind = 'lock_type'").fetchall())
        return self._lock_types

    def acquired_as(self, function: str, file: str, expr: str) -> frozenset[str]:
        """The keys under which the tree's own version of ``function`` of ``file``
        (``_own``) acquires the lock written ``expr`` (``port->lock``, as
        ``normalize_lock`` spells it). What a patch's hunk cannot show (the declaration
        of ``port`` above the context), the tree's copy of the same function does."""
        return frozenset(key for fid in self._own(function, file) for key, in
                         self._conn.execute("SELECT DISTINCT key FROM acquires WHERE "
                                            "func = ? AND expr = ?", (fid, expr)))

    def _own(self, function: str, file: str) -> list[int]:
        """The tree's own version of ``function`` of ``file``: its definitions in that
        file, else the one function of that name in the tree (none when several files
        define it)."""
        rows = self._conn.execute("SELECT id FROM funcs WHERE name = ? AND kind = "
                                  "'function'", (function,)).fetchall()
        here = self._file_id(file)
        ids = [fid for fid, in rows if here is not None and fid >> FUNC_BITS == here]
        return ids if ids or len(rows) != 1 else [rows[0][0]]

    def accesses_in(self, function: str, file: str) -> tuple[Access, ...]:
        """How the tree's own version of ``function`` of ``file`` (as ``acquired_as``
        finds it) accesses each location, in the order of its lines."""
        out: list[Access] = []
        for fid in self._own(function, file):
            name, fsite = self._function(fid)
            out.extend(Access(Site(fsite.file, line, name), op, how, via, locks, count, key)
                       for key, op, how, via, locks, count, line in self._conn.execute(
                           "SELECT k.key, a.op, a.how, a.via, a.locks, a.count, a.line FROM "
                           "accesses a JOIN keys k ON k.id = a.key WHERE a.id BETWEEN ? "
                           "AND ? AND a.func = ? ORDER BY a.line",  # the file's id range
                           (file_rows(fid >> FUNC_BITS), file_rows((fid >> FUNC_BITS) + 1)
                            - 1, fid)))
        return tuple(out)

    def _declared(self, key: str) -> tuple[Declaration, ...]:
        struct, member = split_key(key)
        if struct:
            return self._members(struct, member)
        if member:
            return ()
        rows = self._conn.execute("SELECT file, line, info FROM defs WHERE name = ? AND "
                                  "kind = 'variable' AND info != ''", (key,)).fetchall()
        return tuple(Declaration(Site(self._path(f), line), info) for f, line, info in rows)

    def _members(self, struct: str, member: str) -> tuple[Declaration, ...]:
        rows = self._conn.execute(
            "SELECT file, line, type, pointers, attrs FROM members WHERE member = ? AND "
            "struct IN (SELECT ? UNION SELECT info FROM defs WHERE kind = 'typedef' AND "
            "name = ? UNION SELECT name FROM defs WHERE kind = 'typedef' AND info = ?)",
            (member, struct, struct, struct)).fetchall()
        return tuple(Declaration(Site(self._path(f), line), t + " " + "*" * p if p else t, a)
                     for f, line, t, p, a in rows)

    def members_of(self, struct: str) -> tuple[tuple[str, Declaration], ...]:
        """The members ``struct`` (``struct rq``, or a typedef of it) declares, with
        their declarations, in the order of the tree's files and lines."""
        rows = self._conn.execute(
            "SELECT member, file, line, type, pointers, attrs FROM members WHERE struct IN "
            "(SELECT ? UNION SELECT info FROM defs WHERE kind = 'typedef' AND name = ? "
            "UNION SELECT name FROM defs WHERE kind = 'typedef' AND info = ?) "
            "ORDER BY file, line", (struct, struct, struct)).fetchall()
        return tuple((m, Declaration(Site(self._path(f), line), t + " " + "*" * p if p else t,
                                     a)) for m, f, line, t, p, a in rows)

    # -- members ---------------------------------------------------------------------

    def member(self, struct: str, member: str) -> AccessFacts:
        """How the tree accesses ``struct``'s ``member`` (``struct zone``, ``lock``),
        through a declared pointer or object of that type (one link from it)."""
        types = self._aliases(struct)
        marks = ",".join("?" * len(types))
        rows = self._conn.execute(
            f"SELECT a.func, k.key, a.op, a.how, a.via, a.locks, a.count, a.line FROM keys k "
            f"JOIN accesses a ON a.key = k.id WHERE k.member = ? AND k.type IN ({marks}) "
            f"ORDER BY a.id", (member, *types)).fetchall()
        return self._facts(struct, member, rows, self._members(struct, member))

    def locked_writers(self, struct: str, member: str, key: str = "") -> tuple[Site, ...]:
        """Where the tree writes ``struct``'s ``member`` (as ``member()`` finds it; with
        ``key``, the location ``key`` exactly, as ``location()``) with a lock held: the
        first such write of each function (its ``function`` named)."""
        if key:
            where, args = "k.key = ?", [key]
        else:
            types = self._aliases(struct)
            where = f"k.member = ? AND k.type IN ({','.join('?' * len(types))})"
            args = [member, *types]
        out: dict[int, Site] = {}
        for func, line in self._conn.execute(
                f"SELECT a.func, a.line FROM keys k JOIN accesses a ON a.key = k.id WHERE "
                f"{where} AND a.op != 'read' AND a.locks != '' ORDER BY a.id", args):
            if func not in out:
                name, fsite = self._function(func)
                out[func] = Site(fsite.file, line, name)
        return tuple(out.values())

    def location(self, key: str) -> AccessFacts:
        """How the tree accesses the location ``key`` (exactly that spelling)."""
        rows = self._conn.execute(
            "SELECT a.func, k.key, a.op, a.how, a.via, a.locks, a.count, a.line FROM keys k "
            "JOIN accesses a ON a.key = k.id WHERE k.key = ? ORDER BY a.id", (key,)).fetchall()
        struct, member = split_key(key)
        return self._facts(struct, member, rows,
                           self._members(struct, member) if struct else ())

    def _aliases(self, struct: str) -> list[str]:
        """``struct`` and the names typedefs give it (``pg_data_t``/``struct pglist_data``)."""
        rows = self._conn.execute(
            "SELECT info FROM defs WHERE kind = 'typedef' AND name = ? UNION "
            "SELECT name FROM defs WHERE kind = 'typedef' AND info = ?",
            (struct, struct)).fetchall()
        return sorted({struct, *(r[0] for r in rows if r[0])})

    def _facts(self, struct: str, member: str, rows: list[tuple[int, str, str, str, str, str,
                                                                 int, int]],
               declared: tuple[Declaration, ...]) -> AccessFacts:
        counts: Counter[tuple[str, str]] = Counter()
        locked: Counter[str] = Counter()
        marked: list[Access] = []
        plain: list[Access] = []
        per_how: Counter[str] = Counter()
        for func, key, op, how, via, locks, count, line in rows:
            counts[op, how] += count
            if op != "read" and locks:
                locked[locks] += count
            keep = per_how[how] < EVIDENCE if how != "plain" else len(plain) < EVIDENCE
            per_how[how] += 1
            if not keep:
                continue
            name, fsite = self._function(func)
            access = Access(Site(fsite.file, line, name), op, how, via, locks, count, key)
            (plain if how == "plain" else marked).append(access)
        return AccessFacts(struct, member, dict(counts), tuple(marked), dict(locked),
                           tuple(plain), declared)

    # -- definitions -----------------------------------------------------------------

    def defines(self, symbol: str) -> tuple[Definition, ...]:
        """Where the tree defines ``symbol`` (a function, macro, type, enumerator, global
        lock, struct member as ``struct foo.member``, or Kconfig symbol ``CONFIG_FOO``)."""
        if symbol not in self._definitions:
            self._definitions[symbol] = self._defines(symbol)
        return self._definitions[symbol]

    def _defines(self, symbol: str) -> tuple[Definition, ...]:
        if "." in symbol:
            struct, member = symbol.rsplit(".", 1)
            return tuple(Definition(member, "member", d.site, d.type)
                         for d in self._members(struct, member))
        name = symbol.removeprefix("CONFIG_")
        rows = self._conn.execute(
            "SELECT name, kind, file, line, info FROM defs WHERE name = ? AND kind != "
            "'kconfig' UNION ALL SELECT name, kind, file, line, info FROM defs WHERE "
            "name = ? AND kind = 'kconfig' UNION ALL SELECT name, 'function', file, line, "
            "CASE WHEN flags & 1 THEN 'static' ELSE '' END FROM funcs WHERE name = ? AND "
            "kind = 'function' ORDER BY 2, 3, 4", (symbol, name, symbol)).fetchall()
        return tuple(Definition(n, k, Site(self._path(f), line), i) for n, k, f, line, i
                     in rows)


def file_rows(file_id: int) -> int:
    """The first ``accesses.id`` of a file's rows."""
    return file_id << ACCESS_BITS


def split_key(key: str) -> tuple[str, str]:
    """(struct type, member) of a one-link typed key (``<struct zone*>->lock``), else
    ("", member of the last link or "")."""
    if key.startswith("<"):
        end = key.find(">")
        type_ = key[1:end].rstrip("*")
        rest = key[end + 1:]
        links = rest.replace("->", ".").split(".")
        if len(links) == 2 and links[0].strip("[]") == "":
            return type_, links[1].split("[")[0]
    last = key.replace("->", ".").rsplit(".", 1)
    return "", last[1].split("[")[0] if len(last) == 2 else ""
