"""Run git in a tree: a small, typed wrapper (list arguments, never a shell)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewbot.errors import ReviewbotError

GIT_TIMEOUT = 300.0  # seconds for one git command; a hung git must not hang reviewbot
# Variables that would point git at another repository, index or object store than
# the one reviewbot names: a hook (sendemail-validate) may run with some of them set.
_REPO_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
             "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE",
             "GIT_PREFIX", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM")


class TreeError(ReviewbotError):
    """A git command on the kernel tree failed in a way the user must know about."""


@dataclass(frozen=True)
class GitResult:
    code: int
    out: bytes
    err: bytes

    @property
    def first_error(self) -> str:
        """The first line of stderr, for one-line messages."""
        for line in self.err.decode("utf-8", "replace").splitlines():
            if line.strip():
                return line.strip()
        return f"exit status {self.code}"


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def run_git(cwd: Path, args: Sequence[str], stdin: bytes | None = None,
            env: Mapping[str, str] | None = None) -> GitResult:
    """Run ``git ARGS`` in ``cwd``; never raises for a non-zero exit (see ``check_git``)."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True,
                              env=git_env(env), timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError as exc:
        raise TreeError("git is not installed (needed for kernel-tree mode)") from exc
    except subprocess.TimeoutExpired as exc:
        raise TreeError(f"git {args[0]} took longer than {GIT_TIMEOUT:.0f} s") from exc
    return GitResult(proc.returncode, proc.stdout, proc.stderr)


def check_git(cwd: Path, args: Sequence[str], stdin: bytes | None = None,
              env: Mapping[str, str] | None = None) -> bytes:
    """Run git and return stdout; a non-zero exit raises TreeError with git's message."""
    res = run_git(cwd, args, stdin, env)
    if res.code != 0:
        raise TreeError(f"git {args[0]} failed in {cwd}: {res.first_error}")
    return res.out


@dataclass(frozen=True)
class GitTree:
    """A git work tree (or repository) reviewbot reads objects from; it never writes to it."""

    top: Path  # the top of the work tree (or the repository for a bare one)
    objects: Path  # the object directory (absolute), used as an alternate

    @classmethod
    def open(cls, path: Path) -> GitTree:
        """The repository holding ``path``; TreeError when it is none."""
        if not path.is_dir():
            raise TreeError(f"{path}: no such directory")
        res = run_git(path, ["rev-parse", "--show-toplevel"])
        if res.code != 0:
            bare = run_git(path, ["rev-parse", "--is-bare-repository"])
            if bare.code != 0 or bare.out.strip() != b"true":
                raise TreeError(f"{path}: not a git repository")
            top = path.resolve()
        else:
            top = Path(res.out.decode("utf-8", "surrogateescape").rstrip("\n"))
        objects = check_git(top, ["rev-parse", "--git-path", "objects"])
        obj = Path(objects.decode("utf-8", "surrogateescape").rstrip("\n"))
        return cls(top, (top / obj).resolve() if not obj.is_absolute() else obj)

    def git(self, args: Sequence[str], stdin: bytes | None = None,
            env: Mapping[str, str] | None = None) -> GitResult:
        return run_git(self.top, args, stdin, env)

    def commit(self, rev: str) -> str | None:
        """The full id of commit ``rev``, or None when the tree does not have it."""
        if not rev or rev.startswith("-"):
            return None
        res = self.git(["rev-parse", "--verify", "--quiet", "--end-of-options",
                        f"{rev}^{{commit}}"])
        if res.code != 0:
            return None
        return res.out.decode().strip() or None

    def object_ids(self, names: Iterable[str]) -> dict[str, str]:
        """Full ids of the blobs named (full or abbreviated ids); missing ones left out."""
        wanted = [n for n in dict.fromkeys(names) if n and all(c in "0123456789abcdef"
                                                               for c in n)]
        if not wanted:
            return {}
        res = self.git(["cat-file", "--batch-check=%(objectname) %(objecttype)"],
                       stdin="".join(f"{n}\n" for n in wanted).encode())
        out: dict[str, str] = {}
        for name, line in zip(wanted, res.out.decode().splitlines(), strict=False):
            parts = line.split()
            if len(parts) == 2 and parts[1] == "blob":
                out[name] = parts[0]
        return out

    def read_blobs(self, blobs: Iterable[str],
                   env: Mapping[str, str] | None = None) -> dict[str, bytes]:
        """The content of each blob (one ``git cat-file --batch``)."""
        wanted = list(dict.fromkeys(blobs))
        if not wanted:
            return {}
        res = self.git(["cat-file", "--batch"], "".join(f"{b}\n" for b in wanted).encode(),
                       env)
        out: dict[str, bytes] = {}
        data, pos = res.out, 0
        for blob in wanted:
            nl = data.find(b"\n", pos)
            if nl < 0:
                break
            header = data[pos:nl].split()
            pos = nl + 1
            if len(header) != 3:  # "<name> missing"
                continue
            size = int(header[2])
            out[blob] = data[pos:pos + size]
            pos += size + 1
        return out
