"""Where a patch's added lines come from, for the rules that judge how code is written.

Style findings (braces, blank lines, spelling, alignment) are about what the author
writes. Some added lines are not written by the author of the patch at all:

- a **revert** restores the code as it was before the reverted commit (git's subject
  ``Revert "..."``, or ``This reverts commit <sha>`` in the commit message);
- a **stable backport** applies a commit that is already upstream, as it is there
  (``[ Upstream commit <sha> ]`` or ``commit <sha> upstream.`` in the commit message, as
  the stable trees write it): it must not differ from upstream;
- a **move** re-adds lines the same patch removes (in any of its files), layout aside;
- a **copy** re-adds lines an earlier patch of the series already added (that patch got
  the finding);
- lines under ``#if 0`` are dead code: the comment worth making there is "drop it".

Each question is answered from the diff alone, in time linear in its lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from reviewbot.diff.layout import squash
from reviewbot.diff.model import FileDiff, Hunk, Line

# Lines of moved code are recognised by windows of this many consecutive lines
# (blank lines included): one line alone ("return 0;", "}") repeats too often.
WINDOW = 3
_REVERT_SUBJECT = re.compile(r'^\s*Revert\s+"')
_REVERT_BODY = re.compile(r"^This reverts commit [0-9a-f]{7,40}\b", re.MULTILINE)
_BACKPORT_BODY = re.compile(r"^(\[ Upstream commit [0-9a-f]{12,40} \]|commit [0-9a-f]{12,40} "
                            r"upstream\.?)\s*$", re.MULTILINE)
_IF = re.compile(r"^\s*#\s*if(n?def)?\b")
_IF_ZERO = re.compile(r"^\s*#\s*if\s+(0|false)\s*(/[/*].*)?$")
_ELSE = re.compile(r"^\s*#\s*(else|elif)\b")
_ENDIF = re.compile(r"^\s*#\s*endif\b")


def is_revert(title: str, commit_message: str) -> bool:
    """The patch is a ``git revert``: its title or its commit message says so."""
    return bool(_REVERT_SUBJECT.match(title) or _REVERT_BODY.search(commit_message))


def is_backport(commit_message: str) -> bool:
    """The patch backports an upstream commit to a stable tree, as its message says."""
    return bool(_BACKPORT_BODY.search(commit_message))


def _runs(hunk: Hunk, kind: str) -> Iterator[list[Line]]:
    """The runs of consecutive lines of ``kind`` ("+" or "-") in the hunk."""
    run: list[Line] = []
    for ln in hunk.lines:
        if ln.kind == kind:
            run.append(ln)
        elif run:
            yield run
            run = []
    if run:
        yield run


def _windows(run: Sequence[Line]) -> Iterator[tuple[int, tuple[str, ...]]]:
    texts = [squash(ln.text) for ln in run]
    for i in range(len(texts) - WINDOW + 1):
        window = tuple(texts[i:i + WINDOW])
        if sum(1 for t in window if t) >= 2:  # two lines of code at least
            yield i, window


def removed_windows(files: Iterable[FileDiff]) -> frozenset[tuple[str, ...]]:
    """Every window of ``WINDOW`` consecutive removed lines of the patch, squashed."""
    return frozenset(w for f in files for h in f.hunks for run in _runs(h, "-")
                     for _, w in _windows(run))


def added_windows(files: Iterable[FileDiff]) -> frozenset[tuple[str, ...]]:
    """Every window of ``WINDOW`` consecutive added lines, squashed."""
    return frozenset(w for f in files for h in f.hunks for run in _runs(h, "+")
                     for _, w in _windows(run))


def repeated_lines(file: FileDiff, known: Callable[[tuple[str, ...]], bool]
                   ) -> frozenset[int]:
    """The post-image numbers of the added lines of ``file`` that lie in a window of
    consecutive added lines that is ``known`` (one of ``removed_windows``: moved code;
    one of an earlier patch's ``added_windows``: copied code)."""
    out: set[int] = set()
    for h in file.hunks:
        for run in _runs(h, "+"):
            for i, w in _windows(run):
                if known(w):
                    out.update(ln.new for ln in run[i:i + WINDOW] if ln.new is not None)
    return frozenset(out)


def disabled_lines(file: FileDiff) -> frozenset[int]:
    """Post-image lines inside an ``#if 0`` block (up to its ``#else`` or ``#endif``),
    as far as each hunk shows it: a block opened above a hunk is not seen."""
    out: set[int] = set()
    for h in file.hunks:
        # one entry per open conditional: True while it is the dead branch of an #if 0
        stack: list[bool] = []
        for ln in h.lines:
            if ln.kind == "-" or ln.new is None:
                continue
            text = ln.text
            if _IF.match(text):
                stack.append(bool(_IF_ZERO.match(text)) or any(stack))
            elif _ELSE.match(text) and stack:
                stack[-1] = any(stack[:-1])
            elif _ENDIF.match(text) and stack:
                stack.pop()
            elif any(stack):
                out.add(ln.new)
    return frozenset(out)
