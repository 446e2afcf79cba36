"""Read one evaluation data file (JSON, size-capped): a one-line InputError otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reviewbot.errors import InputError

MAX_DATA_BYTES = 16 * 1024 * 1024


def read_json(path: str | Path, what: str) -> Any:
    """The parsed JSON in ``path``; ``what`` names the file in error messages."""
    path = Path(path)
    try:
        if not path.is_file():
            raise InputError(f"{path}: no such {what} file")
        if path.stat().st_size > MAX_DATA_BYTES:
            raise InputError(f"{path}: larger than {MAX_DATA_BYTES} bytes")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InputError(f"{path}: nested too deeply to be a {what}") from exc


def field(raw: dict[str, Any], key: str, kind: type, where: str,
          required: bool = True) -> Any:
    """``raw[key]`` checked to be of ``kind`` (a non-empty string for ``str``)."""
    value = raw.get(key)
    if value is None and not required:
        return None
    if kind is str:
        ok = isinstance(value, str) and bool(value)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    else:
        ok = isinstance(value, kind)
    if not ok:
        wanted = {str: "a non-empty string", int: "a positive whole number"}.get(
            kind, kind.__name__)
        raise InputError(f"{where}: {key} must be {wanted}")
    return value
