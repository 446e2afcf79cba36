"""Values derived from an immutable object, worked out once and kept with that object.

Like ``functools.cached_property``, but for functions that live elsewhere than the
object's class: a check that needs the same analysis of a hunk or the same reading of a
rule's params for every file asks ``derived(obj, name, build)``. The value is stored in
the object's ``__dict__`` (frozen dataclasses without slots have one, and writing there
bypasses the frozen ``__setattr__`` exactly as ``cached_property`` does), so it lives
exactly as long as the object and never leaks between runs. Only for objects that do not
change, and values that depend on nothing but the object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


_TRANSIENT = "_derived__transient"  # the keys of the values ``forget_transient`` drops


def derived(obj: object, name: str, build: Callable[[], T], *,
            transient: bool = False) -> T:
    """``build()`` the first time ``name`` is asked of ``obj``; the kept value after.
    A ``transient`` value is one only the current step of a run needs: it is kept until
    ``forget_transient(obj)``."""
    store = obj.__dict__
    key = "_derived_" + name
    try:
        value: T = store[key]
    except KeyError:
        value = store[key] = build()
        if transient:
            store.setdefault(_TRANSIENT, []).append(key)
    return value


def forget_transient(obj: object) -> None:
    """Drop the ``transient`` values kept on ``obj`` (asked again, they are built again)."""
    store = obj.__dict__
    for key in store.pop(_TRANSIENT, ()):
        store.pop(key, None)
