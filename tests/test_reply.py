"""Interleaved-quote replies: golden file, structure, headers, determinism, safety."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reviewbot.config import Settings
from reviewbot.fetch.local import RawMessage, split_mbox
from reviewbot.findings import Finding, PatchReview, Review, SeriesReview
from reviewbot.pipeline import review_messages
from reviewbot.report.message import build_message, reply_subject
from reviewbot.report.quote import ELISION, WIDTH, comment_lines
from reviewbot.report.reply import Reply, ReplyConfig, render_replies
from reviewbot.series.build import make_patch
from reviewbot.series.mail import parse_mail
from reviewbot.series.model import Person, Series
from tests.conftest import FIXTURES, compare_golden
from tests.reply_structure import analyse, check_structure, reply_body, unquote_line

FROB = FIXTURES / "series" / "frob-v2.mbox"
IDENTITY = Person("Reviewbot Tester", "reviewer@example.org")
DATE = datetime(2026, 1, 22, 7, 0, 3, tzinfo=UTC)
CONFIG = ReplyConfig(IDENTITY, DATE, signature="Reviewbot Tester")


def review_of(path: Path) -> Review:
    return review_messages(split_mbox(path.read_bytes(), str(path)), Settings())


def replies_of(path: Path, config: ReplyConfig = CONFIG) -> list[Reply]:
    return [r for sr in review_of(path).series for r in render_replies(sr, config)]


def parsed(reply: Reply) -> email.message.EmailMessage:
    msg = email.message_from_bytes(reply.data, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


# -- the real series: hvo v4 09/14 --------------------------------------------------

def hvo_09(corpus: Path) -> tuple[PatchReview, Reply]:
    review = review_of(corpus / "hvo-v4-subset.mbox")
    pr = next(p for sr in review.series for p in sr.patches if p.patch.index == 9)
    assert pr.findings, "no finding on hvo 09/14: STY001 should flag the braces"
    replies = [r for sr in review.series for r in render_replies(sr, CONFIG)]
    reply = next(r for r in replies if r.patch is not None and r.patch.index == 9)
    return pr, reply


def test_golden_reply_hvo_v4_09(corpus: Path) -> None:
    pr, reply = hvo_09(corpus)
    compare_golden("reply-hvo-v4-09.eml", reply.data.decode("utf-8"))
    check_structure(reply.data, pr.patch, pr.findings)
    msg = parsed(reply)
    assert msg["Subject"] == "Re: [PATCHv4 09/14] mm/hugetlb: Remove fake head pages"
    assert msg["In-Reply-To"] == "<20260121162253.2216580-10-kas@kernel.org>"
    assert msg["References"].split() == ["<20260121162253.2216580-1-kas@kernel.org>",
                                         "<20260121162253.2216580-10-kas@kernel.org>"]
    assert msg["To"] == "Kiryl Shutsemau <kas@kernel.org>"
    body = reply_body(reply.data)
    assert body.startswith("On Wed, 21 Jan 2026 16:22:46 +0000, Kiryl Shutsemau wrote:\n")
    assert "\n-- \nReviewbot Tester\n" in body
    for f in pr.findings:
        assert f.rule in body.split("\n-- \n")[0].rsplit("\n\n", 1)[-1]  # the footer


def _norm(line: str) -> str:
    return " ".join(line.split())


def _human_quotes(text: str) -> tuple[set[str], list[tuple[str, str]]]:
    """The human reply's quoted lines (normalised) and (comment start, line above)."""
    body = text.split("\n\n", 1)[1]
    quoted: set[str] = set()
    comments: list[tuple[str, str]] = []
    last = ""
    for ln in body.splitlines():
        if ln.startswith(">"):
            last = _norm(ln[1:])
            quoted.add(last)
        elif ln.strip():
            comments.append((_norm(ln), last))
    return quoted, comments


def test_reply_quotes_what_the_human_reviewer_quoted(corpus: Path) -> None:
    """Acceptance: around each comment, only lines the seed reviewer quoted as well, and
    each comment under the same line as the reviewer's comment on the same problem."""
    pr, reply = hvo_09(corpus)
    manifest = json.loads((corpus / "manifest.json").read_text())
    human = (corpus / "01-hvo-v4-09-remove-fake-head.reply.txt").read_text()
    human_quoted, human_comments = _human_quotes(human)
    quoted, comments = analyse(reply_body(reply.data), pr.patch)
    lines = pr.patch.mail.body.split("\n")
    for i in quoted:
        assert _norm(lines[i]) in human_quoted, f"quoted a line the reviewer did not: {lines[i]}"
    matched = 0
    for f in pr.findings:
        entry = next((m for m in manifest if m["patch_file"].startswith("01-hvo-v4-09")
                      and m["file"] == f.file and f.line in m["lines"]), None)
        if entry is None:
            continue
        start = _norm(entry["reviewer_comment"])[:25]
        human_above = next(above for text, above in human_comments if text.startswith(start))
        ours = next(c for c in comments if c.text.startswith(_norm(f.reply)[:40]))
        assert ours.after is not None
        assert _norm(lines[ours.after]) == human_above, (f.rule, lines[ours.after])
        matched += 1
    assert matched >= 1  # STY001 matches the reviewer's braces comment


# -- headers -------------------------------------------------------------------------

def test_headers_of_a_patch_reply() -> None:
    replies = replies_of(FROB)
    assert [r.patch.index for r in replies if r.patch] == [1, 2]
    reply = replies[0]
    msg = parsed(reply)
    assert msg["From"] == "Reviewbot Tester <reviewer@example.org>"
    assert msg["To"] == "Ada Example <ada@example.org>"
    assert msg["Cc"] == "Maintainer <maint@example.org>, linux-kernel@vger.kernel.org"
    assert msg["Subject"] == "Re: [PATCH v2 1/3] frob: reject negative values"
    assert msg["Date"] == "Thu, 22 Jan 2026 07:00:03 +0000"
    assert msg["Message-ID"] == f"<{reply.msgid}>"
    assert reply.msgid.startswith("reviewbot.") and reply.msgid.endswith("@example.org")
    patch_id = "e538214528cadf8a5b7e71da8787eef235f6aa4f.1795644580.git.ada@example.org"
    assert msg["In-Reply-To"] == f"<{patch_id}>" and reply.in_reply_to == patch_id
    assert msg["References"].split() == ["<cover.1795644580.git.ada@example.org>",
                                         f"<{patch_id}>"]
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg["Content-Transfer-Encoding"] in ("7bit", "8bit")
    assert reply.to == (Person("Ada Example", "ada@example.org"),)
    assert [p.email for p in reply.cc] == ["maint@example.org", "linux-kernel@vger.kernel.org"]
    assert all(len(line) <= 998 for line in reply.data.split(b"\n"))


def test_reviewer_and_author_are_not_in_cc() -> None:
    me = Person("Maint Ainer", "MAINT@example.org")  # the reviewer is in the original To
    reply = replies_of(FROB, ReplyConfig(me, DATE))[0]
    assert [p.email for p in reply.cc] == ["linux-kernel@vger.kernel.org"]
    assert "maint@example.org" not in (parsed(reply)["Cc"] or "").lower()


@pytest.mark.parametrize(("original", "expected"), [
    ("[PATCH] x", "Re: [PATCH] x"),
    ("Re: [PATCH] x", "Re: [PATCH] x"),
    ("RE: Re: re:[PATCH] x", "Re: [PATCH] x"),
    ("AW: Re[2]: SV: x", "Re: x"),
    ("Re:", "Re: your patch"),
    ("Reply to all", "Re: Reply to all"),
])
def test_never_re_re(original: str, expected: str) -> None:
    assert reply_subject(original) == expected


def test_non_ascii_names_are_encoded() -> None:
    raw = FROB.read_bytes().split(b"\nFrom ")[1].split(b"\n", 1)[1]
    raw = raw.replace(b"From: Ada Example <ada@example.org>",
                      b"From: =?utf-8?q?J=C3=BCrgen_Gro=C3=9F?= <jg@example.org>")
    review = review_messages([RawMessage(raw, "x")], Settings())
    me = Person("Zoë Ünïcode", "zoe@example.org")
    reply = render_replies(review.series[0], ReplyConfig(me, DATE))[0]
    head = reply.data.split(b"\n\n")[0]
    assert head.isascii()  # headers are RFC 2047 encoded
    msg = parsed(reply)
    assert msg["To"].addresses[0].display_name == "Jürgen Groß"
    assert msg["From"].addresses[0].display_name == "Zoë Ünïcode"
    assert reply_body(reply.data).startswith(
        "On Wed, 25 Nov 2026 22:09:39 +0000, Jürgen Groß wrote:")


def test_header_injection_is_neutralised() -> None:
    raw = FROB.read_bytes().split(b"\nFrom ")[1].split(b"\n", 1)[1]
    evil_subject = b"=?utf-8?q?=5BPATCH_v2_1/3=5D_x=0D=0ABcc:_evil@attacker.example?="
    raw = raw.replace(b"Subject: [PATCH v2 1/3] frob: reject negative values",
                      b"Subject: " + evil_subject)
    raw = raw.replace(b"From: Ada Example <ada@example.org>",
                      b"From: =?utf-8?q?Ada=0D=0ABcc=3A_evil2=40attacker=2Eexample?= "
                      b"<ada@example.org>")
    raw = raw.replace(b"Cc: linux-kernel@vger.kernel.org",
                      b"Cc: linux-kernel@vger.kernel.org, \"x\r\nBcc: y\" <bad addr@x>")
    review = review_messages([RawMessage(raw, "x")], Settings())
    reply = render_replies(review.series[0], CONFIG)[0]
    head = reply.data.split(b"\n\n")[0].decode()
    names = [ln.split(":")[0] for ln in head.split("\n") if ln and not ln[0].isspace()]
    assert "Bcc" not in names and len(names) == len(set(names))
    msg = parsed(reply)
    assert msg["Bcc"] is None
    assert "\n" not in str(msg["Subject"]) and "\r" not in str(msg["Subject"])
    assert "evil@attacker.example" in str(msg["Subject"])  # kept as text, not a header
    rcpts = [a.addr_spec for h in ("To", "Cc") for a in msg[h].addresses]
    assert rcpts == ["ada@example.org", "maint@example.org", "linux-kernel@vger.kernel.org"]
    assert msg["To"].addresses[0].display_name == "Ada Bcc: evil2@attacker.example"
    # a malformed encoded word (raw ':' and '@' in it) may not even parse as a name:
    # whatever it yields, it never becomes a header or a recipient
    raw2 = raw.replace(b"=?utf-8?q?Ada=0D=0ABcc=3A_evil2=40attacker=2Eexample?=",
                       b"=?utf-8?q?Ada=0D=0ABcc:_evil2@attacker.example?=")
    reply2 = render_replies(review_messages([RawMessage(raw2, "x")], Settings()).series[0],
                            CONFIG)[0]
    msg2 = parsed(reply2)
    assert msg2["Bcc"] is None
    assert all("attacker" not in str(msg2[h] or "") for h in ("From", "To", "Cc"))
    # the same through the message builder directly, with raw CR/LF in every field
    data = build_message(
        identity=Person("Me\r\nBcc: a@b.c", "me@example.org"),
        to=[Person("You\nX-Evil: 1", "you@example.org")], cc=[],
        subject="Re: hi\r\nBcc: c@d.e", in_reply_to="id@x\r\nX-Evil: 2", refs=["id@x"],
        msgid="m@x", date=DATE, body="text\n")
    head = data.split(b"\n\n")[0].decode()
    for line in head.split("\n"):
        assert not line.startswith(("Bcc:", "X-Evil:")), line
    assert "In-Reply-To" not in head  # not a valid Message-ID: dropped


def test_deterministic_and_sensitive_to_clock_and_identity() -> None:
    a = replies_of(FROB)
    b = replies_of(FROB)
    assert [r.data for r in a] == [r.data for r in b]
    later = replies_of(FROB, ReplyConfig(IDENTITY, DATE + timedelta(seconds=1)))
    other = replies_of(FROB, ReplyConfig(Person("X", "x@example.net"), DATE))
    assert a[0].msgid != later[0].msgid and a[0].msgid != other[0].msgid
    assert len({r.msgid for r in a}) == len(a)


# -- body ----------------------------------------------------------------------------

def test_body_quotes_exactly_and_comments_under_the_statement() -> None:
    review = review_of(FROB)
    sr = review.series[0]
    reply = render_replies(sr, CONFIG)[0]
    body = reply_body(reply.data)
    assert ">  \tif (!dev)\n" in body  # a context line: marker space, then the tab
    assert ("> +\tif (val < 0) {\n> +\t\treturn -ERANGE;\n> +\t}\n\n"
            "No need for the braces here") in body
    assert "> diff --git a/drivers/misc/frob.c b/drivers/misc/frob.c\n" in body
    assert "Signed-off-by" not in body and "1 file changed" not in body
    assert body.split("\n")[1] == ELISION  # the commit message is elided
    check_structure(reply.data, sr.patches[0].patch, sr.patches[0].findings)
    assert "rule STY001; 'reviewbot explain STY001'" in body


def test_all_and_summary() -> None:
    config = ReplyConfig(IDENTITY, DATE, all_patches=True, summary=True)
    replies = replies_of(FROB, config)
    assert [r.patch.index if r.patch else 0 for r in replies] == [0, 1, 2, 3]
    summary = replies[0]
    assert summary.in_reply_to == "cover.1795644580.git.ada@example.org"
    assert parsed(summary)["Subject"] == "Re: [PATCH v2 0/3] frob: small fixes"
    text = reply_body(summary.data)
    assert "reviewbot reviewed 3 of the 3 patches of this series (v2) and has\ncomments on 2:" \
        in text
    assert "  1/3 frob: reject negative values (1 comment)\n" in text
    assert "3/3" not in text
    note = reply_body(replies[3].data)
    assert "reviewbot found nothing to comment on in this patch." in note
    assert ">" not in note.split("\n", 1)[1]


def test_no_cover_letter_no_summary(corpus: Path) -> None:
    replies = replies_of(corpus / "hvo-v4-subset.mbox",
                         ReplyConfig(IDENTITY, DATE, summary=True))
    assert all(r.patch is not None for r in replies)


def test_comment_wrapping() -> None:
    text = ("word " * 40 + "\n\n\tcode_line(a, b);  /* kept as written, however long it is, "
            "really */\n- a bullet item that is long enough to wrap around the limit of "
            "seventy-two columns\n\n> not a quote\n")
    out = comment_lines(text)
    assert all(len(ln) <= WIDTH for ln in out if not ln.startswith("\t"))
    assert "\tcode_line(a, b);  /* kept as written, however long it is, really */" in out
    bullet = out.index(next(ln for ln in out if ln.startswith("- a bullet")))
    assert out[bullet + 1].startswith("  ")
    assert " > not a quote" in out and all(unquote_line(ln) is None for ln in out)


def test_unplaceable_finding_is_kept() -> None:
    sr = review_of(FROB).series[0]
    pr = sr.patches[2]
    lost = Finding("TST001", "test", "other", "warning", "high", "drivers/misc/frob.c", 999,
                   "no such line", None, "m", "A comment on a line not in the patch.", 9999)
    review = SeriesReview(sr.series, (PatchReview(pr.patch, (lost,)),))
    body = reply_body(render_replies(review, CONFIG)[0].data)
    assert "In drivers/misc/frob.c, line 999:\nA comment on a line not in the patch." in body


# -- property: random findings on random patches --------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_WORDS = st.sampled_from(["foo", "bar", "(x)", "{", "}", "a,", "b;", "if (y)", "\t", "  ",
                          "From", "x > y", "=", "+", "-", "ü", "return", "/* c */"])
_KIND = st.sampled_from(["+", "-", " "])


@st.composite
def random_patch(draw: st.DrawFn) -> tuple[bytes, int]:
    """A patch email with random files and hunks; every line is unique except blanks,
    never two blank lines in a row (so a quoted run can be found in one place only)."""
    counter = iter(range(10**6))

    def text() -> str:
        if draw(st.integers(0, 9)) == 0:
            return ""
        words = draw(st.lists(_WORDS, min_size=0, max_size=5))
        return "".join(words) + f" // L{next(counter)}"

    msg = [text() or "message" for _ in range(draw(st.integers(0, 4)))]
    out = ["From: Ann Author <ann@example.org>", "Subject: [PATCH] random",
           "Message-ID: <rand@example.org>", "Date: Mon, 1 Jan 2024 00:00:00 +0000", "",
           *msg, "", "Signed-off-by: Ann Author <ann@example.org>", "---", " x | 1 +", ""]
    nfiles = draw(st.integers(1, 3))
    for f in range(nfiles):
        path = f"dir/file{f}.c"
        out += [f"diff --git a/{path} b/{path}", "index 1111111..2222222 100644",
                f"--- a/{path}", f"+++ b/{path}"]
        old = new = 1
        for _ in range(draw(st.integers(1, 3))):
            old += draw(st.integers(0, 20))
            new = old
            body: list[str] = []
            prev_blank = False
            for _ in range(draw(st.integers(1, 25))):
                kind = draw(_KIND)
                t = text()
                if t == "" and prev_blank:
                    t = f"x // L{next(counter)}"
                prev_blank = t == ""
                body.append(kind + t)
            o = sum(1 for ln in body if ln[0] in "- ")
            n = sum(1 for ln in body if ln[0] in "+ ")
            out.append(f"@@ -{old},{o} +{new},{n} @@ fn_{next(counter)}(void)")
            out += body
            old += o + 1
            new += n + 1
    out += ["-- ", "2.43.0", ""]
    nfind = draw(st.integers(1, 6))
    return "\n".join(out).encode(), nfind


@given(random_patch(), st.data())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_quotes_are_patch_lines_and_comments_follow(case: tuple[bytes, int],
                                                            data: st.DataObject) -> None:
    raw, nfind = case
    patch = make_patch(parse_mail(raw), 1, 1, 1)
    assert not patch.skipped, patch.skipped
    lines = [ln for fd in patch.files for h in fd.hunks for ln in h.lines]
    chosen = data.draw(st.lists(st.sampled_from(lines), min_size=1, max_size=nfind))
    findings = []
    for k, ln in enumerate(chosen):
        fd = next(fd for fd in patch.files for h in fd.hunks if ln in h.lines)
        words = data.draw(st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta"]),
                                   max_size=30))
        findings.append(Finding(
            f"TST{k:03d}", "t", "other", "warning", "high", fd.path,
            ln.new if ln.new is not None else (ln.old or 0), ln.text, None, "m",
            f"Comment{k} " + " ".join(words), ln.patch_line,
            "old" if ln.kind == "-" else "new"))
    series = Series("rand@example.org", 1, 1, None, (patch,), ())
    review = SeriesReview(series, (PatchReview(patch, tuple(findings)),))
    reply = render_replies(review, CONFIG)[0]
    body = reply_body(reply.data)
    patch_lines = set(patch.mail.body.split("\n"))
    for line in body.split("\n"):
        q = unquote_line(line)
        assert q is None or q in patch_lines, line
    check_structure(reply.data, patch, findings)
    assert reply_body(reply.data) == body  # parses the same every time


def test_mail_without_message_id_is_not_threaded() -> None:
    raw = (b"From: Ann <ann@example.org>\nSubject: [PATCH] x: y\n\nmsg\n---\n"
           b"diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,4 @@\n f(void)\n {\n"
           b"+\tif (a) {\n+\t\tb();\n+\t}\n")
    review = review_messages([RawMessage(raw, "x")], Settings())
    reply = render_replies(review.series[0], ReplyConfig(IDENTITY, DATE, all_patches=True))[0]
    msg = parsed(reply)
    assert msg["In-Reply-To"] is None and msg["References"] is None
    assert msg["To"] == "Ann <ann@example.org>" and msg["Subject"] == "Re: [PATCH] x: y"
    assert reply_body(reply.data).startswith("Ann wrote:\n")


def test_layout_of_the_six_seed_comments(corpus: Path) -> None:
    """With a finding on each of the six lines the seed reviewer commented on (the
    corpus manifest, the reviewer's words as the comment), every comment sits under
    the same line as in the real review, and only lines the reviewer quoted are quoted.
    This pins the layout independently of which rules exist."""
    review = review_of(corpus / "hvo-v4-subset.mbox")
    sr = review.series[0]
    patch = next(p for p in sr.patches if p.patch.index == 9).patch
    manifest = [m for m in json.loads((corpus / "manifest.json").read_text())
                if m["patch_file"].startswith("01-hvo-v4-09")]
    assert len(manifest) == 6
    findings = []
    for n, m in enumerate(manifest):
        ln = next(ln for fd in patch.files if fd.path == m["file"] for h in fd.hunks
                  for ln in h.lines if ln.new == m["lines"][0] and ln.kind != "-")
        findings.append(Finding(f"SEED{n:03d}", m["id"], m["category"], "warning", "high",
                                m["file"], m["lines"][0], ln.text, None, "m",
                                m["reviewer_comment"], ln.patch_line))
    review9 = SeriesReview(sr.series, (PatchReview(patch, tuple(findings)),))
    reply = render_replies(review9, CONFIG)[0]
    check_structure(reply.data, patch, findings)
    human_quoted, human_comments = _human_quotes(
        (corpus / "01-hvo-v4-09-remove-fake-head.reply.txt").read_text())
    quoted, comments = analyse(reply_body(reply.data), patch)
    lines = patch.mail.body.split("\n")
    assert all(_norm(lines[i]) in human_quoted for i in quoted)
    for f in findings:
        above = next(a for t, a in human_comments if t.startswith(_norm(f.reply)[:25]))
        ours = next(c for c in comments if c.text.startswith(_norm(f.reply)[:40]))
        assert ours.after is not None and _norm(lines[ours.after]) == above, f.name
    assert len(quoted) < len([ln for ln in lines if ln.strip()]) / 2  # trimmed, not all


def test_in_body_author_and_in_reply_to_only(corpus: Path) -> None:
    """A corpus patch with no From header (the author is the in-body "From:" line) and
    In-Reply-To without References."""
    path = corpus / "02-sed-opal-discovery-braces.patch"
    review = review_messages([RawMessage(path.read_bytes(), str(path))], Settings())
    reply = render_replies(review.series[0], CONFIG)[0]
    msg = parsed(reply)
    assert msg["To"] == "Greg Joyce <gjoyce@linux.vnet.ibm.com>" and msg["Cc"] is None
    assert msg["References"].split() == ["<20220718210156.1535955-1-gjoyce@linux.vnet.ibm.com>",
                                         "<20220718210156.1535955-2-gjoyce@linux.vnet.ibm.com>"]
    assert reply_body(reply.data).startswith("On Mon, 18 Jul 2022 16:01:53 -0500, Greg Joyce "
                                             "wrote:\n")
    # a patch sent on behalf of someone else: reply to the sender, Cc the author
    raw = FROB.read_bytes().split(b"\nFrom ")[1].split(b"\n", 1)[1]
    raw = raw.replace(b"\n\nA negative value", b"\n\nFrom: Bob Coder <bob@example.org>\n\n"
                      b"A negative value", 1)
    sent = render_replies(review_messages([RawMessage(raw, "x")], Settings()).series[0],
                          CONFIG)[0]
    assert [p.email for p in sent.to] == ["ada@example.org"]
    assert [p.email for p in sent.cc] == ["bob@example.org", "maint@example.org",
                                          "linux-kernel@vger.kernel.org"]
