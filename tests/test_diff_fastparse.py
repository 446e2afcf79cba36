"""The fast diff parser gives exactly unidiff's result, or gives up (then unidiff parses).

Checked over every diff we have: the review corpus, the synthetic benchmark series, the
fixtures, hand-written edge cases and hypothesis-generated hostile diffs (lying hunk
counts, ``\\ No newline at end of file``, CRLF, renames, binary files, /dev/null, noise).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.diff.fastparse import fast_parse_diff
from reviewbot.diff.model import FileDiff
from reviewbot.diff.parse import DiffError, parse_diff, split_body, unidiff_parse_diff
from reviewbot.fetch.local import split_mbox
from reviewbot.series.mail import parse_mail
from tests.strategies import diff_text, examples

ROOT = Path(__file__).resolve().parent.parent


def _same(text: str, first_line: int = 1) -> bool:
    """Assert the fast path agrees with unidiff; True when it took the diff."""
    fast = fast_parse_diff(text, first_line)
    try:
        slow: tuple[FileDiff, ...] | None = unidiff_parse_diff(text, first_line)
    except DiffError:
        slow = None
    if fast is None:
        return False
    assert fast == slow, text
    return True


def _diffs_of_mbox(data: bytes) -> list[tuple[str, int]]:
    out = []
    for raw in split_mbox(data, "test"):
        mail = parse_mail(raw.data)
        parts = split_body(mail.body)
        if parts.diff:
            out.append((parts.diff, mail.body_line_offset + parts.diff_line))
    return out


def _check_all(diffs: list[tuple[str, int]]) -> int:
    return sum(_same(text, line) for text, line in diffs)


def test_fast_path_matches_unidiff_on_the_corpus(corpus: Path) -> None:
    diffs: list[tuple[str, int]] = []
    for path in sorted(corpus.iterdir()):
        if path.suffix in (".patch", ".mbox", ".eml"):
            diffs.extend(_diffs_of_mbox(path.read_bytes()))
    assert len(diffs) > 10
    taken = _check_all(diffs)
    assert taken >= len(diffs) // 2  # the fast path is the common case


def test_fast_path_matches_unidiff_on_synthetic_series() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import synth
    finally:
        sys.path.pop(0)
    data = "\n".join(synth.messages(300)).encode()
    diffs = _diffs_of_mbox(data)
    assert len(diffs) >= 250
    assert _check_all(diffs) == len(diffs)


def test_fast_path_matches_unidiff_on_fixtures() -> None:
    diffs: list[tuple[str, int]] = []
    for path in sorted((ROOT / "fixtures").rglob("*")):
        if path.suffix in (".patch", ".mbox", ".eml") and path.is_file():
            diffs.extend(_diffs_of_mbox(path.read_bytes()))
    assert diffs
    _check_all(diffs)


HEAD = "diff --git a/mm/x.c b/mm/x.c\nindex 1111111..2222222 100644\n--- a/mm/x.c\n+++ b/mm/x.c\n"


@pytest.mark.parametrize(("text", "taken"), [
    (HEAD + "@@ -1,2 +1,2 @@ int f(void)\n a\n-b\n+c\n", True),
    (HEAD + "@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n", True),  # CRLF
    (HEAD + "@@ -1,2 +1,3 @@\n a\n\n+c\n-- \n2.43.0\n\n", True),  # bare newline = context
    (HEAD + "@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
            "\\ No newline at end of file\n", True),
    (HEAD + "@@ -1,2 +1,2 @@\n a\n-b\n+c", True),  # no final newline
    (HEAD + "@@ -1,3 +1,2 @@\n a\n-b\n+c\n", False),  # hunk shorter than it says
    (HEAD + "@@ -1,1 +1,1 @@\n a\n-b\n+c\n", None),  # longer: the rest is not a hunk
    (HEAD + "@@ -0,0 +0,0 @@\n a\n", False),
    (HEAD + "@@ -1,1 +1,1 @@\n a\r-b\n", True),  # a bare CR inside a line
    (HEAD + "@@ -1,1 +1,1 @@\n\ra\n", False),  # a line starting with CR
    ("diff --git a/x.c b/x.c\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n"
     "+++ b/x.c\n@@ -0,0 +1,2 @@\n+a\n+b\n", True),
    ("diff --git a/x.c b/x.c\ndeleted file mode 100644\nindex 1111111..0000000\n"
     "--- a/x.c\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n", True),
    ("diff --git a/x.sh b/x.sh\nold mode 100644\nnew mode 100755\n" + HEAD
     + "@@ -1 +1 @@\n-a\n+b\n", True),  # a mode change (no hunks), then a file
    ("diff --git a/x.c b/y.c\nsimilarity index 90%\nrename from x.c\nrename to y.c\n", False),
    ("diff --git a/x.bin b/x.bin\nBinary files a/x.bin and b/x.bin differ\n", False),
    ('diff --git "a/x y.c" "b/x y.c"\n--- "a/x y.c"\n+++ "b/x y.c"\n@@ -1 +1 @@\n-a\n+b\n',
     False),
    ("--- x.c\n+++ x.c\n@@ -1 +1 @@\n-a\n+b\n", False),  # a bare diff
    (HEAD + "@@ -1 +1 @@\n-a\n+b\n-- \n2.43.0\n@@ -5 +5 @@\n-a\n+b\n", False),
    (HEAD + "@@ -1 +1 @@\n-a\n+b\nindex 1..2\n--- a/y.c\n", False),
])
def test_fast_path_edge_cases(text: str, taken: bool | None) -> None:
    got = _same(text, 7)
    if taken is not None:
        assert got is taken
    try:
        expected: tuple[FileDiff, ...] | None = unidiff_parse_diff(text, 7)
    except DiffError:
        expected = None
    try:
        result: tuple[FileDiff, ...] | None = parse_diff(text, 7)
    except DiffError:
        result = None
    assert result == expected


@settings(max_examples=examples(400), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(diff_text(), st.integers(1, 50), st.sampled_from(["\n", "\r\n"]))
def test_fast_path_matches_unidiff_on_hostile_diffs(text: str, first: int,
                                                    newline: str) -> None:
    _same(text.replace("\n", newline), first)
    parts = split_body(text)
    if parts.diff:
        _same(parts.diff, first)
