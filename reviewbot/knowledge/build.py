"""``reviewbot index``: build or bring up to date the index of a tree.

The files are listed (``git ls-files`` in a git checkout: tracked and untracked but not
ignored, so build output stays out; a walk otherwise), compared with the index by size
and modification time, and those that differ are hashed: only files whose content
changed (or that are new) are read again, in worker processes that write their facts
into shard databases. One transaction then replaces the rows of those files, drops the
rows of removed files, copies the shards in and works out the derived facts again; a
first build writes a new file and renames it into place. Either way a crash or a
SIGTERM leaves the previous index or the new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from reviewbot.knowledge import store
from reviewbot.knowledge.location import KnowledgeError, Tree, index_path
from reviewbot.knowledge.vocab import Vocab, load_vocab

if TYPE_CHECKING:
    from reviewbot.knowledge.extract import FileFacts
    from reviewbot.knowledge.lookup import Knowledge

MAX_FILE = 64 << 20  # bytes read from one file; a larger one is skipped
# Directories whose C is not kernel code (host tools, user space, boot stubs with their
# own libc): their functions would collide by name with the kernel's.
SKIP_TOP = frozenset(("tools", "scripts", "Documentation", "samples", "usr", "LICENSES"))
SKIP_ANY = frozenset((".git", "vdso", "vdso32", "vdso64", "realmode", "purgatory"))
# Generated register headers: millions of #defines (484 MB, a third of 6.12's C) and no
# code; their macros are not recorded as definitions.
SKIP_PREFIXES = ("drivers/gpu/drm/amd/include/asic_reg/",)
CHUNK_BYTES = 2 << 20  # work handed to a worker at a time
SMALL_JOB = 8 << 20  # bytes to read below which one process does it all
MAX_JOBS = 8  # one shard database per worker, all attached at once (SQLite allows 10)


class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def finish(self) -> None: ...


@dataclass(frozen=True)
class Listed:
    path: str  # relative to the top, "/"-separated
    size: int
    mtime: int


@dataclass(frozen=True)
class BuildResult:
    index: Path
    files: int  # files in the index
    read: int  # files read (new or changed content)
    removed: int
    bytes_read: int
    functions: int
    sleepers: int
    contexts: int
    seconds: float
    full: bool
    skipped: tuple[str, ...]  # files that could not be read
    # (stage, wall seconds, CPU seconds of this process): list, plan, extract (the
    # workers' CPU is theirs), merge, indexes (first build), derive, commit
    stages: tuple[tuple[str, float, float], ...] = ()


class _Stages:
    def __init__(self) -> None:
        self.times: list[tuple[str, float, float]] = []
        self._wall, self._cpu = time.monotonic(), time.process_time()

    def done(self, label: str) -> None:
        wall, cpu = time.monotonic(), time.process_time()
        self.times.append((label, wall - self._wall, cpu - self._cpu))
        self._wall, self._cpu = wall, cpu


def wanted(path: str) -> bool:
    parts = path.split("/")
    if path.startswith(SKIP_PREFIXES) or parts[0] in SKIP_TOP \
            or any(p in SKIP_ANY for p in parts[:-1]):
        return False
    if parts[0] == "arch" and len(parts) > 3 and parts[2] == "boot":
        return False
    name = parts[-1]
    return (name.endswith((".c", ".h")) and not name.endswith(".mod.c")) \
        or name.startswith("Kconfig")


def list_files(tree: Tree) -> list[Listed]:
    names = _git_files(tree.top) if tree.git else None
    if names is None:
        names = _walk(tree.top)
    top = str(tree.top)
    out: list[Listed] = []
    for rel in names:
        if not wanted(rel):
            continue
        try:
            st = os.lstat(f"{top}/{rel}")
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):  # no symlinks: nothing outside the tree is read
            out.append(Listed(rel, st.st_size, st.st_mtime_ns))
    return out


def _git_files(top: Path) -> list[str] | None:
    try:
        proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                               "--exclude-standard"], cwd=top, capture_output=True,
                              timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    names = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted({n for n in names if n})


def _walk(top: Path) -> list[str]:
    out: list[str] = []
    for dirpath, dirs, files in os.walk(top):
        rel = os.path.relpath(dirpath, top)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        dirs[:] = sorted(d for d in dirs if d not in SKIP_ANY
                         and not (not prefix and d in SKIP_TOP)
                         and not (prefix + d + "/").startswith(SKIP_PREFIXES))
        out.extend(prefix + f for f in files)
    return sorted(out)


def changed_files(know: Knowledge, top: Path) -> int:
    """Files that were added, removed, or differ by size or time since the index."""
    indexed = know.files()
    listing = list_files(Tree(top, (top / ".git").exists()))
    now = {f.path: (f.size, f.mtime) for f in listing}
    return sum(1 for p, st in now.items() if indexed.get(p) != st) + sum(
        1 for p in indexed if p not in now)


def content_hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


# The code that turns a file into facts and facts into derived ones: when it changes (a
# reviewbot upgrade that recognises another lock function, say), an index built by the
# old code no longer says what a new build would, and is rebuilt from scratch.
FACT_CODE = (("reviewbot.knowledge", ("build.py", "calls.py", "derive.py", "extract.py",
                                      "keys.py", "lexer.py", "resolve.py", "store.py",
                                      "vocab.py")),
             ("reviewbot.cmap", ("locks.py", "model.py")))


def vocab_digest() -> str:
    """What the index's facts depend on besides the tree: the schema, the knowledge
    files (the TOML lists) and the code that extracts and derives the facts."""
    from importlib import resources

    h = hashlib.sha256(store.SCHEMA_VERSION.encode())
    for name in ("sleeping.toml", "locking.toml", "accesses.toml"):
        h.update(resources.files("reviewbot.knowledge").joinpath(name).read_bytes())
    for package, names in FACT_CODE:
        for name in names:
            h.update(resources.files(package).joinpath(name).read_bytes())
    return h.hexdigest()[:16]


# -- workers -------------------------------------------------------------------------
#
# Forked workers claim tasks (chunks of files) by incrementing a shared counter, write
# facts and per-file results into their own shard database, and add the bytes they read
# to a shared progress counter. No pipes: a worker that dies or is killed cannot block
# the builder, which kills the workers on any way out (SIGTERM included).

Task = list[tuple[int, str]]  # (file id, path)
Result = tuple[int, bytes, int, int, str]  # file id, hash, size, mtime, error


def _run_tasks(top: Path, tasks: list[Task], claim: Callable[[], int],
               progress: Callable[[int], None], vocab: Vocab, shard: Path) -> None:
    """Extract the tasks this process claims into ``shard``."""
    from reviewbot.knowledge.extract import Extractor

    extractor = Extractor(vocab)
    conn = store.open_shard(shard)
    conn.execute("CREATE TABLE IF NOT EXISTS results (file INT, hash BLOB, size INT, "
                 "mtime INT, error TEXT)")
    try:
        while (index := claim()) < len(tasks):
            conn.execute("BEGIN")
            done = 0
            for fid, rel in tasks[index]:
                result, facts, n = _read_one(top, fid, rel, extractor)
                if facts is not None:
                    store.write_facts(conn, fid, facts)
                conn.execute("INSERT INTO results VALUES (?,?,?,?,?)", result)
                done += n
            conn.execute("COMMIT")
            progress(done)
    finally:
        conn.close()


def _read_one(top: Path, fid: int, rel: str, extractor: object
              ) -> tuple[Result, FileFacts | None, int]:
    from reviewbot.knowledge.extract import Extractor

    assert isinstance(extractor, Extractor)
    try:
        with open(top / rel, "rb") as fh:
            st = os.fstat(fh.fileno())
            data = fh.read(MAX_FILE + 1)
    except OSError as exc:
        return (fid, b"", 0, 0, exc.strerror or str(exc)), None, 0
    if len(data) > MAX_FILE:
        return (fid, b"", 0, 0, f"larger than {MAX_FILE >> 20} MiB"), None, len(data)
    facts = extractor.extract(rel, data)
    return (fid, content_hash(data), st.st_size, st.st_mtime_ns, ""), facts, len(data)


def _tasks(files: list[tuple[int, str, int]]) -> list[Task]:
    """Files in chunks of about CHUNK_BYTES, the largest first (even load at the end)."""
    tasks: list[Task] = []
    chunk: Task = []
    size = 0
    for fid, rel, n in sorted(files, key=lambda f: -f[2]):
        chunk.append((fid, rel))
        size += n
        if size >= CHUNK_BYTES:
            tasks.append(chunk)
            chunk, size = [], 0
    if chunk:
        tasks.append(chunk)
    return tasks


def _extract(top: Path, files: list[tuple[int, str, int]], jobs: int, shard_dir: Path,
             progress: Progress | None) -> None:
    """Extract ``files`` into shard databases in ``shard_dir``."""
    vocab = load_vocab()
    total = sum(n for _, _, n in files)
    tasks = _tasks(files)
    if progress is not None:
        progress.start("indexing (MB)", max(total >> 20, 1))
    if jobs <= 1 or total < SMALL_JOB:
        counter = iter(range(len(tasks) + 1))
        shown = [0]

        def advance(n: int) -> None:
            shown[0] += n
            if progress is not None:
                progress.advance((shown[0] >> 20) - ((shown[0] - n) >> 20))

        _run_tasks(top, tasks, lambda: next(counter), advance, vocab,
                   shard_dir / "shard-0.sqlite")
    else:
        _fork_workers(top, tasks, jobs, shard_dir, progress, vocab)
    if progress is not None:
        progress.finish()


def _fork_workers(top: Path, tasks: list[Task], jobs: int, shard_dir: Path,
                  progress: Progress | None, vocab: Vocab) -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    next_task = ctx.Value("q", 0)
    done = ctx.Value("q", 0)

    def claim() -> int:
        with next_task.get_lock():
            index = int(next_task.value)
            next_task.value += 1
        return index

    def advance(n: int) -> None:
        with done.get_lock():
            done.value += n

    def work(i: int) -> None:
        import signal

        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            _run_tasks(top, tasks, claim, advance, vocab, shard_dir / f"shard-{i}.sqlite")
        except BaseException as exc:
            if os.environ.get("REVIEWBOT_DEBUG"):
                raise
            sys.stderr.write(f"reviewbot: indexing worker: {type(exc).__name__}: {exc}\n")
            sys.stderr.flush()
            os._exit(1)

    workers = [ctx.Process(target=work, args=(i,), daemon=True) for i in range(jobs)]
    try:
        for w in workers:
            w.start()
        shown = 0
        while any(w.is_alive() for w in workers):
            time.sleep(0.2)
            failed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if failed:
                raise KnowledgeError(f"an indexing worker failed (exit status {failed[0]})")
            now = int(done.value) >> 20
            if progress is not None and now > shown:
                progress.advance(now - shown)
                shown = now
        codes = [w.exitcode for w in workers if w.exitcode != 0]
        if codes:
            raise KnowledgeError(f"an indexing worker failed (exit status {codes[0]})")
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
        for w in workers:
            w.join(2)
            if w.is_alive():
                w.kill()
                w.join()


def _results(shards: int) -> str:
    return " UNION ALL ".join(f"SELECT * FROM shard{i}.results" for i in range(shards))


# -- the build -----------------------------------------------------------------------

@dataclass
class _Plan:
    new: list[tuple[int, str]]  # (file id, path) of files the index does not have yet
    extract: list[tuple[int, str, int]]  # (file id, path, size): new or changed content
    removed: list[int]
    restat: list[tuple[int, int, int]]  # (file id, size, mtime): same content


def _plan(conn: sqlite3.Connection, top: Path, listing: list[Listed]) -> _Plan:
    """What to read again (read-only: the build's lock keeps others out)."""
    known = {path: (fid, size, mtime, digest) for fid, path, size, mtime, digest
             in conn.execute("SELECT id, path, size, mtime, hash FROM files")}
    next_id = max((v[0] for v in known.values()), default=0) + 1
    plan = _Plan([], [], [], [])
    present = set()
    for item in listing:
        present.add(item.path)
        old = known.get(item.path)
        if old is None:
            plan.new.append((next_id, item.path))
            plan.extract.append((next_id, item.path, item.size))
            next_id += 1
            continue
        fid, size, mtime, digest = old
        if (size, mtime) == (item.size, item.mtime) and digest:
            continue
        try:
            data = (top / item.path).read_bytes()
        except OSError:
            data = None
        if data is not None and digest and content_hash(data) == digest:
            plan.restat.append((fid, item.size, item.mtime))
        else:
            plan.extract.append((fid, item.path, item.size))
    plan.removed = [fid for path, (fid, *_) in known.items() if path not in present]
    return plan


def build_index(tree: Tree, jobs: int, progress: Progress | None = None,
                full: bool = False, env: dict[str, str] | None = None,
                clock: Callable[[], float] = time.time) -> BuildResult:
    started = time.monotonic()
    stages = _Stages()
    path = index_path(tree.top, env)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise KnowledgeError(f"cannot create {path.parent}: {exc.strerror}") from exc
    jobs = max(1, min(jobs, MAX_JOBS))
    with _locked(path), _workdir(path.parent) as work:
        meta = _current_meta(path)
        fresh = full or meta.get("schema") != store.SCHEMA_VERSION \
            or meta.get("vocab") != vocab_digest()
        target = work / "new.sqlite" if fresh else path
        conn = store.connect(target)
        try:
            if fresh:
                conn.execute("PRAGMA journal_mode=OFF")
                conn.execute("PRAGMA synchronous=OFF")
                store.create_tables(conn)
            listing = list_files(tree)
            stages.done("list")
            plan = _plan(conn, tree.top, listing)
            stages.done("plan")
            _extract(tree.top, plan.extract, jobs, work, progress)
            stages.done("extract")
            shards = sorted(work.glob("shard-*.sqlite"))
            for i, shard in enumerate(shards):  # ATTACH is refused inside a transaction
                conn.execute(f"ATTACH DATABASE ? AS shard{i}", (str(shard),))
            conn.execute("BEGIN IMMEDIATE")
            from reviewbot.knowledge.derive import Change, derive, old_functions

            replaced = plan.removed + [fid for fid, _, _ in plan.extract]
            change = None
            if not fresh:  # what the files held before, for the derivation
                gone = set(replaced)
                change = Change(gone, old_functions(conn, {
                    fid: rel for fid, rel in conn.execute("SELECT id, path FROM files")
                    if fid in gone}))
                store.delete_files(conn, replaced)
            conn.executemany("INSERT INTO files(id, path, size, mtime, hash) "
                             "VALUES (?, ?, 0, 0, x'')", plan.new)
            conn.executemany("DELETE FROM files WHERE id = ?", [(f,) for f in plan.removed])
            conn.executemany("UPDATE files SET size = ?, mtime = ? WHERE id = ?",
                             [(s, m, f) for f, s, m in plan.restat])
            for i in range(len(shards)):
                store.merge_shard(conn, f"shard{i}")
            paths = {fid: rel for fid, rel, _ in plan.extract}
            results = conn.execute(_results(len(shards))).fetchall() if shards else []
            skipped = [f"{paths[r[0]]}: {r[4]}" for r in results if r[4]]
            conn.executemany("UPDATE files SET size = ?, mtime = ?, hash = ? WHERE id = ?",
                             [(size, mtime, digest, fid)
                              for fid, digest, size, mtime, _ in results])
            stages.done("merge")
            if fresh:
                store.create_indexes(conn)
                stages.done("indexes")
            sleepers, contexts = derive(conn, change)
            stages.done("derive")
            functions = conn.execute("SELECT count(*) FROM funcs").fetchone()[0]
            files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
            store.write_meta(conn, _meta(tree, meta if not fresh else {}, clock()))
            store.write_vocab(conn, load_vocab())
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        finally:
            conn.close()
        if fresh:
            os.replace(target, path)
        stages.done("commit")
    return BuildResult(path, files, len(plan.extract), len(plan.removed),
                       sum(n for _, _, n in plan.extract), functions, sleepers, contexts,
                       time.monotonic() - started, fresh, tuple(skipped),
                       tuple(stages.times))


def _meta(tree: Tree, old: dict[str, str], now: float) -> dict[str, str]:
    from reviewbot import __version__

    meta = {"schema": store.SCHEMA_VERSION, "vocab": vocab_digest(), "tree": str(tree.top),
            "kind": "git" if tree.git else "plain", "updated": f"{now:.0f}",
            "created": old.get("created", f"{now:.0f}"), "reviewbot": __version__,
            "commit": _head(tree) or ""}
    return meta


def _head(tree: Tree) -> str | None:
    if not tree.git:
        return None
    try:
        proc = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=tree.top,
                              capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def _current_meta(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return store.read_meta(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return {}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One build of a tree at a time."""
    import fcntl

    lock = path.with_suffix(".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise KnowledgeError(f"another 'reviewbot index' is updating {path}") from exc
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _workdir(parent: Path) -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=parent))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
