"""The index file: one SQLite database per tree, written whole or not at all.

Per-file facts live in tables whose rows carry their file (directly, or in the function
id: ``file << 16 | index``), so re-reading a file replaces exactly its rows. Workers
write their rows into shard databases of the same shape; the builder copies the shards
into the index inside the transaction that also replaces the derived tables, so a crash
leaves the old index or the new one. A first build goes to a new file renamed over the
old one at the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.knowledge.resolve import FUNC_BITS

if TYPE_CHECKING:
    from reviewbot.knowledge.extract import FileFacts
    from reviewbot.knowledge.vocab import Vocab

SCHEMA_VERSION = "5"
MAX_FUNCS = 1 << FUNC_BITS

# per-file tables: (name, columns); the first column names the file or the function
PER_FILE = (
    ("funcs", "id INTEGER PRIMARY KEY, file INT, name TEXT, line INT, end_line INT, "
              "flags INT, kind TEXT"),
    # ``callee``: the id of the name in ``names`` (shards spell it: see SHARD_CALLS)
    ("calls", "caller INT, callee INT, line INT, flags INT, PRIMARY KEY (caller, callee)"
              ") WITHOUT ROWID"),
    ("sleeps", "func INT, call TEXT, line INT, reason TEXT"),
    ("acquires", "func INT, key TEXT, expr TEXT, call TEXT, class TEXT, flavour TEXT, "
                 "line INT"),
    # ``id``: the file's id << 32 | a number (a file's rows are a range of the table);
    # ``key``: the id of the location in ``keys`` (shards spell it: see SHARD_ACCESSES)
    ("accesses", "id INTEGER PRIMARY KEY, func INT, key INT, op TEXT, how TEXT, via TEXT, "
                 "locks TEXT, count INT, line INT"),
    ("regs", "file INT, func INT, handler TEXT, context TEXT, via TEXT, line INT"),
    ("members", "file INT, struct TEXT, member TEXT, type TEXT, pointers INT, attrs TEXT, "
                "line INT, PRIMARY KEY (member, struct, file, line)) WITHOUT ROWID"),
    # a call made with a lock held (atomic = 0) or in a section that stays atomic on
    # PREEMPT_RT (atomic = 1): the first such call of ``callee`` by ``func`` (its line),
    # and what makes it so: the lock as written (``&rq->__lock``; "" for a section) and
    # its key (``<struct rq*>->__lock``), the call that took it or opened the section
    # (``raw_spin_lock_irqsave``, ``local_irq_save``, ``guard(preempt)``) at line ``at``
    # (the calls' RT_ATOMIC and LOCKED flags)
    ("held", "func INT, callee TEXT, atomic INT, line INT, lock TEXT, key TEXT, call TEXT, "
             "at INT, PRIMARY KEY (func, callee, atomic)) WITHOUT ROWID"),
    # functions are in funcs (and found there by defines())
    ("defs", "file INT, name TEXT, kind TEXT, line INT, info TEXT, "
             "PRIMARY KEY (name, file, line, kind)) WITHOUT ROWID"),
)
# the primary key of each per-file table (rows are copied in that order)
ORDER = {"funcs": "id", "sleeps": "rowid", "acquires": "rowid",
         "regs": "rowid", "members": "member, struct, file, line",
         "held": "func, callee, atomic",
         "defs": "name, file, line, kind"}
SHARD_CALLS = ("caller INT, callee TEXT, line INT, flags INT, PRIMARY KEY (caller, callee)"
               ") WITHOUT ROWID")
# A shard's accesses spell their location; the index keeps each location once, in keys
SHARD_ACCESSES = ("id INTEGER PRIMARY KEY, func INT, key TEXT, type TEXT, member TEXT, "
                  "op TEXT, how TEXT, via TEXT, locks TEXT, count INT, line INT")
ACCESS_BITS = 32  # accesses.id: file id << ACCESS_BITS | row
# the column that holds the file (or a function id of the file) in each table
FILE_COLUMN = {"funcs": "id", "calls": "caller", "sleeps": "func", "acquires": "func",
               "accesses": "id", "regs": "file", "members": "file", "defs": "file",
               "held": "func"}
# Rows of a file are deleted by id ranges (funcs, calls, sleeps, acquires, held: function ids;
# accesses: its own ids) or by one scan for all changed files (regs, members, defs): no
# file index.
INDEXES = (
    "CREATE INDEX funcs_name ON funcs(name)",
    "CREATE INDEX calls_callee ON calls(callee)",
    "CREATE INDEX sleeps_func ON sleeps(func)",
    "CREATE INDEX acquires_key ON acquires(key)",
    "CREATE INDEX acquires_func ON acquires(func)",
    "CREATE INDEX defs_typedef ON defs(info) WHERE kind = 'typedef'",
    "CREATE INDEX accesses_key ON accesses(key)",
    "CREATE INDEX keys_member ON keys(member, type)",
)
DERIVED = (
    # a function that may sleep: the call that shows it (a primitive, or ``via``, a
    # function that may sleep), at ``line`` of the function; depth 0 for direct evidence
    ("may_sleep", "func INTEGER PRIMARY KEY, via INT, call TEXT, line INT, reason TEXT, "
                  "depth INT"),
    # a function that runs in interrupt context: registered (via = NULL, ``line`` the
    # registration in ``reg_file``) or called (``via`` the caller, ``line`` the call)
    ("contexts", "func INT, context TEXT, via INT, line INT, reg_file INT, reg_call TEXT, "
                 "depth INT, PRIMARY KEY (func, context)"),
)


CACHE_KB = 65536  # page cache of the builder's connection (bulk copies, index builds)
SHARD_CACHE_KB = 16384  # and of a worker's


def connect(path: Path, cache_kb: int = CACHE_KB) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute(f"PRAGMA cache_size=-{cache_kb}")
    return conn


def create_tables(conn: sqlite3.Connection, shard: bool = False) -> None:
    for name, columns in PER_FILE:
        if shard and name == "accesses":
            columns = SHARD_ACCESSES
        elif shard and name == "calls":
            columns = SHARD_CALLS
        close = "" if columns.endswith("WITHOUT ROWID") else ")"
        conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns}{close}")
    if shard:
        return
    # the locations accesses name: key as spelled, the declared type of its base, and
    # the member a one-link key names ("" otherwise); never deleted (a dictionary)
    conn.execute("CREATE TABLE IF NOT EXISTS keys (id INTEGER PRIMARY KEY, key TEXT UNIQUE, "
                 "type TEXT, member TEXT)")
    # the names calls call, each once (a dictionary too)
    conn.execute("CREATE TABLE IF NOT EXISTS names (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    # the vocabulary lookups need (sleeping primitives, lock types), copied from the
    # TOML files at build time so that a lookup never parses them
    conn.execute("CREATE TABLE IF NOT EXISTS vocab (kind TEXT, name TEXT, value TEXT, "
                 "PRIMARY KEY (kind, name)) WITHOUT ROWID")
    conn.execute("CREATE TABLE IF NOT EXISTS files (id INTEGER PRIMARY KEY, path TEXT UNIQUE, "
                 "size INT, mtime INT, hash BLOB)")
    for name, columns in DERIVED:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")


def create_indexes(conn: sqlite3.Connection) -> None:
    for sql in INDEXES:
        conn.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))


def open_shard(path: Path) -> sqlite3.Connection:
    conn = connect(path, SHARD_CACHE_KB)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    create_tables(conn, shard=True)
    return conn


def write_facts(conn: sqlite3.Connection, file_id: int, facts: FileFacts) -> None:
    """Insert one file's facts (no transaction of its own)."""
    base = file_id << FUNC_BITS
    funcs = [f for f in facts.funcs if f[0] < MAX_FUNCS]
    conn.executemany("INSERT INTO funcs VALUES (?,?,?,?,?,?,?)",
                     [(base | i, file_id, n, a, b, fl, k) for i, n, a, b, fl, k in funcs])
    conn.executemany("INSERT OR IGNORE INTO calls VALUES (?,?,?,?)",
                     [(base | i, c, line, fl) for i, c, line, fl in facts.calls
                      if i < MAX_FUNCS])
    conn.executemany("INSERT INTO sleeps VALUES (?,?,?,?)",
                     [(base | i, c, line, r) for i, c, line, r in facts.sleeps
                      if i < MAX_FUNCS])
    conn.executemany("INSERT INTO acquires VALUES (?,?,?,?,?,?,?)",
                     [(base | r[0], *r[1:]) for r in facts.acquires if r[0] < MAX_FUNCS])
    rows = file_id << ACCESS_BITS
    conn.executemany("INSERT INTO accesses VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                     [(rows | n, base | r[0], *r[1:]) for n, r in enumerate(facts.accesses)
                      if r[0] < MAX_FUNCS])
    conn.executemany("INSERT INTO regs VALUES (?,?,?,?,?,?)",
                     [(file_id, base | i if 0 <= i < MAX_FUNCS else None, h, c, v, line)
                      for i, h, c, v, line in facts.regs])
    conn.executemany("INSERT OR IGNORE INTO members VALUES (?,?,?,?,?,?,?)",
                     [(file_id, *r) for r in facts.members])
    conn.executemany("INSERT OR IGNORE INTO defs VALUES (?,?,?,?,?)",
                     [(file_id, *r) for r in facts.defs])
    conn.executemany("INSERT OR IGNORE INTO held VALUES (?,?,?,?,?,?,?,?)",
                     [(base | r[0], *r[1:]) for r in facts.held if r[0] < MAX_FUNCS])


def delete_files(conn: sqlite3.Connection, file_ids: list[int]) -> None:
    """Remove every per-file row of these files (their ``files`` rows stay)."""
    if not file_ids:
        return
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS gone (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM gone")
    conn.executemany("INSERT OR IGNORE INTO gone VALUES (?)", [(f,) for f in file_ids])
    for table, column in FILE_COLUMN.items():
        if column == "file":  # one scan of the table for all the files
            conn.execute(f"DELETE FROM {table} WHERE file IN (SELECT id FROM gone)")
    for fid in file_ids:
        for table, column in FILE_COLUMN.items():
            if column != "file":
                bits = ACCESS_BITS if table == "accesses" else FUNC_BITS
                conn.execute(f"DELETE FROM {table} WHERE {column} BETWEEN ? AND ?",
                             (fid << bits, ((fid + 1) << bits) - 1))


def merge_shard(conn: sqlite3.Connection, schema: str) -> None:
    """Copy the rows of an attached shard into the index."""
    for name, _ in PER_FILE:
        if name not in ("accesses", "calls"):  # in the order of the index's keys
            conn.execute(f"INSERT OR IGNORE INTO main.{name} SELECT * FROM {schema}.{name} "
                         f"ORDER BY {ORDER[name]}")
    conn.execute(f"INSERT OR IGNORE INTO main.names(name) SELECT callee FROM {schema}.calls")
    conn.execute(f"INSERT OR IGNORE INTO main.calls SELECT c.caller, n.id, c.line, c.flags "
                 f"FROM {schema}.calls c JOIN main.names n ON n.name = c.callee "
                 f"ORDER BY c.caller, n.id")
    conn.execute(f"INSERT OR IGNORE INTO main.keys(key, type, member) SELECT key, type, "
                 f"member FROM {schema}.accesses")
    conn.execute(f"INSERT INTO main.accesses SELECT a.id, a.func, k.id, a.op, a.how, a.via, "
                 f"a.locks, a.count, a.line FROM {schema}.accesses a JOIN main.keys k "
                 f"ON k.key = a.key")


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError:
        return {}


def write_meta(conn: sqlite3.Connection, meta: dict[str, str]) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(meta.items()))


def write_vocab(conn: sqlite3.Connection, vocab: Vocab) -> None:
    rows = [("sleep", n, r) for n, r in vocab.sleep_names.items()]
    rows += [("sleep_prefix", p, r) for p, r in vocab.sleep_prefixes]
    rows += [("sleep_except", n, "") for n in vocab.sleep_except]
    rows += [("lock_type", t, c) for t, c in vocab.lock_types.items()]
    conn.execute("DELETE FROM vocab")
    conn.executemany("INSERT OR REPLACE INTO vocab VALUES (?, ?, ?)", rows)


# columns holding a function id or a file id, per table (for canonical_rows)
_FUNC_COLUMNS = {"funcs": ("id",), "calls": ("caller",), "sleeps": ("func",),
                 "acquires": ("func",), "accesses": ("func",), "regs": ("func",),
                 "held": ("func",),
                 "may_sleep": ("func", "via"), "contexts": ("func", "via")}
_FILE_COLUMNS = {"funcs": ("file",), "regs": ("file",), "members": ("file",),
                 "accesses": ("file",),
                 "defs": ("file",), "contexts": ("reg_file",)}


def canonical_rows(conn: sqlite3.Connection, table: str,
                   paths: dict[int, str]) -> Iterator[tuple[object, ...]]:
    """The rows of ``table`` with ids spelled as paths (a function as its file's path
    and its index in the file; ``paths``: file id -> path)."""
    query = f"SELECT * FROM {table}"
    if table == "accesses":  # the row ids say only the order of the rows in a file
        query = ("SELECT a.id >> 32 AS file, a.func, k.key, k.type, k.member, a.op, a.how, "
                 "a.via, a.locks, a.count, a.line FROM accesses a JOIN keys k ON k.id = a.key")
    elif table == "calls":
        query = ("SELECT c.caller, n.name, c.line, c.flags FROM calls c JOIN names n "
                 "ON n.id = c.callee")
    cur = conn.execute(query)
    cols = [d[0] for d in cur.description]
    funcs = [i for i, c in enumerate(cols) if c in _FUNC_COLUMNS.get(table, ())]
    files = [i for i, c in enumerate(cols) if c in _FILE_COLUMNS.get(table, ())]
    for row in cur:
        r = list(row)
        for i in funcs:
            if r[i] is not None:
                r[i] = (paths.get(r[i] >> FUNC_BITS), r[i] & (MAX_FUNCS - 1))
        for i in files:
            if r[i] is not None:
                r[i] = paths.get(r[i])
        yield tuple(r)


FACT_TABLES = tuple(t for t, _ in PER_FILE) + tuple(t for t, _ in DERIVED)


def fact_digest(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    """Per table, the number of facts and a digest of them that does not depend on
    their order (``canonical_rows``; for indexes too large to compare row by row)."""
    import hashlib

    paths = dict(conn.execute("SELECT id, path FROM files"))
    out = {}
    for table in FACT_TABLES:
        n = total = 0
        for row in canonical_rows(conn, table, paths):
            n += 1
            total += int.from_bytes(hashlib.blake2b(repr(row).encode(), digest_size=16)
                                    .digest(), "big")
        out[table] = (n, f"{total % (1 << 128):032x}")
    return out
