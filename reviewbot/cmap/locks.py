"""Lock regions inside a function, from the lines themselves (robust to ERROR nodes)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewbot.cmap.model import LockRegion

ACQUIRE = (
    "spin_lock", "spin_lock_irq", "spin_lock_irqsave", "spin_lock_bh", "spin_lock_nested",
    "raw_spin_lock", "raw_spin_lock_irq", "raw_spin_lock_irqsave", "raw_spin_lock_bh",
    "mutex_lock", "mutex_lock_nested", "mutex_lock_interruptible", "mutex_lock_killable",
    "read_lock", "read_lock_irq", "read_lock_irqsave", "read_lock_bh",
    "write_lock", "write_lock_irq", "write_lock_irqsave", "write_lock_bh",
    "down_read", "down_write", "down_read_killable", "down_write_killable",
    "mmap_read_lock", "mmap_write_lock", "rcu_read_lock", "spin_trylock", "mutex_trylock",
)
RELEASE = {
    "spin_unlock": "spin_lock", "spin_unlock_irq": "spin_lock",
    "spin_unlock_irqrestore": "spin_lock", "spin_unlock_bh": "spin_lock",
    "raw_spin_unlock": "raw_spin_lock", "raw_spin_unlock_irq": "raw_spin_lock",
    "raw_spin_unlock_irqrestore": "raw_spin_lock", "raw_spin_unlock_bh": "raw_spin_lock",
    "mutex_unlock": "mutex_lock", "read_unlock": "read_lock", "read_unlock_irq": "read_lock",
    "read_unlock_irqrestore": "read_lock", "read_unlock_bh": "read_lock",
    "write_unlock": "write_lock", "write_unlock_irq": "write_lock",
    "write_unlock_irqrestore": "write_lock", "write_unlock_bh": "write_lock",
    "up_read": "down_read", "up_write": "down_write",
    "mmap_read_unlock": "mmap_read_lock", "mmap_write_unlock": "mmap_write_lock",
    "rcu_read_unlock": "rcu_read_lock",
}
_CALL = re.compile(
    r"\b(" + "|".join(sorted({*ACQUIRE, *RELEASE}, key=len, reverse=True)) + r")\s*\(([^;]*)"
)
_HINTS = ("lock", "down_", "up_", "guard")  # every name above holds one of these
# (``\s*(?:\)\s*)?``, not ``\s*\)?\s*``: two \s* around an optional ) backtracked
# quadratically, 50 s on "guard ( a" followed by 50,000 spaces)
_GUARD = re.compile(r"\b(scoped_guard|guard)\s*\(\s*(\w+)\s*(?:\)\s*)?[(,]\s*([^;{]*)")


def mentions_lock(text: str) -> bool:
    """True when ``text`` holds a lock call or guard (a cheap prefilter)."""
    if not any(k in text for k in _HINTS):
        return False
    return _CALL.search(text) is not None or _GUARD.search(text) is not None


def normalize_lock(arg: str, call: str = "") -> str:
    """``&zone->lock`` -> ``zone->lock``; ``mm`` for mmap_*lock -> ``mm->mmap_lock``."""
    depth = 0
    end = len(arg)
    for i, c in enumerate(arg):
        if c in "([":
            depth += 1
        elif c in ")]":
            if depth == 0:
                end = i
                break
            depth -= 1
        elif c == "," and depth == 0:
            end = i
            break
    expr = "".join(arg[:end].split())
    expr = expr.lstrip("&")
    if expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1].lstrip("&")
    if call.startswith("mmap_"):
        expr = f"{expr}->mmap_lock"
    if call.startswith("rcu_"):
        expr = "rcu"
    return expr


# calls that name a lock without taking it
_NOT_TAKING = re.compile(r"\b(__acquires|__releases|__must_hold|lockdep_\w+|"
                         r"assert_spin_locked|might_lock\w*|\w*_init|init_\w+|"
                         r"WARN_ON\w*|BUG_ON|VM_BUG_ON\w*|VM_WARN_ON\w*)\s*\(")
_CALLEE = re.compile(r"\b([A-Za-z_]\w*)\((?:[^()]*,)?$")  # \b: linear on long words
_KEYWORDS = frozenset(("if", "while", "for", "switch", "return", "sizeof"))


def _helper_acquire(lines: Sequence[tuple[int, str]], lock: str) -> tuple[str, int] | None:
    """(call, line) of the latest line in ``lines`` passing ``lock`` to a call that does
    not just name it (an assertion, an initialiser): a helper that takes the lock."""
    if lock == "rcu" or not lock:
        return None
    named = re.compile(r"(?<![\w.>])&?\(?" + re.escape(lock) + r"(?![\w\[])")
    for number, code in reversed(lines):
        squeezed = "".join(code.split())
        m = named.search(squeezed)
        if m is None:
            continue
        callee = _CALLEE.search(squeezed[:m.start()])
        if callee is None or callee.group(1) in _KEYWORDS or _NOT_TAKING.match(
                squeezed[callee.start():]):
            continue
        return callee.group(1), number
    return None


def lock_regions(lines: Sequence[tuple[int, str]], function: str | None,
                 last_known: bool) -> list[LockRegion]:
    """Regions in one function; ``lines`` are (line number, code without comments).

    An unlock with no lock open before it: when an earlier lock of the same lock was
    already released (an error path that unlocks, then the main path), the region starts
    at that lock; else at the latest earlier call that names the lock (a helper that
    takes it, like ``preload_this_cpu_lock(&free_vmap_area_lock, ...)``); else the lock
    was taken above the visible lines (or by the caller) and the region starts at the
    first line with ``start_known`` False. ``last_known`` says whether the function's
    end is visible.
    """
    joined = "\n".join(code for _, code in lines)
    if not lines or not any(k in joined for k in _HINTS):
        return []  # no line holds a lock call or guard
    regions: list[LockRegion] = []
    open_: dict[str, tuple[str, int]] = {}
    taken: dict[str, tuple[str, int]] = {}  # the last acquire of each lock, even released
    released: dict[str, int] = {}  # index in ``lines`` after the last release of a lock
    depth = 0
    nested = "guard" in joined  # the depth matters to guards alone
    guards: list[tuple[str, str, int, int]] = []  # lock, call, start, depth
    first, last = lines[0][0], lines[-1][0]
    for index, (number, code) in enumerate(lines):
        # else no lock call or guard on the line (``_HINTS``, spelled out: faster)
        calls = "lock" in code or "down_" in code or "up_" in code or "guard" in code
        for m in _GUARD.finditer(code) if calls else ():
            kind, arg = m.group(2), m.group(3)
            lock = normalize_lock(arg.rstrip(") "))
            guards.append((lock, f"{m.group(1)}({kind})", number,
                           depth + (1 if m.group(1) == "scoped_guard" else 0)))
        for m in _CALL.finditer(code) if calls else ():
            name = m.group(1)
            if name in RELEASE:
                base = RELEASE[name]
                lock = normalize_lock(m.group(2), base)
                if lock in open_:
                    call, start = open_.pop(lock)
                    regions.append(LockRegion(lock, call, start, number, function))
                elif lock in taken:
                    call, start = taken[lock]
                    regions.append(LockRegion(lock, call, start, number, function))
                else:
                    helper = _helper_acquire(lines[released.get(lock, 0):index], lock)
                    if helper is not None:
                        regions.append(LockRegion(lock, helper[0], helper[1], number,
                                                  function))
                    else:
                        regions.append(LockRegion(lock, base, first, number, function,
                                                  start_known=False))
                released[lock] = index + 1
            else:
                lock = normalize_lock(m.group(2), name)
                open_[lock] = taken[lock] = (name, number)
        if nested:
            depth += code.count("{") - code.count("}")
        while guards and depth < guards[-1][3]:
            lock, call, start, _ = guards.pop()
            regions.append(LockRegion(lock, call, start, number, function))
    for lock, (call, start) in open_.items():
        regions.append(LockRegion(lock, call, start, last, function, end_known=last_known))
    for lock, call, start, _ in guards:
        regions.append(LockRegion(lock, call, start, last, function, end_known=last_known))
    return regions
