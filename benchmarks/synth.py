"""Synthetic kernel-style patch emails for the benchmarks (deterministic, seeded).

The patches look like list traffic: series of 1-12 patches with a cover letter, commit
messages with trailers, a diffstat, and unified diffs of C files whose hunks sit inside
functions with locals, ``if``/``for``/``list_for_each_entry`` blocks, spin locks and
mutexes, comments, and the odd header, Kconfig or Documentation change. Hunk counts
are computed from the lines, so every diff parses.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

SUBSYSTEMS = ("mm", "net/core", "drivers/gpu/drm/i915", "fs/ext4", "kernel/sched",
              "drivers/net/ethernet/intel/ice", "sound/soc/codecs", "drivers/usb/core",
              "fs/btrfs", "drivers/nvme/host", "block", "drivers/iio/light")
WORDS = ("page", "dev", "queue", "entry", "buf", "ctx", "node", "skb", "req", "vma",
         "inode", "folio", "zone", "list", "work", "timer", "port", "chan", "ring", "map")
VERBS = ("init", "alloc", "free", "update", "flush", "reset", "probe", "remove", "lookup",
         "walk", "handle", "queue", "release", "attach", "detach", "sync", "prepare")
PEOPLE = ("Ada Lovelace <ada@example.org>", "Linus Example <linus@example.org>",
          "Grace Hopper <grace@example.net>", "Ken Thompson <ken@example.com>",
          "Dennis Ritchie <dmr@example.com>", "Barbara Liskov <liskov@example.edu>")


_COVER = re.compile(r"^Subject: \[[^\]]* 0+/\d+\]", re.MULTILINE)


def is_cover(message: str) -> bool:
    """True for a cover letter (``[PATCH 0/N]``) made by ``messages``."""
    return bool(_COVER.search(message))


@dataclass(frozen=True)
class _Hunk:
    old_start: int
    new_start: int
    heading: str
    lines: tuple[tuple[str, str], ...]  # (" " | "+" | "-", text)

    def render(self) -> str:
        old_len = sum(k != "+" for k, _ in self.lines)
        new_len = sum(k != "-" for k, _ in self.lines)
        head = f"@@ -{self.old_start},{old_len} +{self.new_start},{new_len} @@"
        body = "".join(f"{k}{t}\n" for k, t in self.lines)
        return f"{head} {self.heading}\n{body}" if self.heading else f"{head}\n{body}"


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def ident(self) -> str:
        return f"{self.r.choice(WORDS)}_{self.r.choice(VERBS)}"

    def stmt(self, ind: str, lock: str) -> list[str]:
        """One statement or a small block, indented by ``ind``."""
        r = self.r
        a, b = r.choice(WORDS), r.choice(WORDS)
        kind = r.randrange(14)
        if kind == 0:
            return [f"{ind}if (!{a})", f"{ind}\treturn -EINVAL;"]
        if kind == 1:
            return [f"{ind}if ({a}->{b}_count > {r.randrange(2, 512)}) {{",
                    f"{ind}\tpr_warn(\"%s: too many {b}s\\n\", __func__);",
                    f"{ind}\tret = -EBUSY;", f"{ind}\tgoto out_unlock;", f"{ind}}}"]
        if kind == 2:
            return [f"{ind}for (i = 0; i < nr_{b}s; i++) {{",
                    f"{ind}\t{a}->{b}[i] = {self.ident()}({a}, i);",
                    f"{ind}\tif (!{a}->{b}[i])", f"{ind}\t\tbreak;", f"{ind}}}"]
        if kind == 3:
            return [f"{ind}list_for_each_entry({b}, &{a}->{b}_list, node) {{",
                    f"{ind}\tif ({b}->flags & {b.upper()}_DEAD)", f"{ind}\t\tcontinue;",
                    f"{ind}\tnr++;", f"{ind}}}"]
        if kind == 4:
            return [f"{ind}spin_lock(&{lock});", f"{ind}{a}->{b} = READ_ONCE({b}->{a});",
                    f"{ind}spin_unlock(&{lock});"]
        if kind == 5:
            return [f"{ind}mutex_lock(&{a}->mutex);", f"{ind}ret = {self.ident()}({a});",
                    f"{ind}mutex_unlock(&{a}->mutex);"]
        if kind == 6:
            return [f"{ind}/*", f"{ind} * The {a} must be held across the {b} update,",
                    f"{ind} * otherwise a concurrent {self.ident()}() can see it.", f"{ind} */"]
        if kind == 7:
            return [f"{ind}{a}->{b} = kzalloc(sizeof(*{a}->{b}), GFP_KERNEL);",
                    f"{ind}if (!{a}->{b})", f"{ind}\treturn -ENOMEM;"]
        if kind == 8:
            return [f"{ind}while ({a}->{b}) {{", f"{ind}\t{a}->{b} = {a}->{b}->next;",
                    f"{ind}\tcond_resched();", f"{ind}}}"]
        if kind == 9:
            return [f"{ind}switch ({a}->state) {{", f"{ind}case {b.upper()}_IDLE:",
                    f"{ind}\tbreak;", f"{ind}default:", f"{ind}\tWARN_ON_ONCE(1);", f"{ind}}}"]
        if kind == 10:
            return [""]
        if kind == 11:
            return [f"{ind}ret = {self.ident()}({a}, {b}, {r.randrange(0, 64)});",
                    f"{ind}if (ret)", f"{ind}\tgoto err_{b};"]
        if kind == 12:
            return [f"{ind}if ({a}->{b} & BIT({r.randrange(0, 31)})) {{",
                    f"{ind}\t{a}->{b} = 0;", f"{ind}}}"]
        return [f"{ind}{a} = {self.ident()}({b});"]

    def statements(self, n: int, lock: str) -> list[list[str]]:
        return [self.stmt("\t", lock) for _ in range(n)]

    def function(self, name: str, n_stmts: int) -> list[str]:
        a, b = self.r.sample(WORDS, 2)
        out = [f"static int {name}(struct {a} *{a}, struct {b} *{b})", "{",
               f"\tstruct {self.r.choice(WORDS)} *{self.r.choice(WORDS)}_p = NULL;",
               "\tunsigned long flags;", "\tint i, nr = 0, ret = 0;", ""]
        for st in self.statements(n_stmts, f"{a}->lock"):
            out.extend(st)
        out.extend(["", "out_unlock:", "\treturn ret;", "}"])
        return out

    def c_hunk(self, old_start: int, new_start: int, n_stmts: int) -> _Hunk:
        """A hunk inside a function, edited a whole statement at a time, so the blocks
        stay balanced: context, removed, added and replaced statements."""
        a, b = self.r.sample(WORDS, 2)
        heading = f"static int {self.ident()}(struct {a} *{a}, struct {b} *{b})"
        lock = f"{a}->lock"
        lines: list[tuple[str, str]] = [(" ", "\tint i, nr = 0, ret = 0;"), (" ", "")]
        changed = False
        for i, st in enumerate(self.statements(n_stmts, lock)):
            roll = self.r.random()
            edge = i == 0 or i == n_stmts - 1
            if edge or roll < 0.5:
                lines.extend((" ", t) for t in st)
                continue
            changed = True
            if roll < 0.65:
                lines.extend(("-", t) for t in st)
            elif roll < 0.85:
                lines.extend(("+", t) for t in self.stmt("\t", lock))
                lines.extend((" ", t) for t in st)
            else:
                lines.extend(("-", t) for t in st)
                lines.extend(("+", t) for t in self.stmt("\t", lock))
        if not changed:
            lines.insert(2, ("+", f"\t{self.ident()}({a});"))
        return _Hunk(old_start, new_start, heading, tuple(lines))

    def new_file(self, path: str, n_funcs: int) -> str:
        lines = ["// SPDX-License-Identifier: GPL-2.0", "#include <linux/kernel.h>",
                 "#include <linux/slab.h>", ""]
        for _ in range(n_funcs):
            lines.extend(self.function(self.ident(), self.r.randrange(3, 9)))
            lines.append("")
        return _file_diff(path, None, [_Hunk(0, 1, "", tuple(("+", t) for t in lines))])

    def modify_c(self, path: str, n_hunks: int) -> str:
        hunks = []
        old = new = self.r.randrange(20, 200)
        for _ in range(n_hunks):
            h = self.c_hunk(old, new, self.r.randrange(3, 9))
            hunks.append(h)
            o = sum(k != "+" for k, _ in h.lines)
            n = sum(k != "-" for k, _ in h.lines)
            gap = self.r.randrange(15, 120)
            old, new = old + o + gap, new + n + gap
        return _file_diff(path, path, hunks)

    def modify_text(self, path: str) -> str:
        start = self.r.randrange(5, 300)
        word = self.ident().upper()
        if path.endswith("Kconfig"):
            ctx = [f"config {self.ident().upper()}", "\ttristate \"support\"", "\tdefault n"]
            add = ["", f"config {word}", f"\tbool \"Enable {word.lower()}\"",
                   f"\tdepends on {self.ident().upper()}", "\thelp",
                   "\t  Say Y here if unsure."]
        else:
            ctx = ["", f"The {self.ident()} interface", "----------------------------"]
            add = ["", f"``{word.lower()}`` is updated under the lock; readers use",
                   "READ_ONCE() and may see a stale value."]
        lines = tuple([(" ", t) for t in ctx] + [("+", t) for t in add])
        return _file_diff(path, path, [_Hunk(start, start, "", lines)])

    def patch_body(self, sub: str, serial: str) -> tuple[str, str]:
        """(diffstat + diff, title) of one patch."""
        files: list[str] = []
        diffs: list[str] = []
        base = sub.split("/")[-1]
        for _ in range(self.r.choice((1, 1, 1, 2, 2, 3))):
            roll = self.r.random()
            if roll < 0.7:
                path = f"{sub}/{self.ident()}.c"
                diffs.append(self.modify_c(path, self.r.choice((1, 1, 2, 2, 3, 4))))
            elif roll < 0.8:
                path = f"include/linux/{base}_{self.r.choice(WORDS)}.h"
                diffs.append(self.modify_c(path, 1))
            elif roll < 0.87:
                path = f"{sub}/{self.ident()}_new.c"
                diffs.append(self.new_file(path, self.r.randrange(1, 4)))
            elif roll < 0.94:
                path = f"{sub}/Kconfig"
                diffs.append(self.modify_text(path))
            else:
                path = f"Documentation/{base}/{self.r.choice(WORDS)}.rst"
                diffs.append(self.modify_text(path))
            files.append(path)
        stat = "".join(f" {f} | {self.r.randrange(2, 40)} ++++---\n" for f in files)
        stat += f" {len(files)} files changed\n"
        title = f"{base}: {self.r.choice(VERBS)} {self.ident()}_{serial}() " \
                f"{self.r.choice(('under the lock', 'on error', 'before use', 'once'))}"
        return stat + "\n" + "".join(diffs), title


def _file_diff(path: str, old: str | None, hunks: list[_Hunk]) -> str:
    head = f"diff --git a/{path} b/{path}\n"
    if old is None:
        head += f"new file mode 100644\nindex 0000000..1234567\n--- /dev/null\n+++ b/{path}\n"
    else:
        head += f"index 89abcde..1234567 100644\n--- a/{path}\n+++ b/{path}\n"
    return head + "".join(h.render() for h in hunks)


def _message(msgid: str, author: str, date: datetime, subject: str, body: str,
             parent: str | None) -> str:
    head = [f"From {msgid.split('@')[0][:40]} Mon Sep 17 00:00:00 2001",
            f"From: {author}", f"Date: {format_datetime(date)}", f"Subject: {subject}",
            f"Message-ID: <{msgid}>", "To: linux-kernel@vger.kernel.org"]
    if parent:
        head += [f"In-Reply-To: <{parent}>", f"References: <{parent}>"]
    return "\n".join(head) + "\n\n" + body + "\n"


def messages(n_patches: int, seed: int = 1) -> Iterator[str]:
    """mbox messages (each with its ``From `` line) holding ``n_patches`` patches."""
    rng = random.Random(seed)
    gen = _Gen(rng)
    date = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    made = serial = 0
    while made < n_patches:
        total = min(rng.choice((1, 1, 2, 3, 4, 5, 6, 8, 10, 12)), n_patches - made)
        version = rng.choice((1, 1, 1, 2, 2, 3, 4))
        sub = rng.choice(SUBSYSTEMS)
        author = rng.choice(PEOPLE)
        serial += 1
        tag = f"PATCH v{version}" if version > 1 else "PATCH"
        cover = f"synth-{seed}-{serial}-0@example.org" if total > 1 else None
        if cover:
            date += timedelta(minutes=rng.randrange(1, 30))
            yield _message(cover, author, date,
                           f"[{tag} 0/{total}] {sub}: fixes for {gen.ident()}_{serial}",
                           "This series cleans up a few things.\n\n-- \n2.43.0\n", None)
        for i in range(1, total + 1):
            date += timedelta(seconds=rng.randrange(1, 20))
            diff, title = gen.patch_body(sub, f"{serial}_{i}")
            count = f" {i:0{len(str(total))}d}/{total}" if total > 1 else ""
            msg = (f"The {rng.choice(WORDS)} is updated without the lock "
                   f"held,\nso a concurrent {gen.ident()}() can observe a stale value.\n"
                   f"Take the lock and check the state again.\n\n"
                   f"Fixes: {rng.randrange(16**12):012x} (\"{sub}: add {gen.ident()}\")\n"
                   f"Signed-off-by: {author}\n---\n")
            yield _message(f"synth-{seed}-{serial}-{i}@example.org", author, date,
                           f"[{tag}{count}] {title}", msg + diff + "-- \n2.43.0\n", cover)
            made += 1


def mbox(n_patches: int, seed: int = 1) -> str:
    """One mbox text with ``n_patches`` patches (plus cover letters)."""
    return "\n".join(messages(n_patches, seed))


def big_patch(added_lines: int, seed: int = 7) -> str:
    """One patch email adding a new C file of about ``added_lines`` lines."""
    gen = _Gen(random.Random(seed))
    lines = ["// SPDX-License-Identifier: GPL-2.0", "#include <linux/kernel.h>", ""]
    while len(lines) < added_lines:
        lines.extend(gen.function(gen.ident() + f"_{len(lines)}", 12))
        lines.append("")
    lines = lines[:added_lines]
    diff = _file_diff("drivers/misc/big.c", None,
                      [_Hunk(0, 1, "", tuple(("+", t) for t in lines))])
    body = ("Add a large driver.\n\nSigned-off-by: Ada Lovelace <ada@example.org>\n---\n"
            f" drivers/misc/big.c | {added_lines} +\n\n{diff}-- \n2.43.0\n")
    date = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    return _message(f"big-{added_lines}@example.org", PEOPLE[0], date,
                    f"[PATCH] misc: add a {added_lines}-line driver", body, None)
