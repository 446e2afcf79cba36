"""Replies' headers, folded once per distinct header, are what ``EmailMessage`` writes.

``build_message`` renders each header through the email package's own parse and fold
(cached per name and value) instead of building one ``EmailMessage`` with all of them.
The reference below is the plain construction it replaces; both must give the same bytes
for any identity, recipients, subject, Message-IDs and body, including non-ASCII and
quoted names, long subjects that fold, long reference lists and bodies that need
quoted-printable.
"""

from __future__ import annotations

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
    assert build_message(**kwargs) == _reference(**kwargs)  # type: ignore[arg-type]
    assert build_message(**kwargs) == _reference(**kwargs)  # type: ignore[arg-type]  # cached
