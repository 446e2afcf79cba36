"""C definitions on one side of a hunk, read lexically in kernel layout.

Kernel code keeps top-level declarations at column 0, bodies indented, and the brace
that closes a function, struct or initializer at column 0. So a hunk is read without the
rest of the file: a top-level declaration starts at a column-0 line and ends at the
``;`` or ``{`` that closes it; the ``{`` opens a function body, a struct/union/enum body
(whose indented declarations are members or enumerators, anonymous nested structs and
unions included) or an initializer; a column-0 ``}`` ends it. A hunk that starts inside
a body takes what encloses it from git's ``@@ ... @@`` heading. Macros come from
``#define`` lines; lines under ``#if 0`` define nothing. What this finds: the
definitions (on the line holding the name) and the function or type each line is in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.cmap.scan import ScannedLine
from reviewbot.diff.model import Line
from reviewbot.seriesmap.lexer import CodeLine, Token, code_lines
from reviewbot.seriesmap.model import TAGS, Definition, Site, Symbol, SymbolKind

# on the heading with its whitespace squashed to single spaces
_HEAD_TAG = re.compile(r"^(?:typedef )?(struct|union|enum)(?: (\w+))?(?: ?\{)?$")
_LABEL = re.compile(r"^[A-Za-z_]\w*:")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")
# top-level macro calls that define a variable: DEFINE_MUTEX(name), LIST_HEAD(name), ...
_DEFINING_MACRO = re.compile(r"^(?:DEFINE_|DECLARE_|L?LIST_HEAD$|HLIST_HEAD$)")
_STORAGE = frozenset(("static", "extern", "inline", "const", "volatile", "register",
                      "__always_inline", "__inline", "__inline__"))
NOT_NAMES = frozenset((
    "if", "else", "for", "while", "do", "switch", "case", "default", "return", "goto",
    "break", "continue", "sizeof", "typeof", "__typeof__", "_Alignof", "alignof",
    "defined", "struct", "union", "enum", "typedef", "static", "extern", "inline",
    "const", "volatile", "unsigned", "signed", "int", "char", "short", "long", "void",
    "float", "double", "bool", "_Bool", "__attribute__", "asm", "__asm__", "register"))


@dataclass(frozen=True)
class SideMap:
    """One side of a hunk read as C: its lines, their code, the definitions on them and
    the function or type (``struct foo``) each line is in (None at top level or when
    not known)."""

    lines: tuple[Line, ...]
    code: tuple[CodeLine, ...]
    definitions: tuple[Definition, ...]
    owners: tuple[str | None, ...]
    # the struct/union type (``struct foo_ops``) whose initializer a line is directly
    # in (``static const struct foo_ops ops = {``: its ``.member =`` designators)
    initializers: tuple[str | None, ...]


@dataclass
class _Frame:
    kind: str  # "func", "struct", "union", "enum", "init", "block"
    name: str
    typedef: bool = False  # typedef struct { ... } name;
    depth: int = 1  # braces (parentheses in an enum) open inside it
    expect_name: bool = True  # enum: the next identifier names an enumerator
    seen: bool = True  # False for the body a hunk starts in (known from its heading)


def side_lines(lines: Sequence[Line], side: str) -> tuple[Line, ...]:
    """The pre-image (``old``: context and removed) or post-image (``new``) lines."""
    drop = "+" if side == "old" else "-"
    return tuple(ln for ln in lines if ln.kind != drop)


def heading_type(section: str) -> tuple[str, str] | None:
    """The struct, union or enum (kind, tag) git's heading opens, if it is one."""
    m = _HEAD_TAG.match(" ".join(section.split()))
    return (m.group(1), m.group(2) or "") if m else None


def heading_frame(section: str) -> tuple[str, str]:
    """What encloses a hunk that starts inside a body, from git's heading."""
    tag = heading_type(section)
    if tag is not None:
        return tag
    toks = list(code_lines([section])[0].tokens)
    texts = [t.text for t in toks]
    eq = texts.index("=") if "=" in texts else len(texts)
    name = function_name(toks[:eq])
    if name is not None:
        return "func", name
    return ("init" if eq < len(texts) else "block"), ""


def function_name(toks: Sequence[Token]) -> str | None:
    """The name of a function declared by ``toks``: the identifier before a top-level
    ``(`` that has a type before it (``__printf(1, 2) int foo(`` is ``foo``)."""
    depth = 0
    typed = False
    for i, t in enumerate(toks):
        if t.text == "(":
            if depth == 0 and i > 0 and toks[i - 1].kind == "id" and typed \
                    and toks[i - 1].text not in NOT_NAMES:
                return toks[i - 1].text
            depth += 1
        elif t.text == ")":
            depth -= 1
        elif depth == 0 and i + 1 < len(toks) and toks[i + 1].text != "(" \
                and t.text not in _STORAGE:
            typed = True
    return None


def _is_header(path: str) -> bool:
    return path.endswith(".h")


def _declarator(texts: Sequence[str]) -> int | None:
    """Index of the name in one declarator's tokens (``struct page *pages[4]``)."""
    end = len(texts)
    for j, t in enumerate(texts):
        if t in ("[", ";", ",", ":", "=", "__attribute__"):
            end = j
            break
    for j in range(end - 1, -1, -1):
        t = texts[j]
        if t in ("*", ")", "(") or t in _STORAGE:
            continue
        if _IDENT.match(t) and t not in NOT_NAMES:
            return j
        return None
    return None


def _pointer_name(texts: Sequence[str]) -> int | None:
    """Index of ``name`` in ``(*name)(...)`` (a function pointer), if there is one."""
    for j in range(len(texts) - 2):
        if texts[j] == "(" and texts[j + 1] == "*" and _IDENT.match(texts[j + 2]):
            return j + 2
    return None


def _split_top(items: Sequence[tuple[int, Token]], sep: str
               ) -> list[list[tuple[int, Token]]]:
    parts: list[list[tuple[int, Token]]] = [[]]
    depth = 0
    for item in items:
        t = item[1].text
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
        if depth == 0 and t == sep:
            parts.append([])
        else:
            parts[-1].append(item)
    return parts


class _Reader:
    """The state machine over one side's lines."""

    def __init__(self, patch: int, path: str, lines: tuple[Line, ...],
                 code: tuple[CodeLine, ...], section: str) -> None:
        self.patch, self.path, self.lines, self.code = patch, path, lines, code
        self.section = section
        self.defs: list[Definition] = []
        self.owners: list[str | None] = [None] * len(lines)
        self.inits: list[str | None] = [None] * len(lines)
        self.frames: list[_Frame] = []
        self.pending: list[tuple[int, Token]] = []  # a declaration being read

    def _add(self, kind: SymbolKind, name: str, i: int, *, scope: str = "",
             declaration: bool = False, local: bool | None = None,
             shape: Sequence[str] = ()) -> None:
        if not name or name in NOT_NAMES:
            return
        if local is None:
            local = not _is_header(self.path)
        self.defs.append(Definition(Symbol(kind, name, scope),
                                    Site(self.patch, self.path, self.lines[i]),
                                    declaration, local, self.code[i].conditional,
                                    tuple(shape)))

    def run(self) -> SideMap:
        self._start()
        for i, cl in enumerate(self.code):
            self._line(i, cl)
        return SideMap(self.lines, self.code, tuple(self.defs), tuple(self.owners),
                       tuple(self.inits))

    def _start(self) -> None:
        """Enter the body the hunk starts in, when its first code line is indented or
        closes a body at column 0."""
        for cl, ln in zip(self.code, self.lines, strict=True):
            if cl.blank or cl.directive is not None or cl.in_define:
                continue
            if ln.text[:1] in (" ", "\t") or cl.code.startswith("}"):
                kind, name = heading_frame(self.section)
                self.frames.append(_Frame(kind, name, seen=False))
            return

    def _owner(self) -> str | None:
        if not self.frames:
            return None
        outer = self.frames[0]
        if outer.kind == "func":
            return outer.name or None
        if outer.kind in TAGS and outer.name:
            return f"{outer.kind} {outer.name}"
        return None

    def _line(self, i: int, cl: CodeLine) -> None:
        if cl.dead:
            self.owners[i] = self._owner()
            return
        if cl.directive == "define":
            self._define(i, cl)
        if cl.directive is not None or cl.in_define or cl.blank:
            self.owners[i] = self._owner()
            return
        col0 = self.lines[i].text[:1] not in (" ", "\t", "")
        tokens = list(cl.tokens)
        if col0 and cl.code.startswith("}"):
            closed = self.frames[0] if self.frames else None
            inner = self.frames[-1] if self.frames else None
            self.owners[i] = self._owner()
            self.frames.clear()
            self.pending = []
            if closed is not None and inner is not None:
                self._closed(inner, [(i, t) for t in tokens[1:]])
            return
        if col0 and not self.pending and self.frames and not (
                self.frames[0].kind == "func" and _LABEL.match(cl.code)):
            self.frames.clear()  # kernel layout: a column-0 line is at top level
        if not self.frames:
            self._top(i, cl, col0)
        else:
            self.owners[i] = self._owner()
            self._body(i, tokens)

    def _define(self, i: int, cl: CodeLine) -> None:
        toks = cl.tokens
        for k in range(len(toks) - 1):
            if toks[k].text == "define" and toks[k + 1].kind == "id":
                name = toks[k + 1].text
                body = [x.text for x in toks[k + 2:]]
                if body == [name]:
                    return  # "#define foo foo": a marker that foo exists, not foo itself
                self._add("macro", name, i, shape=body)
                return

    # -- top level -------------------------------------------------------------------
    def _top(self, i: int, cl: CodeLine, col0: bool) -> None:
        self.owners[i] = None
        if not self.pending and not col0:
            return  # indented text outside any known body: nothing to read
        depth = sum(1 if t.text in "([" else -1 if t.text in ")]" else 0
                    for _, t in self.pending)
        for n, t in enumerate(cl.tokens):
            self.pending.append((i, t))
            if t.text in "([":
                depth += 1
            elif t.text in ")]":
                depth -= 1
            elif depth == 0 and t.text == ";":
                self._declaration(body=False)
                self.pending = []
            elif depth == 0 and t.text == "{":
                self.frames.append(self._declaration(body=True))
                self.pending = []
                self.owners[i] = self._owner()
                self._body(i, list(cl.tokens[n + 1:]))
                return

    def _declaration(self, *, body: bool) -> _Frame:
        """Record what the pending top-level tokens declare; the frame a body opens."""
        toks = [t for _, t in self.pending]
        where = [i for i, _ in self.pending]
        texts = [t.text for t in toks]
        if body:
            texts = texts[:-1]
        if not texts:
            return _Frame("block", "")
        # a static in a header is compiled into every file that includes it
        static = "static" in texts and not _is_header(self.path)
        eq = texts.index("=") if "=" in texts else len(texts)
        typedef = texts[0] == "typedef"
        k = 1 if typedef else 0
        if body and k < len(texts) and texts[k] in TAGS and eq == len(texts) \
                and "(" not in texts:
            kind = texts[k]
            named = k + 1 < len(texts) and toks[k + 1].kind == "id"
            if named:
                self._add(kind, texts[k + 1], where[k + 1], shape=(kind,))  # type: ignore[arg-type]
            return _Frame(kind, texts[k + 1] if named else "", typedef)
        if typedef:
            self._typedef(texts, where)
            return _Frame("block", "")
        if not body and len(texts) == 3 and texts[0] in TAGS and texts[2] == ";":
            self._add(texts[0], texts[1], where[1], declaration=True)  # type: ignore[arg-type]
            return _Frame("block", "")
        name = function_name(toks[:eq])
        if name is not None:
            pos = next(j for j in range(len(toks) - 1)
                       if toks[j].text == name and toks[j + 1].text == "(")
            self._add("function", name, where[pos], declaration=not body, local=static,
                      shape=[t for j, t in enumerate(texts) if j != pos and t != ";"])
            return _Frame("func", name)
        first = toks[0]
        if (first.kind == "id" and len(texts) > 1 and texts[1] == "(") or (
                texts[0] == "static" and len(texts) > 2 and texts[2] == "("):
            call = first.text if texts[1] == "(" else texts[1]
            if _DEFINING_MACRO.match(call) and not body:
                self._macro_variable(toks, where, static)
                return _Frame("block", "")
            return _Frame("func", call) if body else _Frame("block", "")
        at = _declarator(texts[:eq])
        if at is not None and at > 0:
            self._add("variable", texts[at], where[at], declaration="extern" in texts,
                      local=static)
        tag = next((f"{texts[j]} {texts[j + 1]}" for j in range(min(eq, len(texts)) - 1)
                    if texts[j] in ("struct", "union") and _IDENT.match(texts[j + 1])), "")
        return _Frame("init", tag) if body else _Frame("block", "")

    def _typedef(self, texts: Sequence[str], where: Sequence[int]) -> None:
        at = _pointer_name(texts)
        if at is None:
            at = _declarator([t for t in texts if t != ";"])
            if at is None or at < 2:
                return
        self._add("typedef", texts[at], where[at],
                  shape=[t for j, t in enumerate(texts) if j != at])

    def _macro_variable(self, toks: Sequence[Token], where: Sequence[int],
                        static: bool) -> None:
        paren = [t.text for t in toks].index("(")
        args = [(where[j], t) for j, t in enumerate(toks) if j > paren and t.kind == "id"]
        if not args:
            return
        at, tok = args[-1] if "PER_CPU" in toks[paren - 1].text else args[0]
        self._add("variable", tok.text, at, local=static and not _is_header(self.path))

    # -- inside a body ---------------------------------------------------------------
    def _body(self, i: int, tokens: list[Token]) -> None:
        frame = self.frames[-1]
        if frame.kind in ("struct", "union", "enum"):
            self._type_body(i, tokens)
        elif frame.kind == "init" and len(self.frames) == 1:
            if frame.depth == 1 and frame.name:
                self.inits[i] = frame.name
            for t in tokens:
                if t.text in "{}":
                    frame.depth += 1 if t.text == "{" else -1
        # function bodies: nothing is defined there; a column-0 "}" ends them

    def _scope(self) -> str:
        """The named struct/union whose members are being read (through anonymous
        nested ones), or ""."""
        for f in reversed(self.frames):
            if f.kind in ("struct", "union"):
                if f.name:
                    return f"{f.kind} {f.name}"
                continue
            return ""
        return ""

    def _type_body(self, i: int, tokens: list[Token]) -> None:
        for t in tokens:
            frame = self.frames[-1] if self.frames else None
            if frame is None:
                return
            if frame.kind not in ("struct", "union", "enum"):
                self._braces(t)
            elif frame.kind == "enum":
                self._enum_token(i, t, frame)
            elif t.text == "{":
                head = [x.text for _, x in self.pending]
                nested = head[0] if head and head[0] in TAGS else "block"
                name = head[1] if nested in TAGS and len(head) > 1 else ""
                if name:
                    self._add(nested, name, self.pending[1][0])  # type: ignore[arg-type]
                self.pending = []
                self.frames.append(_Frame(nested, name))
            elif t.text == "}":
                self.pending = []
                if len(self.frames) == 1 and not frame.seen:
                    continue  # the hunk started deeper inside the type than it shows
                self.frames.pop()
                self.pending = [(i, t)]  # "} name;": a member of the nested type
            elif t.text == ";":
                self._member()
                self.pending = []
            else:
                self.pending.append((i, t))

    def _enum_token(self, i: int, t: Token, frame: _Frame) -> None:
        """Enumerators: the first identifier of each comma-separated element."""
        if t.text in "([":
            frame.depth += 1
        elif t.text in ")]":
            frame.depth -= 1
        elif t.text == "}":
            self.pending = []
            if len(self.frames) > 1 or frame.seen:
                self.frames.pop()
        elif frame.depth == 1 and t.text == ",":
            frame.expect_name = True
        elif frame.depth == 1 and frame.expect_name and t.kind == "id":
            frame.expect_name = False
            self._add("enumerator", t.text, i)
        else:
            frame.expect_name = False

    def _braces(self, t: Token) -> None:
        frame = self.frames[-1]
        if t.text == "{":
            frame.depth += 1
        elif t.text == "}":
            frame.depth -= 1
            if frame.depth <= 0 and (len(self.frames) > 1 or frame.seen):
                self.frames.pop()

    def _member(self) -> None:
        scope = self._scope()
        items = self.pending
        if items and items[0][1].text == "}":  # "} name;" after a nested struct/union
            items = items[1:]
            if items and scope and items[0][1].kind == "id":
                self._add("member", items[0][1].text, items[0][0], scope=scope)
            return
        if not scope or not items:
            return
        texts = [t.text for _, t in items]
        at = _pointer_name(texts)
        if at is not None:
            self._add("member", texts[at], items[at][0], scope=scope,
                      shape=[t for j, t in enumerate(texts) if j != at])
            return
        if items[0][1].kind == "id" and len(texts) > 1 and texts[1] == "(":
            if texts[0].startswith("DECLARE_") and len(items) > 2 \
                    and items[2][1].kind == "id":  # DECLARE_BITMAP(name, N);
                self._add("member", texts[2], items[2][0], scope=scope)
            return
        first = True
        for part in _split_top(items, ","):
            ptexts = [t.text for _, t in part]
            at = _declarator(ptexts)
            if at is not None and (at > 0 or not first):
                self._add("member", ptexts[at], part[at][0], scope=scope,
                          shape=[t for j, t in enumerate(ptexts) if j != at])
            first = False

    def _closed(self, frame: _Frame, rest: list[tuple[int, Token]]) -> None:
        """A column-0 ``}`` closed ``frame`` (the innermost open one): what follows it
        (``} name;``) names a typedef."""
        texts = [t.text for _, t in rest]
        if frame.typedef and texts:
            at = _declarator(texts)
            if at is not None:
                self._add("typedef", texts[at], rest[at][0])


def read_side(patch: int, path: str, lines: Sequence[Line], section: str,
              scanned: Sequence[ScannedLine] | None = None) -> SideMap:
    """The definitions and owners of one side's ``lines`` (see ``side_lines``);
    ``scanned``: their ``scan_lines``, when the caller has it."""
    lines = tuple(lines)
    code = code_lines([ln.text for ln in lines], scanned)
    return _Reader(patch, path, lines, code, section).run()
