"""Reading reviewbot's TOML files (the config file, the watch policy): one reader.

A file is read whole (capped at :data:`MAX_TOML_BYTES`) and parsed; then each table is
read through a :class:`Table`, whose typed getters record every problem (a wrong type,
a value out of range, a key the table does not know, with the close matches) instead of
raising at the first. :meth:`Problems.check` then raises one :class:`ConfigError`
listing them all. One rule for every file: an unknown key or section is an error.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from reviewbot.errors import ConfigError

MAX_TOML_BYTES = 1024 * 1024


def read_toml(path: Path, what: str) -> dict[str, Any] | None:
    """The parsed TOML file at ``path``, None when it does not exist."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_TOML_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_TOML_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_TOML_BYTES} bytes")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def close_matches(word: str, known: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` for a misspelt name, else ``""``."""
    import difflib  # only for an error

    near = difflib.get_close_matches(word, sorted(known), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""


class Problems:
    """Everything wrong with one file, reported together."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)

    def check(self) -> None:
        if self.items:
            raise ConfigError(f"{self.origin}: " + "; ".join(self.items))


class Table:
    """Typed access to one TOML table (``name`` "" for the top level of the file).

    ``keys`` are the keys the table may hold; any other is a problem. Getters return the
    default after recording a problem, so reading goes on and every problem is listed.
    """

    def __init__(self, data: Mapping[str, Any], name: str, problems: Problems,
                 keys: Collection[str]) -> None:
        self.data, self.name, self.problems = data, name, problems
        for key in data:
            if key not in keys:
                what = "section" if isinstance(data[key], dict) else "key"
                problems.add(f"{self._where(key)}: unknown {what}{close_matches(key, keys)}")

    def _where(self, key: str) -> str:
        return f"[{self.name}] {key}" if self.name else key

    def _bad(self, key: str, want: str) -> None:
        self.problems.add(f"{self._where(key)}: expected {want}")

    def table(self, key: str, keys: Collection[str]) -> Table:
        """The sub-table ``[key]`` (empty when absent)."""
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            self.problems.add(f"[{key}] must be a table")
            value = {}
        return Table(value, key, self.problems, keys)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._bad(key, "a list of strings")
            return ()
        return tuple(value)

    def number(self, key: str, default: float, minimum: float = 0.0) -> float:
        value = self.optional_number(key, minimum)
        return default if value is None else value

    def optional_number(self, key: str, minimum: float = 0.0,
                        positive: bool = False) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        number = isinstance(value, int | float) and not isinstance(value, bool) \
            and math.isfinite(value)
        if not number or not (value > minimum if positive else value >= minimum):
            self._bad(key, f"a number {'>' if positive else '>='} {minimum:g}")
            return None
        return float(value)

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self._bad(key, f"an integer >= {minimum}")
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self._bad(key, "true or false")
            return default
        return value

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            self._bad(key, "a string")
            return None
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.data.get(key, default)
        if value not in choices:
            self._bad(key, "one of " + ", ".join(choices))
            return default
        return str(value)

    def path(self, key: str) -> Path | None:
        """A non-empty string naming a path (``~`` expanded)."""
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self._bad(key, "a path (a non-empty string)")
            return None
        return Path(value).expanduser()
