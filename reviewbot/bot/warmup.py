"""A small two-patch series the watcher reviews once per process before any real one.

The first review in a process does one-time work that loading the rules does not: the
imports the checks make when they first run (the series map, the revision and reply
code), regex and query compilation, opening the knowledge index. Done inside the first
real review, that work made it several times slower than the others, so a process
killed early (a restart, the OOM killer, SIGKILL) was nearly always reviewing the series
at the head of the queue, which stayed at the head after each restart until its fifth
death marked it failed. Reviewing this series first moves that work out of every real
series' attempt. It is C code in one file, with a lock region, a function added by the
first patch and used by the second, so the same code paths run as for a real series.
"""

from __future__ import annotations

_HEAD = """\
From: Warm Up <warm-up@example.invalid>
To: warm-up@example.invalid
Date: Thu, 01 Jan 2026 00:00:00 +0000
Message-ID: <{n}.warm-up@example.invalid>
Subject: [PATCH {n}/2] frob: {title}

{title}.

Signed-off-by: Warm Up <warm-up@example.invalid>
---
"""

_FIRST = """\
diff --git a/drivers/frob/frob.c b/drivers/frob/frob.c
--- a/drivers/frob/frob.c
+++ b/drivers/frob/frob.c
@@ -10,6 +10,14 @@ static int frob_reset(struct frob *f)
 \tspin_lock(&f->lock);
 \tf->state = 0;
 \tspin_unlock(&f->lock);
+\treturn 0;
+}
+
+static int frob_count(struct frob *f)
+{
+\tif (!f->state)
+\t\treturn 0;
+\treturn f->count;
 }
\x20
 static void frob_free(struct frob *f)
"""

_SECOND = """\
diff --git a/drivers/frob/frob.c b/drivers/frob/frob.c
--- a/drivers/frob/frob.c
+++ b/drivers/frob/frob.c
@@ -20,6 +20,9 @@ static int frob_count(struct frob *f)
 static void frob_free(struct frob *f)
 {
 \tkfree(f->buf);
+\tif (frob_count(f)) {
+\t\tf->count = 0;
+\t}
 \tkfree(f);
 }
\x20
"""

SERIES: tuple[bytes, ...] = tuple(
    (_HEAD.format(n=n, title=title) + body + "--\n2.47.0\n").encode()
    for n, title, body in ((1, "add frob_count()", _FIRST), (2, "use frob_count()", _SECOND)))
