"""The parse stage's fast paths give exactly what their definitions give.

``mail._message`` parses only a message's header block with the email package and takes
the body as it stands; ``email.message_from_bytes`` (the definition) must build the same
message from every input: generated patch mails (damaged: CR/CRLF/mixed endings, NULs,
truncation, MIME), header blocks the parser reads oddly (a first line that is a
continuation, ``From `` lines, lines without a colon, no empty line at all) and every
message of the corpus, the fixtures and the synthetic series. ``parse_mail`` built on
either gives the same ``Mail``. ``split_mbox`` gives back the messages an mboxrd writer
wrote, ``>From`` escaping undone.
"""

from __future__ import annotations

import email
import re
import sys
from email.message import Message
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.fetch import local
from reviewbot.fetch.local import split_mbox
from reviewbot.series import mail
from reviewbot.series.mail import parse_mail
from tests.conftest import FIXTURES
from tests.strategies import examples, patch_email

ROOT = Path(__file__).resolve().parent.parent


def _shape(msg: Message) -> Any:
    """What a parsed message holds: envelope, raw headers, body (parts, recursively)."""
    payload = msg._payload  # type: ignore[attr-defined]  # the raw payload, not decoded
    body = [_shape(p) for p in payload] if isinstance(payload, list) else payload
    return (msg.get_unixfrom(), [(k, str(v)) for k, v in msg._headers],  # type: ignore[attr-defined]
            body, msg.preamble, msg.epilogue)


def _assert_same(raw: bytes) -> None:
    assert _shape(mail._message(raw)) == _shape(email.message_from_bytes(raw)), raw
    fast = parse_mail(raw)
    with mock.patch.object(mail, "_message", email.message_from_bytes):
        assert fast == parse_mail(raw)


_HEADER_LINES = st.sampled_from([
    "From: Ada <ada@example.org>", "Subject: [PATCH] x", "To: a@b.c", " continued",
    "\tfolded", "From nobody Mon Sep 17 00:00:00 2001", "no colon here", ": empty name",
    "Content-Type: multipart/mixed; boundary=XyZ", "Content-Type: message/rfc822",
    "Content-Type: text/plain", "Content-Type: message/delivery-status", "X-\xe9: caf\xe9",
    "", " ", "\r", "--XyZ", "Content-Transfer-Encoding: base64", "aGVsbG8K",
    "X-Caf: caf\xe9 \t ", "Subject:", "Subject:tight", "Cc: a@b.c,\t", "\t b@c.d"])
_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def _odd_message(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.tuples(_HEADER_LINES, _ENDINGS), max_size=12))
    text = "".join(a + b for a, b in lines)
    return text.encode("utf-8", "surrogateescape")


_PLAIN_HEADERS = st.sampled_from([
    "From: Ada <ada@example.org>", "Subject: [PATCH] x", "To: a@b.c", "Subject:",
    "Subject:tight", "X-Caf: caf\xe9 \t ", "Cc: a@b.c,", "Content-Type: text/plain",
    "Content-Type: text/plain; charset=latin-1", "Content-Type: multipart/mixed",
    "Content-Type: message/rfc822", "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: quoted-printable", "Date: Mon, 5 Jan 2026 09:04:00 +0000",
    "Message-ID: <a@b>", "X-A!~: 1"])
_CONTINUATIONS = st.sampled_from([" continued", "\tfolded", " ", "\t b@c.d", " \xe9"])
_BODIES = st.sampled_from(["", "body\n", "x\r\ny\r", "From x\n", "\n\nmore\n", "=C3=A9\n",
                           "aGVsbG8K\n", "caf\xe9\n"])


@st.composite
def _plain_message(draw: st.DrawFn) -> bytes:
    """A header block the fast path reads itself, then a body."""
    lines = [draw(_PLAIN_HEADERS)]
    for _ in range(draw(st.integers(0, 8))):
        lines.append(draw(st.one_of(_PLAIN_HEADERS, _CONTINUATIONS)))
    text = "".join(ln + "\n" for ln in lines) + "\n" + draw(_BODIES)
    return text.encode("utf-8", "surrogateescape")


@settings(max_examples=examples(400), deadline=None)
@given(_odd_message())
def test_message_of_odd_header_blocks(raw: bytes) -> None:
    _assert_same(raw)


@settings(max_examples=examples(300), deadline=None)
@given(_plain_message())
def test_message_of_plain_header_blocks(raw: bytes) -> None:
    cut = raw.find(b"\n\n") + 2
    assert mail._plain_headers(raw[:cut - 1].decode("ascii", "surrogateescape")) is not None
    _assert_same(raw)


@settings(max_examples=examples(150), deadline=None)
@given(patch_email())
def test_message_of_damaged_patch_mails(raw: bytes) -> None:
    _assert_same(raw)


def test_message_of_every_mail_we_have(corpus: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import synth
    finally:
        sys.path.pop(0)
    datas = [p.read_bytes() for p in sorted(corpus.glob("*.patch"))
             + sorted(corpus.glob("*.mbox")) + sorted(FIXTURES.rglob("*.mbox"))]
    datas.append("\n".join(synth.messages(100)).encode())
    raws = [m.data for data in datas for m in split_mbox(data, "test")]
    assert len(raws) > 100
    for raw in raws:
        _assert_same(raw)


def _mboxrd(bodies: list[bytes]) -> bytes:
    """What an mboxrd writer makes of ``bodies``: a ``From`` line before each, every line
    that starts with ``>*From `` escaped with one more ``>``, a blank line after each."""
    out = []
    for body in bodies:
        escaped = re.sub(rb"(?m)^(>*From )", rb">\1", body)
        out.append(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + escaped + b"\n")
    return b"".join(out)


_BODY_LINES = st.lists(st.sampled_from([
    b"From: Ada <ada@example.org>", b"Subject: x", b"", b"body", b"From the start",
    b">From quoted", b">>From twice", b"From ", b"From nobody Mon Sep 17 00:00:00 2001",
    b" From", b"\r", b"x\r"]), min_size=1, max_size=8)


@settings(max_examples=examples(800), deadline=None)
@given(st.lists(_BODY_LINES.map(lambda ls: b"\n".join([b"Subject: m", *ls]) + b"\n"),
                min_size=1, max_size=5))
def test_split_mbox_gives_back_what_an_mboxrd_writer_wrote(bodies: list[bytes]) -> None:
    got = split_mbox(_mboxrd(bodies), "x")
    assert [m.data for m in got] == [b + b"\n" for b in bodies]
    assert [m.origin for m in got] == [f"x (message {i})" for i in range(1, len(bodies) + 1)]


_MBOX_PIECES = st.sampled_from([
    b"From ", b"From nobody Mon Sep 17 00:00:00 2001", b"From a@b Thu Jan  1 00:00:00 1970",
    b"\n", b"\n\n", b"\r\n", b">From x", b">>From ", b">", b"Subject: x", b"body", b" ",
    b"From", b"\nFrom "])


@settings(max_examples=examples(800), deadline=None)
@given(st.lists(_MBOX_PIECES, max_size=16).map(b"".join), st.lists(st.integers(0, 200)))
def test_split_mbox_read_in_chunks_is_the_split_of_the_whole(data: bytes,
                                                              cuts: list[int]) -> None:
    """The streaming split, fed the input in chunks cut anywhere (and spooled to a file
    after 16 bytes), gives the messages the split of the whole input gives."""
    want = split_mbox(data, "x")
    points = sorted({c for c in cuts if 0 < c < len(data)})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    store = local.MessageStore(memory=16)
    local.take_mbox(pieces[0], iter(pieces[1:]), "x", store)
    assert list(store) == want


def test_split_mbox_of_every_mbox_we_have(corpus: Path) -> None:
    """Split, written again as mboxrd, split again: the same messages."""
    paths = sorted(corpus.glob("*.mbox")) + sorted(FIXTURES.rglob("*.mbox")) + sorted(
        corpus.glob("*.patch")) + sorted(corpus.glob("traffic/*.mbox"))
    assert len(paths) > 5
    for path in paths:
        first = [m.data for m in split_mbox(path.read_bytes(), "x")]
        assert first
        again = [m.data for m in split_mbox(_mboxrd([d.rstrip(b"\n") + b"\n"
                                                     for d in first]), "x")]
        assert again == [d.rstrip(b"\n") + b"\n\n" for d in first], path
