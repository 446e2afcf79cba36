"""Fast paths give exactly what the slow definitions they replace give.

Each optimised helper is compared with its plain definition on generated inputs built
from the characters and shapes that decide the answer (Unicode spaces and word
characters, repeated lines, blank lines), so a speed-up can never change a finding.
"""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.checks.wschange import _opcodes, _squash_re, squash
from reviewbot.memo import derived

# characters where str.split()/isalnum() and the regexes' \s/\w could disagree
_TRICKY = ["a", "Z", "_", "1", " ", "\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f",
           "\x85", "\xa0", "\u2028", "\u3000", "é", "²", "٣", "Ⅷ", "\u0300", "ª", "+", "(",
           ";", "\x01", '"', "-", ">"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_TRICKY), max_size=14).map("".join))
def test_squash_is_the_regex_definition(text: str) -> None:
    assert squash(text) == _squash_re(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_squash_on_any_text(text: str) -> None:
    assert squash(text) == _squash_re(text)


_LINES = st.lists(st.sampled_from(["", "}", "{", "return 0;", "x = 1;", "y = 2;"]),
                  max_size=8)


@settings(max_examples=1000, deadline=None)
@given(_LINES, _LINES, st.booleans())
def test_opcodes_are_difflibs(a: list[str], b: list[str], same: bool) -> None:
    if same:
        b = list(a)
    want = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    assert _opcodes(a, b) == want


def test_derived_is_built_once_per_object() -> None:
    class Box:
        pass

    calls: list[int] = []
    one, two = Box(), Box()
    assert derived(one, "n", lambda: calls.append(1) or 1) == 1
    assert derived(one, "n", lambda: calls.append(2) or 2) == 1  # kept
    assert derived(two, "n", lambda: calls.append(3) or 3) == 3  # per object
    assert calls == [1, 3]
