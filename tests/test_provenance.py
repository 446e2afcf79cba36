"""reviewbot.diff.provenance: which added lines a patch does not write (reverts,
backports, moved and copied lines, #if 0), answered from the diff alone."""

from __future__ import annotations

from reviewbot.diff.model import FileDiff, Hunk, Line
from reviewbot.diff.provenance import (
    added_windows,
    disabled_lines,
    is_backport,
    is_revert,
    removed_windows,
    repeated_lines,
)


def file_diff(spec: str, path: str = "a.c") -> FileDiff:
    """A one-hunk FileDiff from lines that start with the diff marker."""
    lines, old, new = [], 1, 1
    for n, raw in enumerate(spec.strip("\n").splitlines()):
        kind, text = raw[0], raw[1:]
        lines.append(Line(kind, text, old if kind != "+" else None,  # type: ignore[arg-type]
                          new if kind != "-" else None, n + 2))
        old += kind != "+"
        new += kind != "-"
    return FileDiff(path, path, (Hunk(1, old - 1, 1, new - 1, "", tuple(lines), 1),))


def test_revert_and_backport_are_read_from_subject_and_message() -> None:
    assert is_revert('Revert "block: add x"', "")
    assert is_revert("block: restore x", "This reverts commit 0123456789ab.\n")
    assert not is_revert("block: revert to the old limits", "We revert to it.")
    assert is_backport("[ Upstream commit 0123456789abcdef0123456789abcdef01234567 ]\n")
    assert is_backport("commit 0123456789abcdef0123456789abcdef01234567 upstream.\n")
    assert not is_backport("Backport of the upstream commit 0123456789ab.")


def test_moved_lines_are_found_by_windows_of_three_layout_aside() -> None:
    moved = file_diff("""
-	if (d->dirty) {
-		write_back(d);
-	}
 	other(d);
+	if (d->dirty)  {
+		write_back(d);
+	}
+	if (d->clean) {
""")
    removed = removed_windows([moved])
    assert repeated_lines(moved, removed.__contains__) == frozenset({2, 3, 4})


def test_a_single_repeated_line_is_not_a_move() -> None:
    diff = file_diff("""
-	return 0;
 }
+	return 0;
""")
    assert repeated_lines(diff, removed_windows([diff]).__contains__) == frozenset()


def test_lines_an_earlier_patch_added_are_copies() -> None:
    first = file_diff("""
+	if (d->dirty) {
+		write_back(d);
+	}
""")
    second = file_diff("""
 	x = 1;
+	if (d->dirty) {
+		write_back(d);
+	}
""", "b.c")
    assert repeated_lines(second, added_windows([first]).__contains__) == frozenset({2, 3, 4})


def test_disabled_lines_follow_if_0_else_and_nesting() -> None:
    diff = file_diff("""
+#if 0
+	dead();
+#ifdef CONFIG_X
+	dead_too();
+#endif
+#else
+	live();
+#endif
+	live_too();
+#ifdef CONFIG_Y
+	maybe();
+#else
+	other();
+#endif
""")
    # the code lines of the dead branch (its own #ifdef/#endif lines are directives)
    assert disabled_lines(diff) == frozenset({2, 4})
