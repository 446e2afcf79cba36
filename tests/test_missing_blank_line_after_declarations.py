"""STY012 missing-blank-line-after-declarations, beyond its rule examples: where the
finding sits, the code the patch does not write or did not glue, a hunk that starts
inside a struct, declaration macros and comments."""

from __future__ import annotations

from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.fetch.local import RawMessage
from reviewbot.pipeline import review_messages
from reviewbot.ruleset import load_rules

RULE = next(r for r in load_rules() if r.id == "STY012")
PARSER = CParser()


def lines(diff: str, subject: str = "[PATCH] frob: do it", message: str = "Do it.") -> list[int]:
    head = ["From: A <a@example.org>", f"Subject: {subject}",
            "Date: Thu, 01 Jan 2026 00:00:00 +0000", "Message-ID: <p1@example.org>"]
    text = "\n".join([*head, "", message, "", "Signed-off-by: A <a@example.org>", "---",
                      diff.strip("\n"), "-- ", "2.43.0", ""])
    result = review_messages([RawMessage(text.encode(), subject)], Settings(),
                             rules=[RULE], parser=PARSER)
    assert all(f.rule == "STY012" for f in result.findings)
    return [f.line for f in result.findings]


# the header of a diff that edits drivers/frob.c (a hunk follows)
EDIT = """
diff --git a/drivers/frob.c b/drivers/frob.c
index 1111111..2222222 100644
--- a/drivers/frob.c
+++ b/drivers/frob.c
"""


def new_file(body: str) -> str:
    rows = body.strip("\n").split("\n")
    return "\n".join([
        "diff --git a/drivers/frob.c b/drivers/frob.c", "new file mode 100644",
        "index 0000000..2222222", "--- /dev/null", "+++ b/drivers/frob.c",
        f"@@ -0,0 +1,{len(rows)} @@", *("+" + r for r in rows)])


def test_new_function_flags_the_first_statement_of_each_block() -> None:
    diff = new_file("""
static int frob(struct frob *f)
{
	struct frob_ctx *ctx = f->ctx; /* the context */
	LIST_HEAD(done);
	if (!ctx)
		return -EINVAL;
	if (f->busy) {
		unsigned long flags;
		spin_lock_irqsave(&f->lock, flags);
		f->busy = false;
		spin_unlock_irqrestore(&f->lock, flags);
	}
	return 0;
}
""")
    assert lines(diff) == [5, 9]


def test_a_declaration_over_several_lines_is_one_declaration() -> None:
    diff = new_file("""
static int frob(struct frob *f)
{
	int ret = frob_prepare(f,
			       FROB_FAST);
	if (ret)
		return ret;
	struct frob_ctx ctx = {
		.f = f,
	};

	return frob_run(&ctx);
}
""")
    assert lines(diff) == [5]


def test_blank_line_comment_label_and_preprocessor_are_quiet() -> None:
    diff = new_file("""
static int frob(struct frob *f)
{
	int ret;

	ret = frob_start(f);
	return ret;
}

static int frob2(struct frob *f)
{
	int ret = 0;
	/* nothing to do yet */
	return ret;
}

static int frob3(struct frob *f)
{
	int ret = 0;
out:
	return ret;
}

static int frob4(struct frob *f)
{
	int ret = 0;
#ifdef CONFIG_FROB
	ret = frob_debug(f);
#endif
	return ret;
}
""")
    assert lines(diff) == []


def test_declarations_after_statements_are_quiet() -> None:
    diff = new_file("""
static int frob(struct frob *f, size_t len)
{
	int ret;

	ret = frob_check(f);
	if (ret)
		return ret;
	u8 *buf __free(kfree) = kmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < len; i++)
		buf[i] = 0;
	return 0;
}
""")
    assert lines(diff) == []


def test_a_hunk_inside_a_struct_is_not_a_function_body() -> None:
    diff = EDIT + """\
@@ -17,6 +17,11 @@ struct frob_iter {
 	void			*data_buf;
 	sector_t		seed;
 	unsigned int		data_size;
+	unsigned int		remaining;
+	union {
+		u64		crc64;
+		__be16		t10pi;
+	};
 	bool			done;
 };
 
"""
    assert lines(diff) == []


def test_glued_by_the_patch_or_already_glued() -> None:
    # a statement inserted between the declarations and their blank line: on it
    inserted = EDIT + """\
@@ -10,5 +10,6 @@ static int frob(struct frob *f)
 {
 	int ret;
+	might_sleep();
 
 	ret = frob_start(f);
 	return ret;
"""
    assert lines(inserted) == [12]
    # a first declaration over code that had none: on the declaration
    first = EDIT + """\
@@ -10,4 +10,5 @@ static void frob(struct frob *f)
 {
+	u32 val = readl(f->base);
 	writel(0, f->base);
 }
 
"""
    assert lines(first) == [11]
    # the blank line the code had, removed by the patch with a new declaration
    removed = EDIT + """\
@@ -10,6 +10,6 @@ static void frob(struct frob *f)
 {
 	u32 val = readl(f->base);
-
+	u32 mask = f->mask;
 	writel(val, f->base);
 }
 
"""
    assert lines(removed) == [12]
    # code that already had no blank line: a declaration added to it is not the patch's
    # doing, nor a statement added after the one that was glued
    glued = EDIT + """\
@@ -10,5 +10,7 @@ static void frob(struct frob *f)
 {
 	u32 val = readl(f->base);
+	u32 mask = f->mask;
 	writel(val, f->base);
+	writel(mask, f->base + 4);
 }
 
"""
    assert lines(glued) == []


def test_reverts_and_moved_code_are_quiet() -> None:
    body = """
static int frob(struct frob *f)
{
	int ret;
	ret = frob_start(f);
	return ret;
}
"""
    assert lines(new_file(body), subject='[PATCH] Revert "frob: add frob()"',
                 message='This reverts commit 0123456789abcdef0123456789abcdef01234567.') == []
    rows = body.strip("\n").split("\n")
    moved = "\n".join([
        "diff --git a/drivers/frob.c b/drivers/frob.c",
        "index 1111111..2222222 100644", "--- a/drivers/frob.c", "+++ b/drivers/frob.c",
        f"@@ -1,{len(rows) + 1} +1,1 @@", *("-" + r for r in rows), " ",
        "diff --git a/drivers/frob_core.c b/drivers/frob_core.c",
        "index 3333333..4444444 100644", "--- a/drivers/frob_core.c",
        "+++ b/drivers/frob_core.c",
        f"@@ -1,1 +1,{len(rows) + 1} @@", " ", *("+" + r for r in rows)])
    assert lines(moved) == []
    assert lines(new_file(body)) == [4]
