"""Settings for one run (frozen), built once at the edge from options and config.

The user's config file is ``$XDG_CONFIG_HOME/reviewbot/config.toml`` (default
``~/.config/reviewbot/config.toml``). Several features read their own keys from it;
:func:`load_config` reads the file once and each feature asks for its keys through
the typed getters of :class:`ConfigFile`. Keys nobody asks for are ignored, so a file
written for a newer reviewbot still works.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.errors import ConfigError
from reviewbot.limits import DEFAULT_MAX_INPUT, Limits
from reviewbot.xdg import xdg_dir

__all__ = ["CONFIG_ENV", "ConfigFile", "Settings", "config_path", "load_config", "xdg_dir"]

CONFIG_ENV = "REVIEWBOT_CONFIG"  # a path to use instead of the XDG location
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """What one run reviews with: rule selection, revision, size limits."""

    rules_dirs: tuple[Path, ...] = ()  # empty: the bundled rules
    select: tuple[str, ...] = ()  # rule ids, names or classes to run (empty: all enabled)
    ignore: tuple[str, ...] = ()
    preview: bool = False  # also run rules with status = "preview"
    version: int | None = None  # review this revision instead of the newest
    max_input_bytes: int = DEFAULT_MAX_INPUT  # = limits.input_bytes (cli sets both)
    limits: Limits = field(default_factory=Limits)  # size limits (reviewbot/limits.py)
    use_cache: bool = True  # the parsed-rules cache (--no-cache: neither read nor write)
    jobs: int = 1  # processes to review the series in (reviewbot/workers.py)


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the config file is: ``$REVIEWBOT_CONFIG`` or the XDG location."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return xdg_dir("XDG_CONFIG_HOME", ".config", env) / "reviewbot" / "config.toml"


@dataclass(frozen=True)
class ConfigFile:
    """The top-level keys of the config file; typed getters check what they read."""

    path: Path
    values: Mapping[str, object] = field(default_factory=dict)

    def _get(self, key: str, kinds: tuple[type, ...], what: str) -> object | None:
        value = self.values.get(key)
        if value is None:
            return None
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise ConfigError(f"{self.path}: {key} must be {what}, not {value!r}")
        return value

    def string(self, key: str) -> str | None:
        value = self._get(key, (str,), "a string")
        return value if isinstance(value, str) else None

    def number(self, key: str) -> float | None:
        value = self._get(key, (int, float), "a number")
        return float(value) if isinstance(value, int | float) else None

    def path_setting(self, key: str) -> Path | None:
        """A non-empty string naming a path (``~`` expanded)."""
        value = self._get(key, (str,), "a path (a non-empty string)")
        if value == "":
            raise ConfigError(f"{self.path}: {key} must be a path (a non-empty string)")
        return Path(value).expanduser() if isinstance(value, str) else None

    def boolean(self, key: str) -> bool | None:
        value = self._get(key, (bool,), "true or false")
        return value if isinstance(value, bool) else None


def load_config(path: Path | None = None) -> ConfigFile:
    """Read the config file; a missing file is an empty config, a broken one an error."""
    path = path or config_path()
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return ConfigFile(path)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes")
    import tomllib  # only when there is a file: ~5 ms

    try:
        values = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return ConfigFile(path, values)
