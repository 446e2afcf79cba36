"""Synthetic list traffic for the watch tests and the throughput benchmark: patch series
(with and without findings, covers, revisions, resends), replies, and noise (not patches,
broken MIME, binary junk, huge messages), written into real Maildirs."""

from __future__ import annotations

import email.utils
import os
import random
from dataclasses import dataclass
from pathlib import Path

LIST = "linux-frob@vger.example.org"
BASE_DATE = 1_700_000_000.0


@dataclass(frozen=True)
class Msg:
    msgid: str
    data: bytes


def _date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def mail(*, msgid: str, subject: str, body: str, date: float,
         author: tuple[str, str] = ("Ada Example", "ada@example.org"), to: str = LIST,
         in_reply_to: str | None = None, references: tuple[str, ...] = (),
         extra: str = "") -> Msg:
    head = [f"From: {author[0]} <{author[1]}>", f"To: {to}", f"Subject: {subject}",
            f"Date: {_date(date)}", f"Message-ID: <{msgid}>"]
    if in_reply_to:
        head.append(f"In-Reply-To: <{in_reply_to}>")
    if references:
        head.append("References: " + " ".join(f"<{r}>" for r in references))
    head.append("MIME-Version: 1.0")
    head.append("Content-Type: text/plain; charset=utf-8")
    if extra:
        head.append(extra)
    return Msg(msgid, ("\n".join(head) + "\n\n" + body).encode())


def diff_body(tag: str, n: int, findings: bool) -> str:
    """A commit message and a one-hunk C diff; with ``findings`` it has braces around a
    single statement (STY001), without it is clean."""
    path = f"drivers/frob/{tag}.c"
    if findings:
        added = [f"+\tif (val < {n}) {{", "+\t\treturn -ERANGE;", "+\t}", "+"]
    else:
        added = [f"+\tif (val < {n})", "+\t\treturn -ERANGE;", "+"]
    return (f"Reject values below {n} in {tag}.\n\nSigned-off-by: Ada Example "
            f"<ada@example.org>\n---\n {path} | {len(added)} +\n\n"
            f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n"
            f"--- a/{path}\n+++ b/{path}\n"
            f"@@ -10,6 +10,{6 + len(added)} @@ static int {tag}_set(struct frob_dev *dev, "
            "int val)\n"
            "\tif (!dev)\n\t\treturn -EINVAL;\n \n" + "\n".join(added) + "\n"
            "\tdev->val = val;\n\treturn 0;\n }\n-- \n2.39.5\n").replace("\n\t", "\n \t")


def series(tag: str, *, version: int = 1, total: int = 3, cover: bool = True,
           findings: bool = True, date: float = BASE_DATE,
           author: tuple[str, str] = ("Ada Example", "ada@example.org"),
           in_reply_to: str | None = None, resend: bool = False, to: str = LIST) -> list[Msg]:
    """One revision of a series, threaded as git send-email does (cover first)."""
    prefix = "RESEND PATCH" if resend else "PATCH"
    vtag = f" v{version}" if version > 1 else ""
    nonce = f"{tag}.v{version}{'.r' if resend else ''}"
    out: list[Msg] = []
    root = None
    refs: tuple[str, ...] = (in_reply_to,) if in_reply_to else ()
    if total > 1 and cover:
        root = f"cover.{nonce}@example.org"
        out.append(mail(msgid=root, subject=f"[{prefix}{vtag} 0/{total}] {tag}: fixes",
                        body=f"Fixes for {tag}.\n\n-- \n2.39.5\n", date=date, author=author,
                        in_reply_to=in_reply_to, references=refs, to=to))
    for i in range(1, total + 1):
        count = f" {i}/{total}" if total > 1 else ""
        msgid = f"{i}.{nonce}@example.org"
        parent = root or (None if i == 1 else f"1.{nonce}@example.org")
        chain = (*refs, parent) if parent else refs
        out.append(mail(msgid=msgid, subject=f"[{prefix}{vtag}{count}] {tag}: part {i}",
                        body=diff_body(f"{tag}{i}", i, findings), date=date + i,
                        author=author, in_reply_to=parent or in_reply_to, references=chain,
                        to=to))
    return out


def reply_to(msg: Msg, n: int, date: float = BASE_DATE) -> Msg:
    return mail(msgid=f"re{n}.{msg.msgid}", subject="Re: a patch", body="> quoted\n\nLooks ok.\n",
                date=date, author=("Bob Reviewer", "bob@example.org"), in_reply_to=msg.msgid,
                references=(msg.msgid,))


def noise(n: int | str, rng: random.Random, huge: int = 0) -> Msg:
    """A message that is not a patch: discussion, broken MIME, binary junk, or huge."""
    num = int(str(n).rsplit("-", 1)[-1])
    kind = num % 4
    if kind == 0:
        return mail(msgid=f"chat{n}@example.org", subject=f"question about frob {n}",
                    body="How do I frob?\n", date=BASE_DATE + num)
    if kind == 1:  # multipart with a boundary that never appears, bad base64
        body = "--nope\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n"
        return Msg(f"broken{n}@example.org", (
            f"From: x@example.org\nSubject: [PATCH] broken mime {n}\nMessage-ID: "
            f"<broken{n}@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; "
            f'boundary="zz{n}"\n\n{body}').encode())
    if kind == 2:
        return Msg(f"junk{n}", bytes(rng.randrange(256) for _ in range(600)))
    size = huge or 300_000
    return mail(msgid=f"huge{n}@example.org", subject=f"[PATCH] huge {n}",
                body="x" * size + "\n", date=BASE_DATE + num)


def make_maildir(path: Path) -> Path:
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def deliver(maildir: Path, msgs: list[Msg], start: int = 0) -> list[Path]:
    """Deliver like an MDA: write into tmp/, rename into new/."""
    out = []
    for n, m in enumerate(msgs, start):
        name = f"{1_700_000_000 + n}.M{n:06d}P{os.getpid()}.testhost"
        tmp = maildir / "tmp" / name
        tmp.write_bytes(m.data)
        os.rename(tmp, maildir / "new" / name)
        out.append(maildir / "new" / name)
    return out


@dataclass(frozen=True)
class Backlog:
    """A day of list traffic and what the bot must make of it."""

    messages: list[Msg]
    series: int  # distinct series (revisions) that must be reviewed once
    resends: int  # resends of an already posted revision: skipped
    patches_with_findings: int  # replies expected (one per patch with a finding)
    duplicates: int  # the same Message-ID delivered again


def backlog(n: int, seed: int = 0, huge: int = 300_000, prefix: str = "") -> Backlog:
    """At least ``n`` messages: series (1-5 patches, half with findings, some v2 and
    resends), replies to them, noise and duplicate deliveries, shuffled a little (a
    series' messages stay roughly in order, as they arrive from a list)."""
    rng = random.Random(seed)
    msgs: list[Msg] = []
    series_count = resends = expected = dups = 0
    k = 0
    while len(msgs) < n:
        k += 1
        total = rng.choice((1, 1, 2, 3, 3, 4, 5))
        findings = rng.random() < 0.5
        date = BASE_DATE + k * 100
        author = (f"Dev {k % 37}", f"dev{k % 37}@example.org")
        s = series(f"{prefix}s{k}", total=total, findings=findings, date=date, author=author)
        msgs.extend(s)
        series_count += 1
        expected += total if findings else 0
        roll = rng.random()
        if roll < 0.15:  # a v2 in the same thread
            v2 = series(f"{prefix}s{k}", version=2, total=total, findings=findings, date=date + 50,
                        author=author, in_reply_to=s[0].msgid)
            msgs.extend(v2)
            series_count += 1
            expected += total if findings else 0
        elif roll < 0.22:  # a resend of the same revision
            msgs.extend(series(f"{prefix}s{k}", total=total, findings=findings, date=date + 60,
                               author=author, resend=True))
            resends += 1
        for r in range(rng.randrange(0, 3)):
            msgs.append(reply_to(rng.choice(s), r, date + 70 + r))
        if rng.random() < 0.3:
            msgs.append(noise(f"{prefix}-{k}" if prefix else k, rng, huge))
        if rng.random() < 0.05:
            msgs.append(rng.choice(s))
            dups += 1
    return Backlog(msgs, series_count, resends, expected, dups)
