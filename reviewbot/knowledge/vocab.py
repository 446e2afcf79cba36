"""The kernel vocabulary the index is built with, read from the TOML files beside this
module (``sleeping.toml``, ``locking.toml``, ``accesses.toml``): data, with a reason per
entry, compiled once into lookups and regular expressions."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from reviewbot.errors import ReviewbotError


class VocabError(ReviewbotError):
    """A knowledge data file is malformed."""


@dataclass(frozen=True)
class Marking:
    name: str
    arg: int  # >= 0: that argument; -1: any argument whose address is taken; -2: anywhere
    op: str  # read | write | rmw
    how: str  # once | acquire_release | atomic | bitop | rcu | data_race


@dataclass(frozen=True)
class Context:
    name: str
    arg: int  # -1: the last argument
    context: str  # hardirq | softirq
    soft: str  # a mode prefix whose _SOFT variants mean softirq ("" when none)
    reason: str


@dataclass(frozen=True)
class Vocab:
    sleep_names: dict[str, str]  # call -> reason
    sleep_prefixes: tuple[tuple[str, str], ...]
    sleep_except: frozenset[str]
    gfp_rx: re.Pattern[str]  # finds "GFP_..." (the caller checks the word: gfp_sleeping)
    gfp_sleeping: frozenset[str]
    gfp_reason: str
    gfp_not: tuple[str, ...]
    gfp_inspectors: frozenset[str]
    gfp_allocators: tuple[str, ...]  # a call with one of these in its name allocates
    quiet_paths: tuple[str, ...]  # functions defined under these never "may sleep"
    never_sleep: frozenset[str]  # functions that never count as "may sleep" (panic...)
    max_depth: int  # calls followed from the evidence
    guard_rx: re.Pattern[str]
    acquire: dict[str, tuple[str, str]]  # call -> (class, flavour)
    guards: dict[str, tuple[str, str]]
    lock_types: dict[str, str]  # declared type -> class
    lock_defines: dict[str, str]  # DEFINE_SPINLOCK -> spinlock_t
    lock_define_rx: re.Pattern[str]
    contexts: dict[str, Context]
    # sections that stay atomic on PREEMPT_RT: opening call -> the calls that close it
    # (interrupts or preemption disabled), and the guard classes that open one
    rt_opens: dict[str, frozenset[str]]
    rt_guards: frozenset[str]
    marked: dict[str, Marking]
    marked_prefixes: tuple[Marking, ...]
    unevaluated: frozenset[str]

    def sleep_reason(self, name: str) -> str | None:
        """Why a call to ``name`` may sleep, or None."""
        reason = self.sleep_names.get(name)
        if reason is not None or name in self.sleep_except:
            return reason
        for prefix, why in self.sleep_prefixes:
            if name.startswith(prefix):
                return why
        return None

    def marking(self, name: str) -> Marking | None:
        found = self.marked.get(name)
        if found is not None:
            return found
        for m in self.marked_prefixes:
            if name.startswith(m.name):
                return Marking(name, m.arg, m.op, m.how)
        return None


def _read(name: str) -> dict[str, Any]:
    try:
        text = resources.files("reviewbot.knowledge").joinpath(name).read_text("utf-8")
        return tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise VocabError(f"knowledge data {name}: {exc}") from exc


def _words(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def _names(entry: dict[str, Any], key: str = "names") -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise VocabError(f"knowledge data: {key} must be a list of names ({entry})")
    return value


def load_vocab() -> Vocab:
    sleeping, locking, accesses = (_read(f) for f in
                                   ("sleeping.toml", "locking.toml", "accesses.toml"))
    names: dict[str, str] = {}
    prefixes: list[tuple[str, str]] = []
    excepts: set[str] = set()
    for entry in sleeping.get("calls", []):
        reason = str(entry.get("reason", ""))
        if not reason:
            raise VocabError(f"sleeping.toml: an entry without a reason ({entry})")
        names.update(dict.fromkeys(_names(entry), reason))
        prefixes.extend((p, reason) for p in _names(entry, "prefixes"))
        excepts.update(_names(entry, "except"))
    gfp = sleeping.get("gfp", {})
    guard_words = [w for g in sleeping.get("guards", []) for w in _names(g, "words")]
    acquire = {n: (str(e["class"]), str(e["flavour"]))
               for e in locking.get("acquire", []) for n in _names(e)}
    guards = {n: (str(e["class"]), str(e["flavour"]))
              for e in locking.get("guard", []) for n in _names(e)}
    defines = {str(k): str(v) for k, v in locking.get("defines", {}).items()}
    contexts = {n: Context(n, int(e["arg"]), str(e["context"]), str(e.get("soft", "")),
                           str(e["reason"]))
                for e in locking.get("context", []) for n in _names(e)}
    rt_opens: dict[str, frozenset[str]] = {}
    for e in locking.get("rt_atomic", []):
        closes = frozenset(_names(e, "closes"))
        rt_opens.update(dict.fromkeys(_names(e, "opens"), closes))
    marked: dict[str, Marking] = {}
    marked_prefixes: list[Marking] = []
    for e in accesses.get("marked", []):
        arg, op, how = int(e["arg"]), str(e["op"]), str(e["how"])
        for n in _names(e):
            marked.setdefault(n, Marking(n, arg, op, how))
        marked_prefixes.extend(Marking(p, arg, op, how) for p in _names(e, "prefixes"))
    sleeping_gfp = _names(gfp, "sleeping")
    if not all(g.lstrip("_").startswith("GFP_") for g in sleeping_gfp):
        raise VocabError("sleeping.toml: [gfp] sleeping flags must be GFP_* or __GFP_*")
    return Vocab(
        sleep_names=names, sleep_prefixes=tuple(prefixes), sleep_except=frozenset(excepts),
        gfp_rx=re.compile(r"GFP_(?:" + _words([g.lstrip("_")[4:] for g in sleeping_gfp])
                          + r")(?!\w)"),
        gfp_sleeping=frozenset(sleeping_gfp),
        gfp_reason=str(gfp.get("reason", "")), gfp_not=tuple(_names(gfp, "not_sleeping")),
        gfp_inspectors=frozenset(_names(gfp, "inspectors")),
        gfp_allocators=tuple(_names(gfp, "allocators")),
        quiet_paths=tuple(p for e in sleeping.get("quiet_paths", []) for p in _names(e, "paths")),
        never_sleep=frozenset(n for e in sleeping.get("never", []) for n in _names(e)),
        max_depth=int(sleeping.get("max_depth", 3)),
        guard_rx=re.compile(r"\b(?:" + _words(guard_words) + r")\b"),
        acquire=acquire,
        guards=guards,
        lock_types={str(k): str(v) for k, v in locking.get("types", {}).items()},
        lock_defines=defines,
        lock_define_rx=re.compile(r"(" + _words(list(defines)) + r")\s*+\(\s*+(\w++)"),
        contexts=contexts,
        rt_opens=rt_opens,
        rt_guards=frozenset(n for e in locking.get("rt_atomic", []) for n in _names(e, "guards")),
        marked=marked, marked_prefixes=tuple(marked_prefixes),
        unevaluated=frozenset(_names(accesses, "unevaluated")),
    )
