"""Tree mode: map a patch's file from its whole post-image (parsed once per blob).

``WholeFile`` is the parse of one file text, independent of any diff, in the file's own
line numbers; ``ParseCache`` keeps one per git blob id for the length of a series.
``map_whole`` turns it into the ``FileMap`` of one patch's file, in the patch's
post-image numbering (see ``linemap``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from reviewbot.cmap.fragment import Fragment
from reviewbot.cmap.linemap import LineMap
from reviewbot.cmap.locks import lock_regions, mentions_lock
from reviewbot.cmap.model import Decl, FunctionSpan, LockRegion
from reviewbot.cmap.scan import scan_lines
from reviewbot.cmap.types import _declarator_name, _type_text
from reviewbot.diff.model import FileDiff

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

    from reviewbot.cmap.filemap import FileMap
    from reviewbot.cmap.parser import CParser

_DECL_QUERY = "[(declaration) (parameter_declaration)] @decl"
_FILE_SCOPE_CONTAINERS = ("translation_unit", "preproc_if", "preproc_ifdef", "preproc_else",
                          "preproc_elif", "preproc_elifdef", "linkage_specification")


def blob_id(text: str) -> str:
    """The git blob id of ``text`` (UTF-8): the same key the tree's objects have."""
    data = text.encode("utf-8", "surrogateescape")
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class WholeFile:
    """One file text parsed with tree-sitter; everything in the file's line numbers.

    A cache entry: built once per blob, read by every patch of the series whose
    post-image it is. The fallback scan is computed only when a patch needs it.
    """

    def __init__(self, text: str, parser: CParser, blob: str | None = None) -> None:
        from reviewbot.cmap.filemap import MappedFragment, _error_lines, _tree_functions

        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.blob = blob or blob_id(text)
        self.lines: tuple[str, ...] = tuple(lines)
        self.text = "\n".join(lines) + "\n"
        ident = tuple(range(1, len(lines) + 1))
        self.tree: Tree = parser.parse(self.text)
        self.error_lines = _error_lines(self.tree, ident)
        probe = MappedFragment(Fragment(self.text, ident, 0, None), self.tree, frozenset(),
                               None)
        self.functions: tuple[FunctionSpan, ...] = tuple(
            sorted(_tree_functions(probe), key=lambda f: (f.start, f.end)))
        self.locks: tuple[LockRegion, ...] = tuple(
            r for fn in self.functions for r in self._fn_locks(fn))
        self.decls, self.globals = self._declarations(parser)
        self._scanned: tuple[FunctionSpan, ...] | None = None

    def _fn_locks(self, fn: FunctionSpan) -> list[LockRegion]:
        body = self.lines[fn.start - 1:fn.end]
        if not mentions_lock("\n".join(body)):
            return []
        scanned = scan_lines(list(body))
        return lock_regions([(fn.start + i, s.code) for i, s in enumerate(scanned)],
                            fn.name, fn.complete)

    def _declarations(self, parser: CParser) -> tuple[tuple[Decl, ...], tuple[Decl, ...]]:
        """(locals and parameters, file-scope declarations); struct fields are neither."""
        local: list[Decl] = []
        file_scope: list[Decl] = []
        for node in parser.captures(_DECL_QUERY, self.tree.root_node).get("decl", []):
            type_text = _type_text(node)
            if not type_text:
                continue
            line = node.start_point[0] + 1
            at_file = node.type == "declaration" and _at_file_scope(node)
            for child in node.children_by_field_name("declarator"):
                named = _declarator_name(child)
                if named:
                    (file_scope if at_file else local).append(
                        Decl(named[0], type_text, named[1], line))
        return tuple(local), tuple(file_scope)

    def scanned_functions(self) -> tuple[FunctionSpan, ...]:
        """Functions found by kernel layout (``{``/``}`` at column 0), computed once."""
        if self._scanned is None:
            from reviewbot.cmap.filemap import _scan_functions

            lines = list(self.lines)
            self._scanned = tuple(_scan_functions(lines, list(range(1, len(lines) + 1)), 0,
                                                  None))
        return self._scanned

    def function_node(self, fn: FunctionSpan) -> Node | None:
        """The ``function_definition`` node of a tree-sitter function (file numbering)."""
        node = self.tree.root_node.descendant_for_point_range((fn.start - 1, 0),
                                                              (fn.start - 1, 0))
        while node is not None and node.type != "function_definition":
            node = node.parent
        return node


def _at_file_scope(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type in _FILE_SCOPE_CONTAINERS[1:]:
        parent = parent.parent
    return parent is None or parent.type == "translation_unit"


class ParseCache:
    """WholeFile by blob id: each distinct file text is parsed once per series."""

    def __init__(self, parser: CParser) -> None:
        self.parser = parser
        self._files: dict[str, WholeFile] = {}
        self.parses = 0

    def get(self, text: str, blob: str | None = None) -> WholeFile:
        key = blob or blob_id(text)
        whole = self._files.get(key)
        if whole is None:
            whole = WholeFile(text, self.parser, key)
            self._files[key] = whole
            self.parses += 1
        return whole


def _span(rows: tuple[int | None, ...], start: int, end: int) -> tuple[int, int] | None:
    """First and last patch numbers of real lines start..end (1-based), if any."""
    first = next((rows[r - 1] for r in range(start, end + 1) if rows[r - 1] is not None),
                 None)
    if first is None:
        return None
    last = next(rows[r - 1] for r in range(end, start - 1, -1) if rows[r - 1] is not None)
    assert last is not None
    return first, last


def map_whole(fdiff: FileDiff, whole: WholeFile, lm: LineMap) -> FileMap:
    """The FileMap of ``fdiff`` seen through its whole post-image ``whole``."""
    from reviewbot.cmap.filemap import FileMap, MappedFragment, Unmapped

    rows = lm.rows()
    ident = lm.identity
    added = frozenset(ln.new for h in fdiff.hunks for ln in h.lines
                      if ln.kind == "+" and ln.new is not None)
    real_of = {} if ident else lm.to_real()
    added_real = set(added) if ident else {real_of[d] for d in added if d in real_of}

    def covered(fns: tuple[FunctionSpan, ...]) -> set[int]:
        return {r for r in added_real for fn in fns if fn.start <= r <= fn.end}

    functions = list(whole.functions)
    locks = list(whole.locks)
    seen = covered(whole.functions)
    if added_real - seen:
        for fn in whole.scanned_functions():
            mine = {r for r in added_real if fn.start <= r <= fn.end}
            if mine and not mine & seen:
                functions.append(fn)
                locks.extend(whole._fn_locks(fn))

    def span(start: int, end: int) -> tuple[int, int] | None:
        return (start, end) if ident else _span(rows, start, end)

    out_fns: list[FunctionSpan] = []
    for fn in functions:
        s = span(fn.start, fn.end)
        if s is not None:
            out_fns.append(FunctionSpan(fn.name, s[0], s[1], fn.source, fn.complete))
    out_locks: list[LockRegion] = []
    for lr in locks:
        s = span(lr.start, lr.end)
        if s is not None:
            out_locks.append(LockRegion(lr.lock, lr.call, s[0], s[1], lr.function,
                                        lr.start_known, lr.end_known))

    def moved(decls: tuple[Decl, ...]) -> tuple[Decl, ...]:
        if ident:
            return decls
        return tuple(Decl(d.name, d.type, d.pointer, n) for d in decls
                     if (n := rows[d.line - 1]) is not None)

    error_lines = frozenset(n for r in whole.error_lines if (n := rows[r - 1]) is not None)
    frag = MappedFragment(Fragment(whole.text, rows, 0, None), whole.tree, error_lines, None,
                          _focus(fdiff, real_of, ident))
    text = {n: t for n, t in zip(rows, whole.lines, strict=True) if n is not None}
    unmapped = []
    for n in sorted(error_lines & added):
        if not any(fn.start <= n <= fn.end for fn in out_fns):
            unmapped.append(Unmapped(n, "tree-sitter could not parse this line and no "
                                        "enclosing function was found"))
            break
    out_fns.sort(key=lambda f: (f.start, f.end))
    return FileMap(fdiff.path, (frag,), tuple(out_fns), tuple(out_locks), moved(whole.decls),
                   text, added, tuple(unmapped), True, moved(whole.globals), whole)


def _focus(fdiff: FileDiff, real_of: dict[int, int], ident: bool
           ) -> tuple[tuple[int, int], ...]:
    """0-based row ranges of the hunks' post-images in the whole file."""
    out: list[tuple[int, int]] = []
    for h in fdiff.hunks:
        nums = [ln.new for ln in h.lines if ln.kind != "-" and ln.new is not None]
        if not nums:
            continue
        lo, hi = (nums[0], nums[-1]) if ident else (real_of.get(nums[0]),
                                                     real_of.get(nums[-1]))
        if lo is not None and hi is not None:
            out.append((lo - 1, hi - 1))
    return tuple(out)
