"""Settings for one run (frozen), built once at the edge from options and config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.limits import DEFAULT_MAX_INPUT, Limits


@dataclass(frozen=True)
class Settings:
    rules_dirs: tuple[Path, ...] = ()  # empty: the bundled rules
    select: tuple[str, ...] = ()  # rule ids, names or classes to run (empty: all enabled)
    ignore: tuple[str, ...] = ()
    preview: bool = False  # also run rules with status = "preview"
    version: int | None = None  # review this revision instead of the newest
    max_input_bytes: int = DEFAULT_MAX_INPUT  # = limits.input_bytes (cli sets both)
    limits: Limits = field(default_factory=Limits)  # size limits (reviewbot/limits.py)
