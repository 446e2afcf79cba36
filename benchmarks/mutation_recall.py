"""Recall of the concurrency rules by mutation of real code.

Takes real functions from an indexed kernel tree, makes in each the mistake a rule
names, emits each mutant as a patch (a git-style diff of the file, 3 lines of context,
as ``git format-patch`` sends it; ``--function-context``: the whole function, as
``git format-patch -W`` does), reviews all of them with ``reviewbot check --tree
TREE --format json``, and reports per rule how many mutants the rule catches (a finding
of that rule on a line the mutation added) and how many findings the rules make on the
same functions unmutated (each function added as new code: every finding there is a
false one, or one the tree already has).

    python benchmarks/mutation_recall.py --tree ~/src/linux mm kernel fs net/core block \\
        [--per-rule 60] [--seed 1] [--keep DIR] [--only KIND]

A mutation is made in code, never in a comment or a string (``blank_comments``), and a
lock named by a local pointer (``spinlock_t *lock``) is not one the index can know.
With ``--keep DIR`` the mutants' mbox is kept and every missed mutant is listed.

The mutations (``MUTATIONS``), each tied to the rule that names the mistake:

- CON001 ``double-checked``: drop READ_ONCE() from a read that the function later
  stores under a lock or with cmpxchg()/WRITE_ONCE() (the double-checked pattern);
- CON003 ``sleep-in-lock``: an msleep(1) or a kmalloc(..., GFP_KERNEL) added right
  after a spin_lock*() whose unlock the function shows;
- CON004 ``irqsave-to-plain``: spin_lock_irqsave()/spin_unlock_irqrestore() turned into
  spin_lock()/spin_unlock() for a lock the index says is taken in hard-irq context;
- CON004 ``bh-to-plain``: spin_lock_bh()/spin_unlock_bh() turned into spin_lock()/
  spin_unlock() for a lock the index says is taken in softirq context;
- CON004 ``irqsave-to-irq``: spin_lock_irqsave()/spin_unlock_irqrestore() turned into
  spin_lock_irq()/spin_unlock_irq() in a function the tree calls directly under an
  _irqsave/_irq lock (the index's ``irqs_off_callers``);
- CON004 ``raw-to-spinlock``: in a function the tree runs in a section that stays
  atomic on PREEMPT_RT (at least half of its direct calls are made in one, by the
  index's ``rt_atomic_callers``, and it is no request_irq() handler, threaded on
  PREEMPT_RT), a raw_spin_lock*() of
  ``p->m`` and its unlocks turned into spin_lock*()/spin_unlock*() of a ``spinlock_t``
  member of the same struct (by the index);
- CON004 ``lock-in-rt-atomic``: in such a function, a store through ``p``
  (``p->x = v;``) wrapped in spin_lock()/spin_unlock() of a ``spinlock_t`` member of
  ``p``'s struct (by the index);
- CON005 ``conditional-lock``: a spin_lock()/spin_unlock() pair of one block put under
  the same ``if (need_lock)``;
- CON006 ``rcu-plain-store``: rcu_assign_pointer(p, v) turned into ``p = v`` (v not NULL);
- CON007 ``drop-read-once`` / ``drop-write-once``: READ_ONCE(x) turned into x, and
  WRITE_ONCE(x, v) into ``x = v``, in functions that take no lock.

The tree must have an index (``reviewbot index TREE``). A rule that is not loaded (not
written yet) is reported as such.
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import re
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.rules.concurrency.tree_facts import call_argument  # type: ignore[import-not-found]

from reviewbot.cmap.locks import normalize_lock
from reviewbot.cmap.parser import CParser
from reviewbot.knowledge.keys import lock_key
from reviewbot.knowledge.lookup import Knowledge

sys.setrecursionlimit(10000)


@dataclass
class Function:
    path: str  # relative to the tree
    name: str
    first: int  # 0-based line index in the file
    lines: list[str]  # the function's lines
    file_lines: list[str]
    code: list[str] = field(default_factory=list)  # its lines with comments blanked


def blank_comments(lines: list[str]) -> list[str]:
    """``lines`` with the text of comments (and string literals) turned into spaces,
    column for column: a mutation is made in code, never in a comment that quotes
    code (``mmu_interval_read_begin()``'s diagram of the locking)."""
    text = "\n".join(lines)
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        two = text[i:i + 2]
        if two in ("/*", "//"):
            end = text.find("*/", i + 2) + 2 if two == "/*" else text.find("\n", i)
            end = n if end < 2 or end == -1 else end
            for k in range(i, end):
                if out[k] != "\n":
                    out[k] = " "
            i = end
        elif text[i] in "\"'":
            k = i + 1
            while k < n and text[k] != text[i] and text[k] != "\n":
                k += 2 if text[k] == "\\" else 1
            for j in range(i + 1, min(k, n)):
                out[j] = " "
            i = k + 1
        else:
            i += 1
    return "".join(out).split("\n")


@dataclass
class Mutant:
    rule: str
    kind: str
    function: Function
    new_lines: list[str]  # the function after the mutation
    marked: set[int] = field(default_factory=set)  # 0-based indices in new_lines added


Mutator = Callable[[Function, Knowledge], "Mutant | None"]
_DECL = re.compile(r"\b((?:struct|union)\s+\w+|\w+_t)\s*\*\s*(\w+)")


def _call_span(text: str, name: str) -> tuple[int, int, list[str]] | None:
    """(start, end, arguments) of the first ``name(...)`` on the line, one level."""
    m = re.search(r"\b" + re.escape(name) + r"\s*\(", text)
    if m is None:
        return None
    args, pos = [], m.end()
    while True:
        got = call_argument(text, pos)
        if got is None:
            return None
        arg, end = got
        args.append(arg)
        if text[end] == ")":
            return m.start(), end + 1, args
        pos = end + 1


def _no_locks(fn: Function) -> bool:
    return not any(re.search(r"\b(\w*lock\w*|down_\w+|guard)\s*\(", ln) for ln in fn.code)


def _member(expr: str) -> bool:
    return ("->" in expr or "." in expr) and re.fullmatch(r"[\w\s\->.\[\]()*]+", expr) \
        is not None


def drop_read_once(fn: Function, know: Knowledge) -> Mutant | None:
    if not _no_locks(fn):
        return None
    for i, ln in enumerate(fn.code):
        raw = fn.lines[i]
        span = _call_span(ln, "READ_ONCE")
        if span and len(span[2]) == 1 and _member(span[2][0]):
            new = [*fn.lines]
            new[i] = raw[:span[0]] + span[2][0] + raw[span[1]:]
            return Mutant("CON007", "drop-read-once", fn, new, {i})
    return None


def drop_write_once(fn: Function, know: Knowledge) -> Mutant | None:
    if not _no_locks(fn):
        return None
    for i, ln in enumerate(fn.code):
        raw = fn.lines[i]
        span = _call_span(ln, "WRITE_ONCE")
        if span and len(span[2]) == 2 and _member(span[2][0]) and \
                ln[span[1]:].strip() == ";" and not ln[:span[0]].strip():
            new = [*fn.lines]
            new[i] = f"{raw[:span[0]]}{span[2][0]} = {span[2][1]};"
            return Mutant("CON007", "drop-write-once", fn, new, {i})
    return None


def double_checked(fn: Function, know: Knowledge) -> Mutant | None:
    if _no_locks(fn):
        return None
    for i, ln in enumerate(fn.code):
        raw = fn.lines[i]
        span = _call_span(ln, "READ_ONCE")
        if not span or len(span[2]) != 1 or not _member(span[2][0]):
            continue
        expr = "".join(span[2][0].split())
        later = ["".join(x.split()) for x in fn.code[i + 1:]]
        if any(f"cmpxchg(&{expr}," in x or f"WRITE_ONCE({expr}," in x
               or re.search(re.escape(expr) + r"=[^=]", x) for x in later) and \
                any(re.search(r"\b(spin_lock|mutex_lock|raw_spin_lock|write_lock)\w*\(", x)
                    for x in fn.code[i + 1:]):
            new = [*fn.lines]
            new[i] = raw[:span[0]] + span[2][0] + raw[span[1]:]
            return Mutant("CON001", "double-checked", fn, new, {i})
    return None


_LOCK = re.compile(r"^(\s*)(raw_)?spin_lock(_irq|_irqsave|_bh)?\s*\((.*)\)\s*;\s*$")


def _lock_pairs(fn: Function) -> Iterator[tuple[int, int, re.Match[str]]]:
    """(lock line, its unlock line, the lock's match) for lock statements whose unlock
    the function shows later at the same indentation."""
    for i, ln in enumerate(fn.code):
        m = _LOCK.match(ln)
        if m is None:
            continue
        lock = normalize_lock(m.group(4))
        unlock = re.compile(r"^" + re.escape(m.group(1)) + r"(raw_)?spin_unlock\w*\s*\(\s*&?"
                            + re.escape(lock).replace(r"\ ", r"\s*") + r"\b")
        j = next((j for j in range(i + 1, len(fn.code)) if unlock.match(fn.code[j])), None)
        if j is not None:
            yield i, j, m


def sleep_in_lock(fn: Function, know: Knowledge) -> Mutant | None:
    for i, j, m in _lock_pairs(fn):
        if j == i + 1:
            continue
        call = "msleep(1);" if zlib.crc32(fn.name.encode()) % 2 else "p = kmalloc(64, GFP_KERNEL);"
        new = [*fn.lines[:i + 1], m.group(1) + call, *fn.lines[i + 1:]]
        return Mutant("CON003", "sleep-in-lock", fn, new, {i + 1})
    return None


def conditional_lock(fn: Function, know: Knowledge) -> Mutant | None:
    for i, j, m in _lock_pairs(fn):
        ind = m.group(1)
        new = [*fn.lines[:i], f"{ind}if (need_lock)", "\t" + fn.lines[i],
               *fn.lines[i + 1:j], f"{ind}if (need_lock)", "\t" + fn.lines[j],
               *fn.lines[j + 1:]]
        return Mutant("CON005", "conditional-lock", fn, new, {i, i + 1, j + 2, j + 3})
    return None


def _to_plain(fn: Function, know: Knowledge, flavour: str, args: int, context: str,
              kind: str) -> Mutant | None:
    """spin_lock_<flavour>()/its unlock made plain (``args``: the acquire's argument
    count) for a lock the index says is taken in ``context``."""
    unlock = {"irqsave": "spin_unlock_irqrestore"}.get(flavour, f"spin_unlock_{flavour}")
    decls = {name: (" ".join(t.split()), 1) for t, name in _DECL.findall("\n".join(fn.code))}
    for i, ln in enumerate(fn.code):
        raw = fn.lines[i]
        span = _call_span(ln, f"spin_lock_{flavour}")
        if not span or len(span[2]) != args:
            continue
        lock = normalize_lock(span[2][0])
        if lock in decls:  # a local pointer to some lock (spinlock_t *lock): its name
            continue  # is no key (lock_key would name a global of that name)
        key = lock_key(lock, decls)  # type: ignore[arg-type]
        if know.lock(key).taken_in(context) is None:
            continue
        new = [*fn.lines]
        new[i] = raw[:span[0]] + f"spin_lock({span[2][0]})" + raw[span[1]:]
        marked = {i}
        for j in range(i + 1, len(fn.lines)):
            un = _call_span(fn.code[j], unlock)
            if un and len(un[2]) == args and normalize_lock(un[2][0]) == lock:
                new[j] = new[j][:un[0]] + f"spin_unlock({un[2][0]})" + new[j][un[1]:]
                marked.add(j)
        return Mutant("CON004", kind, fn, new, marked)
    return None


def irqsave_to_plain(fn: Function, know: Knowledge) -> Mutant | None:
    """spin_lock_irqsave()/spin_unlock_irqrestore() made plain for a lock the index says
    is taken in hard-irq context."""
    return _to_plain(fn, know, "irqsave", 2, "hardirq", "irqsave-to-plain")


def bh_to_plain(fn: Function, know: Knowledge) -> Mutant | None:
    """spin_lock_bh()/spin_unlock_bh() made plain for a lock the index says is taken in
    softirq context (a timer, a tasklet, NAPI, a softirq handler)."""
    return _to_plain(fn, know, "bh", 1, "softirq", "bh-to-plain")


def irqsave_to_irq(fn: Function, know: Knowledge) -> Mutant | None:
    """spin_lock_irqsave()/spin_unlock_irqrestore() turned into spin_lock_irq()/
    spin_unlock_irq() in a function the index says the tree calls with interrupts
    disabled (under an _irqsave/_irq lock its caller holds)."""
    if not know.irqs_off_callers(fn.name, fn.path):
        return None
    for i, ln in enumerate(fn.code):
        raw = fn.lines[i]
        span = _call_span(ln, "spin_lock_irqsave")
        if not span or len(span[2]) != 2:
            continue
        lock = normalize_lock(span[2][0])
        new = [*fn.lines]
        new[i] = raw[:span[0]] + f"spin_lock_irq({span[2][0]})" + raw[span[1]:]
        marked = {i}
        for j in range(i + 1, len(fn.lines)):
            un = _call_span(fn.code[j], "spin_unlock_irqrestore")
            if un and len(un[2]) == 2 and normalize_lock(un[2][0]) == lock:
                new[j] = new[j][:un[0]] + f"spin_unlock_irq({un[2][0]})" + new[j][un[1]:]
                marked.add(j)
        return Mutant("CON004", "irqsave-to-irq", fn, new, marked)
    return None


def _runs_rt_atomic(fn: Function, know: Knowledge) -> bool:
    """The tree runs ``fn`` in a section that stays atomic on PREEMPT_RT: at least half
    of its direct calls are made in one (``rt_atomic_callers``; one odd caller among
    many, such as an architecture's trap handler calling ``make_task_dead()`` with
    interrupts off, does not make the function atomic), and it is no interrupt handler
    registered with request_irq() (threaded on PREEMPT_RT; a netpoll controller that
    calls it with interrupts off emulates the interrupt)."""
    atomic = know.rt_atomic_callers(fn.name, fn.path)
    if not atomic or 2 * len(atomic) < len(know.callers(fn.name, fn.path)):
        return False
    return not any(c.context == "hardirq" and "request_" in c.reg_call and len(c.chain) <= 2
                   for c in know.contexts(fn.name, fn.path))


def _one_function(fn: Function) -> bool:
    """The parsed span is one function: no "}" at column 0 before its last line (a
    parser that recovered from a macro it does not know may run a definition on into
    the next ones; a mutation there would be in another function than the one named)."""
    return not any(ln.startswith("}") for ln in fn.code[:-1])


def raw_to_spinlock(fn: Function, know: Knowledge) -> Mutant | None:
    """In a function the tree runs in a section that stays atomic on PREEMPT_RT (under
    a raw spinlock, with interrupts or preemption disabled: ``_runs_rt_atomic``), a
    raw_spin_lock*() of ``p->m`` (``struct S *p`` declared in
    the function) and its unlocks turned into spin_lock*()/spin_unlock*() of a
    ``spinlock_t`` member of the same object (the first one struct S declares, by the
    index): a spinlock_t taken where it would sleep on PREEMPT_RT."""
    if not _one_function(fn) or not _runs_rt_atomic(fn, know):
        return None
    decls = {name: " ".join(t.split()) for t, name in _DECL.findall("\n".join(fn.code))}
    for i, _, m in _lock_pairs(fn):
        if not m.group(2):
            continue  # not a raw spinlock
        lock = normalize_lock(m.group(4))
        base, arrow, member = lock.partition("->")
        if not arrow or base not in decls or not re.fullmatch(r"\w+", member):
            continue
        other = next((n for n, d in know.members_of(decls[base]) if d.type == "spinlock_t"),
                     None)
        if other is None:
            continue
        flavour = m.group(3) or ""
        unlock = {"_irqsave": "_irqrestore"}.get(flavour, flavour)
        new = [*fn.lines]
        span = _call_span(fn.code[i], f"raw_spin_lock{flavour}")
        if span is None:
            continue
        rest = "".join(f", {a}" for a in span[2][1:])
        new[i] = (fn.lines[i][:span[0]] + f"spin_lock{flavour}(&{base}->{other}{rest})"
                  + fn.lines[i][span[1]:])
        marked = {i}
        for j in range(i + 1, len(fn.lines)):
            un = _call_span(fn.code[j], f"raw_spin_unlock{unlock}")
            if un and normalize_lock(un[2][0]) == lock:
                rest = "".join(f", {a}" for a in un[2][1:])
                new[j] = (new[j][:un[0]] + f"spin_unlock{unlock}(&{base}->{other}{rest})"
                          + new[j][un[1]:])
                marked.add(j)
        return Mutant("CON004", "raw-to-spinlock", fn, new, marked)
    return None


_MEMBER_STATEMENT = re.compile(r"^(\s+)(\w+)->\w+(?:\[[^\]]*\])?\s*"
                               r"(?:[-+*/|&^]?=[^=]|\+\+|--).*;\s*$")
_BRACELESS = re.compile(r"^\s*(?:\}\s*)?(?:else\b|if\b|for\b|while\b|do\b)")


def lock_in_rt_atomic(fn: Function, know: Knowledge) -> Mutant | None:
    """In a function the tree runs in a section that stays atomic on PREEMPT_RT
    (``_runs_rt_atomic``), a store through ``p`` (``p->x = ...;``, ``struct S
    *p`` declared in the function, on a line of its own) wrapped in spin_lock()/
    spin_unlock() of a ``spinlock_t`` member of struct S (the first one it declares, by
    the index): a patch that adds locking that sleeps on PREEMPT_RT."""
    if not _one_function(fn) or not _runs_rt_atomic(fn, know):
        return None
    decls = {name: " ".join(t.split()) for t, name in _DECL.findall("\n".join(fn.code))}
    for i, ln in enumerate(fn.code):
        m = _MEMBER_STATEMENT.match(ln)
        if m is None or m.group(2) not in decls or i == 0:
            continue
        above = fn.code[i - 1].rstrip()
        if _BRACELESS.match(above) and not above.endswith(("{", ";", "}")):
            continue  # the body of a braceless if
        lock = next((n for n, d in know.members_of(decls[m.group(2)])
                     if d.type == "spinlock_t"), None)
        if lock is None:
            continue
        ind, base = m.group(1), m.group(2)
        new = [*fn.lines[:i], f"{ind}spin_lock(&{base}->{lock});", fn.lines[i],
               f"{ind}spin_unlock(&{base}->{lock});", *fn.lines[i + 1:]]
        return Mutant("CON004", "lock-in-rt-atomic", fn, new, {i, i + 2})
    return None


def rcu_plain_store(fn: Function, know: Knowledge) -> Mutant | None:
    for i, ln in enumerate(fn.code):
        raw = fn.lines[i]
        span = _call_span(ln, "rcu_assign_pointer")
        if not span or len(span[2]) != 2 or ln[span[1]:].strip() != ";" \
                or ln[:span[0]].strip() or span[2][1] in ("NULL", "0"):
            continue
        new = [*fn.lines]
        new[i] = f"{raw[:span[0]]}{span[2][0]} = {span[2][1]};"
        return Mutant("CON006", "rcu-plain-store", fn, new, {i})
    return None


MUTATIONS: tuple[Mutator, ...] = (double_checked, sleep_in_lock, irqsave_to_plain, bh_to_plain,
                                  irqsave_to_irq, raw_to_spinlock, lock_in_rt_atomic,
                                  conditional_lock, rcu_plain_store, drop_read_once,
                                  drop_write_once)


def functions(tree: Path, dirs: list[str], parser: CParser, seed: int) -> Iterator[Function]:
    files = sorted(p for d in dirs for p in ([tree / d] if (tree / d).is_file()
                                             else (tree / d).rglob("*.c")))
    random.Random(seed).shuffle(files)
    for path in files:
        src = path.read_text(encoding="utf-8", errors="replace")
        lines = src.split("\n")
        for node in parser.parse(src).root_node.children:
            if node.type != "function_definition":
                continue
            decl = node.child_by_field_name("declarator")
            name = re.search(r"(\w+)\s*\(", (decl.text or b"").decode("utf-8", "replace")
                             ) if decl is not None else None
            first, last = node.start_point[0], node.end_point[0]
            body = lines[first:last + 1]
            yield Function(str(path.relative_to(tree)), name.group(1) if name else "?",
                           first, body, lines, blank_comments(body))


def _email(n: int, subject: str, diff: list[str]) -> str:
    head = ["From: Mutant <mutant@example.org>", f"Subject: [PATCH] {subject}",
            "Date: Thu, 01 Jan 2026 00:00:00 +0000", f"Message-ID: <mutant-{n}@example.org>",
            "", "A mutant.", "", "Signed-off-by: Mutant <mutant@example.org>", "---"]
    return "\n".join(["From mboxrd@z Thu Jan  1 00:00:00 1970", *head, *diff, "-- ",
                      "2.43.0", "", ""])


def _heading(lines: list[str], before: int) -> str:
    """What git shows after ``@@`` for C with the kernel's ``diff=cpp`` attribute: the
    last line above ``before`` that starts with a letter, ``_`` or ``$`` and is not a
    label."""
    for i in range(before - 1, max(before - 2000, -1), -1):
        if re.match(r"[A-Za-z_$]", lines[i]) and not re.match(r"\w+:", lines[i]):
            return " " + lines[i][:80].rstrip()
    return ""


def mutant_diff(m: Mutant, whole: bool = False) -> tuple[list[str], set[int]]:
    """A git diff of the file with the function mutated (hunks with 3 lines of
    context, as git makes them; ``whole``: the whole function as context, as
    ``git diff --function-context`` makes it), and the post-image line numbers (1-based)
    of the lines the mutation added."""
    fn = m.function
    before = fn.file_lines
    ops = [op for op in difflib.SequenceMatcher(None, fn.lines, m.new_lines,
                                                autojunk=False).get_opcodes()
           if op[0] != "equal"]
    lines: list[str] = [f"diff --git a/{fn.path} b/{fn.path}", "index 1111111..2222222 100644",
                        f"--- a/{fn.path}", f"+++ b/{fn.path}"]
    groups: list[list[tuple[str, int, int, int, int]]] = []
    for op in ops:  # changes closer than 6 lines share a hunk
        if groups and (whole or op[1] - groups[-1][-1][2] <= 6):
            groups[-1].append(op)
        else:
            groups.append([op])
    shift = 0  # post-image minus pre-image line numbers before the current hunk
    for group in groups:
        a0 = fn.first if whole else max(fn.first + group[0][1] - 3, 0)
        a1 = fn.first + len(fn.lines) if whole else min(fn.first + group[-1][2] + 3,
                                                        len(before))
        body: list[str] = []
        at = fn.first + group[0][1]
        body += [" " + x for x in before[a0:at]]
        for _, i1, i2, j1, j2 in group:
            body += [" " + x for x in before[at:fn.first + i1]]
            body += ["-" + x for x in fn.lines[i1:i2]]
            body += ["+" + x for x in m.new_lines[j1:j2]]
            at = fn.first + i2
        body += [" " + x for x in before[at:a1]]
        old_len = a1 - a0
        new_len = old_len + sum((j2 - j1) - (i2 - i1) for _, i1, i2, j1, j2 in group)
        lines.append(f"@@ -{a0 + 1},{old_len} +{a0 + 1 + shift},{new_len} @@"
                     f"{_heading(before, a0)}")
        lines += body
        shift += new_len - old_len
    added = {fn.first + i + 1 for i in m.marked}
    return lines, added


def new_function_diff(fn: Function) -> list[str]:
    """The function as new code: a new file holding only it."""
    path = fn.path.replace(".c", "_probe.c")
    return [f"diff --git a/{path} b/{path}", "new file mode 100644", "index 0000000..1111111",
            "--- /dev/null", f"+++ b/{path}", f"@@ -0,0 +1,{len(fn.lines)} @@",
            *("+" + x for x in fn.lines)]


def review(mbox: Path, tree: Path | None, rules: str) -> dict[str, list[dict[str, object]]]:
    """subject -> findings of ``reviewbot check --tree`` (``--no-tree`` without a tree)
    on the mbox."""
    where = ["--tree", str(tree)] if tree is not None else ["--no-tree"]
    out = subprocess.run([sys.executable, "-m", "reviewbot", "check", *where,
                          "--select", rules, "--format", "json", "-q", str(mbox)],
                         capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1):
        raise SystemExit(f"reviewbot check failed: {out.stderr.strip()}")
    return {p["subject"]: p["findings"] for p in json.loads(out.stdout)["patches"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, required=True, help="an indexed kernel tree")
    ap.add_argument("dirs", nargs="+",
                    help="directories under the tree (recursive), or .c files of it")
    ap.add_argument("--per-rule", type=int, default=60, help="mutants per mutation kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", action="append", metavar="KIND",
                    help="make only this kind of mutant (repeatable; e.g. double-checked)")
    ap.add_argument("--keep", type=Path, help="write the mutants' mbox files here")
    ap.add_argument("--function-context", action="store_true",
                    help="the whole function as context (git diff -W), not 3 lines")
    args = ap.parse_args(argv)
    know = Knowledge.open(args.tree)
    if know is None:
        raise SystemExit(f"{args.tree}: no index (run 'reviewbot index {args.tree}')")
    from reviewbot.ruleset import load_rules

    loaded = {r.id for r in load_rules()}
    rules = sorted({"CON001", "CON003", "CON004", "CON005", "CON006", "CON007", "CON008"}
                   & loaded)
    mutants: dict[str, list[Mutant]] = {}
    originals: list[Function] = []
    parser = CParser()
    taken: set[tuple[str, str]] = set()  # (file, kind): one mutant of a kind per file
    kinds = [f for f in MUTATIONS if not args.only or f.__name__.replace("_", "-") in args.only]
    for fn in functions(args.tree, args.dirs, parser, args.seed):
        if len(fn.lines) > 400:
            continue
        took = False
        for mutate in kinds:
            m = mutate(fn, know)
            if m is None or (fn.path, m.kind) in taken:
                continue
            bucket = mutants.setdefault(m.kind, [])
            if len(bucket) < args.per_rule:
                bucket.append(m)
                taken.add((fn.path, m.kind))
                took = True
        if took:
            originals.append(fn)
        if mutants and all(len(mutants.get(f.__name__.replace("_", "-"), ())) >= args.per_rule
                           for f in kinds):
            break
    work = args.keep or Path(tempfile.mkdtemp(prefix="rb-mutants-"))
    work.mkdir(parents=True, exist_ok=True)
    mails: list[str] = []
    expected: dict[str, tuple[str, str, set[int]]] = {}
    for kind, bucket in sorted(mutants.items()):
        for i, m in enumerate(bucket):
            subject = f"mutant {kind} {i}: {m.function.path} {m.function.name}()"
            diff, added = mutant_diff(m, args.function_context)
            mails.append(_email(len(mails), subject, diff))
            expected[f"[PATCH] {subject}"] = (m.rule, kind, added)
    (work / "mutants.mbox").write_text("".join(mails))
    plain = [_email(10000 + i, f"original {i}: {fn.path} {fn.name}()", new_function_diff(fn))
             for i, fn in enumerate(originals)]
    (work / "originals.mbox").write_text("".join(plain))
    select = ",".join(rules)
    missed: list[str] = []
    found = review(work / "mutants.mbox", args.tree, select)
    print(f"{'rule':13} {'mutation':18} {'caught':>7} {'of':>4} {'recall':>7}")
    for kind in sorted(mutants):
        subjects = [s for s, e in expected.items() if e[1] == kind]
        first = mutants[kind][0].rule
        # the double-checked read is CON001's, and CON008's (preview) when the store is
        # elsewhere in the tree: each rule alone, then either
        for rule in ((first, "CON008", f"{first}+CON008") if first == "CON001" else (first,)):
            ids = rule.split("+")
            hit = [s for s in subjects if any(f["rule"] in ids and f["line"] in expected[s][2]
                                              for f in found.get(s, ()))]
            caught = len(hit)
            note = "" if set(ids) <= loaded else "  (rule not loaded)"
            print(f"{rule:13} {kind:18} {caught:7d} {len(subjects):4d} "
                  f"{100 * caught / max(len(subjects), 1):6.0f}%{note}")
        if args.keep:  # the misses (of all its rules), to read in the kept mbox
            missed.extend(f"  missed: {s}" for s in subjects if s not in hit)
    print("\n".join(missed))
    clean = review(work / "originals.mbox", args.tree, select)
    alone = review(work / "originals.mbox", None, select)
    counts = {r: [0, 0] for r in rules}  # with the index, without
    for i, found in enumerate((clean, alone)):
        for findings in found.values():
            for f in findings:
                counts.setdefault(str(f["rule"]), [0, 0])[i] += 1
    print(f"unmutated functions (as new code): {len(originals)}; findings per rule with "
          "the index (without): " + ", ".join(f"{r} {a} ({b})" for r, (a, b) in
                                               sorted(counts.items())))
    if args.keep:
        for s, findings in clean.items():
            for f in findings:
                print(f"  {s}: {f['rule']} line {f['line']}: {f['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
