"""The semantic rules MEM001, CON001, CON002: their checks, params and the real corpus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from reviewbot.rules.mm.struct_page_magic_offset.check import int_literal

from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.engine.schema import Rule
from reviewbot.fetch.local import RawMessage, read_source
from reviewbot.findings import Finding
from reviewbot.pipeline import review_messages
from reviewbot.ruleset import load_rules

IDS = ("MEM001", "CON001", "CON002")
RULES = [r for r in load_rules() if r.id in IDS]
PARSER = CParser()
SEED = "01-hvo-v4-09-remove-fake-head.patch"


def review(raw: Sequence[RawMessage], rules: Sequence[Rule] = RULES) -> list[Finding]:
    rv = review_messages(raw, Settings(), rules=rules, parser=PARSER)
    return [f for s in rv.series for p in s.patches for f in p.findings]


def review_text(text: str, rules: Sequence[Rule] = RULES) -> list[Finding]:
    return review([RawMessage(text.encode(), "test")], rules)


def patch_email(path: str, code: str) -> str:
    lines = code.strip("\n").split("\n")
    return "\n".join([
        "From: A <a@example.org>", "Subject: [PATCH] test", "Message-ID: <t@example.org>",
        "Date: Thu, 01 Jan 2026 00:00:00 +0000", "", "test", "",
        "Signed-off-by: A <a@example.org>", "---", f"diff --git a/{path} b/{path}",
        "new file mode 100644", "index 0000000..1111111", "--- /dev/null", f"+++ b/{path}",
        f"@@ -0,0 +1,{len(lines)} @@", *("+" + x for x in lines), "-- ", "2.43.0", ""])


def rule(rid: str) -> Rule:
    return next(r for r in RULES if r.id == rid)


@pytest.mark.parametrize(("text", "value"), [("4", 4), ("0x10", 16), ("8UL", 8), ("010", 8),
                                             ("0", 0), ("1.5", None), ("4.0f", None)])
def test_int_literal(text: str, value: int | None) -> None:
    tree = PARSER.parse(f"int x = {text};")
    node = tree.root_node
    while node.type != "number_literal" and node.named_children:
        node = node.named_children[-1]
    assert int_literal(node) == value


def test_seed_patch_gets_the_three_comments(corpus: Path) -> None:
    found = review(read_source(str(corpus / SEED)))
    got = {(f.rule, f.file, f.line) for f in found}
    assert got == {("MEM001", "mm/hugetlb_vmemmap.c", 249),
                   ("CON001", "mm/hugetlb_vmemmap.c", 516),
                   ("CON002", "mm/hugetlb_vmemmap.c", 528)}
    by_rule = {f.rule: f for f in found}
    assert by_rule["MEM001"].reply.startswith("If we can eliminate the hard-coded number 4")
    assert "274fe92de2c4" in by_rule["MEM001"].reply
    assert by_rule["CON001"].reply.startswith(
        "READ_ONCE() for access of NODE_DATA(node)->vmemmap_tails[idx].")
    assert by_rule["CON001"].reply.endswith(" And WRITE_ONCE() for the store under hugetlb_lock.")
    assert by_rule["CON002"].reply == ("hugetlb_lock is considered a contended lock, better "
                                       "not to abuse it. cmpxchg() is enough in this case.")


def test_meminit_twin_in_the_seed_is_quiet(corpus: Path) -> None:
    found = review(read_source(str(corpus / SEED)), [rule("CON001")])
    assert [f.file for f in found] == ["mm/hugetlb_vmemmap.c"]
    assert "pfn = " in (corpus / SEED).read_text().split("mm/sparse-vmemmap.c")[-1]


CROSS_FILE = """\
From: A <a@example.org>
Subject: [PATCH] t
Message-ID: <w@example.org>
Date: Thu, 01 Jan 2026 00:00:00 +0000

t
---
diff --git a/mm/a.c b/mm/a.c
new file mode 100644
--- /dev/null
+++ b/mm/a.c
@@ -0,0 +1,5 @@
+static void publish(int node, unsigned int idx, unsigned long pfn)
+{
+	if (cmpxchg(&NODE_DATA(node)->tails[idx], 0, pfn))
+		free_tail(pfn);
+}
diff --git a/mm/b.c b/mm/b.c
new file mode 100644
--- /dev/null
+++ b/mm/b.c
@@ -0,0 +1,4 @@
+static __meminit unsigned long peek(int nid, unsigned int i)
+{
+	return NODE_DATA(nid)->tails[i];
+}
"""


def test_con001_evidence_crosses_files_and_meminit_is_quiet() -> None:
    assert review_text(CROSS_FILE, [rule("CON001")]) == []
    found = review_text(CROSS_FILE.replace("static __meminit", "static"), [rule("CON001")])
    assert [(f.file, f.line) for f in found] == [("mm/b.c", 3)]
    assert found[0].message == ("plain lockless read of NODE_DATA(nid)->tails[i], which is "
                                "written with cmpxchg() in publish() (mm/a.c): use READ_ONCE()")
    assert found[0].reply == "READ_ONCE() for access of NODE_DATA(nid)->tails[i]."


def test_fixed_revision_is_quiet(corpus: Path) -> None:
    """v7 of the same patch uses READ_ONCE() and cmpxchg(): none of the three fires."""
    assert review(read_source(str(corpus / "35-hvo-v7-12-remove-fake-head.patch"))) == []


def test_negative_patches_get_no_findings(corpus: Path) -> None:
    manifest = json.loads((corpus / "manifest.json").read_text())
    negatives = sorted({e["patch_file"] for e in manifest if e["category"] == "negative"})
    assert negatives
    for name in negatives:
        assert review(read_source(str(corpus / name))) == [], name


def test_whole_corpus_findings_are_the_manifest_ones(corpus: Path) -> None:
    """Every finding of these rules on the corpus matches a manifest comment."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    wanted = {(e["patch_file"], e["file"], line, e["category"])
              for e in manifest for line in e.get("lines", [])}
    for patch in sorted(corpus.glob("*.patch")):
        for f in review(read_source(str(patch))):
            assert (patch.name, f.file, f.line, f.cls) in wanted, (patch.name, f)


def test_mem001_offsets() -> None:
    code = """
static void f(struct page *page, struct page **pages, struct folio *folio)
{
	struct page *tails[4];

	a(page + 2);
	a(2 + page);
	a(page - 3);
	a(&page[5]);
	a(tails[3]);
	a(pages[3]);
	a(tails[0] + 3);
	a(&folio->page + 1);
	a(folio_page(folio, 0) + 7);
	a(vmemmap + 9);
	a((struct page *)addr + 0x40);
	a((struct page **)addr + 2);
}
"""
    found = review_text(patch_email("mm/a.c", code), [rule("MEM001")])
    lines = code.strip("\n").split("\n")
    flagged = sorted(lines[f.line - 1].strip() for f in found)
    assert flagged == sorted(["a(page + 2);", "a(2 + page);", "a(page - 3);", "a(&page[5]);",
                              "a(tails[0] + 3);", "a(folio_page(folio, 0) + 7);",
                              "a(vmemmap + 9);", "a((struct page *)addr + 0x40);"])
    values = {lines[f.line - 1].strip(): f.message for f in found}
    assert "hard-coded offset 0x40" in values["a((struct page *)addr + 0x40);"]


def test_mem001_only_added_lines() -> None:
    diff = """\
From: A <a@example.org>
Subject: [PATCH] t
Message-ID: <u@example.org>
Date: Thu, 01 Jan 2026 00:00:00 +0000

t
---
diff --git a/mm/a.c b/mm/a.c
--- a/mm/a.c
+++ b/mm/a.c
@@ -10,3 +10,4 @@ static void f(struct page *head)
 {
 	clear(head + 4);
+	clear(head + 5);
 }
"""
    found = review_text(diff, [rule("MEM001")])
    assert [(f.line, f.text) for f in found] == [(12, "\tclear(head + 5);")]


def test_con001_double_checked_read_only_before_the_locked_store() -> None:
    code = """
static void f(struct frob *f)
{
	if (f->ready)
		return;
	spin_lock(&f->lock);
	if (!f->ready)
		f->ready = 1;
	spin_unlock(&f->lock);
	use(f->ready);
}
"""
    found = review_text(patch_email("mm/a.c", code), [rule("CON001")])
    assert [f.line for f in found] == [3]
    assert found[0].message == ("plain lockless read of f->ready, which is written under "
                                "f->lock in f(): use READ_ONCE()")


# mm/vmscan.c's shrinker_register() (6.12) in outline: the flag is read on an object
# not yet published, then set under the lock, with no second look under it
NOT_RECHECKED = """
void shrinker_register(struct shrinker *shrinker)
{
	if (unlikely(!(shrinker->flags & SHRINKER_ALLOCATED))) {
		pr_warn("Must use shrinker_alloc() to dynamically allocate the shrinker");
		return;
	}

	mutex_lock(&shrinker_mutex);
	list_add_tail_rcu(&shrinker->list, &shrinker_list);
	shrinker->flags |= SHRINKER_REGISTERED;
	shrinker_debugfs_add(shrinker);
	mutex_unlock(&shrinker_mutex);
}
"""


def test_con001_read_lock_store_without_a_recheck_is_quiet() -> None:
    # no second read under the lock: the function treats the value as stable (an object
    # it owns, a lock its caller holds), not as one another CPU may have just changed
    assert review_text(patch_email("mm/shrinker.c", NOT_RECHECKED), [rule("CON001")]) == []
    # the same function, checking again under the lock: the double-checked pattern
    rechecked = NOT_RECHECKED.replace(
        "\tshrinker->flags |= SHRINKER_REGISTERED;",
        "\tif (!(shrinker->flags & SHRINKER_ALLOCATED))\n\t\tgoto out;\n"
        "\tshrinker->flags |= SHRINKER_REGISTERED;")
    found = review_text(patch_email("mm/shrinker.c", rechecked), [rule("CON001")])
    assert [f.line for f in found] == [3]


def test_con001_a_use_under_the_lock_is_not_a_recheck() -> None:
    # fs/erofs/zdata.c's z_erofs_pcluster_begin() and fs/f2fs/segment.c's
    # f2fs_exist_trim_candidates() (6.12) in outline: fields of the caller's own
    # structure, read before the lock and used under it (an argument, a loop over it,
    # the right-hand side of the store), never tested again there
    code = """
static int frontend_begin(struct frontend *fe, struct cp_control *cpc)
{
	__u64 trim_start = cpc->trim_start;

	if (!fe->head)
		return -EINVAL;
	mutex_lock(&fe->pcl->lock);
	if (!cmpxchg(&fe->pcl->next, NULL, fe->head))
		fe->head = fe->pcl;
	mutex_unlock(&fe->pcl->lock);

	down_write(&cpc->sentry_lock);
	for (; cpc->trim_start <= cpc->trim_end; cpc->trim_start++)
		if (add_discard_addrs(cpc))
			break;
	cpc->len = min_t(u64, cpc->len, cpc->trim_start);
	up_write(&cpc->sentry_lock);
	cpc->trim_start = trim_start;
	return 0;
}
"""
    assert review_text(patch_email("fs/erofs/zdata.c", code), [rule("CON001")]) == []
    # tested again in an if (or a ?:) under the lock: the double-checked pattern
    tested = code.replace("\tif (!cmpxchg(&fe->pcl->next, NULL, fe->head))",
                          "\tif (fe->head != fe->pcl)")
    found = review_text(patch_email("fs/erofs/zdata.c", tested), [rule("CON001")])
    assert [(f.line, f.message.split(", which")[0]) for f in found] == [
        (5, "plain lockless read of fe->head")]


def test_con001_recheck_under_another_lock_region_is_not_the_pattern() -> None:
    code = """
static void f(struct frob *f)
{
	if (f->ready)
		return;
	spin_lock(&f->lock);
	if (f->ready)
		pr_info("ready");
	spin_unlock(&f->lock);
	spin_lock(&f->other);
	f->ready = 1;
	spin_unlock(&f->other);
}
"""
    assert review_text(patch_email("mm/a.c", code), [rule("CON001")]) == []


def test_con001_a_writer_with_write_once_is_the_updater() -> None:
    code = """
static void bump(struct frob *f)
{
	WRITE_ONCE(f->count, f->count + 1);
}

static int peek(struct frob *f)
{
	return f->count;
}
"""
    found = review_text(patch_email("mm/a.c", code), [rule("CON001")])
    # bump() reads its own location as the serialised updater; peek() may run under the
    # updater's lock (it takes none itself): no evidence it is lockless
    assert found == []


def test_con001_context_only_store_in_another_function_is_not_evidence() -> None:
    diff = """\
From: A <a@example.org>
Subject: [PATCH] t
Message-ID: <v@example.org>
Date: Thu, 01 Jan 2026 00:00:00 +0000

t
---
diff --git a/mm/a.c b/mm/a.c
--- a/mm/a.c
+++ b/mm/a.c
@@ -1,10 +1,11 @@
 static void set(struct frob *f)
 {
 	cmpxchg(&f->ptr, NULL, new);
 }
 
 static void get(struct frob *f)
 {
+	use(f->ptr);
 	mutex_lock(&f->lock);
 	mutex_unlock(&f->lock);
 }
"""
    assert review_text(diff, [rule("CON001")]) == []
    added = diff.replace(" static void set(struct frob *f)",
                         "+static void set(struct frob *f)").replace("@@ -1,10 +1,11 @@",
                                                                    "@@ -2,9 +1,11 @@")
    found = review_text(added, [rule("CON001")])
    assert [(f.line, f.message.split(", which")[0]) for f in found] == [
        (8, "plain lockless read of f->ptr")]


def test_con002_wording_for_other_locks_is_a_question() -> None:
    code = """
static void f(struct frob *f, void *buf)
{
	spin_lock(&f->lock);
	if (!f->buf)
		f->buf = buf;
	spin_unlock(&f->lock);
}
"""
    found = review_text(patch_email("drivers/a.c", code), [rule("CON002")])
    assert [f.line for f in found] == [3]
    assert found[0].reply == ("Does this need f->lock? It only tests and sets f->buf. "
                              "cmpxchg() is enough in this case.")
    assert found[0].message == "f->lock taken only to test and set f->buf: cmpxchg() is enough"


@pytest.mark.parametrize("body", [
    "if (!f->buf)\n\t\tf->buf = buf;\n\tf->n++;",          # a counter too
    "if (!f->buf)\n\t\tf->buf = alloc(buf);",              # a call
    "if (!f->buf)\n\t\tf->other = buf;",                   # stores another location
    "if (!f->buf) {\n\t\tf->buf = buf;\n\t\treturn;\n\t}",  # control flow
    "if (!f->buf)\n\t\tf->buf = f->spare;",                # reads a second location
    "f->buf = buf;",                                       # no test
])
def test_con002_real_work_stays_silent(body: str) -> None:
    code = f"""
static void f(struct frob *f, void *buf)
{{
	spin_lock(&zone->lock);
	{body}
	spin_unlock(&zone->lock);
}}
"""
    assert review_text(patch_email("mm/a.c", code), [rule("CON002")]) == []


def test_con002_contended_lock_list_matches() -> None:
    for lock, shown in (("&zone->lock", "zone->lock"), ("&page_zone(page)->lock",
                                                        "page_zone(page)->lock"),
                        ("&lruvec->lru_lock", "lruvec->lru_lock"),
                        ("&css_set_lock", "css_set_lock"),
                        ("&mm->page_table_lock", "mm->page_table_lock")):
        code = f"""
static void f(struct frob *f, void *buf)
{{
	spin_lock({lock});
	if (!f->buf)
		f->buf = buf;
	spin_unlock({lock});
}}
"""
        found = review_text(patch_email("mm/a.c", code), [rule("CON002")])
        assert len(found) == 1, lock
        assert found[0].reply.startswith(f"{shown} is considered a contended lock"), lock


@pytest.mark.parametrize(("test", "then", "other", "flagged"), [
    ("!f->p", "f->p = v;", "", True),
    ("f->p == NULL", "f->p = v;", "", True),
    ("NULL == f->p", "f->p = v;", "", True),
    ("f->p", "t = f->p;", "f->p = v;", True),
    ("f->p != OLD", "t = f->p;", "f->p = v;", True),
    ("!(f->p == OLD)", "t = f->p;", "f->p = v;", True),
    ("f->p != OLD", "f->p = v;", "", False),        # store on inequality: not one cmpxchg
    ("f->p", "f->p = v;", "", False),
    ("!f->p", "f->p = v;", "f->p = w;", False),     # two stores
    ("READ_ONCE(f->p) == OLD", "WRITE_ONCE(f->p, v);", "", True),
])
def test_con002_store_must_happen_on_equality(test: str, then: str, other: str,
                                               flagged: bool) -> None:
    alt = f"\n\telse\n\t\t{other}" if other else ""
    code = f"""
static void *f(struct frob *f, void *v, void *w)
{{
	void *t = NULL;

	spin_lock(&f->lock);
	if ({test})
		{then}{alt}
	spin_unlock(&f->lock);
	return t;
}}
"""
    found = review_text(patch_email("mm/a.c", code), [rule("CON002")])
    assert [f.line for f in found] == ([5] if flagged else [])


def test_con001_read_then_cmpxchg_is_checked_again_read_then_xchg_is_not() -> None:
    # fs/nfs/nfs3proc.c's nfs3_read_done() (6.12): the compare of cmpxchg() is the
    # re-check of the plain test before it
    code = """
static int read_done(struct rpc_task *task, struct nfs_server *server, u32 replen)
{
	if (task->tk_status >= 0 && !server->read_hdrsize)
		cmpxchg(&server->read_hdrsize, 0, replen);
	return 0;
}
"""
    found = review_text(patch_email("fs/nfs/nfs3proc.c", code), [rule("CON001")])
    assert [(f.line, f.message) for f in found] == [
        (3, "plain lockless read of server->read_hdrsize, which is written with cmpxchg() "
            "in read_done(): use READ_ONCE()")]
    # kernel/bpf/ringbuf.c's bpf_ringbuf_commit() (6.12): xchg() stores without
    # comparing; the producer reads its own record's header
    code = """
static void ringbuf_commit(struct bpf_ringbuf_hdr *hdr, bool discard)
{
	u32 new_len = hdr->len ^ BPF_RINGBUF_BUSY_BIT;

	if (discard)
		new_len |= BPF_RINGBUF_DISCARD_BIT;
	xchg(&hdr->len, new_len);
}
"""
    assert review_text(patch_email("kernel/bpf/ringbuf.c", code), [rule("CON001")]) == []


def test_con001_subsystem_assertions_are_not_data_reads() -> None:
    # fs/btrfs/backref.c's iterate_extent_inodes() (6.12) in outline: ASSERT() of the
    # caller's context, then a locked, re-checked store of it
    code = """
static int iterate(struct walk_ctx *ctx, struct btrfs_fs_info *fs_info)
{
	ASSERT(ctx->trans == NULL);
	DBG_BUGON(ctx->trans);
	down_read(&fs_info->commit_root_sem);
	if (!ctx->trans)
		ctx->trans = attach(fs_info);
	up_read(&fs_info->commit_root_sem);
	return 0;
}
"""
    assert review_text(patch_email("fs/btrfs/backref.c", code), [rule("CON001")]) == []
    found = review_text(patch_email("fs/btrfs/backref.c", code.replace(
        "\tDBG_BUGON(ctx->trans);", "\tuse(ctx->trans);")), [rule("CON001")])
    assert [f.line for f in found] == [4]


def test_con001_a_value_only_logged_is_not_a_data_read() -> None:
    # fs/ocfs2/dlmfs/userdlm.c's user_ast() (6.12) in outline: the lock's levels printed
    # by mlog() before the locked, re-checked store; a log line is diagnostic output
    code = """
static void lock_ast(struct user_lock_res *lockres, int level)
{
	mlog(ML_BASTS, "AST fired for lockres %.*s, level %d => %d\\n",
	     lockres->l_namelen, lockres->l_name, lockres->l_level,
	     lockres->l_requested);
	cifs_dbg(FYI, "%s: level=%d\\n", __func__, lockres->l_level);
	spin_lock(&lockres->l_lock);
	if (lockres->l_level != level)
		lockres->l_level = level;
	spin_unlock(&lockres->l_lock);
}
"""
    assert review_text(patch_email("fs/ocfs2/dlmfs/userdlm.c", code), [rule("CON001")]) == []
    # a formatted value the code goes on to use is still read: the test after the print
    used = code.replace("\tcifs_dbg(FYI,", "\tif (lockres->l_level == level)\n\t\treturn;\n"
                        "\tcifs_dbg(FYI,")
    found = review_text(patch_email("fs/ocfs2/dlmfs/userdlm.c", used), [rule("CON001")])
    assert [f.line for f in found] == [6]
    # so is one whose formatted string is used (not a statement of its own), and a call
    # without a format is not a log line
    for line in ("\tlen = snprintf(buf, sizeof(buf), \"%d\", lockres->l_level);",
                 "\tnote_level(lockres->l_level);", "\tput(\"level\", lockres->l_level);"):
        kept = code.replace("\tcifs_dbg(FYI, \"%s: level=%d\\n\", __func__, lockres->l_level);",
                            line)
        assert kept != code
        found = review_text(patch_email("fs/ocfs2/dlmfs/userdlm.c", kept), [rule("CON001")])
        assert [f.line for f in found] == [6], line
    # a location whose accesses the patch marks elsewhere: its authors mark even a
    # logged read of it (net/mptcp/pm.c's pr_debug() of READ_ONCE(pm->accept_subflow))
    marked = code + """
static int lock_level(struct user_lock_res *lockres)
{
	return READ_ONCE(lockres->l_level);
}
"""
    found = review_text(patch_email("fs/ocfs2/dlmfs/userdlm.c", marked), [rule("CON001")])
    assert [f.line for f in found] == [4]
