"""How a call by name reaches definitions (shared by the build and the lookups; no
imports beyond the standard library, so a lookup stays cheap to import)."""

from __future__ import annotations

FUNC_BITS = 16  # function ids: file id << FUNC_BITS | index in the file
# call flags: under a context test; the caller's file defines it; one call of the name
# is made with interrupts disabled (under an _irqsave/_irq lock the caller holds); one
# is made in a section that stays atomic on PREEMPT_RT (under a raw spinlock, with
# interrupts or preemption disabled: locking.toml's ``rt_atomic``); one is made with a
# lock held (a spinlock, rwlock, mutex, rwsem, raw spinlock). The ``held`` table names
# the call and what makes it so for the last two.
GUARDED, LOCAL, IRQS_OFF, RT_ATOMIC, LOCKED = 1, 2, 4, 8, 16
STATIC, INLINE = 1, 2  # function flags


def visible(path: str, kind: str, flags: int) -> bool:
    """Whether a definition is visible outside its file: anything a header defines
    (static inline functions, function-like macros), and non-static functions."""
    return path.endswith(".h") or (kind == "function" and not flags & STATIC)


def pick(defs: list[tuple[int, bool, tuple[str, ...]]], file: int, here: tuple[str, ...],
         local: bool) -> list[int]:
    """The definitions (function id, visible tree-wide, directory) a call from ``file``
    (in directory ``here``) may reach: a fact holds for the call only when it holds for
    every one of them (they are alternatives: per configuration, per architecture).

    ``local``: the caller's file defines the name, and the call reaches those
    definitions (one file's static ``foo_probe`` is not another's). Otherwise the
    visible ones; a caller outside ``arch/`` reaches architecture code only when
    nothing else defines the name, and a caller in ``arch/X/`` reaches ``arch/X/`` or
    generic code, never another architecture's. Of the rest, those in the caller's own
    subsystem (two or more leading directories in common, such as ``drivers/net/``)
    win over the others: the same name in two drivers is two functions."""
    if local:
        return [f for f, _, _ in defs if f >> FUNC_BITS == file]
    seen = [(f, d) for f, v, d in defs if v]
    if len(seen) <= 1:
        return [f for f, _ in seen]
    arch = _arch(here)
    own = [(f, d) for f, d in seen if arch is not None and _arch(d) == arch]
    generic = [(f, d) for f, d in seen if _arch(d) is None]
    seen = own or generic or ([] if arch is not None else seen)
    if len(seen) <= 1:
        return [f for f, _ in seen]
    shared = [(_common(here, d), f) for f, d in seen]
    best = max(n for n, _ in shared)
    return [f for n, f in shared if n == best] if best >= 2 else [f for _, f in shared]


def _arch(directory: tuple[str, ...]) -> str | None:
    return directory[1] if len(directory) > 1 and directory[0] == "arch" else None


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
