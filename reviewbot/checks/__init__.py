"""Python checks for what a query cannot say, one per module, listed in CHECKS.

A check is ``check(ctx, fc, rule) -> Iterable[Hit]``: ``ctx`` is the PatchContext,
``fc`` the FileContext being checked (paths and keywords already filtered), ``rule`` the
rule whose ``params`` carry the kernel knowledge the check needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from reviewbot.checks import (
    blank_line,
    braces,
    lock_publish,
    lockless_read,
    other_patch,
    page_offset,
)

if TYPE_CHECKING:
    from reviewbot.engine.context import FileContext, Hit, PatchContext
    from reviewbot.engine.schema import Rule

Check = Callable[["PatchContext", "FileContext", "Rule"], Iterable["Hit"]]

CHECKS: dict[str, Check] = {
    "braces_single_statement": braces.check,
    "stray_blank_line": blank_line.check,
    "change_belongs_in_other_patch": other_patch.check,
    "struct_page_magic_offset": page_offset.check,
    "lockless_read_needs_read_once": lockless_read.check,
    "contended_lock_for_publish": lock_publish.check,
}
