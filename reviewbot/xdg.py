"""XDG base directories (kept apart from ``config``: no dataclasses to create)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def xdg_dir(kind: str, fallback: str, env: Mapping[str, str] | None = None) -> Path:
    """An XDG base directory (``XDG_CONFIG_HOME``, ``XDG_CACHE_HOME``...).

    The XDG spec says a relative value is invalid and must be ignored.
    """
    env = os.environ if env is None else env
    value = env.get(kind, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback
