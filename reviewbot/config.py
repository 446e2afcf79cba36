"""What a run is given: the user's environment and config file, read once at the edge.

The CLI (``check``, ``watch``) calls :func:`read_environment` once; the
:class:`Environment` it returns (the config file, checked whole, and the environment
variables reviewbot reads) is passed down: the library reads neither the config file
nor reviewbot's variables itself (what remains are defaults for library callers that
pass nothing, such as ``fetch.cache.default_cache_dir``). :class:`Settings` is what one review runs
with (rule selection, revision, limits).

The config file is ``$XDG_CONFIG_HOME/reviewbot/config.toml`` (default
``~/.config/reviewbot/config.toml``; ``$REVIEWBOT_CONFIG`` names another file). A key
or section it does not know is an error, as in the watch policy (one reader:
:mod:`reviewbot.tomlread`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.limits import DEFAULT_MAX_INPUT, Limits
from reviewbot.tomlread import Problems, Table, read_toml
from reviewbot.xdg import xdg_dir

__all__ = ["CONFIG_ENV", "Environment", "ReplyOptions", "Settings", "UserConfig",
           "config_path", "load_config", "parse_config", "read_environment", "xdg_dir"]

CONFIG_ENV = "REVIEWBOT_CONFIG"  # a path to use instead of the XDG location
FROM_ENV = "REVIEWBOT_FROM"
DATE_ENV = "REVIEWBOT_DATE"
B4_TRACKING_ENV = "B4_TRACKING_FILE"  # set by b4 review for its check commands
_XDG = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


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
    jobs: int = 1  # processes to review the series in (reviewbot/workers.py)


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the config file is: ``$REVIEWBOT_CONFIG`` or the XDG location."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return xdg_dir("XDG_CONFIG_HOME", ".config", env) / "reviewbot" / "config.toml"


@dataclass(frozen=True)
class ReplyOptions:
    """The ``[reply]`` table of the config file."""

    name: str | None = None  # From: name (default: git config user.name)
    email: str | None = None  # From: address (default: git config user.email)
    signature: str | None = None  # after a "-- " line
    lists: tuple[str, ...] = ()  # addresses or fnmatch globs treated as mailing lists


@dataclass(frozen=True)
class UserConfig:
    """The config file, every key checked when it was read."""

    path: Path
    lore_url: str | None = None  # public-inbox server for Message-IDs
    lore_timeout: float | None = None  # seconds, like --timeout
    tree: Path | None = None  # kernel tree for tree mode
    reply: ReplyOptions = field(default_factory=ReplyOptions)


def parse_config(data: Mapping[str, object], path: Path) -> UserConfig:
    """A UserConfig from a parsed TOML document; every problem is listed at once."""
    problems = Problems(str(path))
    top = Table(data, "", problems, ("lore_url", "lore_timeout", "tree", "reply"))
    reply = top.table("reply", ("name", "email", "signature", "lists"))
    config = UserConfig(path, lore_url=top.text("lore_url"),
                        lore_timeout=top.optional_number("lore_timeout", positive=True),
                        tree=top.path("tree"),
                        reply=ReplyOptions(reply.text("name"), reply.text("email"),
                                           reply.text("signature"), reply.strings("lists")))
    problems.check()
    return config


def load_config(path: Path | None = None) -> UserConfig:
    """Read and check the config file; a missing file is an empty config."""
    path = path or config_path()
    data = read_toml(path, "config file")
    return UserConfig(path) if data is None else parse_config(data, path)


@dataclass(frozen=True)
class Environment:
    """Everything reviewbot takes from the user's environment, read once at the edge."""

    config: UserConfig
    reviewer: str | None = None  # $REVIEWBOT_FROM: the reviewer identity
    date: str | None = None  # $REVIEWBOT_DATE: the date of the replies
    no_color: bool = False  # $NO_COLOR set
    b4_tracking: Path | None = None  # $B4_TRACKING_FILE: b4 review's series data
    xdg: Mapping[str, str] = field(default_factory=dict)  # the XDG_*_HOME variables

    def cache_dir(self) -> Path:
        """``$XDG_CACHE_HOME/reviewbot`` (default ``~/.cache/reviewbot``)."""
        return xdg_dir("XDG_CACHE_HOME", ".cache", self.xdg) / "reviewbot"

    def state_dir(self) -> Path:
        """``$XDG_STATE_HOME/reviewbot`` (default ``~/.local/state/reviewbot``)."""
        return xdg_dir("XDG_STATE_HOME", ".local/state", self.xdg) / "reviewbot"


def read_environment(env: Mapping[str, str] | None = None) -> Environment:
    """The environment variables reviewbot reads, and the config file, checked."""
    env = os.environ if env is None else env
    tracking = env.get(B4_TRACKING_ENV)
    return Environment(load_config(config_path(env)), reviewer=env.get(FROM_ENV) or None,
                       date=env.get(DATE_ENV) or None, no_color=bool(env.get("NO_COLOR")),
                       b4_tracking=Path(tracking) if tracking else None,
                       xdg={k: env[k] for k in _XDG if k in env})
