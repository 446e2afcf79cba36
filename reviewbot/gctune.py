"""A garbage-collector setting for batch runs: collect the youngest generation less often.

A review allocates many small, mostly acyclic objects (diff lines, tree-sitter captures,
findings) that live until the report is written. With CPython's default thresholds
(700, 10, 10) the collector runs over a thousand times on a 2000-patch mbox and scans
the same survivors again and again: about 15% of the CPU time. Youngest-generation
collections every 10000 allocations, and older ones 100 times rarer, still free the few
reference cycles a run makes, for a few MB more peak memory.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BATCH_THRESHOLDS = (10000, 100, 100)


@contextmanager
def batch_gc() -> Iterator[None]:
    """Run the body with ``BATCH_THRESHOLDS``; the previous thresholds afterwards."""
    before = gc.get_threshold()
    gc.set_threshold(*BATCH_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
