"""Settings for one run (frozen), built once at the edge from options and config."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reviewbot.errors import ConfigError
from reviewbot.fetch.local import DEFAULT_MAX_INPUT


@dataclass(frozen=True)
class Settings:
    rules_dirs: tuple[Path, ...] = ()  # empty: the bundled rules
    select: tuple[str, ...] = ()  # rule ids, names or classes to run (empty: all enabled)
    ignore: tuple[str, ...] = ()
    preview: bool = False  # also run rules with status = "preview"
    version: int | None = None  # review this revision instead of the newest
    max_input_bytes: int = DEFAULT_MAX_INPUT


@dataclass(frozen=True)
class FileConfig:
    """What the config file says (keys reviewbot does not know are ignored)."""

    path: Path | None = None  # where it was read from (None: no file)
    tree: Path | None = None  # the kernel tree for tree mode


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/reviewbot/config.toml`` (``~/.config`` when unset)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser()
                                             / ".config")
    return Path(base) / "reviewbot" / "config.toml"


def load_config(path: Path | None = None) -> FileConfig:
    """Read the config file; a missing file is an empty config, a bad one a ConfigError."""
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return FileConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    tree = data.get("tree")
    if tree is not None and not (isinstance(tree, str) and tree):
        raise ConfigError(f"{path}: 'tree' must be a path (a non-empty string)")
    return FileConfig(path, Path(tree).expanduser() if tree else None)
