"""Hostile input, stage by stage: always a review or a clear error, never a crash or a hang.

Property tests (hypothesis) feed generated and damaged input to the email, series, diff and
C-mapping stages, to the whole pipeline and to the command line; regression tests pin
the slow paths and crashes that fuzzing found. Example counts are kept moderate; set
REVIEWBOT_HYPOTHESIS_SCALE=20 for a deep run.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.cli import main
from reviewbot.cmap.build import map_file
from reviewbot.cmap.parser import CParser
from reviewbot.cmap.scan import scan_lines
from reviewbot.config import Settings
from reviewbot.diff.parse import DiffError, parse_diff, split_body
from reviewbot.errors import ReviewbotError
from reviewbot.fetch.local import read_bytes
from reviewbot.pipeline import review_messages, select_rules
from reviewbot.report.json import render_json
from reviewbot.report.text import render_text
from reviewbot.ruleset import load_rules
from reviewbot.series.build import build_series, make_patch
from reviewbot.series.mail import parse_mail
from reviewbot.series.subject import parse_subject
from tests.strategies import (
    address_list,
    c_line,
    diff_text,
    examples,
    hostile_shape,
    huge_address_patch,
    mbox,
    nested_c,
    nested_mime,
    patch_email,
)


def hostile(n: int) -> settings:
    """``n`` examples (times REVIEWBOT_HYPOTHESIS_SCALE) and a generous per-example
    deadline: it catches a hang, not a slow CI machine."""
    return settings(max_examples=examples(n), deadline=timedelta(seconds=20),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def parser() -> CParser:
    return CParser()


@pytest.fixture(scope="module")
def rules() -> list[object]:
    return list(select_rules(load_rules(None), Settings()))


def _review(data: bytes, rules: list[object], parser: CParser) -> None:
    """The whole path; a ReviewbotError is an acceptable (clear) outcome."""
    try:
        messages = read_bytes(data, "input", "input")
        review = review_messages(messages, Settings(), rules, parser)  # type: ignore[arg-type]
    except ReviewbotError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        return
    text = render_text(review)
    assert text.endswith("\n")
    render_json(review)
    for sr in review.series:
        for pr in sr.patches:
            assert pr.patch.skipped is None or pr.findings == ()


# -- email stage ----------------------------------------------------------------------

@hostile(150)
@given(st.binary(max_size=3000))
def test_parse_mail_takes_any_bytes(raw: bytes) -> None:
    mail = parse_mail(raw)
    assert isinstance(mail.body, str) and mail.body_line_offset >= 1
    assert "\r" not in mail.body
    assert mail.msgid


@hostile(100)
@given(patch_email())
def test_parse_mail_takes_damaged_patch_mail(raw: bytes) -> None:
    mail = parse_mail(raw)
    assert isinstance(mail.body, str)
    assert mail.subject.raw == " ".join(mail.subject.raw.split())  # one clean line


@hostile(200)
@given(st.text(max_size=300))
def test_parse_subject_takes_any_text(raw: str) -> None:
    s = parse_subject(raw)
    if s.index is not None and s.total is not None:
        assert 0 <= s.index <= s.total
    assert s.version >= 0


# -- series stage ---------------------------------------------------------------------

@hostile(60)
@given(st.lists(patch_email(), max_size=6), st.one_of(st.none(), st.integers(0, 5)))
def test_build_series_takes_any_mails(raws: list[bytes], version: int | None) -> None:
    mails = [parse_mail(r) for r in raws]
    try:
        series = build_series(mails, version)
    except ReviewbotError as exc:  # only: no series with that version
        assert version is not None and "version" in str(exc)
        return
    for s in series:
        assert [p.index for p in s.patches] == sorted({p.index for p in s.patches})
        for p in s.patches:
            assert p.skipped is None or p.files == ()


# -- diff stage -----------------------------------------------------------------------

@hostile(150)
@given(diff_text())
def test_parse_diff_is_total(text: str) -> None:
    parts = split_body(text)
    try:
        files = parse_diff(parts.diff or text, 10)
    except DiffError as exc:
        assert str(exc)
        return
    n_lines = text.count("\n") + 20
    for f in files:
        for h in f.hunks:
            for ln in h.lines:
                assert ln.kind in "+- " and "\n" not in ln.text
                assert 0 <= ln.patch_line <= n_lines
                assert (ln.old is None) == (ln.kind == "+")
                assert (ln.new is None) == (ln.kind == "-")


@hostile(100)
@given(patch_email())
def test_make_patch_never_raises(raw: bytes) -> None:
    patch = make_patch(parse_mail(raw), 1, 1, 1)
    assert patch.skipped is None or patch.files == ()


# -- C mapping stage ------------------------------------------------------------------

def _diff_of(lines: list[str], start: int = 10, heading: str = "int f(void)") -> str:
    body = "".join(f"+{t}\n" for t in lines)
    return (f"diff --git a/mm/x.c b/mm/x.c\n--- a/mm/x.c\n+++ b/mm/x.c\n"
            f"@@ -{start},0 +{start},{len(lines)} @@ {heading}\n{body}")


@hostile(120)
@given(st.lists(c_line, min_size=1, max_size=40), st.sampled_from(
    ["int f(void)", "", "struct x {", "static int g(struct page *p, int", "#define A("]))
def test_map_file_takes_any_c(parser: CParser, lines: list[str], heading: str) -> None:
    lines = [ln.replace("\n", " ").replace("\r", " ") for ln in lines]
    (fdiff,) = parse_diff(_diff_of(lines, heading=heading))
    fmap = map_file(fdiff, parser)
    assert fmap.added <= set(fmap.text)
    for fn in fmap.functions:
        assert fn.start <= fn.end
    for line in fmap.added:
        fmap.function_at(line)
        fmap.locks_at(line)


@pytest.mark.parametrize("kind", ["blocks", "parens", "ifs"])
def test_deep_nesting_is_mapped_quickly(parser: CParser, rules: list[object],
                                        kind: str) -> None:
    lines = nested_c(3000, kind).splitlines()
    start = time.perf_counter()
    (fdiff,) = parse_diff(_diff_of(lines, start=1, heading=""))
    map_file(fdiff, parser)
    mail = (b"Subject: [PATCH] deep\n\nx\n---\n" + _diff_of(lines, 1, "").encode())
    _review(mail, rules, parser)
    assert time.perf_counter() - start < 20


@hostile(8)
@given(hostile_shape())
def test_large_shapes_are_reviewed_in_linear_time(parser: CParser, rules: list[object],
                                                  shape: tuple[str, int, bytes]) -> None:
    """Dense tokens, deep nesting (C or MIME), many hunks, many lock regions, a rewritten
    block, a huge Cc, at a drawn size of 1,250 to 5,000: a review in 3 s of CPU plus 2 ms per
    unit of size (a quadratic path, as CON002's or MEM001's were, takes tens of seconds at the
    top of the range). tests/test_budgets.py holds the full-size regressions."""
    name, n, mail = shape
    start = time.process_time()  # CPU time: a loaded machine's wall clock wanders
    _review(mail, rules, parser)
    assert time.process_time() - start < 3 + n / 500, (name, n)


# -- whole pipeline and command line --------------------------------------------------

@hostile(120)
@given(mbox())
def test_pipeline_reviews_or_refuses_hostile_mbox(parser: CParser, rules: list[object],
                                                  data: bytes) -> None:
    _review(data, rules, parser)


@hostile(80)
@given(st.binary(max_size=2000))
def test_pipeline_takes_arbitrary_bytes(parser: CParser, rules: list[object],
                                        data: bytes) -> None:
    _review(data, rules, parser)


def _cli(tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str],
         data: bytes, *options: str) -> tuple[int, str]:
    """``check`` on ``data``: the exit status and stdout, after the checks every hostile
    input must pass (0, 1 or 2; no traceback; exit 2 is one error line, else stderr
    holds notes only, one line each, such as the note on a Cc list cut to its cap)."""
    path = tmp_path_factory.mktemp("in") / "input.mbox"
    path.write_bytes(data)
    code = main(["check", str(path), *options])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "internal error" not in err and "Traceback" not in err
    if code == 2:
        assert err.startswith("reviewbot: error: ") and err.count("\n") == 1
    else:
        assert all(line.startswith("reviewbot: note: ") for line in err.splitlines()), err
    return code, out


@hostile(40)
@given(mbox())
def test_cli_exit_status_and_one_line_errors(tmp_path_factory: pytest.TempPathFactory,
                                             capsys: pytest.CaptureFixture[str],
                                             data: bytes) -> None:
    code, out = _cli(tmp_path_factory, capsys, data, "--format", "json")
    assert code == 2 or out.startswith("{")


@hostile(40)
@given(mbox())
def test_cli_replies_to_hostile_mail(tmp_path_factory: pytest.TempPathFactory,
                                     capsys: pytest.CaptureFixture[str], data: bytes) -> None:
    """The default output off a terminal: replies to every patch and the cover letter,
    quoting whatever the mail holds."""
    code, out = _cli(tmp_path_factory, capsys, data, "--format", "reply", "--all",
                     "--summary", "--from", "Hostile Reviewer <r@example.org>",
                     "--date", "2026-01-01")
    if code != 2:
        assert out.startswith("From mboxrd@z ") or out == ""
        for message in re.split(r"(?m)^From mboxrd@z ", out)[1:]:
            head = message.split("\n\n", 1)[0]
            assert "\nFrom: Hostile Reviewer <r@example.org>\n" in head
            parsed = email.message_from_string(head.partition("\n")[2] + "\n\n",
                                               policy=email.policy.default)
            for name in ("To", "Cc"):  # every recipient reads back, none is lost
                header = parsed[name]
                assert header is None or (not header.defects and header.addresses)


# -- the scanner: properties of its one implementation ---------------------------------

SCAN_TEXT = st.text(alphabet=st.sampled_from(list("a {}/*\"'\\x\t\x00é\r;(")), max_size=30)


@settings(max_examples=examples(500), deadline=None)
@given(SCAN_TEXT, st.booleans())
def test_scan_blanks_only_comments_and_literals(text: str, in_comment: bool) -> None:
    """The code keeps the line's length and columns, changes characters only into blanks
    (or the closing quote of an unterminated literal), counts the braces that are left
    and, scanned again, stays as it is."""
    line = scan_lines([text], in_comment)[0]
    assert len(line.code) == len(text)
    assert all(a == b or b in " \"'" for a, b in zip(text, line.code, strict=True))
    depth = low = 0
    for c in line.code:
        depth += (c == "{") - (c == "}")
        low = min(low, depth)
    assert (line.opens, line.closes, line.min_depth) == (
        line.code.count("{"), line.code.count("}"), low)
    assert scan_lines([line.code])[0].code == line.code
    if not in_comment and not set(text) & set("/\"'"):
        assert line == (text, text.count("{"), text.count("}"), low, False)
    if in_comment and "*/" not in text:
        assert line.code == " " * len(text) and line.in_comment_after


@pytest.mark.parametrize(("text", "in_comment", "code", "after"), [
    ("if (a) { /* { */ b(); }", False, "if (a) {         b(); }", False),
    ('s = "{\\"}"; {', False, 's = "    "; {', False),
    ("c = '}'; // }", False, "c = ' ';     ", False),
    ("x /* open", False, "x        ", True),
    ("still */ y {", True, "         y {", False),
    ('p = "never closed {', False, 'p = "             "', False),
    ("a / b {", False, "a / b {", False),
])
def test_scan_examples(text: str, in_comment: bool, code: str, after: bool) -> None:
    line = scan_lines([text], in_comment)[0]
    assert (line.code, line.in_comment_after) == (code, after)
    assert line.opens == code.count("{")


# -- regressions: slow paths found while hardening ------------------------------------

def _fast(fn: object, limit: float = 2.0) -> None:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    assert time.perf_counter() - start < limit


def test_guard_regex_is_linear() -> None:
    from reviewbot.cmap.locks import lock_regions

    # "\s*\)?\s*" took 50 s on this line; now linear
    _fast(lambda: lock_regions([(1, "guard ( a" + " " * 50_000)], "f", True))


def test_many_subject_brackets_are_linear() -> None:
    _fast(lambda: parse_subject("[a]" * 100_000))  # sliced the rest per bracket: quadratic


def test_many_bare_diff_candidates_are_linear() -> None:
    _fast(lambda: split_body("--- x\n" * 200_000))  # copied the rest per "--- x": quadratic


def test_findings_on_a_huge_patch_are_indexed(parser: CParser, rules: list[object]) -> None:
    # 800 findings on a 20k-line patch: a line lookup per finding was quadratic
    block = ["static void f@(int x)", "{", "\tif (x) {", "\t\tx++;", "\t}", "}"]
    lines = [ln.replace("@", str(i)) for i in range(3400) for ln in block]
    mail = b"Subject: [PATCH] big\n\nx\n---\n" + _diff_of(lines, 1, "").encode()
    start = time.perf_counter()
    review = review_messages(read_bytes(mail, "big", "big"), Settings(), rules,  # type: ignore[arg-type]
                             parser)
    assert len(review.findings) == 3400
    assert time.perf_counter() - start < 30


def test_nul_and_cr_only_input_is_a_clear_error(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"\x00\x01\x02" * 1000)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "binary data" in err
    path.write_bytes(b"\r\r\r")
    assert main(["check", str(path)]) == 2
    assert "empty input" in capsys.readouterr().err


# -- regressions found by the fuzz target ----------------------------------------------

_CRASH_CC = b"""From 1 Mon Sep 17 00:00:00 2001
From: Ada Example <ada@example.org>
To: Maintainer <maint@example.org>
Cc: linux-kernel@vger.kernel.org, .ada@example.org
Date: Wed, 25 Nov 2026 22:09:40 +0000
Subject: [PATCH] frob: clear the counter
Message-Id: <p1@example.org>

Clear it.

Signed-off-by: Ada Example <ada@example.org>
---
diff --git a/drivers/misc/frob.c b/drivers/misc/frob.c
--- a/drivers/misc/frob.c
+++ b/drivers/misc/frob.c
@@ -1,3 +1,4 @@
 static void frob_reset(struct frob_dev *dev)
 {
+\tdev->count = 0;
 }
"""


def test_reply_to_a_cc_with_a_leading_dot_address(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """atheris, 2026-11-26: ``Cc: a@b, .ada@example.org`` made the email package's own
    address parser raise TypeError while the reply was built ("internal error")."""
    path = tmp_path / "cc.mbox"
    path.write_bytes(_CRASH_CC)
    code = main(["check", str(path), "--format", "reply", "--all",
                 "--from", "R <r@example.org>", "--date", "2026-01-01"])
    out, err = capsys.readouterr()
    assert code in (0, 1) and err == ""
    head = out.partition("\n\n")[0]
    assert "\nCc: Maintainer <maint@example.org>, linux-kernel@vger.kernel.org\n" in head
    assert ".ada@" not in head


# -- replies to a mail Cc'd to the world (issue 20, item 4) ------------------------------

@hostile(25)
@given(huge_address_patch())
def test_a_reply_keeps_the_author_and_the_lists_of_a_huge_cc(
        case: tuple[bytes, int, int]) -> None:
    """At most MAX_CC addresses in Cc: the in-body author and the lists first, the
    others in their order; how many were left out is said; every one reads back."""
    from datetime import UTC, datetime

    from reviewbot.report.message import MAX_CC
    from reviewbot.report.reply import ReplyConfig, render_replies
    from reviewbot.series.model import Person

    raw, total, lists = case
    review = review_messages(read_bytes(raw, "huge", "huge"), Settings())
    config = ReplyConfig(Person("R", "r@example.org"), datetime(2026, 1, 1, tzinfo=UTC))
    [reply] = [r for sr in review.series for r in render_replies(sr, config)]
    cc = [p.email for p in reply.cc]
    assert [p.email for p in reply.to] == ["sender@example.org"]
    assert len(cc) <= MAX_CC and len(cc) == len(set(cc))
    assert cc[0] == "ada@example.org"  # the in-body author, first in the original order
    kept_lists = [a for a in cc if a.endswith("@vger.kernel.org")]
    assert len(kept_lists) == min(lists, MAX_CC - 1)
    assert reply.dropped_cc == max(0, len(cc) + reply.dropped_cc - MAX_CC)
    if total + 1 > MAX_CC:
        assert len(cc) == MAX_CC and reply.dropped_cc > 0
    parsed = email.message_from_bytes(reply.data, policy=email.policy.default)
    assert [a.addr_spec for a in parsed["Cc"].addresses] == cc
    numbers = [int(re.sub(r"\D", "", a.split("@")[0])) for a in cc[1:]
               if re.fullmatch(r"(p|list)\d+@.*", a)]
    assert numbers == sorted(numbers)  # in the order of the original


@pytest.mark.slow
def test_a_reply_to_100000_addresses_is_fast(tmp_path: Path) -> None:
    """32,000 addresses took 24 s and 100,000 did not end in 10 minutes (the email
    package's address parser is quadratic, and it read each list twice). Measured in
    CPU seconds of the command (the wall clock of a shared machine varies)."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    path = tmp_path / "huge.eml"
    path.write_bytes(f"From: Ada <ada@example.org>\nCc: {address_list(100_000, 1000)}\n"
                     "Subject: [PATCH] frob: clear it\nMessage-ID: <huge@example.org>\n\n"
                     "x\n---\ndiff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,6 @@\n"
                     " int f(int x)\n {\n+\tif (x) {\n+\t\tx++;\n+\t}\n }\n".encode())
    proc = subprocess.Popen([sys.executable, "-m", "reviewbot", "check", str(path),
                             "--format", "reply", "--from", "R <r@example.org>"],
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)  # (the outputs fit in the pipes: ~20 KB)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.stdout.close(), proc.stderr.close()  # type: ignore[func-returns-value,union-attr]
    assert os.waitstatus_to_exitcode(status) == 1, err
    assert usage.ru_utime + usage.ru_stime < 10, usage
    assert usage.ru_maxrss < 1024 * 1024, usage.ru_maxrss  # KiB
    assert err.decode().startswith("reviewbot: note: the reply to <huge@example.org> is "
                                   "Cc'd to 256 addresses, not all 100000")
    head = out.split(b"\n\n", 1)[0]
    assert head.count(b"@vger.kernel.org") == 100  # every list kept


def test_mime_nested_past_the_recursion_limit_is_skipped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the part limit, a walk that recurses too deep is caught too (the body is
    left out, the headers kept)."""
    from reviewbot.series import mail as mail_mod

    real = mail_mod._body

    def deep(msg: Any) -> str:
        if msg.is_multipart() and msg.get_payload():
            raise RecursionError("maximum recursion depth exceeded")
        return real(msg)
    monkeypatch.setattr(mail_mod, "_body", deep)
    mail = parse_mail(nested_mime(50))
    assert mail.error == "the MIME structure is nested too deeply to be read"
    assert mail.subject.raw == "[PATCH 1/2] deep" and mail.msgid == "deep50@example.org"


@pytest.mark.parametrize("depth", [980, 5000])
def test_deep_mime_is_skipped_and_the_rest_reviewed(tmp_path: Path, depth: int,
                                                    capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    """MIME nested ~1000 deep (64 KB) makes the email parser recurse past Python's
    limit: that message is skipped with the reason, the next one is still reviewed."""
    ok = (b"From: Ada <ada@example.org>\nSubject: [PATCH] frob: ok\nMessage-ID: <ok@x>\n\n"
          b"---\n--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,4 @@\n int f(void)\n {\n"
          b"+\tif (x) {\n+\t\ty();\n")
    sep = b"From nobody Mon Sep 17 00:00:00 2001\n"
    path = tmp_path / "deep.mbox"
    path.write_bytes(sep + nested_mime(depth) + b"\n" + sep + ok)
    code = main(["check", str(path), "--format", "text"])
    out, err = capsys.readouterr()
    assert code == 1 and err == ""
    assert "[PATCH 1/2] deep\n  skipped: the MIME structure has more than 100" in out
    assert "[PATCH] frob: ok\n  x.c:3: STY001" in out
