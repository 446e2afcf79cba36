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


def _is_key(key: str) -> bool:
    """``section.name`` (or deeper) of ASCII letters, digits and dashes, each part
    starting with a letter: nothing a regular expression would read specially."""
    parts = key.split(".")
    return len(parts) >= 2 and all(
        p[:1].isascii() and p[:1].isalpha() and p.isascii()
        and p.replace("-", "").isalnum() for p in parts)


def git_config_values(keys: list[str], cwd: Path | None = None) -> dict[str, str | None]:
    """What ``git config --get KEY`` gives as seen from ``cwd`` (repo, global, system),
    for several keys with one git process: the last value of each, None for an empty or
    unset one. Keys are matched case-insensitively, as git does for a section and a
    variable name."""
    out: dict[str, str | None] = {k: None for k in keys}
    wanted = {k.lower(): k for k in keys}
    if not all(_is_key(k) for k in keys):
        raise ConfigError(f"not a git configuration key: {keys!r}")
    pattern = "^(" + "|".join(k.lower().replace(".", "\\.") for k in keys) + ")$"
    proc = run_git(["config", "-z", "--get-regexp", pattern], cwd=cwd)
    if proc.returncode == 1:  # none is set
        return out
    if proc.returncode != 0:
        raise ConfigError(f"git config --get-regexp {pattern} failed: "
                          f"{(proc.stderr.strip().splitlines() or ['?'])[0]}")
    for entry in proc.stdout.split("\0"):
        name, _, value = entry.partition("\n")
        key = wanted.get(name.lower())
        if key is not None:
            out[key] = value if value != "" else None
    return out


def config_int(key: str, value: str | None) -> int | None:
    """The number a ``git_config_values`` value of ``key`` holds."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"git config {key} = {value!r} is not a number") from exc
