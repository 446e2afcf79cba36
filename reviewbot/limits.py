"""Size limits on local input: what reviewbot refuses, or skips, and how big is too big.

Every limit has a name for ``reviewbot check --limit NAME=VALUE`` (sizes take ``K``,
``M``, ``G`` suffixes). Exceeding a limit is never a crash: input-wide limits stop the
run with a one-line error (exit 2); per-patch limits mark that patch ``skipped`` with
the reason and the rest of the series is still reviewed.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from reviewbot.errors import ConfigError

DEFAULT_MAX_INPUT = 256 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The size limits of one run (each has a --limit name: ``_HELP``)."""

    # input-wide (error, exit 2)
    input_bytes: int = DEFAULT_MAX_INPUT  # read from one source, after decompression
    patches_per_series: int = 1_000
    # per message / patch (the patch is skipped with the reason)
    message_bytes: int = 32 * 1024 * 1024  # one message
    lines_per_patch: int = 200_000  # lines of one patch's diff
    line_length: int = 100_000  # characters in one diff line


_HELP = {
    "input-bytes": "bytes read from one source, after decompression (error)",
    "patches-per-series": "patches in one series (error)",
    "message-bytes": "bytes of one message (the patch is skipped)",
    "lines-per-patch": "lines in one patch's diff (the patch is skipped)",
    "line-length": "characters in one diff line (the patch is skipped)",
}
_SIZE = re.compile(r"^(\d{1,15})([kKmMgG]?)$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def parse_limits(specs: list[str] | tuple[str, ...], base: Limits | None = None) -> Limits:
    """Apply ``NAME=VALUE`` settings to ``base``; ConfigError names the bad one."""
    limits = base or Limits()
    changes: dict[str, int] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip().lower()
        if not sep or name not in _HELP:
            raise ConfigError(f"--limit {spec!r}: expected NAME=VALUE with NAME one of "
                              + ", ".join(_HELP))
        m = _SIZE.match(value.strip())
        if m is None or int(m.group(1)) == 0:
            raise ConfigError(f"--limit {spec!r}: VALUE must be a positive number, "
                              "optionally with K, M or G")
        changes[name.replace("-", "_")] = int(m.group(1)) * _UNITS[m.group(2).lower()]
    return dataclasses.replace(limits, **changes)
