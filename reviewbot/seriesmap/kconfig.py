"""Kconfig symbols: defined by ``config FOO`` in Kconfig files, used by Kconfig
expressions (``depends on``, ``select``, ``if``, ...) and by Makefiles
(``obj-$(CONFIG_FOO)``)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

from reviewbot.diff.model import Line
from reviewbot.seriesmap.model import Definition, Site, Symbol, Use

_CONFIG_LINE = re.compile(r"^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*(?:#.*)?$")
_EXPRESSION = re.compile(
    r"^\s*(?:depends\s+on|select|imply|default|def_bool|def_tristate|visible\s+if|if|"
    r"range|bool|tristate)\b(.*)$")
_SYMBOL = re.compile(r"\b([A-Z][A-Z0-9_]*)\b")
_MAKE_CONFIG = re.compile(r"\$\(CONFIG_([A-Za-z0-9_]+)\)|\bCONFIG_([A-Za-z0-9_]+)\b")
_QUOTED = re.compile(r'"[^"]*"')


def is_kconfig(path: str) -> bool:
    return os.path.basename(path).startswith("Kconfig")


def is_makefile(path: str) -> bool:
    base = os.path.basename(path)
    return base in ("Makefile", "Kbuild") or base.endswith((".mk", ".kbuild"))


def kconfig_definitions(patch: int, path: str, lines: Sequence[Line]) -> list[Definition]:
    out: list[Definition] = []
    for ln in lines:
        m = _CONFIG_LINE.match(ln.text)
        if m:
            out.append(Definition(Symbol("config", m.group(1)), Site(patch, path, ln)))
    return out


def kconfig_uses(patch: int, path: str, lines: Sequence[Line]) -> list[Use]:
    out: list[Use] = []
    for ln in lines:
        text = _QUOTED.sub("", ln.text.split("#", 1)[0])
        m = _EXPRESSION.match(text)
        if not m:
            continue
        for name in _SYMBOL.findall(m.group(1)):
            if name not in ("y", "n", "m"):
                out.append(Use(Symbol("config", name), "config", Site(patch, path, ln)))
    return out


def make_uses(patch: int, path: str, lines: Sequence[Line]) -> list[Use]:
    out: list[Use] = []
    for ln in lines:
        text = ln.text.split("#", 1)[0]
        for a, b in _MAKE_CONFIG.findall(text):
            out.append(Use(Symbol("config", a or b), "config", Site(patch, path, ln)))
    return out
