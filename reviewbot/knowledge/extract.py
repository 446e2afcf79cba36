"""The facts of one source file, by one lexical pass (see ``lexer``).

For each function body (and each function-like macro): the calls it makes (and whether
a context test guards them), the direct evidence that it may sleep, the locks it takes
(keyed like ``reviewbot.cmap.access`` keys locations: ``<struct zone*>->lock``), the
member accesses it makes (plain or marked, with the locks held at writes), and where it
registers interrupt, timer, tasklet or NAPI callbacks. For the file: its definitions
(functions, macros, types, members, enumerators, global locks, Kconfig symbols).

Everything here is linear in the file's size: regular expressions over the cleaned text
(possessive, so a failed match does not backtrack), per-function lookups built once.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

from reviewbot.cmap.locks import RELEASE, lock_regions, normalize_lock
from reviewbot.cmap.model import LockRegion
from reviewbot.knowledge.calls import (
    MACRO_NAMED,
    NOT_CALLS,
    gfp_sleeps,
    handler_named,
    match_paren,
    name_before,
)
from reviewbot.knowledge.keys import Decls, key_of, lock_key
from reviewbot.knowledge.lexer import Block, Cleaned, blocks, clean
from reviewbot.knowledge.resolve import (
    GUARDED,
    INLINE,
    IRQS_OFF,
    LOCAL,
    LOCKED,
    RT_ATOMIC,
    STATIC,
)
from reviewbot.knowledge.vocab import Vocab

# an identifier followed by a call's "(" (group 2) or by a member/subscript chain (group 3)
_TOKEN = re.compile(r"\b([A-Za-z_]\w*+)\s*+(?:(\()|((?:(?:->|\.)\s*+[A-Za-z_]\w*+"
                    r"|\[[^\[\]]*+\])++))")
# literal prefixes (fast to scan for): the character before is checked by the caller
_STRUCT_DECL = re.compile(r"(struct|union)\s++(\w++)\s*+((?:\*\s*+(?:const\b\s*+)?)*+)"
                          r"(\w++)\s*+(?=[=;,\[)])")
_T_DECL = re.compile(r"_t\s*+(\*++)\s*+(\w++)\s*+(?=[=;,\[)])")
# every pattern below is linear on any line (tests/test_regexsafe.py): no run that a
# failed match would rescan from each of its positions
_ARRAY_DIMS = re.compile(r"\[[^\[\]]*+\](?:\s*+\[[^\[\]]*+\])*+")  # at a "["
_BRACES = re.compile(r"[{}]")
_IF_COND = re.compile(r"if\s*+\(((?:[^()]++|\((?:[^()]++|\((?:[^()]++|\([^()]*+\))*+\))*+\))*+)\)")
_STATEMENT = re.compile(r"[(){};]")
_ASSIGNED = re.compile(r"\b(\w++)\s*+=(?!=)([^;]{0,400}+);")
_QUALIFIERS = frozenset(("const", "volatile", "__user", "__rcu", "__iomem", "__percpu",
                         "__force", "restrict", "__restrict"))
_JUMP = re.compile(r"\b(?:return|goto|break|continue)\b")
_STATIC = re.compile(r"\bstatic\b")
_INLINE = re.compile(r"\binline\b|__always_inline")
_HEAD_CALL = re.compile(r"[()]|\b[A-Za-z_]\w*+(?=\s*+\()")
_ANNOTATION = re.compile(r"__(?:acquires|releases|must_hold|cond_acquires|cond_releases|"
                         r"attribute__|section|aligned|alloc_size|realloc_size|malloc|nocfi|"
                         r"no_\w+|diagnose_as|printf|scanf|counted_by|assume_aligned)$")
_TYPE_HEAD = re.compile(r"(?:\btypedef\s++)?\b(struct|union|enum)\b\s*+(\w*+)[^()]{0,80}+$")
_TYPEDEF_NAME = re.compile(r"^\s*+(?:__\w+(?:\([^()]*\))?\s*+)*+\**\s*+(\w++)")
_INITIALISED = re.compile(r"\b(\w++)\s*+(?:\[[^\]]{0,200}+\]\s*+)*+(?:\b__\w++\s*+)*+=\s*+$")
_MEMBER_NAME = re.compile(r"(\w++)\s*+(?:\[[^\]]*+\]\s*+)*+(?::[^,]*+)?$")
_FUNC_POINTER = re.compile(r"\(\s*+\*\s*+(\w++)\s*+\)")
_MEMBER_ATTRS = re.compile(r"\b__\w++\s*+\([^()]*+\)|\b__(?:rcu|percpu|aligned|packed|user|"
                           r"iomem|randomize_layout|counted_by)\b")
_ENUMERATOR = re.compile(r"\s*+([A-Za-z_]\w*+)")
_KCONFIG = re.compile(r"^[ \t]*+(?:menu)?config[ \t]++(\w++)", re.M)
_ID = re.compile(r"[A-Za-z_]\w*+")
_WRITE_OPS = ("+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "++", "--")
_SKIP_DIRS = ()
_CONTROL_WORD = re.compile(r"\b(?:if|else|while|for|do|case|default)\b")



class FileFacts(NamedTuple):
    funcs: list[tuple[int, str, int, int, int, str]]  # idx, name, line, end, flags, kind
    calls: list[tuple[int, str, int, int]]  # caller idx, callee, line, flags
    sleeps: list[tuple[int, str, int, str]]  # func idx, call, line, reason
    acquires: list[tuple[int, str, str, str, str, str, int]]
    # func idx, key, expression, call, class, flavour, line
    accesses: list[tuple[int, str, str, str, str, str, str, str, int, int]]
    # func idx (first), key, type, member, op, how, via, locks held, count, line (first)
    regs: list[tuple[int, str, str, str, int]]  # func idx (-1: file scope), handler,
    # context, registering call, line
    members: list[tuple[str, str, str, int, str, int]]  # struct, member, type, pointers,
    # attributes, line
    defs: list[tuple[str, str, int, str]]  # name, kind, line, info
    held: list[tuple[int, str, int, int, str, str, str, int]]  # func idx, callee, atomic
    # (1: atomic on PREEMPT_RT, 0: a lock held), line of the call, the lock as written
    # and its key ("" for a section), the acquiring or opening call, its line




def _match_brace(code: str, open_at: int, limit: int) -> int:
    depth = 0
    for m in _BRACES.finditer(code, open_at, limit):
        depth += 1 if code[m.start()] == "{" else -1
        if depth == 0:
            return m.start()
    return limit


def _declared(code: str, start: int, end: int, decls: Decls) -> None:
    """Add the struct/union and ``*_t`` pointer declarations of code[start:end]."""
    for m in _STRUCT_DECL.finditer(code, start, end):
        before = code[m.start() - 1]
        if before.isalnum() or before in "_.>":
            continue
        level = len(m.group(3).replace("const", "").strip().replace(" ", ""))
        dims = _ARRAY_DIMS.match(code, m.end())
        if dims is not None:
            level += dims.group().count("[")
        _declare(decls, m.group(4), f"{m.group(1)} {m.group(2)}", level)
    if code.find("_t", start, end) >= 0:
        for m in _T_DECL.finditer(code, start, end):
            type_ = name_before(code, m.start() + 2)
            if type_:
                level = len(m.group(1))
                dims = _ARRAY_DIMS.match(code, m.end())
                if dims is not None:
                    level += dims.group().count("[")
                _declare(decls, m.group(2), type_, level)


def _declare(decls: Decls, name: str, type_: str, level: int) -> None:
    if name in decls and decls[name] != (type_, level):
        decls[name] = None
    else:
        decls[name] = (type_, level)


class _Function(NamedTuple):
    idx: int
    name: str
    head_start: int
    open: int
    close: int
    params: str  # the parameter list text
    line: int
    end: int


class Extractor:
    """Extracts the facts of files; built once per process with the vocabulary."""

    def __init__(self, vocab: Vocab) -> None:
        self.v = vocab
        self._special: dict[str, str] = {}  # call -> _kind(call)
        self._sleeps: dict[str, str] = {}  # call -> why it sleeps
        # plain reads of the file being extracted, counted per file: (key, type, member,
        # op, how, via, locks) -> [first function, count, first line]
        self._plain_reads: dict[tuple[str, str, str, str, str, str, str], list[int]] = {}

    def extract(self, path: str, data: bytes) -> FileFacts:
        facts = FileFacts([], [], [], [], [], [], [], [], [])
        name = path.rsplit("/", 1)[-1]
        text = data.decode("latin-1")
        if name.startswith("Kconfig"):
            for m in _KCONFIG.finditer(text):
                facts.defs.append((m.group(1), "kconfig", text.count("\n", 0, m.start()) + 1,
                                   ""))
            return facts
        cleaned = clean(text)
        header = path.endswith(".h")
        self._macros(cleaned, facts)
        functions: list[_Function] = []
        for block in blocks(cleaned.code):
            self._block(cleaned, block, header, functions, facts)
        defined = {f.name for f in functions}
        defined.update(m.name for m in cleaned.macros if m.params is not None)
        registered: list[tuple[int, str]] = []  # (offset, call) of context registrations
        self._plain_reads = {}
        for fn in functions:
            self._function(cleaned, fn, defined, registered, facts)
        facts.accesses.extend((idx, *agg, count, line)
                              for agg, (idx, count, line) in self._plain_reads.items())
        self._registrations(cleaned, functions, registered, facts)
        self._lock_defines(cleaned, facts)
        return facts

    # -- file scope ------------------------------------------------------------------

    def _macros(self, cleaned: Cleaned, facts: FileFacts) -> None:
        funcs = facts.funcs
        for mac in cleaned.macros:
            facts.defs.append((mac.name, "macro", mac.line, ""))
            if mac.params is None or "(" not in mac.body:
                continue
            idx = len(funcs)
            funcs.append((idx, mac.name, mac.line, mac.line, 0, "macro"))
            params = set(mac.params)
            conditional = "if" in mac.body or "?" in mac.body
            seen: set[str] = set()
            for m in _TOKEN.finditer(mac.body):
                callee = m.group(1)
                if m.group(2) is None or callee in NOT_CALLS or callee in params \
                        or callee in seen or callee == mac.name:
                    continue
                seen.add(callee)
                flags = GUARDED if conditional else 0
                facts.calls.append((idx, callee, mac.line, flags))
                reason = self.v.sleep_reason(callee)
                if reason is not None and not conditional:
                    facts.sleeps.append((idx, callee, mac.line, reason))

    def _block(self, cleaned: Cleaned, block: Block, header: bool,
               functions: list[_Function], facts: FileFacts) -> None:
        head = block.head
        stripped = head.rstrip()
        if not stripped:
            return
        code = cleaned.code
        if stripped.endswith(")") and "=" not in _outside_parens(stripped):
            found = _function_name(stripped)
            if found is None:
                return
            name, params = found
            flags = (STATIC if _STATIC.search(head) else 0) | (
                INLINE if _INLINE.search(head) else 0)
            start = block.head_start + len(head) - len(head.lstrip())
            line = cleaned.line(start)
            end = cleaned.line(block.close)
            idx = len(facts.funcs)
            facts.funcs.append((idx, name, line, end, flags, "function"))
            functions.append(_Function(idx, name, block.head_start, block.open, block.close,
                                       params, line, end))
            return
        m = _TYPE_HEAD.search(stripped)
        if m is not None and "=" not in stripped:
            kind, tag = m.group(1), m.group(2)
            body = code[block.open + 1:block.close]
            after = code[block.close + 1:code.find(";", block.close) + 1 or block.close + 200]
            typedef = "typedef" in stripped
            alias = ""
            if typedef:
                t = _TYPEDEF_NAME.match(after)
                alias = t.group(1) if t else ""
            line = cleaned.line(block.open)
            struct = f"{kind} {tag}" if tag else alias
            if tag:
                facts.defs.append((tag, kind, line, ""))
            if alias:
                facts.defs.append((alias, "typedef", line, f"{kind} {tag}" if tag else kind))
            if kind == "enum":
                for at, name in _enumerators(body):
                    facts.defs.append((name, "enumerator", cleaned.line(block.open + 1 + at),
                                       struct))
            elif struct:
                self._members(cleaned, struct, block.open + 1, body, facts)
            return
        init = _INITIALISED.search(stripped)
        if init is not None:
            facts.defs.append((init.group(1), "variable", cleaned.line(block.open), ""))

    def _members(self, cleaned: Cleaned, struct: str, offset: int, body: str,
                 facts: FileFacts) -> None:
        pos = 0
        for piece in re.split(r"([;{}])", body):
            if piece in (";", "{", "}"):
                pos += 1
                continue
            start = pos
            pos += len(piece)
            decl = piece.strip()
            if not decl or (decl.startswith(("struct", "union", "enum")) and (
                    body[pos:pos + 1] == "{")):
                continue
            if body[pos:pos + 1] != ";":
                continue
            attrs = " ".join(sorted({a.split("(")[0] for a in _MEMBER_ATTRS.findall(decl)}))
            plain = _MEMBER_ATTRS.sub(" ", decl)
            line = cleaned.line(offset + start + len(piece) - len(piece.lstrip()))
            parts = _split_commas(plain)
            type_text = ""
            for i, part in enumerate(parts):
                fp = _FUNC_POINTER.search(part)
                if fp is not None:
                    name, stars, type_ = fp.group(1), 1, "function pointer"
                else:
                    nm = _MEMBER_NAME.search(part)
                    if nm is None:
                        continue
                    name = nm.group(1)
                    before = part[:nm.start()]
                    stars = before.count("*")
                    words = before.replace("*", " ").split()
                    if i == 0:
                        type_text = " ".join(w for w in words if w not in ("const",
                                                                            "volatile"))
                    type_ = type_text
                    if not type_ or name in ("struct", "union", "enum"):
                        continue
                facts.members.append((struct, name, type_, stars, attrs, line))

    def _lock_defines(self, cleaned: Cleaned, facts: FileFacts) -> None:
        code = cleaned.code
        if "DEFINE_" not in code and "DECLARE_RWSEM" not in code:
            return
        for m in self.v.lock_define_rx.finditer(code):
            facts.defs.append((m.group(2), "variable", cleaned.line(m.start()),
                               self.v.lock_defines[m.group(1)]))

    def _registrations(self, cleaned: Cleaned, functions: list[_Function],
                       registered: list[tuple[int, str]], facts: FileFacts) -> None:
        """Handlers registered to run in interrupt context: the calls found in function
        bodies, and the file-scope definitions (DEFINE_TIMER, DECLARE_TASKLET...)."""
        code = cleaned.code
        found = list(registered)
        for name in self.v.contexts:
            if not MACRO_NAMED.fullmatch(name):
                continue
            at = code.find(name)
            while at >= 0:
                after = at + len(name)
                if not (at and (code[at - 1].isalnum() or code[at - 1] == "_")) \
                        and code[after:after + 1] in ("(", " ", "\t"):
                    found.append((at, name))
                at = code.find(name, after)
        starts = [f.open for f in functions]
        for pos, name in sorted(set(found)):
            ctx = self.v.contexts[name]
            open_ = code.find("(", pos)
            close, commas = match_paren(code, open_, min(len(code), open_ + 2000))
            if close < 0:
                continue
            bounds = [open_, *commas, close]
            args = [code[bounds[i] + 1:bounds[i + 1]] for i in range(len(bounds) - 1)]
            arg = ctx.arg if ctx.arg >= 0 else len(args) - 1
            if arg >= len(args):
                continue
            handler = handler_named(args[arg])
            if not handler:
                continue
            context = ctx.context
            if ctx.soft and "_SOFT" in code[open_:close]:
                context = "softirq"
            at = bisect_right(starts, pos) - 1
            idx = functions[at].idx if at >= 0 and pos < functions[at].close else -1
            facts.regs.append((idx, handler, context, ctx.name, cleaned.line(pos)))
        if ".function" in code or "->function" in code:
            self._hrtimer_functions(cleaned, functions, facts)

    def _hrtimer_functions(self, cleaned: Cleaned, functions: list[_Function],
                           facts: FileFacts) -> None:
        """``t.function = fn`` in a function that initialises an hrtimer."""
        code = cleaned.code
        for fn in functions:
            body = code[fn.open:fn.close]
            if "hrtimer_init" not in body or "function" not in body:
                continue
            soft = "_SOFT" in body
            for m in re.finditer(r"(?:\.|->)\s*+function\s*+=\s*+&?(\w++)\s*+;", body):
                facts.regs.append((fn.idx, m.group(1), "softirq" if soft else "hardirq",
                                   "hrtimer_init", cleaned.line(fn.open + m.start())))

    # -- one function ----------------------------------------------------------------

    def _function(self, cleaned: Cleaned, fn: _Function, defined: set[str],
                  registered: list[tuple[int, str]], facts: FileFacts) -> None:
        code, line_of = cleaned.code, cleaned.line
        start, end = fn.open + 1, fn.close
        decls: Decls = {}
        gfp_params = self._params(fn.params, decls)
        _declared(code, start, end, decls)
        guarded = self._guarded(code, start, end, gfp_params)
        first_call, first_sleep = len(facts.calls), len(facts.sleeps)
        locking = False  # an acquire, guard or release is called
        spans: list[tuple[int, int, str, list[int]]] = []  # enclosing marked calls
        seen: dict[str, int] = {}  # callee -> its row in facts.calls
        sites: list[tuple[int, int]] = []  # (row in facts.calls, offset) of every call
        # (base, chain, op, how, via) -> [count, first line]
        accesses: dict[tuple[str, str, str, str, str], list[int]] = {}
        writes: list[tuple[int, tuple[str, str, str, str, str]]] = []
        calls, sleeps = facts.calls, facts.sleeps
        special = self._special
        for m in _TOKEN.finditer(code, start, end):
            s = m.start()
            while spans and spans[-1][1] < s:
                spans.pop()
            if m.group(2) is not None:
                callee = m.group(1)
                kind = special.get(callee)
                if kind is None:
                    kind = special[callee] = self._kind(callee)
                if kind == "skip" or (s >= 2 and code[s - 1] in ".>" and code[s - 2] in "-.>"):
                    continue
                if kind == "mark":
                    close, commas = match_paren(code, m.end() - 1, end)
                    if close >= 0:
                        spans.append((m.end() - 1, close, callee, commas))
                elif kind == "register":
                    registered.append((s, callee))
                elif kind == "lock":
                    locking = True
                    self._acquire(cleaned, fn, m, end, decls, facts)
                elif kind == "release":
                    locking = True
                inside = any(a <= s < b for a, b in guarded) if guarded else False
                row = seen.get(callee)
                if row is not None:
                    sites.append((row, s))
                    if inside or not calls[row][3] & GUARDED:
                        continue
                    calls[row] = (fn.idx, callee, line_of(s), calls[row][3] & ~GUARDED)
                else:
                    seen[callee] = len(calls)
                    sites.append((len(calls), s))
                    calls.append((fn.idx, callee, line_of(s),
                                  (GUARDED if inside else 0) | (LOCAL if callee in defined
                                                                else 0)))
                if not inside and callee in self._sleeps:
                    sleeps.append((fn.idx, callee, line_of(s), self._sleeps[callee]))
                continue
            chain = m.group(3)
            if "->" not in chain and "." not in chain:
                continue
            base = m.group(1)
            decl = decls.get(base)
            if decl is None:
                if chain[0] == "-":
                    continue  # a pointer whose type is not visible: no shared key
            elif not decl[1] and chain[0] == ".":
                continue  # a member of a struct on the stack
            use = self._use(code, s, m.end(), spans) if spans else _plain_use(code, s, m.end())
            if use is None:
                continue
            raw = (base, chain, *use)
            if use[0] != "read":
                writes.append((line_of(s), raw))
                continue
            entry = accesses.get(raw)
            if entry is None:
                accesses[raw] = [1, line_of(s)]
            else:
                entry[0] += 1
        regions = self._regions(cleaned, fn, first_call, first_sleep, facts) if locking else []
        irq_off = [r for r in regions if "irq" in r.call and "_bh" not in r.call
                   and r.start_known]
        if irq_off:
            self._irqs_off_calls(cleaned, fn, irq_off, sites, calls)
        sections = not self.v.rt_opens.keys().isdisjoint(seen)  # it opens one
        if regions or sections:
            self._held_calls(cleaned, fn, regions, decls, sites, sections, facts)
        keys: dict[tuple[str, str], tuple[str, str, str] | None] = {}
        rows: dict[tuple[str, str, str, str, str, str, str], list[int]] = {}
        for raw, (count, line) in accesses.items():
            self._count(rows, keys, decls, raw, "", count, line)
        for line, raw in writes:
            held = sorted({self._lock_key(r.lock, decls) for r in regions
                           if r.holds(line) and r.lock != "rcu"}) if regions else ()
            self._count(rows, keys, decls, raw, ",".join(held), 1, line)
        plain_reads = self._plain_reads
        for agg, (count, line) in rows.items():
            if agg[3] == "read" and agg[4] == "plain":  # counted per file
                entry = plain_reads.get(agg)
                if entry is None:
                    plain_reads[agg] = [fn.idx, count, line]
                else:
                    entry[1] += count
            else:
                facts.accesses.append((fn.idx, *agg, count, line))
        if code.find("GFP_", start, end) >= 0:
            self._gfp(cleaned, fn, start, end, guarded, facts)

    @staticmethod
    def _count(rows: dict[tuple[str, str, str, str, str, str, str], list[int]],
               keys: dict[tuple[str, str], tuple[str, str, str] | None], decls: Decls,
               raw: tuple[str, str, str, str, str], locks: str, count: int, line: int
               ) -> None:
        """Add ``count`` accesses spelled ``raw`` to the rows of their location key."""
        base, chain, op, how, via = raw
        if (base, chain) in keys:
            keyed = keys[base, chain]
        else:
            keyed = keys[base, chain] = key_of(base, chain, decls)
        if keyed is None or (not keyed[1] and chain.startswith("->")):
            return  # a local, or a pointer whose type is not visible: no shared key
        agg = (keyed[0], keyed[1], keyed[2], op, how, via, locks)
        entry = rows.get(agg)
        if entry is None:
            rows[agg] = [count, line]
        else:
            entry[0] += count

    def _irqs_off_calls(self, cleaned: Cleaned, fn: _Function, irq_off: list[LockRegion],
                        sites: list[tuple[int, int]],
                        calls: list[tuple[int, str, int, int]]) -> None:
        """Flag (``IRQS_OFF``) the calls made while an ``_irqsave``/``_irq`` lock of
        the function is held: inside its region with no release of that lock written
        between the acquire and the call (a release in a branch may or may not end the
        region: such calls are not flagged). The row then names that call's line."""
        first = cleaned.line(fn.open + 1)
        body = cleaned.code[fn.open + 1:fn.close].split("\n")

        def released(r: LockRegion, line: int) -> bool:
            for n in range(r.start + 1, line):
                text = "".join(body[n - first].split()).replace("&", "") \
                    if 0 <= n - first < len(body) else ""
                if "unlock" in text and r.lock.replace(" ", "") in text:
                    return True
            return False

        for row, at in sites:
            line = cleaned.line(at)
            if not calls[row][3] & IRQS_OFF and any(r.holds(line) and not released(r, line)
                                                    for r in irq_off):
                calls[row] = (calls[row][0], calls[row][1], line, calls[row][3] | IRQS_OFF)

    def _spans(self, cleaned: Cleaned, fn: _Function, regions: list[LockRegion],
               decls: Decls) -> list[tuple[int, int, str, str, str, bool, bool]]:
        """The lock regions as (first line held, first line no longer held, the lock as
        written, its key, the call, atomic on PREEMPT_RT, a lock held): a region ends
        at its first release written
        after the acquire (a release in a branch may or may not end it); a guard's at the
        end of its scope. Regions of guard classes that are no lock (``guard(rcu)``,
        ``guard(migrate)``) are dropped, but for the sections that disable interrupts or
        preemption."""
        v = self.v
        first = cleaned.line(fn.open + 1)
        body = cleaned.code[fn.open + 1:fn.close].split("\n")
        out = []
        for r in regions:
            if not r.start_known or r.lock == "rcu":
                continue
            text = body[r.start - first] if 0 <= r.start - first < len(body) else ""
            written = _written(text, r.call) or r.lock
            key = self._lock_key(r.lock, decls) if r.lock else ""
            guard = r.call.startswith(("guard(", "scoped_guard("))
            if guard:
                cls = r.call[r.call.index("(") + 1:-1]
                kind = v.guards.get(cls)
                locked = kind is not None
                atomic = (kind is not None and kind[0] == "raw_spinlock"
                          and kind[1] != "trylock") or (kind is None and cls in v.rt_guards)
                if not locked and not atomic:
                    continue
                out.append((r.start + 1, r.end, written, key, r.call, atomic, locked))
                continue
            kind = v.acquire.get(r.call)
            atomic = kind is not None and kind[0] == "raw_spinlock" and kind[1] != "trylock"
            stop = r.end
            lock = r.lock.replace(" ", "")
            for n in range(r.start + 1, r.end):
                text = "".join(body[n - first].split()).replace("&", "") \
                    if 0 <= n - first < len(body) else ""
                if "unlock" in text and lock in text:
                    stop = n
                    break
            out.append((r.start + 1, stop, written, key, r.call, atomic, True))
        return out

    def _held_calls(self, cleaned: Cleaned, fn: _Function, regions: list[LockRegion],
                    decls: Decls, sites: list[tuple[int, int]], sections: bool,
                    facts: FileFacts) -> None:
        """Flag the calls made while a lock is held (``LOCKED``: a spinlock, rwlock,
        mutex, rwsem, raw spinlock) and those made in a section that stays atomic on
        PREEMPT_RT (``RT_ATOMIC``): under a raw spinlock, or between an opening and a
        closing call of locking.toml's ``rt_atomic`` sections (interrupts or preemption
        disabled; guard()/scoped_guard() forms too). As for ``IRQS_OFF``, a region counts
        at a call only when no release of it is written between its acquire and the call;
        a section opened under a braceless ``if`` counts nowhere, and one opened in a
        block ends with that block. Each (callee, kind) of the function gets one ``held``
        row: its first such call, and what makes it so (the innermost region).
        ``sections``: the function calls an opening call (else no depth is counted)."""
        code = cleaned.code
        calls = facts.calls
        opens = self.v.rt_opens
        spans = self._spans(cleaned, fn, regions, decls)
        # open sections: [closing calls, offset, line, opening call, brace depth]
        active: list[tuple[frozenset[str], int, int, str, int]] = []
        depth = 0
        last = fn.open + 1
        done: set[tuple[int, int]] = set()
        for row, at in sites:
            if sections:
                depth += code.count("{", last, at) - code.count("}", last, at)
                last = at
            if active:
                callee = calls[row][1]
                active = [a for a in active if a[4] <= depth and callee not in a[0]]
            line = cleaned.line(at)
            # the innermost region of each kind: (line, lock as written, key, call)
            atomic: tuple[int, str, str, str] | None = None
            locked: tuple[int, str, str, str] | None = None
            for a in active:
                if atomic is None or a[2] >= atomic[0]:
                    atomic = (a[2], "", "", a[3])
            for start, stop, lock, key, call, is_atomic, is_locked in spans:
                if not start <= line < stop:
                    continue
                if is_atomic and (atomic is None or start - 1 >= atomic[0]):
                    atomic = (start - 1, lock, key, call)
                if is_locked and (locked is None or start - 1 >= locked[0]):
                    locked = (start - 1, lock, key, call)
            caller, callee, first, flags = calls[row]
            for kind, found, flag in ((1, atomic, RT_ATOMIC), (0, locked, LOCKED)):
                if found is None:
                    continue
                flags |= flag
                if (row, kind) not in done:
                    done.add((row, kind))
                    facts.held.append((fn.idx, callee, kind, line, found[1], found[2],
                                       found[3], found[0]))
            calls[row] = (caller, callee, first, flags)
            closes = opens.get(callee) if sections else None
            if closes is not None and not self._conditional(code, at, fn.open):
                active.append((closes, at, line, calls[row][1], depth))

    @staticmethod
    def _conditional(code: str, at: int, floor: int) -> bool:
        """The statement at ``at`` is the body of a braceless ``if``/``else``/loop."""
        begin = max(floor, at - 300)
        cut = max(code.rfind(";", begin, at), code.rfind("{", begin, at),
                  code.rfind("}", begin, at))
        return _CONTROL_WORD.search(code, cut + 1 if cut >= 0 else begin, at) is not None

    def _regions(self, cleaned: Cleaned, fn: _Function, first_call: int, first_sleep: int,
                 facts: FileFacts) -> list[LockRegion]:
        """The function's lock regions (``reviewbot.cmap.locks``). Calls after the release
        of a lock the function did not take are guarded (see sleeping.toml): their rows
        (from ``first_call``/``first_sleep`` on) are marked or dropped."""
        start, end = fn.open + 1, fn.close
        lines = cleaned.code[start:end].split("\n")
        first = cleaned.line(start)
        regions = lock_regions([(first + i, t) for i, t in enumerate(lines)], fn.name, True)
        released = [r.end for r in regions if not r.start_known]
        if released:
            after = min(released)
            calls = facts.calls
            for i in range(first_call, len(calls)):
                if calls[i][2] > after:
                    calls[i] = (*calls[i][:3], calls[i][3] | GUARDED)
            facts.sleeps[first_sleep:] = [r for r in facts.sleeps[first_sleep:]
                                          if r[2] <= after]
        return regions

    def _params(self, params: str, decls: Decls) -> list[str]:
        """Declare the parameters; return the names of gfp_t parameters."""
        gfp: list[str] = []
        for part in _split_commas(params):
            words = _ID.findall(part)
            names = [w for w in words if w not in _QUALIFIERS]
            if len(names) < 2 or "(" in part:
                continue
            name = names[-1]
            level = part.count("*") + part.count("[")
            type_ = " ".join(names[:-1])
            if type_ == "gfp_t":
                gfp.append(name)
            _declare(decls, name, type_, level)
        return gfp

    def _guarded(self, code: str, start: int, end: int, gfp_params: list[str]
                 ) -> list[tuple[int, int]]:
        """Spans of the body that run only under a context test (see sleeping.toml):
        an ``if`` whose condition names a guard word, a gfp_t parameter, or a local
        assigned from one of those (``bool can_direct_reclaim = gfp & __GFP_...``)."""
        rx = self.v.guard_rx
        spans: list[tuple[int, int]] = []
        tainted = list(gfp_params)
        if tainted or code.find("GFP_", start, end) >= 0:
            source = re.compile(r"\b(?:" + "|".join([*tainted, "__GFP_DIRECT_RECLAIM",
                                                      "__GFP_RECLAIM",
                                                      "gfpflags_allow_blocking"]) + r")\b")
            for m in _ASSIGNED.finditer(code, start, end):
                if source.search(m.group(2)):
                    tainted.append(m.group(1))
        also = re.compile(r"\b(?:" + "|".join(tainted) + r")\b") if tainted else None
        for m in _IF_COND.finditer(code, start, end):
            at = m.start()
            if at and (code[at - 1].isalnum() or code[at - 1] == "_"):
                continue
            cond = m.group(1)
            if rx.search(cond) is None and (also is None or also.search(cond) is None):
                continue
            body_end = self._statement_end(code, m.end(), end)
            if _JUMP.search(code, m.end(), body_end):
                spans.append((at, end))
                break
            spans.append((at, body_end))
            rest = code[body_end:body_end + 40].lstrip()
            if rest.startswith("else"):
                at = code.find("else", body_end)
                spans.append((at, self._statement_end(code, at + 4, end)))
        return spans

    def _statement_end(self, code: str, pos: int, limit: int) -> int:
        """The end of the statement (or block) starting after ``pos``."""
        i = pos
        while i < limit and code[i] in " \t\n":
            i += 1
        if i < limit and code[i] == "{":
            return _match_brace(code, i, limit) + 1
        depth = 0
        for m in _STATEMENT.finditer(code, i, limit):
            c = code[m.start()]
            if c in "({":
                depth += 1
            elif c in ")}":
                depth -= 1
                if depth < 0:
                    return m.start()
            elif depth == 0:
                return m.start() + 1
        return limit

    def _kind(self, name: str) -> str:
        """What a call is to the analysis: "skip" (a keyword), "register" (a context
        registration), "mark" (a marking or unevaluated call), "lock" (an acquire or a
        guard), or "" (any other call). Calls that sleep are remembered in _sleeps."""
        if name in NOT_CALLS:
            return "skip"
        reason = self.v.sleep_reason(name)
        if reason is not None:
            self._sleeps[name] = reason
        if name in self.v.contexts:
            return "register"
        if name in self.v.unevaluated or self.v.marking(name) is not None:
            return "mark"
        if name in self.v.acquire or name in ("guard", "scoped_guard"):
            return "lock"
        if name in RELEASE:
            return "release"
        return ""

    def _use(self, code: str, s: int, e: int,
             spans: list[tuple[int, int, str, list[int]]]) -> tuple[str, str, str] | None:
        """(op, how, via) of the location at code[s:e]; None when it is not an access
        (an address, a lock, sizeof...). ``spans`` are the marked calls around it."""
        for open_, close, name, commas in reversed(spans):
            if not open_ < s < close:
                continue
            if name in self.v.unevaluated:
                return None
            mark = self.v.marking(name)
            if mark is None:
                continue
            bounds = [open_, *commas, close]
            arg = bisect_right(bounds, s) - 1
            before = code[bounds[arg] + 1:s].strip()
            after = code[e:bounds[arg + 1]].strip()
            if mark.arg == -2 or (mark.arg == -1 and before == "&" and not after) or (
                    mark.arg == arg and before in ("", "&") and not after):
                return mark.op, mark.how, mark.name
        return _plain_use(code, s, e)

    def _lock_key(self, expr: str, decls: Decls) -> str:
        return lock_key(expr, decls)

    def _acquire(self, cleaned: Cleaned, fn: _Function, m: re.Match[str], end: int,
                 decls: Decls, facts: FileFacts) -> None:
        """The lock call or guard whose name and "(" ``m`` matched."""
        code = cleaned.code
        call = m.group(1)
        close, commas = match_paren(code, m.end() - 1, end)
        if close < 0:
            return
        args = code[m.end():close]
        if call in ("guard", "scoped_guard"):
            kind = self.v.guards.get(args.split(",")[0].strip())
            if kind is None:
                return
            if call == "guard":
                nxt = code[close + 1:close + 2]
                inner = match_paren(code, close + 1, end)[0] if nxt == "(" else -1
                if inner < 0:
                    return
                args = code[close + 2:inner]
            else:
                args = code[commas[0] + 1:close] if commas else ""
            expr = normalize_lock(args)
            call = f"{call}({code[m.end():close].split(',')[0].strip()})"
        else:
            kind = self.v.acquire[call]
            expr = normalize_lock(args, call)
        if expr:
            facts.acquires.append((fn.idx, self._lock_key(expr, decls), expr, call, kind[0],
                                   kind[1], cleaned.line(m.start())))

    def _gfp(self, cleaned: Cleaned, fn: _Function, start: int, end: int,
             guarded: list[tuple[int, int]], facts: FileFacts) -> None:
        """Calls passing a sleeping GFP flag, as written, in the function body."""
        for s, call in gfp_sleeps(self.v, cleaned.code, start, end, guarded):
            facts.sleeps.append((fn.idx, call, cleaned.line(s), self.v.gfp_reason))


_AFTER = re.compile(r"=(?!=)|[-+*/%&|^]=|<<=|>>=|\+\+|--")  # after the blanks


def _plain_use(code: str, s: int, e: int) -> tuple[str, str, str] | None:
    """(op, "plain", "") of an unmarked location at code[s:e]; None for an address."""
    prev = code[s - 1]
    if prev in " \t":
        prev = code[s - 2]
    if prev == "&":
        if code[s - 2:s] != "&&" and code[s - 3:s] != "&& ":
            return None  # an address (handed to a helper or a lock call)
    elif prev == "*":
        return "read", "plain", ""  # *p->x: the member is read, the pointee written
    elif prev in "+-" and code[s - 2:s] in ("++", "--"):
        return "write", "plain", ""
    while code[e:e + 1] in (" ", "\t"):
        e += 1
    if _AFTER.match(code, e) is not None:
        return "write", "plain", ""
    return "read", "plain", ""


def _written(text: str, call: str) -> str:
    """The lock argument of ``call`` as the line ``text`` writes it, squeezed
    (``&rq->__lock``; of ``guard(raw_spinlock)(&x)`` and ``scoped_guard(raw_spinlock,
    &x)``: ``&x``); "" when the line does not show it."""
    name, _, cls = call.partition("(")
    m = re.search(r"\b" + re.escape(name) + r"\s*+\(" + (
        r"\s*+" + re.escape(cls[:-1]) + r"\s*+[),]" if cls else ""), text)
    if m is None:
        return ""
    open_ = m.end() - 1
    if name == "guard":  # guard(cls)(&x)
        open_ = text.find("(", m.end())
    elif name == "scoped_guard":  # scoped_guard(cls, &x)
        open_ = text.find("(", m.start())
    if open_ < 0:
        return ""
    close, commas = match_paren(text, open_, len(text))
    if name == "scoped_guard":
        if not commas:
            return ""
        open_, commas = commas[0], commas[1:]
    end = commas[0] if commas else close
    return "".join(text[open_ + 1:end if end >= 0 else len(text)].split())


def _outside_parens(text: str) -> str:
    """``text`` without what is inside parentheses."""
    out: list[str] = []
    depth = 0
    last = 0
    for m in re.finditer(r"[()]", text):
        if text[m.start()] == "(":
            if depth == 0:
                out.append(text[last:m.start()])
            depth += 1
        else:
            depth = max(depth - 1, 0)
            if depth == 0:
                last = m.end()
    if depth == 0:
        out.append(text[last:])
    return "".join(out)


def _function_name(head: str) -> tuple[str, str] | None:
    """(name, parameter text) of a function definition's head, or None."""
    groups: list[tuple[str, int, int]] = []  # name, open paren, close paren (depth 0)
    depth = 0
    pending: list[tuple[str, int]] = []
    name = ""
    for m in _HEAD_CALL.finditer(head):
        tok = m.group()
        if tok == "(":
            if depth == 0:
                pending.append((name, m.start()))
            name = ""
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth == 0 and pending:
                nm, at = pending.pop()
                groups.append((nm, at, m.start()))
            if depth < 0:
                return None
        elif depth == 0:
            name = tok
    while groups and (not groups[-1][0] or _ANNOTATION.match(groups[-1][0])):
        groups.pop()
    if not groups:
        return None
    name, at, close = groups[-1]
    params = head[at + 1:close]
    if MACRO_NAMED.fullmatch(name):
        first = _ID.match(params.strip())
        if first is None:
            return None
        prefix = "compat_sys_" if name.startswith("COMPAT_SYSCALL") else (
            "sys_" if name.startswith("SYSCALL") else "")
        rest = params.strip()[first.end():]
        return prefix + first.group(), rest.lstrip(", ")
    if name in NOT_CALLS:
        return None
    return name, params


def _split_commas(text: str) -> list[str]:
    if "(" not in text and "[" not in text and "{" not in text:
        return [p for p in text.split(",") if p.strip()]
    parts: list[str] = []
    depth = 0
    last = 0
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return [p for p in parts if p.strip()]


def _enumerators(body: str) -> list[tuple[int, str]]:
    """(offset, name) of each enumerator of an enum body."""
    out: list[tuple[int, str]] = []
    depth = 0
    start = 0
    for m in re.finditer(r"[(),]", body + ","):
        c = m.group()
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0:
            item = _ENUMERATOR.match(body, start, m.start())
            if item is not None:
                out.append((item.start(1), item.group(1)))
            start = m.end()
    return out

