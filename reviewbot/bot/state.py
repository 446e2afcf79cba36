"""The bot's memory, in SQLite (WAL mode, synchronous=FULL): messages seen, series and
their state, replies with their Message-IDs and delivery status, errors.

Series states: ``waiting`` (not complete yet) → ``reviewed`` (replies recorded, not all
delivered) → ``replied``; or ``clean`` (nothing to report), ``skipped`` (policy, resend),
``failed`` (with the reason). Reply statuses: ``pending`` → ``drafted`` (in the outbox) or
``sending`` (intent recorded, SMTP transaction under way) → ``sent``; ``uncertain``
(the process died while sending: never sent again, kept as a draft), ``failed``.

What is kept is what the bot needs: a message's bytes only while its series waits to be
reviewed (they are dropped when the series is decided), at most MAX_RECIPIENTS
addresses per series, the last MAX_ERRORS errors. A write that fails (a full disk, a
database over its size limit) is a :class:`StateError` saying so.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reviewbot.bot.trigger import Incoming
from reviewbot.errors import ReviewbotError
from reviewbot.series.model import Person

SeriesState = Literal["waiting", "reviewed", "replied", "clean", "skipped", "failed"]
ReplyStatus = Literal["pending", "drafted", "sending", "sent", "uncertain", "failed"]
Channel = Literal["draft", "smtp"]
SERIES_STATES: tuple[SeriesState, ...] = ("waiting", "reviewed", "replied", "clean",
                                          "skipped", "failed")
DONE_STATES = ("reviewed", "replied", "clean")  # a resend of these is not reviewed again
SCHEMA_VERSION = 1
MAX_RECIPIENTS = 256  # addresses kept per series (the watcher puts those it needs first)
MAX_ERRORS = 1000  # errors kept (the oldest are dropped)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,          -- where it came from: md:<name>, lore:<url>#<msgid>
    msgid TEXT NOT NULL,
    status TEXT NOT NULL,              -- patch, cover, ignored, duplicate, late, bad
    reason TEXT,
    series_id INTEGER,
    idx INTEGER NOT NULL DEFAULT 0,
    subject TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    author TEXT,
    seen REAL NOT NULL,
    raw BLOB                           -- kept for patches and cover letters only
);
CREATE INDEX IF NOT EXISTS messages_msgid ON messages(msgid);
CREATE INDEX IF NOT EXISTS messages_series ON messages(series_id);
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    root TEXT,
    version INTEGER NOT NULL,
    total INTEGER NOT NULL,
    author TEXT,
    subject TEXT NOT NULL,
    recipients TEXT NOT NULL,          -- JSON list
    parts TEXT NOT NULL,               -- JSON list of indices present (0: cover)
    state TEXT NOT NULL,
    reason TEXT,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    first_date REAL,
    last_date REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    findings INTEGER,
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS series_state ON series(state);
CREATE INDEX IF NOT EXISTS series_twin ON series(author, version, total);
CREATE TABLE IF NOT EXISTS batches (  -- series started by a numbered mail in no thread
    series_id INTEGER PRIMARY KEY,
    identity TEXT NOT NULL             -- trigger.GroupKey.batch: author, vN, M/T, tags
);
CREATE INDEX IF NOT EXISTS batches_identity ON batches(identity);
CREATE TABLE IF NOT EXISTS replies (
    id INTEGER PRIMARY KEY,
    series_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    msgid TEXT NOT NULL UNIQUE,
    in_reply_to TEXT NOT NULL,
    subject TEXT NOT NULL,
    recipients TEXT NOT NULL,          -- JSON {"to": [[name, addr]...], "cc": [...]}
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    filename TEXT NOT NULL,            -- the outbox name (drafts, and fallback copies)
    data BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    held TEXT,                         -- why it waits (embargo, quiet hours, cap)
    reason TEXT,
    created REAL NOT NULL,
    delivered REAL
);
CREATE INDEX IF NOT EXISTS replies_status ON replies(status);
CREATE TABLE IF NOT EXISTS errors (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    scope TEXT NOT NULL,               -- message, series, reply, source
    ref TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class SeriesRow:
    id: int
    key: str
    root: str | None
    version: int
    total: int
    author: str | None
    subject: str
    recipients: tuple[str, ...]
    parts: frozenset[int]
    state: SeriesState
    reason: str | None
    first_seen: float
    last_seen: float
    first_date: float | None
    last_date: float | None
    attempts: int
    findings: int | None
    updated: float


@dataclass(frozen=True)
class ReplyRow:
    id: int
    series_id: int
    seq: int
    msgid: str
    in_reply_to: str
    subject: str
    to: tuple[Person, ...]
    cc: tuple[Person, ...]
    channel: Channel
    status: ReplyStatus
    filename: str
    data: bytes
    attempts: int
    not_before: float
    held: str | None
    reason: str | None
    created: float
    delivered: float | None


@dataclass(frozen=True)
class NewReply:
    """A rendered reply about to be recorded (before anything is written or sent)."""

    seq: int
    msgid: str
    in_reply_to: str
    subject: str
    to: tuple[Person, ...]
    cc: tuple[Person, ...]
    channel: Channel
    filename: str
    data: bytes
    not_before: float


@dataclass(frozen=True)
class ErrorRow:
    ts: float
    scope: str
    ref: str
    reason: str


class StateError(ReviewbotError):
    """The state database cannot be opened or is in use by another watcher."""


_SERIES_COLS = ("id, key, root, version, total, author, subject, recipients, parts, state, "
                "reason, first_seen, last_seen, first_date, last_date, attempts, findings, "
                "updated")
_REPLY_COLS = ("id, series_id, seq, msgid, in_reply_to, subject, recipients, channel, status, "
               "filename, data, attempts, not_before, held, reason, created, delivered")


def _series(row: sqlite3.Row) -> SeriesRow:
    return SeriesRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                     tuple(json.loads(row[7])), frozenset(json.loads(row[8])), row[9],
                     row[10], row[11], row[12], row[13], row[14], row[15], row[16], row[17])


def _people(data: list[list[str]]) -> tuple[Person, ...]:
    return tuple(Person(name, addr) for name, addr in data)


def _reply(row: sqlite3.Row) -> ReplyRow:
    rcpt = json.loads(row[6])
    return ReplyRow(row[0], row[1], row[2], row[3], row[4], row[5], _people(rcpt["to"]),
                    _people(rcpt["cc"]), row[7], row[8], row[9], bytes(row[10]), row[11],
                    row[12], row[13], row[14], row[15], row[16])


class Store:
    """One open state database. Writes happen inside ``transaction()`` blocks."""

    def __init__(self, path: Path, *, readonly: bool = False, lock: bool = False) -> None:
        """Open the state at ``path``; with ``lock``, take the watcher's lock first
        (before SQLite opens the file: a second name for it, a hard link, would make
        SQLite keep a second write-ahead log)."""
        self.path = path
        self._lock: int | None = None
        if lock:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateError(f"cannot open the watch state {path}: "
                                 f"{exc.strerror or exc}") from exc
            self.lock(create=True)
        try:
            if readonly:
                if not path.is_file():
                    raise StateError(f"no watch state at {path} (has 'reviewbot watch' run?)")
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                          isolation_level=None, timeout=10)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
                self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # (a new database only)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=FULL")
                self.db.executescript(_SCHEMA)
                self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)",
                                (str(SCHEMA_VERSION),))
            version = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except (sqlite3.Error, OSError) as exc:
            self._unlock()
            raise StateError(f"cannot open the watch state {path}: {exc}") from exc
        if version is None or int(version[0]) != SCHEMA_VERSION:
            self.close()
            raise StateError(f"{path}: unknown state schema {version and version[0]}")

    def lock(self, create: bool = False) -> None:
        """Lock the database file itself: two watchers on one state would reply twice.

        The lock is on the file, not on a name: a symbolic link, a hard link or another
        spelling of the path reaches the same lock. (``flock`` locks are independent of
        the POSIX locks SQLite takes on the same file, and this descriptor stays open
        until ``close``, after the connection's.)"""
        if self._lock is not None:
            return
        flags = os.O_RDONLY | os.O_CLOEXEC | (os.O_CREAT if create else 0)
        try:
            fd = os.open(self.path, flags, 0o644)  # (an empty file is a new database)
        except OSError as exc:
            raise StateError(f"cannot open the watch state {self.path}: "
                             f"{exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise StateError(f"another 'reviewbot watch' is using {self.path}") from exc
        self._lock = fd

    def close(self) -> None:
        self.db.close()
        self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def meta(self, key: str) -> str | None:
        """A value the watcher keeps about itself (such as the policy in force)."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                        "SET value=excluded.value", (key, value))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; a failed write is a StateError that says why."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.write_error(exc) from exc
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException as exc:
            if self.db.in_transaction:  # (SQLite may have rolled back itself: disk full)
                with suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self.write_error(exc) from exc
            raise

    def compact(self) -> None:
        """Give the pages freed by dropped message bytes back to the file system (a
        database created before auto_vacuum was set keeps them for reuse)."""
        try:
            self.db.executescript("PRAGMA incremental_vacuum;")  # (stepped to its end)
        except sqlite3.Error as exc:
            raise self.write_error(exc) from exc

    def write_error(self, exc: sqlite3.Error) -> StateError:
        name = getattr(exc, "sqlite_errorname", "")
        hint = (" (a full disk, a file size limit or a failing disk)"
                if name.startswith("SQLITE_IOERR") else "")
        return StateError(f"cannot write the watch state {self.path}: {exc}{hint}")

    # -- messages -----------------------------------------------------------------------
    def seen_keys(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT key FROM messages")}

    def msgid_status(self, msgid: str) -> str | None:
        """The status of an earlier copy of this Message-ID (ignoring bad copies)."""
        row = self.db.execute("SELECT status FROM messages WHERE msgid=? AND status != 'bad' "
                              "LIMIT 1", (msgid,)).fetchone()
        return None if row is None else str(row[0])

    def add_message(self, key: str, inc: Incoming, status: str, reason: str | None,
                    series_id: int | None, raw: bytes | None, now: float) -> None:
        self.db.execute(
            "INSERT INTO messages (key, msgid, status, reason, series_id, idx, subject, title,"
            " author, seen, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (key, inc.msgid, status, reason, series_id, inc.index, inc.subject[:500],
             inc.title[:500], inc.author, now, raw))

    def raw_messages(self, series_id: int) -> list[bytes]:
        rows = self.db.execute("SELECT raw FROM messages WHERE series_id=? AND status IN "
                               "('patch','cover') ORDER BY id", (series_id,))
        return [bytes(r[0]) for r in rows]

    def message_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in
                self.db.execute("SELECT status, count(*) FROM messages GROUP BY status")}

    # -- series -------------------------------------------------------------------------
    def series_by_key(self, key: str) -> SeriesRow | None:
        row = self.db.execute(f"SELECT {_SERIES_COLS} FROM series WHERE key=?",
                              (key,)).fetchone()
        return None if row is None else _series(row)

    def get_series(self, series_id: int) -> SeriesRow:
        row = self.db.execute(f"SELECT {_SERIES_COLS} FROM series WHERE id=?",
                              (series_id,)).fetchone()
        if row is None:
            raise StateError(f"no series {series_id} in {self.path}")
        return _series(row)

    def series_in(self, states: Sequence[SeriesState], limit: int = -1) -> list[SeriesRow]:
        marks = ",".join("?" * len(states))
        rows = self.db.execute(f"SELECT {_SERIES_COLS} FROM series WHERE state IN ({marks}) "
                               "ORDER BY updated DESC, id DESC LIMIT ?", (*states, limit))
        return [_series(r) for r in rows]

    def waiting(self) -> list[SeriesRow]:
        rows = self.db.execute(f"SELECT {_SERIES_COLS} FROM series WHERE state='waiting' "
                               "ORDER BY id")
        return [_series(r) for r in rows]

    def new_series(self, inc: Incoming, now: float) -> int:
        assert inc.group is not None
        g = inc.group
        cur = self.db.execute(
            "INSERT INTO series (key, root, version, total, author, subject, recipients, parts,"
            " state, first_seen, last_seen, first_date, last_date, updated)"
            " VALUES (?,?,?,?,?,?,?,?,'waiting',?,?,?,?,?)",
            (g.key, g.root, g.version, g.total, inc.author, inc.subject[:500],
             json.dumps(list(inc.recipients[:MAX_RECIPIENTS])), "[]", now, now, inc.date,
             inc.date, now))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def open_batch(self, identity: str) -> SeriesRow | None:
        """The newest series still waiting that a mail of batch ``identity`` started
        (``git format-patch`` output sent without ``--thread``)."""
        row = self.db.execute(
            "SELECT b.series_id FROM batches b JOIN series s ON s.id = b.series_id"
            " WHERE b.identity = ? AND s.state = 'waiting' ORDER BY b.series_id DESC"
            " LIMIT 1", (identity,)).fetchone()
        return None if row is None else self.get_series(int(row[0]))

    def add_batch(self, series_id: int, identity: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO batches VALUES (?, ?)", (series_id, identity))

    def series_of(self, msgid: str) -> SeriesRow | None:
        """The series a patch or cover mail with this Message-ID joined, if any."""
        row = self.db.execute("SELECT series_id FROM messages WHERE msgid = ? AND"
                              " series_id IS NOT NULL AND status IN ('patch', 'cover')"
                              " LIMIT 1", (msgid,)).fetchone()
        return None if row is None else self.get_series(int(row[0]))

    def add_part(self, series: SeriesRow, inc: Incoming, now: float,
                 recipients: tuple[str, ...] | None = None) -> SeriesRow:
        """Record that ``inc`` joined ``series``; returns the updated row. The series'
        recipients become ``recipients`` when given, else the two lists merged (at
        most MAX_RECIPIENTS)."""
        parts = series.parts | {inc.index}
        lowest = min(series.parts) if series.parts else None
        subject = inc.subject[:500] if lowest is None or inc.index < lowest else series.subject
        author = series.author or inc.author
        if recipients is None:
            recipients = tuple(dict.fromkeys((*series.recipients, *inc.recipients)))
        recipients = recipients[:MAX_RECIPIENTS]
        dates = [d for d in (series.first_date, inc.date) if d is not None]
        last = [d for d in (series.last_date, inc.date) if d is not None]
        first_date, last_date = (min(dates) if dates else None), (max(last) if last else None)
        self.db.execute(
            "UPDATE series SET parts=?, subject=?, author=?, recipients=?, last_seen=?, "
            "first_date=?, last_date=?, updated=? WHERE id=?",
            (json.dumps(sorted(parts)), subject, author, json.dumps(list(recipients)), now,
             first_date, last_date, now, series.id))
        return self.get_series(series.id)

    def bump_attempts(self, series_id: int, by: int = 1) -> int:
        self.db.execute("UPDATE series SET attempts = max(0, attempts + ?) WHERE id=?",
                        (by, series_id))
        return int(self.db.execute("SELECT attempts FROM series WHERE id=?",
                                   (series_id,)).fetchone()[0])

    def set_state(self, series_id: int, state: SeriesState, reason: str | None, now: float,
                  findings: int | None = None) -> None:
        self.db.execute("UPDATE series SET state=?, reason=?, updated=?, "
                        "findings=coalesce(?, findings) WHERE id=?",
                        (state, reason, now, findings, series_id))
        if state != "waiting":  # decided: its messages' bytes are not needed any more
            self.db.execute("UPDATE messages SET raw=NULL WHERE series_id=? AND raw IS NOT "
                            "NULL", (series_id,))

    def twin(self, series: SeriesRow) -> SeriesRow | None:
        """An already reviewed copy of the same revision (a resend), if there is one:
        same author, version and patch count, and a patch (not cover) title at the same
        index."""
        if series.author is None:
            return None
        marks = ",".join("?" * len(DONE_STATES))
        row = self.db.execute(
            f"SELECT s.id FROM series s JOIN messages o ON o.series_id = s.id"
            f" JOIN messages m ON m.series_id = ? AND m.idx = o.idx AND m.title = o.title"
            f" WHERE s.id != ? AND s.author = ? AND s.version = ? AND s.total = ?"
            f" AND s.state IN ({marks}) AND m.status = 'patch' AND o.status = 'patch'"
            f" AND m.title != '' LIMIT 1",
            (series.id, series.id, series.author, series.version, series.total,
             *DONE_STATES)).fetchone()
        return None if row is None else self.get_series(int(row[0]))

    def state_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in
                self.db.execute("SELECT state, count(*) FROM series GROUP BY state")}

    # -- replies ------------------------------------------------------------------------
    def add_reply(self, series_id: int, reply: NewReply, now: float) -> None:
        self.db.execute(
            "INSERT INTO replies (series_id, seq, msgid, in_reply_to, subject, recipients,"
            " channel, status, filename, data, not_before, created)"
            " VALUES (?,?,?,?,?,?,?,'pending',?,?,?,?)",
            (series_id, reply.seq, reply.msgid, reply.in_reply_to, reply.subject[:500],
             json.dumps({"to": [[p.name, p.email] for p in reply.to],
                         "cc": [[p.name, p.email] for p in reply.cc]}),
             reply.channel, reply.filename, reply.data, reply.not_before, now))

    def replies_in(self, statuses: Sequence[ReplyStatus],
                   series_id: int | None = None) -> list[ReplyRow]:
        marks = ",".join("?" * len(statuses))
        sql = f"SELECT {_REPLY_COLS} FROM replies WHERE status IN ({marks})"
        args: tuple[object, ...] = tuple(statuses)
        if series_id is not None:
            sql += " AND series_id=?"
            args += (series_id,)
        return [_reply(r) for r in self.db.execute(sql + " ORDER BY id", args)]

    def series_replies(self, series_id: int) -> list[ReplyRow]:
        return [_reply(r) for r in self.db.execute(
            f"SELECT {_REPLY_COLS} FROM replies WHERE series_id=? ORDER BY seq", (series_id,))]

    def set_reply(self, reply_id: int, status: ReplyStatus, now: float, *,
                  reason: str | None = None, not_before: float | None = None,
                  attempts: int | None = None) -> None:
        delivered = now if status in ("drafted", "sent") else None
        self.db.execute(
            "UPDATE replies SET status=?, reason=coalesce(?, reason), held=NULL,"
            " not_before=coalesce(?, not_before), attempts=coalesce(?, attempts),"
            " delivered=coalesce(?, delivered) WHERE id=?",
            (status, reason, not_before, attempts, delivered, reply_id))

    def set_channel(self, reply_id: int, channel: Channel) -> None:
        self.db.execute("UPDATE replies SET channel=?, held=NULL WHERE id=?",
                        (channel, reply_id))

    def set_held(self, reply_id: int, held: str | None) -> None:
        self.db.execute("UPDATE replies SET held=? WHERE id=?", (held, reply_id))

    def sent_since(self, since: float) -> int:
        """Replies that went out by SMTP (or may have) since ``since``."""
        return int(self.db.execute(
            "SELECT count(*) FROM replies WHERE channel='smtp' AND status IN "
            "('sent','sending','uncertain') AND coalesce(delivered, created) >= ?",
            (since,)).fetchone()[0])

    def reply_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in
                self.db.execute("SELECT status, count(*) FROM replies GROUP BY status")}

    # -- errors -------------------------------------------------------------------------
    def add_error(self, scope: str, ref: str, reason: str, now: float) -> None:
        cur = self.db.execute("INSERT INTO errors (ts, scope, ref, reason) VALUES (?,?,?,?)",
                              (now, scope, ref[:500], reason[:2000]))
        if cur.lastrowid is not None and cur.lastrowid % 100 == 0:  # keep the last ones
            self.db.execute("DELETE FROM errors WHERE id <= ?", (cur.lastrowid - MAX_ERRORS,))

    def errors(self, limit: int) -> list[ErrorRow]:
        rows = self.db.execute("SELECT ts, scope, ref, reason FROM errors ORDER BY id DESC "
                               "LIMIT ?", (limit,))
        return [ErrorRow(*r) for r in rows]
