"""Review every patch file of a corpus, the files of one series together.

Series-aware rules (SER001 "should go into patch 8") need the earlier patches of the same
series. The corpus keeps one patch per file, so files are grouped the way
``build_series`` groups mails: same thread root (the first ``References`` entry, else
``In-Reply-To``) and same revision. Each group is reviewed as one input; every file then
gets the findings of its own patch(es), found by Message-ID. A file without a thread, a
group in which two files claim the same patch number, or a file the grouped review did
not place is reviewed on its own. ``per_patch=True`` reviews every file alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reviewbot.cmap.parser import CParser
from reviewbot.config import Settings
from reviewbot.engine.schema import Rule
from reviewbot.evaluate.corpus import Corpus
from reviewbot.fetch.local import RawMessage, read_source
from reviewbot.findings import Finding
from reviewbot.pipeline import review_messages
from reviewbot.series.mail import parse_mail

if TYPE_CHECKING:
    from reviewbot.knowledge.source import KnowledgeSource


@dataclass(frozen=True)
class FileReview:
    """What reviewbot said about one patch file of the corpus."""

    patch_file: str
    findings: tuple[Finding, ...]
    skipped: tuple[str, ...]  # reasons patches of the file were not reviewed
    reviewed_with: tuple[str, ...]  # the other files of its series reviewed with it


@dataclass(frozen=True)
class _Loaded:
    name: str
    messages: tuple[RawMessage, ...]
    msgids: frozenset[str]
    key: tuple[str, int] | None  # (thread root, version) or None: review alone
    index: int | None


def _load(corpus: Corpus, name: str, max_bytes: int) -> _Loaded:
    messages = tuple(read_source(str(corpus.path(name)), max_bytes))
    mails = [parse_mail(m.data) for m in messages]
    patches = [m for m in mails if m.subject.is_patch and not m.subject.is_reply] or mails
    first = patches[0] if patches else None
    key = None
    if first is not None:
        root = first.thread_root
        if root is None and first.subject.index in (0, 1) and (first.subject.total or 1) > 1:
            root = first.msgid  # the first patch of a series without a cover letter
        if root is not None:
            key = (root, first.subject.version)
    return _Loaded(name, messages, frozenset(m.msgid for m in mails), key,
                   first.subject.index if first is not None else None)


def _groups(loaded: Sequence[_Loaded], per_patch: bool) -> list[list[_Loaded]]:
    if per_patch:
        return [[x] for x in loaded]
    by_key: dict[tuple[str, int], list[_Loaded]] = {}
    out: list[list[_Loaded]] = []
    for x in loaded:
        if x.key is None:
            out.append([x])
        else:
            by_key.setdefault(x.key, []).append(x)
    for group in by_key.values():
        indexes = [x.index for x in group]
        if len(set(indexes)) != len(indexes):
            out.extend([x] for x in group)  # two files claim one patch number
        else:
            out.append(group)
    return out


def _review(group: list[_Loaded], settings: Settings, rules: Sequence[Rule],
            parser: CParser, knowledge: KnowledgeSource | None = None
            ) -> dict[str, FileReview]:
    messages = [m for x in group for m in x.messages]
    if len(group) > 1 and group[0].key is not None:
        settings = replace(settings, version=group[0].key[1])
    review = review_messages(messages, settings, rules=rules, parser=parser,
                             knowledge=knowledge)
    out: dict[str, FileReview] = {}
    for x in group:
        findings: list[Finding] = []
        skipped: list[str] = []
        placed = False
        for sr in review.series:
            for pr in sr.patches:
                if pr.patch.msgid in x.msgids:
                    placed = True
                    findings.extend(pr.findings)
                    if pr.patch.skipped:
                        skipped.append(f"{pr.patch.label}: {pr.patch.skipped}")
        if placed or len(group) == 1:
            others = tuple(y.name for y in group if y is not x)
            out[x.name] = FileReview(x.name, tuple(findings), tuple(skipped), others)
    return out


def review_corpus(corpus: Corpus, settings: Settings, rules: Sequence[Rule],
                  per_patch: bool = False, parser: CParser | None = None,
                  knowledge: KnowledgeSource | None = None) -> list[FileReview]:
    """A FileReview for every patch file the manifest names, in manifest order; with
    ``knowledge``, the checks use that tree's index (as ``check`` does)."""
    parser = parser or CParser()
    loaded = [_load(corpus, name, settings.max_input_bytes) for name in corpus.patch_files]
    results: dict[str, FileReview] = {}
    for group in _groups(loaded, per_patch):
        results.update(_review(group, settings, rules, parser, knowledge))
        for x in group:
            if x.name not in results:  # not placed by the grouped review: alone
                results.update(_review([x], settings, rules, parser, knowledge))
    return [results[name] for name in corpus.patch_files]
