"""A hunk unrelated to the rest of its patch.

A hunk of a C file that changes code inside a function (not only layout or comments;
not tables, macros or declarations, which serve the code that uses them) is unrelated when
nothing ties it to the rest of the patch: the functions and types it changes are not
named anywhere else in the patch (on any line of another hunk) or in the commit
message; it names none of the functions and types the rest of the patch changes; and
the distinctive names on its changed lines (not keywords, not short or generic names
like ``ret``, ``dev``, ``flags``) appear neither on the rest of the patch's changed
lines nor in the commit message. New files, user-space code and documentation are not
judged (they hang together by build files), and a patch needs at least two such
hunks. The finding says whether the hunk is in another area of the tree (``block`` vs
``drivers/nvme``) or in a function the patch does not otherwise touch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from reviewbot.series.model import Patch
from reviewbot.seriesmap.changes import Change
from reviewbot.seriesmap.cuses import KEYWORDS
from reviewbot.seriesmap.model import Site
from reviewbot.seriesmap.scope import world
from reviewbot.seriesmap.series import SeriesMap
from reviewbot.seriesmap.symbols import HunkMap, PatchMap, is_c

UnrelatedKind = Literal["other-area", "other-function"]
_WORD = re.compile(r"[A-Za-z_]\w*")
MIN_WORD = 4
MIN_PART = 8  # a name this long inside another one ties them
MIN_COMMENT_WORD = 5
# bounds that keep a hunk's judgement linear in the patch: a patch with more hunks than
# this is a mass change (nothing is "unrelated" in it), and a part-of-a-name comparison
# larger than this counts as tied (quiet), not as a quadratic search
MAX_JUDGED_HUNKS = 64
MAX_PART_PAIRS = 200_000
# words of any commit message or comment that say nothing about a topic
_PLAIN_WORDS = frozenset((
    "about", "above", "after", "again", "already", "always", "array", "based", "because",
    "before", "being", "below", "between", "bytes", "called", "caller", "cannot",
    "check", "checks", "could", "count", "currently", "default", "doesn", "during",
    "enable", "error", "errors", "every", "field", "first", "flags", "function",
    "functions", "handle", "helper", "instead", "later", "least", "length", "level",
    "makes", "might", "needed", "never", "number", "other", "patch", "possible",
    "return", "returns", "should", "since", "single", "still", "struct", "their",
    "there", "these", "thing", "those", "through", "times", "update", "using", "value",
    "values", "where", "which", "while", "would", "write", "reads", "right", "state",
    "start", "store", "table", "unsigned", "static", "const", "inline", "define"))
KERNEL_TOP = frozenset(("arch", "block", "certs", "crypto", "drivers", "fs", "include",
                        "init", "io_uring", "ipc", "kernel", "lib", "mm", "net", "rust",
                        "security", "sound", "virt"))
_INCLUDE = re.compile(r"^\s*#\s*include\b")
# names so common that sharing one ties nothing together
GENERIC = frozenset((
    "ret", "err", "error", "rc", "dev", "data", "size", "len", "flags", "lock", "mutex",
    "list", "node", "entry", "count", "val", "value", "buf", "ptr", "tmp", "res",
    "result", "index", "idx", "offset", "addr", "pos", "start", "end", "type", "name",
    "mode", "state", "status", "info", "args", "arg", "opts", "ops", "priv", "private",
    "page", "folio", "bio", "disk", "queue", "ctx", "kfree", "kmalloc", "kzalloc",
    "kcalloc", "vfree", "memset", "memcpy", "GFP_KERNEL", "GFP_NOIO", "GFP_ATOMIC",
    "pr_err", "pr_info", "pr_warn", "pr_debug", "dev_err", "dev_info", "dev_warn",
    "dev_dbg", "WARN_ON", "WARN_ON_ONCE", "BUG_ON", "EINVAL", "ENOMEM", "EIO", "EFAULT",
    "EBUSY", "ENODEV", "EOPNOTSUPP", "EAGAIN", "ENOSPC", "ENOENT", "EPERM", "u8", "u16",
    "u32", "u64", "s8", "s16", "s32", "s64", "size_t", "ssize_t", "loff_t", "sector_t",
    "current", "this", "self", "inode", "file", "unsigned", "return", "goto", "out",
    "break", "continue", "else", "while", "switch", "case", "default", "sizeof",
    "static", "const", "struct", "void", "long", "bool", "char", "true", "false", "NULL",
    "READ_ONCE", "WRITE_ONCE", "likely", "unlikely", "spin_lock", "spin_unlock",
    "mutex_lock", "mutex_unlock", "rcu_read_lock", "rcu_read_unlock", "container_of",
    "ARRAY_SIZE", "min", "max", "min_t", "max_t", "BIT", "IS_ERR", "PTR_ERR",
    "ERR_PTR", "printk", "seq_printf", "list_add", "list_del", "list_add_tail",
    "list_for_each_entry", "list_for_each_entry_safe", "for_each_possible_cpu",
))


@dataclass(frozen=True)
class Unrelated:
    """A hunk with no tie to the rest of its patch; ``site`` is its first changed line
    (added, else removed), ``owner`` the function or type it changes (None at top
    level), ``areas`` the areas of the rest of the patch (for the other-area case)."""

    kind: UnrelatedKind
    site: Site
    owner: str | None  # "foo()", "struct foo", "FOO" as a reviewer writes it
    areas: tuple[str, ...] = ()

    def message(self) -> str:
        where = self.owner or "this part of the file"
        if self.kind == "other-area":
            rest = ", ".join(f"{a}/" for a in self.areas)
            return (f"this hunk in {where} is outside the rest of the patch ({rest}) and "
                    "nothing else in the patch refers to it: does it belong in a patch "
                    "of its own?")
        return (f"this hunk changes {where}, which the rest of the patch does not touch "
                "or call, and the commit message does not mention it: does it belong "
                "in a patch of its own?")


def _code_change(hm: HunkMap, ch: Change) -> bool:
    """A change of C tokens (not only layout or comments), and not only of
    ``#include`` lines (which serve the rest of the patch)."""
    if [t.text for t in hm.tokens(ch.removed)] == [t.text for t in hm.tokens(ch.added)]:
        return False
    return not all(_INCLUDE.match(ln.text) or not ln.text.strip()
                   for ln in (*ch.removed, *ch.added))


def _judged_file(path: str, old_path: str | None) -> bool:
    """An existing kernel C file, whose hunks' relation to the rest is judged."""
    return is_c(path) and old_path is not None and world(path) == "kernel" and \
        path.split("/", 1)[0] in KERNEL_TOP


def _judged(hm: HunkMap) -> bool:
    """A hunk whose relation to the rest is judged: an existing kernel C file, with a
    change of code."""
    return _judged_file(hm.file, hm.old_path) and \
        any(_code_change(hm, ch) for ch in hm.changes)


def may_have_unrelated(patch: Patch) -> bool:
    """The patch has the two hunks of existing kernel C files it takes to have an
    unrelated one (read from its diff alone, before anything is read as C)."""
    return sum(len(f.hunks) for f in patch.files
               if not f.is_binary and _judged_file(f.path, f.old_path)) >= 2


def _distinctive(words: set[str]) -> set[str]:
    return {w for w in words if len(w) >= MIN_WORD and w not in GENERIC
            and w not in KEYWORDS}


def _in_function(hm: HunkMap) -> bool:
    """Every changed code line of the hunk is inside a function body."""
    for side, kind in ((hm.new, "+"), (hm.old, "-")):
        if side is None:
            return False
        for ln, cl, owner in zip(side.lines, side.code, side.owners, strict=True):
            if ln.kind == kind and not cl.blank and (owner is None or " " in owner
                                                     or cl.in_define):
                return False
    return True


def _changed_words(hm: HunkMap) -> set[str]:
    """Names on the hunk's changed code lines, and the words of their strings (a log
    message says what the change is about)."""
    out: set[str] = set()
    for ch in hm.changes:
        if not _code_change(hm, ch):
            continue
        for t in hm.tokens((*ch.removed, *ch.added)):
            if t.kind == "id":
                out.add(t.text)
            elif t.kind == "str":
                out.update(_WORD.findall(t.text))
    return out


def _topic(words: set[str]) -> set[str]:
    """The lower-case parts of names and words (``UBLK_F_BATCH``: ``batch``), long and
    specific enough to say what something is about."""
    out: set[str] = set()
    for w in words:
        for part in re.split(r"_+|(?<=[a-z])(?=[A-Z])", w):
            part = part.lower()
            if len(part) >= MIN_COMMENT_WORD and part not in _PLAIN_WORDS:
                out.add(part)
    return out


def _comment_words(hm: HunkMap) -> set[str]:
    """Words of the comments on the hunk's added lines: a comment that says why the
    code is there ties it to the commit message as well as a name does."""
    out: set[str] = set()
    added = [ln for ln in hm.hunk.lines if ln.kind == "+"]
    for ln, cl in zip(added, hm.code(added), strict=True):
        # what the lexer blanked: comments (and the inside of strings)
        text = "".join(c if k == " " else " " for c, k in
                       zip(ln.text, cl.code.ljust(len(ln.text)), strict=False))
        out.update(w for w in _WORD.findall(text) if len(w) >= MIN_COMMENT_WORD)
    return out


def _tied(words: set[str], names: set[str]) -> bool:
    """A word is one of the names, or one is part of the other (``queue_async_depth``
    and the ``queue_async_depth_show`` a macro makes of it)."""
    if words & names:
        return True
    long_words = [w.lower() for w in words if len(w) >= MIN_PART]
    long_names = [n.lower() for n in names if len(n) >= MIN_PART]
    if len(long_words) * len(long_names) > MAX_PART_PAIRS:
        return True  # too large to compare: say tied, and stay quiet
    return any(w in n or n in w for w in long_words for n in long_names)


def _all_words(hm: HunkMap) -> set[str]:
    out = {t.text for t in hm.tokens(hm.hunk.lines) if t.kind == "id"}
    out.update(_WORD.findall(hm.hunk.section))
    return out


def _owners(hm: HunkMap) -> dict[str, str]:
    """The functions and types whose lines the hunk changes, and what it defines: each
    name with how a reviewer writes it."""
    out: dict[str, str] = {}
    for side, kind in ((hm.new, "+"), (hm.old, "-")):
        if side is None:
            continue
        for ln, owner in zip(side.lines, side.owners, strict=True):
            if ln.kind == kind and owner:
                name = owner.split(" ")[-1]
                out.setdefault(name, owner if " " in owner else f"{owner}()")
        for d in side.definitions:
            if d.site.line.kind == kind:
                out.setdefault(d.symbol.name, d.symbol.spelled())
    return out


def subsystem(path: str) -> str | None:
    """The subsystem directory a file belongs to (``block``, ``drivers/nvme``,
    ``kernel/cgroup``, ``fs/xfs``), or None for shared places (``include/``, an
    architecture's headers, documentation) and files outside a kernel tree layout."""
    parts = path.split("/")
    if len(parts) < 2 or parts[0] in ("include", "Documentation", "tools", "scripts",
                                      "samples", "usr"):
        return None
    if parts[0] == "arch" and "include" in parts:
        return None
    if parts[0] in ("drivers", "fs", "kernel", "net", "sound", "arch", "lib", "mm",
                    "security", "crypto") and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0]


def _named_by(path: str, said: set[str]) -> bool:
    """The commit message names the file or its directory (``cpuset`` for
    ``kernel/cgroup/cpuset.c``)."""
    words = {w.lower() for w in said}
    parts = [p.rsplit(".", 1)[0].lower() for p in path.split("/")]
    return any(p in words or p.replace("_", "-") in words for p in parts if len(p) > 2)


def unrelated_in_patch(pm: PatchMap) -> list[Unrelated]:
    judged = [hm for hm in pm.hunks if _judged(hm)]
    if not 2 <= len(judged) <= MAX_JUDGED_HUNKS:
        return []
    message = pm.patch.mail.subject.title + "\n" + pm.patch.commit_message
    said = set(_WORD.findall(message)) | set(re.findall(r"[\w-]+", message))
    spelled: dict[str, str] = {}
    info: dict[int, tuple[set[str], set[str], set[str]]] = {}
    for hm in pm.hunks:
        owned = _owners(hm)
        spelled.update(owned)
        info[id(hm)] = (set(owned), _distinctive(_changed_words(hm)), _all_words(hm))
    out: list[Unrelated] = []
    for hm in judged:
        owners, changed, seen = info[id(hm)]
        if not _in_function(hm):
            continue  # tables, macros and declarations serve the code that uses them
        rest_owners: set[str] = set()
        rest_changed: set[str] = set()
        rest_seen: set[str] = set()
        for other in pm.hunks:
            if other is hm:
                continue
            o, c, s = info[id(other)]
            rest_owners |= o
            rest_changed |= c
            rest_seen |= s
        if _tied(owners, rest_seen | said) or _tied(rest_owners - owners, seen):
            continue
        if _tied(changed, rest_changed | said) or _named_by(hm.file, said):
            continue
        if _topic(changed | _comment_words(hm)) & _topic(said):
            continue
        first = next((ln for ch in hm.changes for ln in ch.added), None) or \
            next(ln for ln in hm.hunk.lines if ln.kind == "-")
        owner = spelled[min(owners)] if owners else None
        mine = subsystem(hm.file)
        areas = sorted({a for o in pm.hunks if o is not hm
                        and (a := subsystem(o.file)) is not None})
        kind: UnrelatedKind = "other-area" if mine is not None and areas and \
            mine not in areas else "other-function"
        out.append(Unrelated(kind, Site(pm.index, hm.file, first), owner,
                             tuple(areas) if kind == "other-area" else ()))
    return out


def unrelated_hunks(smap: SeriesMap) -> list[Unrelated]:
    """Every hunk of the series with no tie to the rest of its patch, in order."""
    return [u for pm in smap.patches for u in unrelated_in_patch(pm)]
