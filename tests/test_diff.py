from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.diff.parse import DiffError, parse_diff, split_body
from reviewbot.series.build import make_patch
from reviewbot.series.mail import parse_mail
from tests.conftest import run_cli

DIFF = """\
diff --git a/mm/a.c b/mm/a.c
index 111..222 100644
--- a/mm/a.c
+++ b/mm/a.c
@@ -10,3 +10,4 @@ static int foo(struct page *page)
 	int a;
-	int b;
+	long b;
+	long c;
 	return a;
diff --git a/new.c b/new.c
new file mode 100644
--- /dev/null
+++ b/new.c
@@ -0,0 +1,2 @@
+int x;
+int y;
\\ No newline at end of file
diff --git a/gone.h b/gone.h
deleted file mode 100644
--- a/gone.h
+++ /dev/null
@@ -1 +0,0 @@
-#define X 1
diff --git a/old.c b/renamed.c
similarity index 100%
rename from old.c
rename to renamed.c
diff --git a/logo.png b/logo.png
index 333..444 100644
Binary files a/logo.png and b/logo.png differ
"""


def test_line_numbers_and_kinds() -> None:
    files = parse_diff(DIFF, first_line=100)
    a = files[0]
    assert a.path == "mm/a.c" and a.old_path == "mm/a.c" and not a.is_deleted
    hunk = a.hunks[0]
    assert hunk.section == "static int foo(struct page *page)"
    assert [(ln.kind, ln.old, ln.new) for ln in hunk.lines] == [
        (" ", 10, 10), ("-", 11, None), ("+", None, 11), ("+", None, 12), (" ", 12, 13)]
    assert hunk.lines[0].patch_line == 100 + 5
    assert hunk.patch_line == 100 + 4
    assert [ln.text for ln in hunk.lines if ln.kind == "+"] == ["\tlong b;", "\tlong c;"]


def test_new_deleted_renamed_binary() -> None:
    files = {f.path: f for f in parse_diff(DIFF)}
    new = files["new.c"]
    assert new.old_path is None and [ln.text for ln in new.hunks[0].lines] == ["int x;", "int y;"]
    assert files["gone.h"].is_deleted
    assert files["renamed.c"].is_rename and files["renamed.c"].old_path == "old.c"
    assert files["logo.png"].is_binary


def test_split_body() -> None:
    body = "Subject line body\n\nSigned-off-by: A <a@b>\n---\n a.c | 1 +\n\n" + DIFF
    parts = split_body(body)
    assert parts.message.startswith("Subject line body")
    assert "a.c | 1" not in parts.message
    assert parts.diff.startswith("diff --git a/mm/a.c")
    assert parts.diff_line == 6


def test_lying_hunk_counts_mark_patch_skipped() -> None:
    raw = ("Subject: [PATCH] x\nMessage-ID: <a@b>\n\nmsg\n---\n"
           "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1,9 +1,9 @@\n a\n-b\n+c\n")
    patch = make_patch(parse_mail(raw.encode()), 1, 1, 1)
    assert patch.skipped is not None and "does not parse" in patch.skipped


def test_no_diff_is_skipped() -> None:
    patch = make_patch(parse_mail(b"Subject: [PATCH] x\n\njust words\n"), 1, 1, 1)
    assert patch.skipped == "no diff found in the message"


def test_base64_and_quoted_printable_bodies() -> None:
    import base64

    diff = "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+\u00e9\n"
    b64 = base64.encodebytes(("msg\n---\n" + diff).encode()).decode()
    raw = ("Subject: [PATCH] x\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
           "Content-Transfer-Encoding: base64\n\n" + b64)
    patch = make_patch(parse_mail(raw.encode()), 1, 1, 1)
    assert patch.files[0].hunks[0].lines[1].text == "\u00e9"
    qp = ("Subject: [PATCH] x\nContent-Type: text/plain; charset=iso-8859-1\n"
          "Content-Transfer-Encoding: quoted-printable\n\nmsg\n---\n"
          "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+=E9=3D\n")
    patch = make_patch(parse_mail(qp.encode()), 1, 1, 1)
    assert patch.files[0].hunks[0].lines[1].text == "\u00e9="


def test_patch_as_attachment() -> None:
    raw = ("Subject: [PATCH] x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; "
           "boundary=XX\n\n--XX\nContent-Type: text/plain\n\nPlease apply.\n--XX\n"
           "Content-Type: text/x-patch\nContent-Disposition: attachment; filename=a.patch\n\n"
           "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1 @@\n-a\n+b\n--XX--\n")
    patch = make_patch(parse_mail(raw.encode()), 1, 1, 1)
    assert patch.skipped is None and patch.files[0].path == "a.c"


HEAD = "diff --git a/mm/x.c b/mm/x.c\nindex 1111111..2222222 100644\n--- a/mm/x.c\n+++ b/mm/x.c\n"


@pytest.mark.parametrize(("text", "lines"), [
    (HEAD + "@@ -1,2 +1,2 @@ int f(void)\n a\n-b\n+c\n", [" a", "-b", "+c"]),
    (HEAD + "@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n", [" a", "-b", "+c"]),  # CRLF
    (HEAD + "@@ -1,2 +1,3 @@\n a\n\n+c\n-- \n2.43.0\n\n", [" a", " ", "+c"]),  # bare newline
    (HEAD + "@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
            "\\ No newline at end of file\n", ["-a", "+b"]),
    (HEAD + "@@ -1,2 +1,2 @@\n a\n-b\n+c", [" a", "-b", "+c"]),  # no final newline
    (HEAD + "@@ -1,1 +1,1 @@\n a\r-b\n", [" a\r-b"]),  # a bare CR inside a line
    ("diff --git a/x.sh b/x.sh\nold mode 100644\nnew mode 100755\n" + HEAD
     + "@@ -1 +1 @@\n-a\n+b\n", ["-a", "+b"]),  # a mode change (no hunks), then a file
])
def test_diff_lines(text: str, lines: list[str]) -> None:
    files = parse_diff(text, 7)
    got = [ln.kind + ln.text for f in files for h in f.hunks for ln in h.lines]
    assert got == lines
    first = files[-1].hunks[0]
    assert first.lines[0].patch_line == 7 + text.split("\n").index(
        next(x for x in text.split("\n") if x.startswith("@@"))) + 1


def test_hunk_counts_say_where_a_hunk_ends() -> None:
    with pytest.raises(DiffError):  # shorter than its header says
        parse_diff(HEAD + "@@ -1,3 +1,2 @@\n a\n-b\n+c\n")
    (longer,) = parse_diff(HEAD + "@@ -1,1 +1,1 @@\n a\n-b\n+c\n")  # the rest is no hunk
    assert [ln.kind + ln.text for h in longer.hunks for ln in h.lines] == [" a"]


def test_quoted_paths_and_bare_diffs() -> None:
    (quoted,) = parse_diff('diff --git "a/x y.c" "b/x y.c"\n--- "a/x y.c"\n'
                           '+++ "b/x y.c"\n@@ -1 +1 @@\n-a\n+b\n')
    assert quoted.path == "x y.c"
    (bare,) = parse_diff("--- x.c\n+++ x.c\n@@ -1 +1 @@\n-a\n+b\n")
    assert bare.path == "x.c" and [ln.text for ln in bare.hunks[0].lines] == ["a", "b"]


@pytest.mark.parametrize("charset", ['"utf\x00-8"', "utf\x00-8", "x-unknown", '"\x00"',
                                     "utf-8\x00"])
def test_bad_charset_is_read_as_utf8(charset: str, capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    """A charset name that is unknown or malformed (a NUL in it) is read as UTF-8 with
    replacement, in a plain body and in a patch attachment: the patch is reviewed."""
    diff = ("diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1,3 +1,4 @@ int f(void)\n"
            " {\n+\tfoo(\u00e9);\n \treturn 0;\n }\n")
    plain = (f"Subject: [PATCH] x\nContent-Type: text/plain; charset={charset}\n\n"
             "msg\n---\n" + diff)
    attached = ("Subject: [PATCH] x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; "
                "boundary=XX\n\n--XX\nContent-Type: text/plain\n\nPlease apply.\n--XX\n"
                f"Content-Type: text/x-patch; charset={charset}\n"
                "Content-Disposition: attachment; filename=a.patch\n\n" + diff + "--XX--\n")
    for raw in (plain, attached):
        mail = parse_mail(raw.encode())
        assert mail.error is None
        patch = make_patch(mail, 1, 1, 1)
        assert patch.skipped is None
        assert patch.files[0].hunks[0].lines[1].text == "\tfoo(\u00e9);"
        path = tmp_path / "bad-charset.eml"
        path.write_bytes(raw.encode())
        code, out, err = run_cli(capsys, "check", "--no-tree", str(path))
        assert code == 0 and "skipped" not in out and "error" not in err, (out, err)
        assert out.strip().endswith("0 findings in 1 patch"), out
