"""The series model: people, mails, patches and series (frozen dataclasses).

People, subjects and mails have slots: a review of a large input keeps one of each per
patch until the report. Patches and series do not: a stored patch
(``series.stored.StoredPatch``) adds fields of its own. Nothing writes into these
objects once they are made (the review's caches live in ``reviewbot.analysis``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewbot.diff.model import FileDiff


@dataclass(frozen=True, slots=True)
class Person:
    """A mail address with an optional display name."""

    name: str
    email: str

    def formatted(self) -> str:
        """``Name <email>``, or the bare address when there is no name."""
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True, slots=True)
class Subject:
    """What a ``[PATCH vN M/T]`` subject says."""

    raw: str
    title: str  # the subject without prefixes
    is_patch: bool
    is_reply: bool
    version: int = 1
    index: int | None = None
    total: int | None = None
    tags: tuple[str, ...] = ()  # e.g. ("RFC", "net-next", "RESEND")

    @property
    def is_cover(self) -> bool:
        return self.index == 0


@dataclass(frozen=True, slots=True)
class Mail:
    """One parsed email: the headers reviewbot needs and the decoded text body."""

    msgid: str
    subject: Subject
    author: Person | None
    date: str | None  # the Date header as sent
    timestamp: float | None  # seconds since the epoch, None when Date is absent or bad
    to: tuple[Person, ...]
    cc: tuple[Person, ...]
    in_reply_to: str | None
    references: tuple[str, ...]
    body: str
    body_line_offset: int  # line number (1-based) in the message of the body's first line
    raw: bytes = field(repr=False, default=b"")
    error: str | None = None  # why the body could not be decoded, if it could not

    @property
    def thread_root(self) -> str | None:
        """The oldest ancestor the mail names (first References entry)."""
        if self.references:
            return self.references[0]
        return self.in_reply_to


@dataclass(frozen=True)
class Patch:
    """One patch of a series: its mail, commit message and parsed diff."""

    mail: Mail
    index: int  # 1-based position in the series (1 for a single patch)
    total: int
    version: int
    commit_message: str
    files: tuple[FileDiff, ...]
    skipped: str | None = None  # why the patch was not reviewed, when it was not
    base_commit: str | None = None

    @property
    def subject(self) -> str:
        return self.mail.subject.raw

    @property
    def msgid(self) -> str:
        return self.mail.msgid

    @property
    def label(self) -> str:
        """``[PATCHv4 09/14] title`` as the subject says it."""
        return self.mail.subject.raw

    @property
    def paths(self) -> tuple[str, ...]:
        """The path of each file the diff changes, in order."""
        return tuple(f.path for f in self.files)


@dataclass(frozen=True)
class Series:
    """A revision of a patch series, in index order."""

    id: str
    version: int
    total: int
    cover: Mail | None
    patches: tuple[Patch, ...]
    missing: tuple[int, ...]
    other_versions: tuple[int, ...] = ()

    @property
    def subject(self) -> str:
        """The cover letter's subject; without one, what the series is called."""
        if self.cover is not None:
            return self.cover.subject.raw
        if not self.patches:
            return ""
        if self.total == 1:
            return self.patches[0].subject
        return (f"[PATCH v{self.version} 0/{self.total}] (no cover letter in the input; "
                f"first patch: {self.patches[0].mail.subject.title})")

    @property
    def title(self) -> str:
        if self.cover is not None:
            return self.cover.subject.title
        return self.patches[0].mail.subject.title if self.patches else ""

    def patch(self, index: int) -> Patch | None:
        for p in self.patches:
            if p.index == index:
                return p
        return None
