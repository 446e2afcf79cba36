"""Series organisation: symbols per patch, bisectability, changes in the wrong patch.

``map_series(series, tree=None)`` reads a series once; the analyses take its result:
``build_breaks`` (``bisect``), ``misplaced_changes`` (``misplaced``), ``unrelated_hunks``
and ``nfc_changes`` (``unrelated``). See docs/design.md, "Series analysis".
"""
