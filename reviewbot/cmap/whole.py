"""Tree mode: map a patch's file from its whole post-image (parsed once per blob).

``WholeFile`` is the parse of one file text, independent of any diff, in the file's own
line numbers; ``ParseCache`` keeps one per git blob id for the length of a series.
``map_whole`` turns it into the ``FileMap`` of one patch's file, in the patch's
post-image numbering (see ``linemap``).
"""

from __future__ import annotations

import bisect
import hashlib
from typing import TYPE_CHECKING

from reviewbot.cmap.filemap import FileMap, MappedFragment, file_map
from reviewbot.cmap.fragment import SYNTHETIC, Fragment
from reviewbot.cmap.functions import NO_FUNCTION, error_lines, function_name, scan_functions
from reviewbot.cmap.linemap import LineMap
from reviewbot.cmap.locks import lock_regions, mentions_lock
from reviewbot.cmap.model import Decl, FunctionSpan, LockRegion, Unmapped
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.scan import scan_lines, starts_in_comment
from reviewbot.cmap.types import declarator_name, type_text
from reviewbot.diff.model import FileDiff

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

_DECL_QUERY = "[(declaration) (parameter_declaration)] @decl"
_FILE_SCOPE_CONTAINERS = ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
                          "preproc_elifdef", "linkage_specification", "declaration_list")


def blob_id(text: str) -> str:
    """The git blob id of ``text`` (UTF-8): the same key the tree's objects have."""
    data = text.encode("utf-8", "surrogateescape")
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class WholeFile:
    """One file text parsed with tree-sitter; everything in the file's line numbers.

    A cache entry: built once per blob, read by every patch of the series whose
    post-image it is. Lock regions and declarations are worked out per function, when a
    patch (or a rule) asks about that function; the fallback scan only when needed.
    """

    def __init__(self, text: str, parser: CParser, blob: str | None = None,
                 previous: WholeFile | None = None) -> None:
        """Parse ``text``; with ``previous`` (an earlier version of the same file) the
        parse is incremental: tree-sitter reuses the unchanged parts of its tree."""
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.blob = blob or blob_id(text)
        self.lines: tuple[str, ...] = tuple(lines)
        self.text = "\n".join(lines) + "\n"
        self.parser = parser
        self.source = parser.source(self.text)
        self.tree: Tree = parser.parse(self.text) if previous is None else parser.reparse(
            self.source, _edited(previous.tree, previous.source, self.source))
        self.error_lines = error_lines(self.tree, tuple(range(1, len(lines) + 1)))
        self.nodes: dict[int, Node] = {}  # function start line -> function_definition
        self.functions: tuple[FunctionSpan, ...] = self._functions()
        self.globals: tuple[Decl, ...] = self._globals()
        self._locks: dict[tuple[int, int], tuple[LockRegion, ...]] = {}
        self._decls: dict[tuple[int, int], tuple[Decl, ...]] = {}
        self._scanned: tuple[FunctionSpan, ...] | None = None

    def _functions(self) -> tuple[FunctionSpan, ...]:
        """Functions at file scope (inside #if blocks and parse errors too)."""
        out: list[FunctionSpan] = []
        stack = list(reversed(self.tree.root_node.children))
        while stack:
            node = stack.pop()
            if node.type in _FILE_SCOPE_CONTAINERS or node.type == "ERROR":
                stack.extend(reversed(node.children))
                continue
            if node.type != "function_definition":
                continue
            name = function_name(node)
            if name and name != SYNTHETIC:
                start = node.start_point[0] + 1
                self.nodes[start] = node
                out.append(FunctionSpan(name, start, node.end_point[0] + 1, "tree-sitter",
                                        True))
        return tuple(sorted(out, key=lambda f: (f.start, f.end)))

    def _globals(self) -> tuple[Decl, ...]:
        """File-scope declarations (not struct fields, not function locals)."""
        out: list[Decl] = []
        stack = list(reversed(self.tree.root_node.children))
        while stack:
            node = stack.pop()
            if node.type in _FILE_SCOPE_CONTAINERS:
                stack.extend(reversed(node.children))
            elif node.type == "declaration":
                out.extend(_decls_of(node))
        return tuple(out)

    def fn_locks(self, fn: FunctionSpan) -> tuple[LockRegion, ...]:
        """Lock regions of one function (computed once)."""
        key = (fn.start, fn.end)
        found = self._locks.get(key)
        if found is None:
            body = self.lines[fn.start - 1:fn.end]
            found = ()
            if mentions_lock("\n".join(body)):
                scanned = scan_lines(list(body))
                found = tuple(lock_regions([(fn.start + i, s.code)
                                            for i, s in enumerate(scanned)],
                                           fn.name, fn.complete))
            self._locks[key] = found
        return found

    def fn_decls(self, fn: FunctionSpan) -> tuple[Decl, ...]:
        """Parameters and locals of one function (computed once; none for a function
        tree-sitter did not find)."""
        key = (fn.start, fn.end)
        found = self._decls.get(key)
        if found is None:
            node = self.nodes.get(fn.start) if fn.source == "tree-sitter" else None
            found = () if node is None else tuple(
                d for n in self.parser.captures(_DECL_QUERY, node).get("decl", [])
                for d in _decls_of(n))
            self._decls[key] = found
        return found

    def scanned_functions(self) -> tuple[FunctionSpan, ...]:
        """Functions found by kernel layout (``{``/``}`` at column 0), computed once."""
        if self._scanned is None:
            lines = list(self.lines)
            scanned = scan_lines(lines, starts_in_comment(lines))
            self._scanned = tuple(scan_functions(lines, scanned,
                                                  list(range(1, len(lines) + 1)), 0, None))
        return self._scanned


def _decls_of(node: Node) -> list[Decl]:
    kind = type_text(node)
    if not kind:
        return []
    line = node.start_point[0] + 1
    out = []
    for child in node.children_by_field_name("declarator"):
        named = declarator_name(child)
        if named:
            out.append(Decl(named[0], kind, named[1], line))
    return out


_CHUNK = 1 << 16


def _common_prefix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the common prefix of ``a`` and ``b`` (at most ``limit``): whole chunks
    first, then a binary search inside the first chunk that differs."""
    i = 0
    while i + _CHUNK <= limit and a[i:i + _CHUNK] == b[i:i + _CHUNK]:
        i += _CHUNK
    lo, hi = i, min(i + _CHUNK, limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[i:mid] == b[i:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the common suffix (at most ``limit``), the same way from the end."""
    la, lb = len(a), len(b)
    i = 0
    while i + _CHUNK <= limit and a[la - i - _CHUNK:la - i] == b[lb - i - _CHUNK:lb - i]:
        i += _CHUNK
    lo, hi = i, min(i + _CHUNK, limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid:la - i] == b[lb - mid:lb - i]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _point(data: bytes, offset: int) -> tuple[int, int]:
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


def _edited(tree: Tree, old: bytes, new: bytes) -> Tree:
    """A copy of ``tree`` (parsed from ``old``) told that ``new`` replaced one span."""
    start = _common_prefix(old, new, min(len(old), len(new)))
    tail = _common_suffix(old, new, min(len(old), len(new)) - start)
    copy = tree.copy()
    copy.edit(start_byte=start, old_end_byte=len(old) - tail, new_end_byte=len(new) - tail,
              start_point=_point(old, start), old_end_point=_point(old, len(old) - tail),
              new_end_point=_point(new, len(new) - tail))
    return copy


class ParseCache:
    """WholeFile by blob id: each distinct file text is parsed once per series; a later
    version of a file already parsed (same path) is parsed incrementally."""

    def __init__(self, parser: CParser) -> None:
        self.parser = parser
        self._files: dict[str, WholeFile] = {}
        self._by_path: dict[str, WholeFile] = {}
        self.parses = 0

    def get(self, text: str, blob: str | None = None, path: str | None = None) -> WholeFile:
        key = blob or blob_id(text)
        whole = self._files.get(key)
        if whole is None:
            previous = self._by_path.get(path) if path is not None else None
            whole = WholeFile(text, self.parser, key, previous)
            self._files[key] = whole
            self.parses += 1
        if path is not None:
            self._by_path[path] = whole
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
    """The FileMap of ``fdiff`` seen through its whole post-image ``whole``.

    ``locks`` and ``decls`` hold the functions the patch touches; ``locks_at`` and
    ``decl`` answer for any other function too, worked out when asked.
    """
    rows = lm.rows()
    ident = lm.identity
    added = frozenset(ln.new for h in fdiff.hunks for ln in h.lines
                      if ln.kind == "+" and ln.new is not None)
    real_of = {} if ident else lm.to_real()
    added_real = set(added) if ident else {real_of[d] for d in added if d in real_of}

    in_order = sorted(added_real)

    def added_in(fn: FunctionSpan) -> list[int]:
        return in_order[bisect.bisect_left(in_order, fn.start):
                        bisect.bisect_right(in_order, fn.end)]

    functions = list(whole.functions)
    seen = {r for fn in functions for r in added_in(fn)}
    if added_real - seen:
        for fn in whole.scanned_functions():
            mine = set(added_in(fn))
            if mine and not mine & seen:
                functions.append(fn)
    touched = [fn for fn in functions if added_in(fn)]

    def span(start: int, end: int) -> tuple[int, int] | None:
        return (start, end) if ident else _span(rows, start, end)

    def moved_locks(regions: tuple[LockRegion, ...]) -> tuple[LockRegion, ...]:
        out = []
        for lr in regions:
            s = span(lr.start, lr.end)
            if s is not None:
                out.append(LockRegion(lr.lock, lr.call, s[0], s[1], lr.function,
                                      lr.start_known, lr.end_known))
        return tuple(out)

    def moved(decls: tuple[Decl, ...]) -> tuple[Decl, ...]:
        if ident:
            return decls
        return tuple(Decl(d.name, d.type, d.pointer, n) for d in decls
                     if (n := rows[d.line - 1]) is not None)

    pairs: list[tuple[FunctionSpan, FunctionSpan]] = []  # (patch numbering, file numbering)
    for fn in functions:
        s = span(fn.start, fn.end)
        if s is not None:
            pairs.append((FunctionSpan(fn.name, s[0], s[1], fn.source, fn.complete), fn))
    pairs.sort(key=lambda p: (p[0].start, p[0].end))
    out_fns = tuple(p[0] for p in pairs)

    real_of_fn: dict[FunctionSpan, FunctionSpan] = {}
    for d, r in pairs:
        real_of_fn.setdefault(d, r)
    touched_set = set(touched)

    def expand(fn: FunctionSpan) -> tuple[tuple[LockRegion, ...], tuple[Decl, ...]]:
        """Lock regions and declarations of a function the patch does not touch."""
        real = real_of_fn.get(fn)
        if real is None or real in touched_set:
            return (), ()
        return moved_locks(whole.fn_locks(real)), moved(whole.fn_decls(real))

    errors = frozenset(n for r in whole.error_lines if (n := rows[r - 1]) is not None)
    frag = MappedFragment(Fragment(whole.text, rows, 0, None), whole.tree, errors, None,
                          whole.parser, added, _focus(fdiff, real_of, ident))
    text = dict(enumerate(whole.lines, start=1)) if ident else {
        n: t for n, t in zip(rows, whole.lines, strict=True) if n is not None}
    unmapped = []
    for n in sorted(errors & added):
        if not any(fn.start <= n <= fn.end for fn in out_fns):
            unmapped.append(Unmapped(fdiff.path, n, NO_FUNCTION))
            break
    locks = tuple(r for fn in touched for r in moved_locks(whole.fn_locks(fn)))
    decls = tuple(d for fn in touched for d in moved(whole.fn_decls(fn)))
    return file_map(fdiff.path, (frag,), out_fns, locks, decls, text, added, tuple(unmapped),
                    whole.parser, full_file=True, globals_=moved(whole.globals), expand=expand)


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
