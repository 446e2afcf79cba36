"""Hostile shapes of patch mail, built by plain functions (no hypothesis): each makes a
patch that is inside every input limit but large in one dimension a quadratic path feeds
on. The property tests (``tests/strategies.py``), the regression tests, the fuzz target's
seeds and the benchmark (``benchmarks/hostile.py``) build their inputs here, so nothing
huge is stored.

- ``dense_tokens``: lines of nothing but one short token (``;``): a C token per byte;
- ``deep_nesting``: C nested thousands deep (blocks, parentheses, if-chains);
- ``many_hunks``: thousands of one-line hunks, each adding a line with a digit;
- ``many_locks``: thousands of lock regions, nested or one after the other;
- ``rewritten_block``: one hunk replacing thousands of lines, many of them alike;
- ``huge_cc``: a To/Cc list of thousands of addresses;
- ``nested_mime``: MIME multiparts nested thousands deep (the email parser recurses).
"""

from __future__ import annotations


def patch_mail(diff: str, subject: str = "[PATCH] frob: hostile shape",
               headers: str = "") -> bytes:
    """A one-patch mail carrying ``diff``."""
    return (f"From: Ada <ada@example.org>\nSubject: {subject}\n"
            f"Message-ID: <shape@example.org>\n{headers}\nCommit message.\n\n"
            f"Signed-off-by: Ada <ada@example.org>\n---\n{diff}").encode()


def added_file(lines: list[str], path: str = "mm/x.c", start: int = 1,
               heading: str = "") -> str:
    """One hunk adding ``lines`` to ``path``."""
    body = "".join(f"+{t}\n" for t in lines)
    head = f" {heading}" if heading else ""
    return (f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
            f"@@ -{start},0 +{start},{len(lines)} @@{head}\n{body}")


def dense_tokens(lines: int, width: int, token: str = ";") -> bytes:
    """``lines`` added lines of ``width`` tokens each (30 MB: 7,500 lines of 4,000)."""
    return patch_mail(added_file([token * width] * lines))


def nested_c(depth: int, kind: str) -> str:
    """C nested ``depth`` levels deep: blocks, parentheses, or if-chains."""
    if kind == "blocks":
        return "int f(void)\n" + "{\n" * depth + "x++;\n" + "}\n" * depth
    if kind == "parens":
        return "int f(void)\n{\n\treturn " + "(" * depth + "1" + ")" * depth + ";\n}\n"
    return "int f(int x)\n{\n" + "".join("\t" * 1 + "if (x) {\n" for _ in range(depth)) \
        + "x++;\n" + "}\n" * depth + "}\n"


def deep_nesting(depth: int, kind: str = "blocks") -> bytes:
    return patch_mail(added_file(nested_c(depth, kind).splitlines()))


def many_hunks(hunks: int, heading: str = "static void frob(struct page *page)") -> bytes:
    """``hunks`` one-line hunks ten lines apart, each adding a line with digits inside
    a function (``page + N``: what MEM001 reads)."""
    out = ["diff --git a/mm/x.c b/mm/x.c", "--- a/mm/x.c", "+++ b/mm/x.c"]
    for i in range(hunks):
        old = 10 * i + 5
        out.append(f"@@ -{old},0 +{old + i + 1},1 @@ {heading}")
        out.append(f"+\tpage = page + {i % 7 + 2};")
    return patch_mail("\n".join(out) + "\n")


def many_locks(regions: int, nested: bool = True) -> bytes:
    """A function adding ``regions`` lock regions: nested (each ``spin_lock`` inside the
    one before, released in reverse order) or one after the other."""
    body: list[str] = []
    if nested:
        body.extend(f"\tspin_lock(&zone{i}->lock);" for i in range(regions))
        body.append("\tx++;")
        body.extend(f"\tspin_unlock(&zone{i}->lock);" for i in reversed(range(regions)))
    else:
        for i in range(regions):
            body += [f"\tspin_lock(&zone{i}->lock);", f"\tif (!zone{i}->p)",
                     f"\t\tzone{i}->p = p;", f"\tspin_unlock(&zone{i}->lock);"]
    lines = ["static void frob(struct page *p)", "{", *body, "}"]
    return patch_mail(added_file(lines))


def rewritten_block(lines: int) -> bytes:
    """One hunk removing ``lines`` lines and adding ``lines`` others, half of each a
    closing brace: a function rewritten whole (difflib's worst case: every ``}`` of
    one side equals every one of the other)."""
    body = [f"-\t{t}" for i in range(lines // 2) for t in ("}", f"old{i}();")]
    body += [f"+\t{t}" for i in range(lines // 2) for t in ("}", f"new{i}();")]
    n = lines // 2 * 2
    diff = ("diff --git a/mm/x.c b/mm/x.c\n--- a/mm/x.c\n+++ b/mm/x.c\n"
            f"@@ -10,{n} +10,{n} @@ static void frob(void)\n" + "\n".join(body) + "\n")
    return patch_mail(diff)


def address_list(n: int, lists_every: int = 0, start: int = 0) -> str:
    """``n`` distinct addresses for a To/Cc header (one per line, folded), every
    ``lists_every``-th one a mailing list: the shape of a mail Cc'd to the world."""
    return ",\n ".join(
        f"list{i}@vger.kernel.org" if lists_every and i % lists_every == 0
        else f"Person Number {i} <p{i}@example.org>" for i in range(start, start + n))


def huge_cc(addresses: int) -> bytes:
    """A small patch Cc'd to ``addresses`` addresses, every ninth a list."""
    lines = ["int f(int x)", "{", "\tif (x) {", "\t\tx++;", "\t}", "}"]
    return patch_mail(added_file(lines), headers=f"Cc: {address_list(addresses, 9)}\n")


def nested_mime(depth: int, subject: str = "[PATCH 1/2] deep") -> bytes:
    """A patch mail whose MIME parts are nested ``depth`` multiparts deep (the email
    package's parser recurses once per level)."""
    out = [f"From: Ada <ada@example.org>\nSubject: {subject}\n"
           f"Message-ID: <deep{depth}@example.org>\n".encode()]
    out.extend(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i)
               for i in range(depth))
    out.append(b"Content-Type: text/plain\n\nhello\n")
    out.extend(b"--b%d--\n" % i for i in reversed(range(depth)))
    return b"".join(out)


SHAPES = {
    "dense": lambda n: dense_tokens(max(1, n // 100), 400),
    "deep": lambda n: deep_nesting(n),
    "hunks": many_hunks,
    "locks": many_locks,
    "lock-sequence": lambda n: many_locks(n, nested=False),
    "rewrite": rewritten_block,
    "cc": huge_cc,
    "mime": nested_mime,
}
"""Each shape by name, at a size ``n`` (about ``n`` lines, regions, hunks or addresses)."""
