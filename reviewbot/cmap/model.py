"""What the C mapping tells rules: functions, lock regions, declarations, unmapped lines."""

from __future__ import annotations

from typing import Literal, NamedTuple

SpanSource = Literal["tree-sitter", "heading", "heuristic"]


class FunctionSpan(NamedTuple):
    """A function's name and its span in post-image line numbers (inclusive).

    ``complete`` is False when the view shows only part of the function (a hunk that
    starts or ends inside it).
    """

    name: str
    start: int
    end: int
    source: SpanSource
    complete: bool
    # The function's header as far as it is visible (return type, annotations such as
    # ``__init``, name, parameters), or the hunk heading when the header is not visible.
    signature: str = ""


class LockRegion(NamedTuple):
    """Lines ``start``..``end`` run with ``lock`` held (acquired by ``call``)."""

    lock: str  # normalised lock expression, e.g. "hugetlb_lock", "zone->lock"
    call: str  # "spin_lock", "guard(mutex)", ...
    start: int
    end: int
    function: str | None
    start_known: bool = True  # False when the acquire is outside the visible lines
    end_known: bool = True

    def held_lines(self) -> range:
        """The lines run with the lock held: those strictly inside the region, and the
        first one too when the acquire is not visible (it was taken above)."""
        return range(self.start if not self.start_known else self.start + 1, self.end)

    def holds(self, line: int) -> bool:
        return line in self.held_lines()


class Decl(NamedTuple):
    """A declared local or parameter: ``struct page *from`` is Decl("from", "struct page", 1).

    ``array`` counts array dimensions: ``struct page *pages[4]`` is pointer 1, array 1 (an
    array of pointers, so ``pages[2]`` is a ``struct page *`` and ``pages`` is not).
    """

    name: str
    type: str
    pointer: int
    line: int  # 0 when it came from a hunk heading (a parameter outside the view)
    array: int = 0

    @property
    def level(self) -> int:
        """Indirection of the name's value: pointers plus (decaying) array dimensions."""
        return self.pointer + self.array


class Unmapped(NamedTuple):
    """A line of a C file the mapping could not place: reported, never dropped."""

    file: str
    line: int
    reason: str
