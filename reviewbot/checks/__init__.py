"""Python checks for what a query cannot say, one per module, listed in CHECKS.

A check is ``check(ctx, fc, rule) -> Iterable[Hit]``: ``ctx`` is the PatchContext,
``fc`` the FileContext being checked (paths and keywords already filtered), ``rule`` the
rule whose ``params`` carry the kernel knowledge the check needs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.engine.context import FileContext, Hit, PatchContext
    from reviewbot.engine.schema import Rule

Check = Callable[["PatchContext", "FileContext", "Rule"], Iterable["Hit"]]

# check name -> the module (in this package) whose ``check`` it is
_MODULES = {
    "braces_single_statement": "braces",
    "stray_blank_line": "blank_line",
    "change_belongs_in_other_patch": "other_patch",
    "struct_page_magic_offset": "page_offset",
    "lockless_read_needs_read_once": "lockless_read",
    "contended_lock_for_publish": "lock_publish",
}
CHECK_NAMES = frozenset(_MODULES)


class _Checks(Mapping[str, Check]):
    """The checks by name; a check's module is imported when the check is first looked
    up, so loading rules (and a run that needs few checks) imports none or few."""

    def __getitem__(self, name: str) -> Check:
        qualified = f"{__name__}.{_MODULES[name]}"
        # asked once per rule and file: the import machinery only for the first time
        module = sys.modules.get(qualified) or importlib.import_module(qualified)
        check: Check = module.check
        return check

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


CHECKS: Mapping[str, Check] = _Checks()
