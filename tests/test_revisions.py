"""Revision-aware review from local input (``reviewbot.revisions``).

The fixture series (fixtures/revisions/): widget v1 (4 patches) with its review, and
widget v2 (3 patches). On v1, Rob asked for -EINVAL (done in v2) and for clamp() (left
as it was), asked about READ_ONCE() (Ada answered no: discussed), questioned the export
of patch 4 (patch dropped), and gave a Reviewed-by to patch 3, which v2 rewrote but
still carries; Tina gave a Tested-by to patch 2, which v2 lacks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main
from reviewbot.fetch.local import RawMessage
from reviewbot.pipeline import parse_messages
from reviewbot.revisions.answers import agrees
from reviewbot.revisions.comments import is_ack, patch_lines, place, reply_comments
from reviewbot.revisions.fate import asks
from reviewbot.revisions.lookup import Lookup, attach
from reviewbot.revisions.match import match_patches
from reviewbot.revisions.pool import MailPool
from reviewbot.revisions.previous import find_previous, search_query
from reviewbot.revisions.quoting import clean_comment, given_trailers, split_blocks
from reviewbot.series.build import build_series
from reviewbot.series.mail import parse_mail
from reviewbot.series.model import Mail, Person
from tests.conftest import FIXTURES

V1 = FIXTURES / "revisions" / "widget-v1.mbox"
V2 = FIXTURES / "revisions" / "widget-v2.mbox"
ROB_1 = "rob-1.20250402@example.org"  # the reply to v1 1/4 (two comments)


@pytest.fixture
def both(tmp_path: Path) -> Path:
    path = tmp_path / "widget-both.mbox"
    path.write_bytes(V1.read_bytes() + V2.read_bytes())
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", "--no-tree", "-j", "1", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def since(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "--format", "json", *argv)
    assert code in (0, 1), err
    series = json.loads(out)["series"]
    assert len(series) == 1
    got: dict[str, Any] = series[0]["since"]
    return got


def verdicts(data: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(reply Message-ID, first words of the comment) -> verdict."""
    return {(c["msgid"], " ".join(c["text"].split()[:3])): c["verdict"]
            for c in data["comments"]}


# --- the whole thing, from one mbox holding both revisions ----------------------------------

def test_both_revisions_in_one_mbox(capsys: pytest.CaptureFixture[str], both: Path) -> None:
    data = since(capsys, str(both))
    assert data["found"] and data["version"] == 1 and data["found_by"] == "change-id"
    assert data["series"] == "20250401090000.7310-0-ada@example.org"
    assert [(p["status"], p["old"], p["new"]) for p in data["patches"]] == [
        ("changed", 1, 1), ("unchanged", 2, 2), ("changed", 3, 3), ("dropped", 4, None)]
    patch3 = data["patches"][2]
    assert patch3["substantial"] and patch3["message_changed"]
    assert {h["file"] for h in patch3["hunks"]} == {"drivers/misc/widget.c"}
    assert verdicts(data) == {
        (ROB_1, "Please return -EINVAL"): "addressed",
        (ROB_1, "Why open-code this?"): "not_addressed",
        ("rob-2.20250402@example.org", "Shouldn't this read"): "discussed",
        ("tina-2.20250403@example.org", "Ran it on"): "unclear",
        ("rob-4.20250402@example.org", "Who needs this"): "dropped",
    }
    by_verdict = {c["verdict"]: c for c in data["comments"]}
    done = by_verdict["addressed"]
    assert done["now"] == ["+\t\treturn -EINVAL;"] and "return -EINVAL" in done["evidence"]
    todo = by_verdict["not_addressed"]
    assert todo["spot"] == {"patch": 1, "file": "drivers/misc/widget.c", "line": 18,
                            "text": "\t\tlevel = WIDGET_MAX_LEVEL;",
                            "patch_line": todo["spot"]["patch_line"]}
    assert [q["text"] for q in todo["quoted"]] == ["\tif (level > WIDGET_MAX_LEVEL)",
                                                   "\t\tlevel = WIDGET_MAX_LEVEL;"]
    assert todo["author"] == "Rob Reviewer <rob@example.org>"
    assert todo["text"] == ("Why open-code this? Please use clamp() here, it says what is "
                            "meant.")  # greeting, sign-off ("Thanks,\nRob") stripped
    talk = by_verdict["discussed"]
    assert talk["answer"]["msgid"] == "ada-re-rob-2.20250403@example.org"
    assert not talk["answer"]["agrees"] and talk["answer"]["text"].startswith("No, the count")
    assert sorted((t["kind"], t["trailer"], t["patch"], t["msgid"]) for t in data["trailers"]) \
        == [("carried", "Reviewed-by: Rob Reviewer <rob@example.org>", 3, None),
            ("missing", "Tested-by: Tina Tester <tina@example.org>", 2,
             "tina-2.20250403@example.org")]


def test_text_report_has_a_since_section(capsys: pytest.CaptureFixture[str],
                                          both: Path) -> None:
    _code, out, err = run(capsys, "--format", "text", str(both))
    assert err == ""
    lines = out.splitlines()
    start = lines.index("[PATCH v2 0/3] widget: level limit, statistics and reset")
    section = "\n".join(lines[start:])
    assert "  since v1 <20250401090000.7310-0-ada@example.org> (found in the input by " \
           "change-id):" in section
    assert "    2/3 widget: count level changes: unchanged" in section
    assert "    v1 4/4 widget: export widget_count(): dropped" in section
    assert ("comments on v1: 5 (1 addressed, 1 not addressed, 1 discussed, "
            "1 patch dropped, 1 unclear)") in section
    assert f'not addressed: v1 1/4, Rob Reviewer <{ROB_1}>: "Why open-code this?' in section
    assert "3/3 Reviewed-by: Rob Reviewer <rob@example.org>: carried from v1, but the " \
           "patch changed substantially" in section
    assert lines[-1] == "0 findings in 3 patches"


def test_replies_quote_the_unchanged_line(capsys: pytest.CaptureFixture[str],
                                          both: Path) -> None:
    code, out, err = run(capsys, "--reply", "--summary", "--from", "Jane <jane@example.org>",
                         "--date", "2025-04-11T00:00:00Z", str(both))
    assert code == 0, err
    mails = out.split("\nFrom mboxrd@z Thu Jan  1 00:00:00 1970\n")
    assert len(mails) == 2  # the cover-letter summary and patch 1 (no finding elsewhere)
    summary, patch1 = mails
    assert "Subject: Re: [PATCH v2 0/3] widget: level limit" in summary
    flat = " ".join(summary.split())
    assert ("Since v1: 1 of the 5 review comments on v1 was not addressed: - v1 1/4, Rob "
            "Reviewer: \"Why open-code this? Please use clamp() here, it says what is "
            f"meant.\" <{ROB_1}>") in flat
    assert "Tested-by: Tina Tester <tina@example.org>: given on the list for v1" in flat
    assert "In-Reply-To: <20250410090000.8420-1-ada@example.org>" in patch1
    body = patch1.split("\n\n", 1)[1]
    quoted = "> +\tif (level > WIDGET_MAX_LEVEL)\n> +\t\tlevel = WIDGET_MAX_LEVEL;\n\n"
    assert quoted + "v1 comment by Rob Reviewer not addressed: \"Why open-code this?" in body
    assert f"<{ROB_1}>" in body
    assert "return -EINVAL" in body  # the hunk is quoted, as for a finding


def test_without_an_earlier_revision_nothing_changes(capsys: pytest.CaptureFixture[str],
                                                     both: Path) -> None:
    _, alone, err = run(capsys, "--format", "json", str(V2))
    assert err == "" and "since" not in json.loads(alone)["series"][0]
    _, off, _ = run(capsys, "--format", "text", "--no-revisions", str(both))
    _, v2_text, _ = run(capsys, "--format", "text", str(V2))
    # --no-revisions: the review as before; only the series header says where the
    # messages came from (another file, more messages, the other revision it holds)
    def body(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if not ln.startswith("series: ")]

    assert body(off) == body(v2_text) and "since" not in off
    _, off_reply, _ = run(capsys, "--reply", "--no-revisions", "--date", "2025-04-11",
                          "--from", "J <j@example.org>", str(both))
    assert off_reply == ""  # no finding, no reply


def test_since_names_the_previous_revision(capsys: pytest.CaptureFixture[str],
                                           both: Path) -> None:
    data = since(capsys, str(V2), "--since", str(V1))
    assert data["found"] and data["where"] == str(V1)
    assert verdicts(data) == verdicts(since(capsys, str(both)))
    code, _out, err = run(capsys, str(V2), "--since", "/nonexistent/v1.mbox")
    assert code == 2 and "no such file" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as stop:  # argparse: the two options exclude each other
        run(capsys, str(V2), "--since", str(V1), "--no-revisions")
    assert stop.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_an_older_revision_than_n_minus_1(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    """v3 after v1 (v2 never reached the list): compared with v1, and said so."""
    v3 = V2.read_bytes().replace(b"[PATCH v2 ", b"[PATCH v3 ").replace(b"8420-", b"9530-")
    path = tmp_path / "v1-v3.mbox"
    path.write_bytes(V1.read_bytes() + v3)
    data = since(capsys, str(path))
    assert data["version"] == 1 and data["found"]
    _, out, _ = run(capsys, "--format", "text", str(path))
    assert "  since v1 <" in out and "was not addressed" not in out


# --- the parts ----------------------------------------------------------------------------

def _mails(*paths: Path) -> list[Mail]:
    from reviewbot.fetch.local import read_source

    return parse_messages([m for p in paths for m in read_source(str(p), 1 << 24)])


def test_previous_found_by_each_relation() -> None:
    import dataclasses

    mails = _mails(V1, V2)
    v2 = next(s for s in build_series(mails) if s.version == 2)
    found = find_previous(v2, MailPool.of(mails), "here")
    assert found is not None and found.found_by == "change-id" and found.series.version == 1
    # without the change-id: the cover letter's link to v1
    plain = [m if m.msgid != v2.id else _replace_body(m, "change-id: ", "x-change: ")
             for m in mails]
    v2p = next(s for s in build_series(plain) if s.version == 2)
    found = find_previous(v2p, MailPool.of(plain), "here")
    assert found is not None and found.found_by == "link"
    # without the link either: title and author
    bare = [m if m.msgid != v2.id else _replace_body(_replace_body(m, "change-id: ", "x: "),
                                                     "https://lore.kernel.org/r/", "")
            for m in mails]
    v2b = next(s for s in build_series(bare) if s.version == 2)
    found = find_previous(v2b, MailPool.of(bare), "here")
    assert found is not None and found.found_by == "subject"
    assert find_previous(v2b, MailPool.of([m for m in bare if m.subject.version == 2]),
                         "here") is None
    # the author sent v2 from another address: the same full name is the same author
    # (authors move between addresses); another name and address is someone else
    for who, found_by in ((Person("Ada Author", "ada@newjob.example.org"), "subject"),
                          (Person("Eve Other", "eve@example.org"), None)):
        moved = [dataclasses.replace(m, author=who) if m.subject.version == 2 else m
                 for m in bare]
        v2m = next(s for s in build_series(moved) if s.version == 2)
        found = find_previous(v2m, MailPool.of(moved), "here")
        assert (found.found_by if found else None) == found_by, who


def test_previous_found_up_the_in_reply_to_chain() -> None:
    """A v2 sent in reply to a review of v1 (``git send-email --in-reply-to`` the
    review) names only that review: v1 is found by following the chain up, as b4
    does, here with no change-id, no link, and an author address and name of its own."""
    import dataclasses

    mails = _mails(V1, V2)
    v2 = next(s for s in build_series(mails) if s.version == 2)
    someone = Person("A. Author", "ada@home.example.org")

    def moved(m: Mail) -> Mail:
        if m.subject.version != 2:
            return m
        m = dataclasses.replace(m, author=someone)
        if m.msgid != v2.id:
            return m
        body = m.body.replace("change-id: ", "x: ").replace("https://lore.kernel.org/r/", "")
        return dataclasses.replace(m, body=body, in_reply_to=ROB_1, references=(ROB_1,))

    chained = [moved(m) for m in mails]
    v2c = next(s for s in build_series(chained) if s.version == 2)
    found = find_previous(v2c, MailPool.of(chained), "here")
    assert found is not None and found.found_by == "in-reply-to"
    assert found.series.id == "20250401090000.7310-0-ada@example.org"
    # the review it replies to is not in the pool: nothing to follow, nothing found
    assert find_previous(v2c, MailPool.of([m for m in chained if m.msgid != ROB_1]),
                         "here") is None


def test_pool_files_each_patch_mail_under_what_relates_it() -> None:
    """find_previous compares only the mails filed under vN's keys: every patch mail is
    filed under its Message-ID, thread root, change-id and author with title, and a
    look-up gives each mail once, in pool order."""
    from reviewbot.revisions.pool import title_key

    pool = MailPool.of(_mails(V1, V2))
    assert len(pool.patches) > 2
    cids = 0
    for m in pool.patches:
        keys: list[tuple[str, ...]] = [("msgid", m.msgid)]
        if m.thread_root:
            keys.append(("root", m.thread_root))
        if m.author is not None:
            keys.append(("subject", m.author.email.lower(), title_key(m.subject.title)))
        cid = pool.change_id(m)
        if cid is not None:
            keys.append(("change-id", cid))
            cids += 1
        for key in keys:
            assert m in pool.patches_by([key]), key
    assert cids > 0
    every = [("msgid", m.msgid) for m in reversed(pool.patches)] * 2
    assert pool.patches_by(every) == pool.patches
    assert pool.patches_by([("msgid", "nowhere@example.org"), ("root", "")]) == []


def _replace_body(mail: Mail, old: str, new: str) -> Mail:
    import dataclasses

    return dataclasses.replace(mail, body=mail.body.replace(old, new))


def test_search_query_asks_for_every_relation_at_once() -> None:
    v2 = next(s for s in build_series(_mails(V2)) if s.version == 2)
    query = search_query(v2)
    assert query == ('nq:"change-id: 20250401-widget-level-4f1d2c" OR '
                     "m:20250401090000.7310-0-ada@example.org OR "
                     '(s:"widget: level limit, statistics and reset" AND f:"ada@example.org" '
                     "AND d:20240410..20250411)")


def test_patch_matching_split_merged_new_dropped() -> None:
    def patch(index: int, title: str, added: list[str], path: str = "a.c") -> Any:
        body = "\n".join(f"+{x}" for x in added)
        raw = (f"From: A <a@example.org>\nSubject: [PATCH {index}/9] {title}\n"
               f"Message-ID: <p{index}-{title.replace(' ', '')}@x>\n\n"
               f"msg\n---\ndiff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
               f"@@ -1,0 +1,{len(added)} @@\n{body}\n").encode()
        from reviewbot.series.build import make_patch

        return make_patch(parse_mail(raw), index, 9, 1)

    long = [f"\tcall_number_{i}(x, y);" for i in range(8)]
    old = [patch(1, "one", long[:4] + long[4:]), patch(2, "gone", ["\tunique_line(z);"]),
           patch(3, "tiny", ["\tmerged_away(q);", "\tmore_merged(q);"])]
    new = [patch(1, "one", long[:4]), patch(2, "split out", long[4:]),
           patch(3, "fresh", ["\tbrand_new(q);"]),
           patch(4, "bigger", ["\tmerged_away(q);", "\tmore_merged(q);", "\tplus(q);"])]
    got = {(d.kind, d.old, d.new) for d in match_patches(old, new)}
    assert got == {("changed", 1, 1), ("split", 1, 2), ("new", None, 3),
                   ("changed", 3, 4), ("dropped", 2, None)}


def test_a_retitled_patch_rewritten_in_place_is_matched_by_its_functions() -> None:
    """Step 4 of the matching: no title, no changed line and no added line in common,
    but the same file and the same functions: one patch, changed (not dropped + new).
    A patch in other functions, or in another file, stays new."""
    from reviewbot.series.build import make_patch

    def patch(index: int, title: str, places: list[tuple[str, str, str]]) -> Any:
        hunks = "".join(f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
                        f"@@ -10,3 +10,4 @@ {section}\n \tctx();\n+{line}\n \tctx();\n"
                        " \tctx();\n" for path, section, line in places)
        raw = (f"From: A <a@example.org>\nSubject: [PATCH {index}/3] {title}\n"
               f"Message-ID: <q{index}-{title.replace(' ', '')}@x>\n\nmsg\n---\n"
               f"{hunks}").encode()
        return make_patch(parse_mail(raw), index, 3, 1)

    old = [patch(1, "widget: take the lock", [
        ("w.c", "static int widget_get(struct widget *w)", "\tspin_lock(&w->lock);"),
        ("w.c", "static void widget_put(struct widget *w)", "\tspin_unlock(&w->lock);")]),
        patch(2, "widget: other", [("w.c", "int widget_other(void)", "\tother();")])]
    new = [patch(1, "widget: use a mutex for the get and put paths", [
        ("w.c", "static int widget_get(struct widget *w)", "\tmutex_lock(&w->mutex);"),
        ("w.c", "static void widget_put(struct widget *w)", "\tmutex_unlock(&w->mutex);")]),
        patch(2, "widget: elsewhere", [("w.c", "int widget_elsewhere(void)", "\tnew();")]),
        patch(3, "gadget: same function, other file", [
            ("g.c", "int widget_other(void)", "\tthird();")])]
    got = {(d.kind, d.old, d.new) for d in match_patches(old, new)}
    assert got == {("changed", 1, 1), ("new", None, 2), ("new", None, 3),
                   ("dropped", 2, None)}


def test_reading_a_reply() -> None:
    body = ("Hi Ada,\n\nOn Tue, 1 Apr 2025 at 09:00, Ada Author\n<ada@example.org> wrote:\n"
            "> +\tfoo();\n> +\tbar();\n\nWhy bar() here?\n\n>> older quote\n> +\tbaz();\n\n"
            "Reviewed-by: Rob Reviewer <rob@example.org>\n\nThanks,\n\nRob\n-- \nsig\n")
    blocks = split_blocks(body)
    assert [b.depth for b in blocks] == [0, 1, 0, 1, 0]
    assert blocks[3].depths == (2, 1)
    rob = Person("Rob Reviewer", "rob@example.org")
    assert clean_comment(list(blocks[4].lines), rob, last=True, first=False) == ""
    assert clean_comment(list(blocks[2].lines), rob, last=False, first=False) == \
        "Why bar() here?"
    assert given_trailers(body) == [("Reviewed-by", rob)]
    assert given_trailers("> Reviewed-by: Someone <s@example.org>\n") == []


def test_quoted_lines_are_found_despite_the_mail_client() -> None:
    """Tabs turned into blanks, the blank after '+' lost: still the patch's lines."""
    v1 = next(s for s in build_series(_mails(V1)))
    p1 = v1.patch(1)
    assert p1 is not None
    lines = patch_lines(p1)
    quoted = ["+    if (level < 0)", "+        return -1;", "+if (level > WIDGET_MAX_LEVEL)"]
    pos = place(quoted, lines)
    assert all(p is not None for p in pos)
    assert [lines.at[p].text for p in pos if p is not None] == [
        "\tif (level < 0)", "\t\treturn -1;", "\tif (level > WIDGET_MAX_LEVEL)"]
    mangled = ("On x, Ada wrote:\n> +    if (level < 0)\n> +        return -1;\n\n"
               "Please return -EINVAL.\n")
    reply = parse_mail(b"From: R <r@example.org>\nMessage-ID: <m@x>\n\n" + mangled.encode())
    comments = reply_comments(p1, 1, reply, lines)
    assert [(c.text, [q.text for q in c.quoted]) for c in comments] == [
        ("Please return -EINVAL.", ["\tif (level < 0)", "\t\treturn -1;"])]


@pytest.mark.parametrize(("text", "want"), [
    ("Will fix in v2.", True), ("Ack.", True), ("Sure, will do.", True),
    ("Thanks for the review. Sorry for the mistake, fixed.", True),
    ("Languages are hard.  Fixing the set, thanks!", True),
    ("Thanks for the review. The other functions use printk, so I kept it.", False),
    ("No, the count is only a statistic.", False), ("Sure, but that breaks X.", False),
    ("Yes, I will remove them in a follow-up series.", False), ("Thanks!", False),
])
def test_agreement(text: str, want: bool) -> None:
    assert agrees(text) is want


@pytest.mark.parametrize(("text", "ack"), [
    ("Looks good.", True), ("Overall looks good to me. A few nits below.", True),
    ("Feel free to add:", True), ("Looks good, but please drop the extern.", False),
    ("Why open-code this?", False),
])
def test_acknowledgements_are_not_comments(text: str, ack: bool) -> None:
    assert is_ack(text) is ack


@pytest.mark.parametrize(("text", "wanted"), [
    ("Please use clamp() here.", True), ("Why is this needed?", True), ("s/foo/bar/", True),
    ("This leaks the buffer.", True), ("Ran it on two boards, it works.", False),
    ("I got confused by this at first, but it makes sense.", False),
])
def test_what_asks_for_something(text: str, wanted: bool) -> None:
    assert asks(text) is wanted


def test_late_comments_and_late_trailers_do_not_count(tmp_path: Path) -> None:
    """A review sent after v2 went out cannot be addressed by v2."""
    late = (V1.read_bytes().replace(b"Wed, 02 Apr 2025 10:00:00", b"Fri, 11 Apr 2025 10:00:00")
            .replace(b"Thu, 03 Apr 2025 12:00:00", b"Fri, 11 Apr 2025 12:00:00"))
    mails = _mails_bytes(late + V2.read_bytes())
    review = attach(_reviewed(mails), mails, Lookup())
    r = review.series[0].since
    assert r is not None and r.review is not None
    clamp = [f for f in r.review.comments if f.comment.msgid == ROB_1]
    assert {f.verdict for f in clamp} == {"unclear"}
    assert all("after v2 was posted" in f.evidence for f in clamp)
    assert [t.kind for t in r.review.trailers] == ["carried"]  # Tina's came too late


def _mails_bytes(data: bytes) -> list[Mail]:
    from reviewbot.fetch.local import split_mbox

    return parse_messages(split_mbox(data, "mbox"))


def _reviewed(mails: list[Mail]) -> Any:
    from reviewbot.findings import Review, SeriesReview

    return Review(tuple(SeriesReview(s, ()) for s in build_series(mails)))


def test_hostile_replies_stay_bounded() -> None:
    """A reply quoting 50,000 lines, a thread 500 replies deep, garbage bodies."""
    v1 = V1.read_bytes()
    huge = ("From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: M <m@example.org>\n"
            "Subject: Re: [PATCH 1/4] widget: limit the level\nMessage-ID: <huge@x>\n"
            "In-Reply-To: <20250401090000.7310-1-ada@example.org>\n\n"
            + "> +\tif (level < 0)\n" * 50000 + "\nWhy?\n\n").encode()
    chain = b"".join(
        (f"From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: Ada Author <ada@example.org>\n"
         f"Subject: Re: x\nMessage-ID: <deep{i}@x>\nIn-Reply-To: <"
         + ("rob-1.20250402@example.org" if i == 0 else f"deep{i - 1}@x")
         + ">\n\n> \x00\x01 garbage\n\nNo.\n\n").encode() for i in range(500))
    mails = _mails_bytes(v1 + huge + chain + V2.read_bytes())
    review = attach(_reviewed(mails), mails, Lookup())
    r = review.series[0].since
    assert r is not None and r.review is not None
    assert any(f.comment.msgid == "huge@x" for f in r.review.comments)


def test_raw_messages_api() -> None:
    """review_messages() with a Lookup, as the CLI calls it."""
    from reviewbot.config import Settings
    from reviewbot.pipeline import review_messages

    raw = [RawMessage(m.raw, "t") for m in _mails(V1, V2)]
    review = review_messages(raw, Settings(), revisions=Lookup())
    assert review.series[0].since is not None
    assert review_messages(raw, Settings()).series[0].since is None
