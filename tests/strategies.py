"""Hypothesis strategies for hostile input: patch emails, diffs and C that lie, break and
overflow (used by tests/test_hostile_input.py).

The pieces are realistic enough to reach every stage (headers, MIME, subjects, diffs with
hunks, C inside functions), and each can be damaged: wrong charsets and transfer
encodings, truncated MIME, CRLF/CR/mixed line endings, hunk counts that lie,
``\\ No newline at end of file`` anywhere, NUL bytes, enormous lines, deep nesting,
To/Cc lists of hundreds of addresses (``address_list``, ``huge_address_patch``), and
the large shapes of ``tests/shapes.py`` at a drawn size (``hostile_shape``).
"""

from __future__ import annotations

import base64
import os
import quopri

from hypothesis import strategies as st

from tests.shapes import SHAPES, address_list, nested_c, nested_mime

__all__ = ["address_list", "nested_c", "nested_mime"]  # (re-exported: built in tests/shapes.py)

# REVIEWBOT_HYPOTHESIS_SCALE=20 multiplies every example count (a deep run, by hand).
SCALE = max(1, int(os.environ.get("REVIEWBOT_HYPOTHESIS_SCALE", "1") or 1))


def examples(n: int) -> int:
    return n * SCALE


C_LINES = [
    "static int frob(struct page *page, int n)", "{", "}", "\tint i, ret = 0;",
    "\tstruct page *p = NULL;", "\tif (!page)", "\t\treturn -EINVAL;", "\tif (n > 3) {",
    "\t} else {", "\tfor (i = 0; i < n; i++) {", "\t\tput_page(p);", "\tspin_lock(&zone->lock);",
    "\tspin_unlock(&zone->lock);", "\tguard(mutex)(&dev->lock);",
    "\tscoped_guard(spinlock_irqsave, &l) {", "\tlist_for_each_entry(p, &head, lru) {",
    "\t/* a comment", " * that goes on", " */", "\t// line comment {", '\tpr_info("{ %s\\n", s);',
    "\tc = '{';", "\tc = '\\\\';", '\ts = "unterminated', "#define X(a) \\", "#ifdef CONFIG_X",
    "#endif", "", "\t", "label:", "\treturn ret;", "struct foo {", "};",
    "static DEFINE_SPINLOCK(frob_lock);", "void __meminit f(void) {", "\t}", "{{{{", "}}}}",
    "((((((((", "\\", "\x00", "\x0c", "\tx = y;\r", "é ü 日本", "\ud800".encode(
        "utf-8", "surrogatepass").decode("utf-8", "replace"),
]
DIFF_NOISE = ["diff --git a/x.c b/x.c", "--- a/x.c", "+++ b/x.c", "@@ -1 +1 @@",
              "@@ -0,0 +1,3 @@", "@@ -5,3 +5,4 @@ int f(void)", "\\ No newline at end of file",
              "-- ", "From nobody Mon Sep 17 00:00:00 2001", "index 000..111 100644",
              "Binary files a/x.bin and b/x.bin differ", "GIT binary patch", "literal 3"]
PATHS = ["mm/x.c", "include/linux/x.h", "drivers/a b.c", "Makefile", "Documentation/x.rst",
         "x", "a/../../etc/passwd", "dir/", "weird\x00.c", "\u00e9.c", '"quoted".c']
CHARSETS = ["utf-8", "us-ascii", "iso-8859-1", "utf-16", "x-unknown", "iso-2022-jp",
            "gb2312", "utf-7", "", '"utf-8"', "utf-8; format=flowed"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-bogus", "BASE64", ""]

def _one_line(text: str) -> str:
    return text.replace("\n", " ").replace("\r", " ")


# mostly kernel-like lines, some arbitrary text (on one line: a diff line cannot hold \n)
c_line = st.one_of(st.sampled_from(C_LINES), st.sampled_from(C_LINES),
                   st.text(max_size=60).map(_one_line))
text_line = st.one_of(st.sampled_from(C_LINES + DIFF_NOISE), st.text(max_size=40))


def sometimes(draw: st.DrawFn, one_in: int) -> bool:
    return draw(st.integers(0, one_in - 1)) == 0


SNIPPETS = [
    ["\tif (x) {", "\t\treturn -EINVAL;", "\t}"],
    ["\tfor (i = 0; i < n; i++) {", "\t\tput_page(p + i);", "\t}"],
    ["\tspin_lock(&zone->lock);", "\tzone->nr++;", "\tspin_unlock(&zone->lock);"],
    ["static int frob(struct page *page)", "{", "\tstruct page *p = page;", "",
     "\tif (!p) {", "\t\tp = NULL;", "\t}", "\treturn 0;", "}"],
    ["\tlist_for_each_entry(p, &head, lru) {", "\t\tput_page(p);", "\t}"],
]


@st.composite
def hunk_body(draw: st.DrawFn) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from("+- "))
        if sometimes(draw, 3):
            out.extend((kind, t) for t in draw(st.sampled_from(SNIPPETS)))
        else:
            out.extend((kind, t) for t in draw(st.lists(c_line, max_size=5)))
    return out or [(" ", "")]


@st.composite
def hunk(draw: st.DrawFn) -> list[str]:
    body = draw(hunk_body())
    old = sum(k != "+" for k, _ in body)
    new = sum(k != "-" for k, _ in body)
    if sometimes(draw, 12):  # counts that lie
        old += draw(st.integers(-3, 3))
        new += draw(st.integers(-3, 3))
    start = draw(st.integers(0, 5000))
    heading = draw(st.sampled_from(["", " static int frob(struct page *p,",
                                    " struct foo {", " int f(void)", " #define X"]))
    lines = [f"@@ -{start},{old} +{start},{new} @@{heading}"]
    for kind, text in body:
        lines.append(kind + text)
        if sometimes(draw, 40):
            lines.append("\\ No newline at end of file")
    return lines


@st.composite
def file_diff(draw: st.DrawFn) -> list[str]:
    path = draw(st.sampled_from(["mm/x.c", "lib/y.c", "include/linux/z.h", *PATHS]))
    kind = draw(st.sampled_from(["modify", "modify", "modify", "new", "delete", "rename",
                                 "binary", "bare"]))
    head = {"modify": [f"diff --git a/{path} b/{path}", "index 1111111..2222222 100644",
                       f"--- a/{path}", f"+++ b/{path}"],
            "new": [f"diff --git a/{path} b/{path}", "new file mode 100644",
                    "--- /dev/null", f"+++ b/{path}"],
            "delete": [f"diff --git a/{path} b/{path}", "deleted file mode 100644",
                       f"--- a/{path}", "+++ /dev/null"],
            "rename": [f"diff --git a/{path} b/{path}.new", "similarity index 90%",
                       f"rename from {path}", f"rename to {path}.new"],
            "binary": [f"diff --git a/{path} b/{path}",
                       f"Binary files a/{path} and b/{path} differ"],
            "bare": [f"--- {path}", f"+++ {path}"]}[kind]
    lines = list(head)
    for h in draw(st.lists(hunk(), min_size=kind in ("modify", "new"), max_size=3)):
        lines.extend(h)
    return lines


@st.composite
def diff_text(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for f in draw(st.lists(file_diff(), min_size=1, max_size=3)):
        lines.extend(f)
    if sometimes(draw, 6):  # noise anywhere
        for _ in range(draw(st.integers(1, 3))):
            lines.insert(draw(st.integers(0, len(lines))), draw(text_line))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "\n", "\n", "", "\n\n"]))


SUBJECTS = st.one_of(
    st.builds(lambda v, i, t, title: f"[PATCH v{v} {i}/{t}] {title}",
              st.integers(-1, 12), st.integers(-1, 20), st.integers(-1, 20), st.text(max_size=30)),
    st.builds(lambda p, title: f"{p} {title}",
              st.sampled_from(["[PATCH]", "[PATCHv4 09/14]", "[RFC PATCH 0/3]",
                               "[PATCH net-next v2 3/7]", "Re: [PATCH 1/2]", "RE: Re: AW:",
                               "[PATCH 1/0]", "[PATCH 99999/99999]", "[[PATCH]]", "[", ""]),
              st.text(max_size=30)),
    st.text(max_size=80),
)


FROMS = ["Ada <ada@example.org>", "x", "<>", "=?utf-8?b?QWRh?= <a@b>", "", "(" * 3000]
DATES = ["Mon, 5 Jan 2026 09:00:00 +0000", "yesterday", "Mon, 99 Foo 99999 99:99:99 +9999",
         ""]
# To/Cc entries, which replies copy: real-looking ones (non-ASCII and quoted names,
# encoded words, lists) and broken ones (leading dots, groups, no @, open brackets)
ADDRESSES = ["Ada <ada@example.org>", "linux-mm@kvack.org", '"Doe, John" <jd@example.org>',
             "宋牧春 <song@example.cn>", "Jürgen Groß <jgross@suse.com>", ".ada@example.org",
             "ada.@example.org", "=?utf-8?b?5a6L54mn5pil?= <s@example.cn>",
             "undisclosed-recipients:;", "<>", "a@", "@b", "x <y", "(comment) c@d",
             "a@b (Name)", "AAAAAAAAAAAAAAAAAAAAAAAAAé漢 <q@b>", "O'Neil Jr. <on@example.org>",
             "ADA@EXAMPLE.ORG", "a..b@example.org", "\"q\\\"uote\" <qq@example.org>"]


@st.composite
def huge_address_patch(draw: st.DrawFn) -> tuple[bytes, int, int]:
    """A patch mail whose To and Cc hold a few hundred addresses (more than a reply
    keeps), lists among them, a few duplicates and broken ones, and a patch author in
    the body; with the number of distinct valid addresses and of lists."""
    n_to = draw(st.integers(0, 40))
    n_cc = draw(st.integers(150, 450))
    every = draw(st.sampled_from([0, 7, 50, 1000]))
    cc = address_list(n_cc, every, start=n_to)
    extra = draw(st.lists(st.sampled_from(ADDRESSES), max_size=6))
    head = ["From: Sender <sender@example.org>", f"To: {address_list(n_to, every)}",
            f"Cc: {cc}" + "".join(f",\n {a}" for a in extra),
            "Subject: [PATCH] frob: clear it", "Message-ID: <huge@example.org>"]
    body = ("From: Ada Author <ada@example.org>\n\nClear it.\n---\n"
            "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,6 @@\n int f(int x)\n"
            " {\n+\tif (x) {\n+\t\tx++;\n+\t}\n }\n")
    lists = sum(1 for i in range(n_to + n_cc) if every and i % every == 0)
    return ("\n".join(head) + "\n\n" + body).encode(), n_to + n_cc, lists


def _encode(body: bytes, cte: str, corrupt: bool) -> bytes:
    if cte.lower() == "base64":
        out = base64.encodebytes(body)
        return out[: len(out) // 2] + b"!!==" if corrupt else out
    if cte == "quoted-printable":
        out = quopri.encodestring(body)
        return out + b"=Z=\n=" if corrupt else out
    return body


@st.composite
def patch_email(draw: st.DrawFn) -> bytes:
    """One patch email (bytes), often damaged."""
    headers: list[str] = []
    if draw(st.booleans()):
        headers.append("From: " + draw(st.sampled_from(FROMS)))
    headers.append(f"Subject: {draw(SUBJECTS)}")
    if draw(st.booleans()):
        headers.append("Date: " + draw(st.sampled_from(DATES)))
    for name in ("To", "Cc"):
        if sometimes(draw, 25):  # Cc'd to the world: more than a reply keeps
            headers.append(f"{name}: {address_list(draw(st.integers(200, 600)), 9)}")
        elif draw(st.booleans()):
            people = draw(st.lists(st.sampled_from(ADDRESSES), max_size=14))
            headers.append(f"{name}: " + draw(st.sampled_from([", ", ",\n\t", ","])).join(people))
    if draw(st.booleans()):
        headers.append(f"Message-ID: <{draw(st.text(max_size=20))}@x>")
    if draw(st.booleans()):
        headers.append("In-Reply-To: " + draw(st.sampled_from(["<a@x>", "<", "junk",
                                                                "<b@x> <c@x>"])))
    charset = "utf-8" if sometimes(draw, 2) else draw(st.sampled_from(CHARSETS))
    cte = "8bit" if sometimes(draw, 2) else draw(st.sampled_from(ENCODINGS))
    text = (draw(st.text(max_size=80)) + "\n\nSigned-off-by: Ada <ada@example.org>\n---\n"
            + draw(diff_text()))
    body = text.encode(draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16"])),
                       "replace")
    body = _encode(body, cte, sometimes(draw, 4))
    if sometimes(draw, 4):  # MIME multipart with the patch as an attachment
        boundary = draw(st.sampled_from(["XyZ", "", "--", "a b"]))
        part = (f"--{boundary}\nContent-Type: text/plain; charset={charset}\n\nHello\n"
                f"--{boundary}\nContent-Type: text/x-patch; name=\"x.patch\"\n"
                f"Content-Disposition: attachment; filename=\"x.patch\"\n"
                f"Content-Transfer-Encoding: {cte}\n\n").encode() + body
        if draw(st.booleans()):
            part += f"\n--{boundary}--\n".encode()
        headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
        body = part
    else:
        headers.append(f"Content-Type: text/plain; charset={charset}")
        if cte:
            headers.append(f"Content-Transfer-Encoding: {cte}")
    raw = "\n".join(headers).encode("utf-8", "surrogateescape") + b"\n\n" + body
    return draw(damaged(raw))


@st.composite
def damaged(draw: st.DrawFn, raw: bytes) -> bytes:
    """``raw`` with its line endings changed, truncated, NULs or a huge line put in."""
    ending = draw(st.sampled_from(["lf", "lf", "lf", "crlf", "cr", "mixed"]))
    if ending != "lf":
        lines = raw.split(b"\n")
        seps = [b"\r\n" if ending == "crlf" else b"\r" if ending == "cr"
                else draw(st.sampled_from([b"\n", b"\r\n", b"\r"])) for _ in lines[:-1]]
        raw = b"".join(a + b for a, b in zip(lines, [*seps, b""], strict=True))
    if sometimes(draw, 6):
        raw = raw[: draw(st.integers(0, len(raw)))]
    if sometimes(draw, 6):
        pos = draw(st.integers(0, len(raw)))
        raw = raw[:pos] + b"\x00" * draw(st.integers(1, 3)) + raw[pos:]
    if sometimes(draw, 10):
        pos = draw(st.integers(0, len(raw)))
        filler = draw(st.sampled_from([b"x", b"{", b" ", b"(", b"/*"]))
        raw = raw[:pos] + b"+" + filler * 20_000 + raw[pos:]
    return raw


def quoting_format_patch(mail: bytes) -> bytes:
    """A mail (headers first) whose body carries a git format-patch with its own
    ``From <sha> Mon Sep 17 00:00:00 2001`` line: one message, not an mbox."""
    return (b"From: Bo <bo@example.org>\nSubject: [PATCH] fwd\nMessage-ID: <fwd@x>\n\n"
            b"Forwarded:\n\nFrom 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 "
            b"00:00:00 2001\n" + mail)


def unthreaded_series(mails: list[bytes], total: int) -> list[bytes]:
    """``mails`` as ``git format-patch`` without ``--thread`` writes a series: numbered
    ``[PATCH k/total]``, no Message-ID, no In-Reply-To (one batch, by author)."""
    out = []
    for k, m in enumerate(mails):
        head, sep, body = m.partition(b"\n\n")
        lines = [ln for ln in head.split(b"\n") if not ln.lower().startswith(
            (b"subject:", b"message-id:", b"in-reply-to:", b"references:"))]
        lines.append(b"Subject: [PATCH %d/%d] part %d" % (k % (total + 1), total, k))
        out.append(b"\n".join(lines) + sep + body)
    return out


@st.composite
def mbox(draw: st.DrawFn) -> bytes:
    """One to four messages as an mbox (or a lone message, or a bare diff); some
    messages nested deep in MIME, quoting a format-patch, or an unthreaded series."""
    form = draw(st.sampled_from(["mbox", "mbox", "single", "bare", "quoting", "batch"]))
    if form == "bare":
        return draw(diff_text()).encode("utf-8", "surrogateescape")
    mails = draw(st.lists(patch_email(), min_size=1, max_size=4))
    if form == "single":
        return mails[0]
    if form == "quoting":
        return quoting_format_patch(mails[0])
    if form == "batch":
        mails = unthreaded_series(mails, draw(st.integers(1, 4)))
    if sometimes(draw, 8):
        mails.insert(draw(st.integers(0, len(mails))),
                     nested_mime(draw(st.sampled_from([2, 300, 990, 2500]))))
    sep = b"From nobody Mon Sep 17 00:00:00 2001\n"
    return b"".join(sep + m + b"\n" for m in mails)


@st.composite
def hostile_shape(draw: st.DrawFn, largest: int = 5_000) -> tuple[str, int, bytes]:
    """One of the large shapes of ``tests/shapes.py`` (dense tokens, deep nesting in C
    or MIME, many hunks, many lock regions nested or in a row, a rewritten block, a
    huge Cc) at a size from a quarter of ``largest`` to ``largest`` (large enough for
    a quadratic path to show): (its name, its size, the patch mail)."""
    name = draw(st.sampled_from(sorted(SHAPES)))
    n = draw(st.integers(largest // 4, largest))
    return name, n, SHAPES[name](n)
