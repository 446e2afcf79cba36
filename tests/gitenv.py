"""An isolated git/user configuration for tests that read ``git config``."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

GitConfig = Callable[[str, str], None]


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitConfig:
    """Point git's global config, HOME and XDG_CONFIG_HOME into ``tmp_path``; the
    returned function sets a global git config key."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.touch()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    for var in ("REVIEWBOT_CONFIG", "REVIEWBOT_FROM", "REVIEWBOT_DATE", "GIT_DIR",
                "GIT_WORK_TREE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)

    def set_key(key: str, value: str) -> None:
        subprocess.run(["git", "config", "--global", key, value], check=True)

    return set_key


def write_config(text: str) -> Path:
    """Write reviewbot's config file where the isolated XDG_CONFIG_HOME points."""
    import os

    path = Path(os.environ["XDG_CONFIG_HOME"]) / "reviewbot" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
