"""Replies' headers, folded once per distinct header, are what ``EmailMessage`` writes.

``build_message`` renders each header through the email package's own parse and fold
(cached per name and value) instead of building one ``EmailMessage`` with all of them.
The reference below is the plain construction it replaces; both must give the same bytes
for any identity, recipients, subject, Message-IDs and body, including non-ASCII and
quoted names, long subjects that fold, long reference lists and bodies that need
quoted-printable. Except where the reference loses a recipient (the email package folds
a comma into an encoded word): there only To and Cc may differ, and ours must read back;
and where the reference folds a header right after its name (``Subject:\n Re: ...``):
ours is folded as mail clients fold, the same header once unfolded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.report.message import (
    _FOLDED_ID,
    POLICY,
    _address,
    _transfer_encoding,
    build_message,
    clean,
    clean_person,
    recipients,
    valid_msgid,
)
from reviewbot.series.model import Person


def _reference(*, identity: Person, to: Sequence[Person], cc: Sequence[Person],
               subject: str, in_reply_to: str | None, refs: Sequence[str], msgid: str,
               date: datetime, body: str) -> bytes:
    from email.message import EmailMessage
    from email.utils import format_datetime

    me = clean_person(identity)
    assert me is not None
    to = recipients(to)
    cc = recipients(cc, exclude=[p.email for p in to])
    msg = EmailMessage(policy=POLICY)
    msg["From"] = _address(me)
    if to:
        msg["To"] = [_address(p) for p in to]
    if cc:
        msg["Cc"] = [_address(p) for p in cc]
    msg["Subject"] = clean(subject)
    msg["Date"] = format_datetime(date if date.tzinfo else date.replace(tzinfo=UTC))
    msg["Message-ID"] = f"<{msgid}>"
    if in_reply_to and valid_msgid(in_reply_to):
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    refs = [r for r in refs if valid_msgid(r)]
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg["User-Agent"] = "reviewbot"
    text = body if body.endswith("\n") else body + "\n"
    msg.set_content(text, charset="utf-8", cte=_transfer_encoding(text))
    head, sep, rest = msg.as_bytes().partition(b"\n\n")
    return _FOLDED_ID.sub(rb"\1: <", head) + sep + rest


_NAME_CHARS = st.sampled_from([*"Ab z.,;:\"'()<>@\\-_éü漢", "Jr.", "O'Neil", " "])
names = st.lists(_NAME_CHARS, max_size=40).map("".join)
emails = st.sampled_from(["a@example.org", "x.y+z@kernel.org", "bad address", "q@b",
                          "linux-mm@kvack.org", "UPPER@Example.ORG", "a..b@example.org"])
people = st.builds(Person, names, emails)
msgids = st.sampled_from(["20261126.1234-1-a@example.org", "x@y", "bad id", "",
                          "a" * 90 + "@example.org", "CAHk-=wh+long=id@mail.gmail.com"])
subjects = st.lists(st.sampled_from(["[PATCH v4 09/14] ", "mm: ", "hugetlb ", "Re: ",
                                     "ünïcode ", "x" * 30, "=?utf-8?q?x?= ", "\t", "\n"]),
                    max_size=12).map("".join)
bodies = st.lists(st.sampled_from(["> +\tfoo();\n", "Looks good.\n", "ümlaut\n", "\n",
                                   "From here\n", "x" * 1200 + "\n", "a\rb\n",
                                   "c\r\n", "\x0b\x0c\x1c\u2028\x85\n", "no end"]),
                  min_size=1, max_size=8).map("".join)
dates = st.builds(lambda h, tz: datetime(2026, 11, 26, h, tzinfo=tz),
                  st.integers(0, 23), st.sampled_from([UTC, timezone(timedelta(hours=-5)),
                                                       None]))


@settings(max_examples=400, deadline=None)
@given(me=people, to=st.lists(people, max_size=4), cc=st.lists(people, max_size=6),
       subject=subjects, in_reply_to=st.one_of(st.none(), msgids),
       refs=st.lists(msgids, max_size=12), msgid=msgids.filter(bool), date=dates,
       body=bodies)
def test_build_message_is_the_plain_email_message(
        me: Person, to: list[Person], cc: list[Person], subject: str,
        in_reply_to: str | None, refs: list[str], msgid: str, date: datetime,
        body: str) -> None:
    me = Person(me.name, "reviewer@example.org")  # a valid identity (else ConfigError)
    kwargs = dict(identity=me, to=to, cc=cc, subject=subject, in_reply_to=in_reply_to,
                  refs=refs, msgid=msgid, date=date, body=body)
    ours = build_message(**kwargs)  # type: ignore[arg-type]
    reference = _reference(**kwargs)  # type: ignore[arg-type]
    assert build_message(**kwargs) == ours  # cached
    want = {"To": [p.email for p in recipients(to)]}
    want["Cc"] = [p.email for p in recipients(cc, exclude=want["To"])]
    assert _addresses(ours) == want
    assert not _BARE_NAME.search(ours.partition(b"\n\n")[0])  # never "Name:\n value"
    if _addresses(reference) != want:
        # the email package lost an address while folding: only To/Cc may differ
        assert _unfolded(_without_addresses(ours)) == _unfolded(_without_addresses(reference))
    elif _BARE_NAME.search(reference.partition(b"\n\n")[0]):
        assert _unfolded(ours) == _unfolded(reference)  # folded elsewhere, same header
    else:
        assert ours == reference


_BARE_NAME = re.compile(rb"(?m)^[A-Za-z-]+:\n[ \t]")


def _unfolded(data: bytes) -> bytes:
    """The header block unfolded (RFC 5322: a line break before white space removed)."""
    head, sep, rest = data.partition(b"\n\n")
    return re.sub(rb"\n(?=[ \t])", b"", head) + sep + rest


def _addresses(data: bytes) -> dict[str, list[str]] | None:
    """To and Cc as a reader sees them; None when a header has a defect."""
    import email

    msg = email.message_from_bytes(data, policy=POLICY)
    out = {}
    for name in ("To", "Cc"):
        header = msg[name]
        if header is not None and header.defects:
            return None
        out[name] = [a.addr_spec for a in header.addresses] if header is not None else []
    return out


def _reply(to: Sequence[Person], cc: Sequence[Person]) -> bytes:
    """A short reply from a fixed reviewer to ``to`` and ``cc``."""
    return build_message(identity=Person("R", "r@example.org"), to=to, cc=cc,
                         subject="Re: x", in_reply_to=None, refs=(), msgid="m@example.org",
                         date=datetime(2026, 11, 26, tzinfo=UTC), body="ok\n")


def _without_addresses(data: bytes) -> bytes:
    head, sep, rest = data.partition(b"\n\n")
    return re.sub(rb"(?m)^(To|Cc):.*(\n[ \t].*)*\n", b"", head + b"\n") + sep + rest


# -- any address the cleaning keeps can be written -------------------------------------

_ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
generated_emails = st.builds("{}@{}".format,
                             st.text(st.sampled_from([*_ATEXT, "."]), min_size=1,
                                     max_size=10),
                             st.text(st.sampled_from([*"ab09.-"]), min_size=1, max_size=10))


@settings(max_examples=600, deadline=None)
@given(st.lists(st.builds(Person, names, generated_emails), min_size=1, max_size=4))
def test_any_kept_address_list_can_be_written(people: list[Person]) -> None:
    """A fuzzed patch once carried ``Cc: a@example.org, .ada@example.org``: the email
    package's own parser fails on a list with a local part that starts with a dot, so
    the whole reply failed. Only dot-atom local parts are kept now."""
    kept = recipients(people)
    for p in kept:
        local = p.email.rsplit("@", 1)[0]
        assert local and not local.startswith(".") and not local.endswith(".")
        assert ".." not in local
    assert _addresses(_reply(kept[:1], kept[1:])) == {"To": [p.email for p in kept[:1]],
                                                      "Cc": [p.email for p in kept[1:]]}


def test_a_leading_dot_address_is_dropped_not_fatal() -> None:
    cc = [Person("Maintainer", "maint@example.org"), Person("", ".ada@example.org"),
          Person("", "ada.@example.org"), Person("Ada", "ada@example.org")]
    assert [p.email for p in recipients(cc)] == ["maint@example.org", "ada@example.org"]
    data = _reply(cc[:1], cc[1:])
    assert b"\nCc: Ada <ada@example.org>\n" in data


def test_no_recipient_is_lost_to_folding() -> None:
    """The email package folds this Cc with the comma before the last address inside an
    encoded word (``=?utf-8?q?=2C?=``): a reader sees two recipients, not three. Such
    a header is written one address per line instead."""
    cc = (Person("AAA漢", "q@b"), Person("AAAAAAAAAAAAJr.O'Neil", "x.y+z@kernel.org"),
          Person("", "a@example.org"))
    data = _reply((), cc)
    assert _addresses(data) == {"To": [], "Cc": ["q@b", "x.y+z@kernel.org", "a@example.org"]}
    assert b"=2C" not in data
    head = data.partition(b"\n\n")[0].decode("ascii")
    assert all(len(line) <= 78 for line in head.splitlines())


def test_the_one_per_line_form_ignores_the_charset_registry() -> None:
    """b4, imported to fetch from lore, registers UTF-8 with no header encoding
    (``email.charset.add_charset('utf-8', None)``); a non-ASCII name in the one address
    per line form must still be encoded, and long names split into short words."""
    import email.charset

    saved = email.charset.CHARSETS["utf-8"]
    email.charset.add_charset("utf-8", None)
    try:
        cc = (Person("AAA漢" * 30, "q@b"), Person("AAAAAAAAAAAAJr.O'Neil", "x.y+z@kernel.org"),
              Person("", "a@example.org"))
        data = _reply((), cc)
    finally:
        email.charset.CHARSETS["utf-8"] = saved
    assert data.partition(b"\n\n")[0].isascii()
    assert _addresses(data) == {"To": [], "Cc": ["q@b", "x.y+z@kernel.org", "a@example.org"]}
    parsed = email.message_from_bytes(data, policy=POLICY)
    assert parsed["Cc"].addresses[0].display_name.replace(" ", "") == "AAA漢" * 30
    assert all(len(line) <= 78 for line in data.partition(b"\n\n")[0].splitlines())


# -- folded as mail clients fold (issue 15, item 14) ------------------------------------

def test_headers_fold_like_a_mail_client() -> None:
    """The email package moves a value that does not fit to a line of its own
    (``Subject:\\n Re: ...``): 5 of the replies to a month of linux-block had such a
    subject. Mail clients start the value on the name's line and fold at a space."""
    subject = "Re: [PATCH] nfsd: validate the nfsd_serv pointer before calling svc_wake_up"
    data = build_message(identity=Person("R", "r@example.org"),
                         to=(Person("Doe, John " + "x" * 50, "jd@example.org"),), cc=(),
                         subject=subject, in_reply_to=None, refs=(), msgid="m@example.org",
                         date=datetime(2026, 11, 26, tzinfo=UTC), body="ok\n")
    head = data.partition(b"\n\n")[0].decode()
    assert ("\nSubject: Re: [PATCH] nfsd: validate the nfsd_serv pointer before calling\n"
            " svc_wake_up\n") in head
    assert f'\nTo: "Doe, John {"x" * 50}"\n <jd@example.org>\n' in head
    assert not _BARE_NAME.search(head.encode())


def test_client_fold_keeps_quoted_strings_and_long_words_whole() -> None:
    from reviewbot.report.message import client_fold

    assert client_fold(b'To:\n "a b c d" <x@y>\n', width=12) == b'To: "a b c d"\n <x@y>\n'
    word = b"x" * 90
    assert client_fold(b"Subject:\n " + word + b" y\n") == b"Subject: " + word + b"\n y\n"
    assert client_fold(b"Subject: fine\n") == b"Subject: fine\n"
    assert client_fold(b"Subject:\n one\n two\n") == b"Subject: one\n two\n"
