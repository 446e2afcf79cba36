"""The blank-line rules (STY002-STY007) and SER001 change-belongs-in-other-patch, beyond
their examples: the layout re-diff, commit-message intent, removed lines, series without
the earlier patch, supersession, and the real HVO v4 series."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.diff.layout import (
    announces_layout,
    edits,
    layout_changes,
    same_tokens,
    squash,
)
from reviewbot.diff.parse import parse_diff
from reviewbot.fetch.local import RawMessage
from reviewbot.findings import Finding
from reviewbot.pipeline import review_messages
from reviewbot.ruleset import load_rules

RULES = {r.id: r for r in load_rules()}
PARSER = CParser()
BLANK = ("STY002", "STY003", "STY004", "STY005", "STY006", "STY007")


def mail(subject: str, diff: str, n: int = 1, root: str | None = None,
         message: str = "Make frob faster.") -> RawMessage:
    head = ["From: A <a@example.org>", f"Subject: {subject}",
            "Date: Thu, 01 Jan 2026 00:00:00 +0000", f"Message-ID: <p{n}@example.org>"]
    if root:
        head += [f"In-Reply-To: <{root}>", f"References: <{root}>"]
    text = "\n".join([*head, "", message, "", "Signed-off-by: A <a@example.org>", "---",
                      diff.strip("\n"), "-- ", "2.43.0", ""])
    return RawMessage(text.encode(), subject)


def review(*mails: RawMessage, rules: tuple[str, ...] = (*BLANK, "SER001")) -> list[Finding]:
    result = review_messages(list(mails), Settings(), rules=[RULES[r] for r in rules],
                             parser=PARSER)
    return list(result.findings)


# A hunk that only re-aligns one line, far from the patch's real change.
REALIGN = """\
diff --git a/drivers/frob.c b/drivers/frob.c
index 1111111..2222222 100644
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -10,7 +10,7 @@ static int frob_setup(struct frob *f)
 	int ret;
 
 	f->base = 0;
-	f->size = FROB_SIZE;
+	f->size	= FROB_SIZE;
 
 	ret = frob_hw_init(f);
 	if (ret)
@@ -40,6 +40,7 @@ static void frob_stop(struct frob *f)
 {
 	frob_hw_stop(f);
 	f->running = false;
+	f->stopped = true;
 }
 
 static int frob_status(struct frob *f)
"""


def test_squash_and_tokens() -> None:
    assert squash("\tx\t+= y;") == squash("x += y;") == "x+=y;"
    assert squash("unsigned  long x") == "unsigned long x"
    assert same_tokens(["foo(a,", "    b);"], ["foo(a, b);"])
    assert not same_tokens(['pr_info("a  b");'], ['pr_info("a b");'])  # a string changed
    assert not same_tokens(["foo", "bar"], ["foobar"])  # two words joined


def test_layout_rediff_does_not_depend_on_the_diff_alignment() -> None:
    # difflib put the re-aligned line before the blank line git would have removed.
    diff = """\
diff --git a/a.c b/a.c
--- a/a.c
+++ b/a.c
@@ -1,7 +1,6 @@
 	start	= base;
 	end	= start + size;
+	start	+= RESERVE;
 
-	start += RESERVE;
-
-	return remap(start, end);
+	return remap(start, end, NULL);
 }
"""
    hunk = parse_diff(diff, 1)[0].hunks[0]
    kinds = [e.kind for e in edits(hunk)]
    assert "code" in kinds and "layout" in kinds
    (change,) = layout_changes(hunk, edits(hunk))
    assert [ln.text for ln in change.pre] == ["", "\tstart += RESERVE;"]
    assert [ln.text for ln in change.post] == ["\tstart\t+= RESERVE;"]
    assert change.before is not None and change.before.text == "\tend\t= start + size;"
    anchor = change.anchor()
    assert anchor is not None and anchor.kind == "+" and anchor.new == 3
    assert not change.whole_hunk and not change.touches_code


def test_unrelated_realignment_is_asked_about() -> None:
    (f,) = review(mail("[PATCH] frob: mark stopped", REALIGN))
    assert (f.rule, f.line, f.cls) == ("STY006", 13, "blank_line")
    assert f.reply == "Unrelated whitespace change?"


@pytest.mark.parametrize("message", [
    "Also fix the whitespace in frob_setup().",
    "Align the assignments (coding style).",
    "While at it, fix the indentation.",
])
def test_announced_layout_changes_are_not_unrelated(message: str) -> None:
    assert review(mail("[PATCH] frob: mark stopped", REALIGN, message=message)) == []


def test_announces_layout_reads_subject_and_message() -> None:
    patch = review_messages([mail("[PATCH] frob: fix whitespace", REALIGN)], Settings(),
                            rules=[], parser=PARSER).series[0].patches[0].patch
    assert announces_layout(patch)


def test_removed_blank_line_between_top_level_declarations_is_reported_on_the_old_side(
        ) -> None:
    """Gluing a declaration to the next one is unrelated wherever the patch's edits are."""
    diff = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -10,10 +10,9 @@ enum frob_limits {
 	FROB_LIMIT = 75,
 };
-
 /*
  * The setup.
  */
 static int frob_setup(struct frob *f)
 {
-	return frob_hw_init(f, 0);
+	return frob_hw_init(f, FROB_FAST);
 }
"""
    (f,) = review(mail("[PATCH] frob: init fast", diff))
    assert (f.side, f.line, f.text, f.reply) == ("old", 12, "", "Unrelated whitespace change?")


def test_removed_blank_line_inside_a_function_the_hunk_edits_is_quiet() -> None:
    """Tidying the paragraphs of a function the patch rewrites is part of the rewrite."""
    diff = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -10,9 +10,8 @@ static int frob_setup(struct frob *f)
 	int ret;
 
-	ret = frob_hw_init(f, 0);
+	ret = frob_hw_init(f, FROB_FAST);
 	if (ret)
 		return ret;
 	f->ready = true;
-
 	frob_count++;
 	return 0;
"""
    assert review(mail("[PATCH] frob: init fast", diff)) == []


def test_added_blank_line_that_paragraphs_added_code_is_quiet() -> None:
    """A blank line above a label whose statement the patch changes is the patch's own
    paragraphing; one between two paragraphs the patch does not touch is unrelated."""
    diff = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -10,7 +10,8 @@ static int frob_setup(struct frob *f)
-	frob_conf_update(f);
+	frob_conf_refresh(f);
 
 	ret = 0;
+
 out_finish:
 	frob_unlock(f);
 	return ret;
 }
"""
    (f,) = review(mail("[PATCH] frob: refresh the conf", diff))
    assert (f.rule, f.line) == ("STY007", 13)
    written = diff.replace(" \tfrob_unlock(f);\n", "-\tfrob_unlock(f);\n+\tfrob_conf_end(f);\n")
    result = review_messages([mail("[PATCH] frob: refresh the conf", written)], Settings(),
                             rules=[RULES[r] for r in BLANK], parser=PARSER)
    assert result.series[0].patches[0].patch.skipped is None
    assert list(result.findings) == []


def test_a_removal_that_leaves_two_blank_lines() -> None:
    diff = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -20,10 +20,6 @@ static int frob_a(void)
 	return 0;
 }
 
-static void frob_b(void)
-{
-}
-
 
 static void frob_c(void)
 {
"""
    (f,) = review(mail("[PATCH] frob: drop frob_b()", diff))
    assert (f.side, f.line, f.message) == ("old", 23, "multiple blank lines")


def test_blank_line_next_to_a_comment_or_a_return_is_quiet() -> None:
    diff = """\
diff --git a/drivers/frob.c b/drivers/frob.c
new file mode 100644
--- /dev/null
+++ b/drivers/frob.c
@@ -0,0 +1,12 @@
+static int frob(struct frob *f)
+{
+	int ret;
+
+	ret = frob_hw(f);
+
+	/* the hardware needs a moment */
+	udelay(10);
+	f->count = frob_count(f);
+
+	return ret;
+}
"""
    assert review(mail("[PATCH] frob: new", diff)) == []


SERIES_1 = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -10,6 +10,13 @@ static int frob_setup(struct frob *f)
 	int ret;
 
 	f->base = 0;
+	f->size = FROB_SIZE;
+
+	f->end = f->base + f->size;
+
+	ret = frob_hw_init(f);
+	if (ret)
+		return ret;
 
 	return 0;
 }
"""

SERIES_3 = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -11,9 +11,8 @@ static int frob_setup(struct frob *f)
 
 	f->base = 0;
 	f->size = FROB_SIZE;
-
-	f->end = f->base + f->size;
+	f->end	= f->base + f->size;
 
 	ret = frob_hw_init(f);
 	if (ret)
 		return ret;
@@ -50,6 +49,7 @@ static void frob_stop(struct frob *f)
 {
 	frob_hw_stop(f);
 	f->running = false;
+	f->stopped = true;
 }
 
 static int frob_status(struct frob *f)
"""

SERIES_2 = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -40,6 +40,11 @@ static int frob_probe(struct frob *f)
 	return 0;
 }
 
+static void frob_idle(struct frob *f)
+{
+	f->idle = true;
+}
+
 static void frob_stop(struct frob *f)
 {
 	frob_hw_stop(f);
"""


def _series(*which: int) -> list[RawMessage]:
    diffs = {1: SERIES_1, 2: SERIES_2, 3: SERIES_3}
    return [mail(f"[PATCH v2 {i}/3] frob: step {i}", diffs[i], i, "cover@example.org")
            for i in which]


def test_ser001_names_the_patch_that_added_the_lines() -> None:
    findings = review(*_series(1, 2, 3))
    (f,) = [f for f in findings if f.rule == "SER001"]
    assert (f.line, f.cls, f.text) == (14, "wrong_patch", "\tf->end\t= f->base + f->size;")
    assert f.reply == "Those two-line changes should go into patch 1."
    # supersedes the blank-line rules on the same line; nothing else is reported
    assert [(g.rule, g.line) for g in findings] == [("SER001", 14)]


def test_ser001_without_the_earlier_patch_asks_without_a_number() -> None:
    findings = review(*_series(3))
    (f,) = findings
    assert f.rule == "SER001" and "patch 1" not in f.reply
    assert f.reply.startswith("Unrelated whitespace change?")


def test_ser001_leaves_older_code_to_sty006() -> None:
    # patch 2 is present but did not add the lines; patch 1 (which did) is missing:
    # still unnumbered, because an earlier patch is missing.
    assert [f.rule for f in review(*_series(2, 3))] == ["SER001"]
    # every earlier patch present, none added the lines: STY006 asks, SER001 is quiet
    only_2 = [mail("[PATCH v2 1/2] frob: idle", SERIES_2, 1, "c2@example.org"),
              mail("[PATCH v2 2/2] frob: align", SERIES_3, 2, "c2@example.org")]
    (f,) = review(*only_2)
    assert (f.rule, f.line, f.reply) == ("STY006", 14, "Unrelated whitespace change?")


def test_ser001_alone_reports_only_with_a_number(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    mbox = tmp_path / "series.mbox"
    mbox.write_bytes(b"".join(b"From x Thu Jan  1 00:00:00 1970\n" + m.data + b"\n"
                              for m in _series(1, 2, 3)))
    code = main(["check", str(mbox), "--format", "json", "--select", "SER001"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    found = [(p["index"], f["rule"], f["line"]) for p in data["patches"] for f in p["findings"]]
    assert found == [(3, "SER001", 14)]


def test_hvo_v4_series(corpus: Path) -> None:
    """The real series: 08 and 09 of "[PATCHv4] mm: Eliminate fake head pages"."""
    data = (corpus / "hvo-v4-subset.mbox").read_bytes()
    from reviewbot.fetch.local import split_mbox

    findings = review_messages(split_mbox(data, "hvo"), Settings(),
                               rules=[RULES[r] for r in (*BLANK, "SER001")], parser=PARSER)
    got = {(pr.patch.index, f.rule, f.line, f.reply)
           for s in findings.series for pr in s.patches for f in pr.findings}
    assert got == {
        # (the blank line inserted in the struct at 8:38 sits above the fields the patch
        # renames: its own paragraphing, and no reviewer commented on it)
        (8, "STY003", 45, "One blank line is enough here."),
        (8, "STY002", 554, "Do not add a new line here."),  # A08-vmemmap-walk-blank-line
        (9, "SER001", 418, "Those two-line changes should go into patch 8."),  # A09
        (9, "STY002", 560, "Do not add a new line here."),  # A09-blank-line
    }


@pytest.mark.parametrize("name", ["08-neg-hugetlb-narrow-lock-area.patch",
                                  "14-neg-vmalloc-replace-bug-on.patch",
                                  "15-neg-mm-setup-usemap.patch",
                                  "19-hvo-v4-06-page-zonenum-head.patch",
                                  "35-hvo-v7-12-remove-fake-head.patch"])
def test_quiet_on_patches_reviewers_found_clean(corpus: Path, name: str) -> None:
    from reviewbot.fetch.local import read_source

    raw = read_source(str(corpus / name), 1 << 24)
    assert review(*raw) == []


def test_hunk_starting_inside_a_comment_keeps_its_statements_in_the_function() -> None:
    """The fragment builder opens the synthetic function before the comment it resumes,
    so statements after the comment are children of a block (STY002 needs siblings)."""
    from reviewbot.cmap.build import map_file

    diff = """\
diff --git a/mm/x.c b/mm/x.c
--- a/mm/x.c
+++ b/mm/x.c
@@ -10,3 +10,6 @@ static int frob(struct frob *f)
 	 */
 	frob_prepare(f);
+	p = frob_alloc(f);
+
+	if (!p)
 		return -ENOMEM;
"""
    fmap = map_file(parse_diff(diff, 1)[0], PARSER)
    (mf,) = fmap.fragments
    assert mf.fragment.text.splitlines()[:2] == ["void frob(void) {", "/*"]
    assert not mf.root.has_error
    (f,) = review(mail("[PATCH] frob: alloc", diff))
    assert (f.line, f.reply) == (13, "Do not add a new line here.")


def test_ser001_needs_distinctive_evidence() -> None:
    """A blank line removed between ``}`` and ``return 0;`` elsewhere in the file is not
    tied to patch 1 just because patch 1 also added ``}``, a blank line, ``return 0;``."""
    first = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -10,3 +10,9 @@ static int frob_a(struct frob *f)
 	int i;
 
+	for (i = 0; i < f->n; i++) {
+		f->v[i] = 0;
+		f->w[i] = 0;
+	}
+
+	return 0;
 }
"""
    second = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -80,7 +80,6 @@ static int frob_b(struct frob *f)
 		f->x[i] = 1;
 		f->y[i] = 1;
 	}
-
 	return 0;
 }
 
@@ -120,6 +119,7 @@ static void frob_c(struct frob *f)
 {
 	frob_hw_stop(f);
 	f->running = false;
+	f->stopped = true;
 }
 
 static int frob_status(struct frob *f)
"""
    mails = [mail("[PATCH 1/2] frob: a", first, 1, "c3@example.org"),
             mail("[PATCH 2/2] frob: b", second, 2, "c3@example.org")]
    assert review(*mails, rules=("SER001",)) == []
    (f,) = review(*mails)
    assert (f.rule, f.side, f.reply) == ("STY006", "old", "Unrelated whitespace change?")


DOUBLE_BLANK = """\
diff --git a/drivers/frob.c b/drivers/frob.c
--- a/drivers/frob.c
+++ b/drivers/frob.c
@@ -10,4 +10,6 @@ static int frob_setup(struct frob *f)
 	frob_conf_update(f);
+
+
 	ret = 0;
 	return ret;
 }
"""


@pytest.mark.parametrize(("subject", "message", "quiet"), [
    ('[PATCH] Revert "frob: drop the blank lines"', "This reverts commit 0123456789ab.", True),
    ('[PATCH v2 3/4] Revert "frob: drop the blank lines"', "Broke the build.", True),
    ("[PATCH] frob: restore the setup", "This reverts commit 0123456789abcdef.\n\nIt broke.",
     True),
    ("[PATCH AUTOSEL 6.17-6.12] frob: setup",
     "[ Upstream commit 0123456789abcdef0123456789abcdef01234567 ]\n\nSet up.", True),
    ("[PATCH 6.1.y] frob: setup", "commit 0123456789abcdef0123456789abcdef01234567 upstream.",
     True),
    ("[PATCH] frob: add blank lines", "Revert is a word, not a revert.", False),
    ("[PATCH] frob: add blank lines", "Fixes the upstream commit 0123456789ab.", False),
])
def test_style_rules_are_quiet_on_a_revert_or_backport(subject: str, message: str,
                                                        quiet: bool) -> None:
    """A revert restores old code verbatim, a stable backport applies upstream's as it
    is: how it is laid out is not their doing."""
    found = review(mail(subject, DOUBLE_BLANK, message=message))
    assert [f.rule for f in found] == ([] if quiet else ["STY003"])
