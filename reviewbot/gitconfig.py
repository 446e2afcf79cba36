"""Read git configuration values (``git config --get``) and run git plumbing safely."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from reviewbot.errors import ConfigError

GIT_TIMEOUT = 30.0


def run_git(args: list[str], cwd: Path | None = None, stdin: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``git ARGS``; a missing git binary or a hang becomes a ConfigError."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True,
                              text=True, check=False, timeout=GIT_TIMEOUT,
                              env={**os.environ, **(env or {})})
    except FileNotFoundError as exc:
        raise ConfigError("git is not installed (needed for git configuration)") from exc
    except subprocess.TimeoutExpired as exc:
        raise ConfigError(f"git {args[0]} did not finish in {GIT_TIMEOUT:.0f}s") from exc


def git_config(key: str, cwd: Path | None = None) -> str | None:
    """The value of ``key`` as git sees it from ``cwd`` (repo, global, system), or None."""
    proc = run_git(["config", "--get", key], cwd=cwd)
    if proc.returncode == 1:  # the key is not set
        return None
    if proc.returncode != 0:
        raise ConfigError(f"git config --get {key} failed: "
                          f"{(proc.stderr.strip().splitlines() or ['?'])[0]}")
    value = proc.stdout.rstrip("\n")
    return value if value != "" else None


def git_config_int(key: str, cwd: Path | None = None) -> int | None:
    value = git_config(key, cwd)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"git config {key} = {value!r} is not a number") from exc
