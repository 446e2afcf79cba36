"""Apply a series to a kernel tree in a throw-away index and read every post-image.

Nothing of the user's is touched: the index is a temporary file (``GIT_INDEX_FILE``) and
the blobs ``git apply --cached`` creates go to a temporary object directory that uses
the tree's objects as an alternate; the directory is removed on every exit path.

Where each file's post-image comes from:
0. when the tree already holds every post-image blob the patches name in their
   ``index`` lines (a series made from this tree's commits: ``--git``, ``b4 prep``, a
   ``sendemail-validate`` hook), those blobs: exact, and nothing needs applying;
1. otherwise the series applied patch by patch on its ``base-commit`` (when the tree has
   it) or on ``HEAD``;
2. for a patch that does not apply (and the ones after it): the post-image blob named in
   its ``index`` line when the tree has it;
3. else nothing: the file is reviewed from the patch alone.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reviewbot.diff.model import FileDiff
from reviewbot.diff.parse import split_body
from reviewbot.series.model import Patch, Series
from reviewbot.tree.git import GitTree, TreeError
from reviewbot.tree.headers import SYMLINK_MODE, FileHeader, scan_headers
from reviewbot.tree.safety import check_header, check_through_symlinks, prefixes

_BASE_COMMIT = re.compile(r"^base-commit:\s*([0-9a-f]{7,40})\s*$", re.MULTILINE)
ImageSource = Literal["applied", "index-blob"]


@dataclass(frozen=True)
class FileImage:
    """A whole post-image file of one patch, as the tree gives it."""

    path: str  # the path in the tree
    blob: str  # git blob id (the parse cache key)
    text: str
    source: ImageSource


@dataclass(frozen=True)
class SeriesTree:
    """What the tree gave for one series: post-images per (patch index, file path)."""

    top: Path
    base: str | None
    images: Mapping[tuple[int, str], FileImage] = field(repr=False)
    notes: tuple[str, ...]
    failed: int | None = None  # index of the first patch that did not apply

    def image(self, patch: Patch, fdiff: FileDiff) -> FileImage | None:
        return self.images.get((patch.index, fdiff.path))

    def full_text(self, patch: Patch, fdiff: FileDiff) -> str | None:
        img = self.image(patch, fdiff)
        return img.text if img is not None else None


@dataclass(frozen=True)
class _PatchPlan:
    patch: Patch
    diff: bytes
    headers: tuple[FileHeader, ...]
    files: tuple[tuple[FileDiff, FileHeader | None], ...]

    @property
    def where(self) -> str:
        return (f"patch {self.patch.index}/{self.patch.total} "
                f"({self.patch.mail.subject.title})")


def series_base_commit(series: Series) -> str | None:
    """The ``base-commit:`` of the cover letter, else of any patch (the last one first)."""
    if series.cover is not None:
        m = _BASE_COMMIT.search(series.cover.body)
        if m:
            return m.group(1)
    for p in reversed(series.patches):
        if p.base_commit:
            return p.base_commit
    return None


def _align(files: Sequence[FileDiff], headers: Sequence[FileHeader]
           ) -> tuple[tuple[FileDiff, FileHeader | None], ...]:
    """Pair unidiff's files with git's view of them (same order; else by path suffix)."""
    if len(files) == len(headers):
        return tuple(zip(files, headers, strict=True))
    out: list[tuple[FileDiff, FileHeader | None]] = []
    for fd in files:
        match = None
        for h in headers:
            p = h.new_path or h.old_path or ""
            if p and (fd.path == p or fd.path.endswith("/" + p)):
                match = h
                break
        out.append((fd, match))
    return tuple(out)


def _plan(patch: Patch) -> _PatchPlan:
    diff = split_body(patch.mail.body).diff
    headers = tuple(scan_headers(diff))
    plan = _PatchPlan(patch, diff.encode("utf-8", "surrogateescape"), headers,
                      _align(patch.files, headers))
    for h in headers:
        check_header(h, plan.where)
    return plan


def _symlinks_in(tree: GitTree, rev: str, paths: Sequence[str]) -> dict[str, str]:
    """Which of ``paths`` are symlinks at ``rev``, with their targets."""
    if not paths:
        return {}
    res = tree.git(["ls-tree", "-z", rev, "--", *paths], env={"GIT_LITERAL_PATHSPECS": "1"})
    links: dict[str, str] = {}
    for entry in res.out.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, _, rest = meta.partition(b" ")
        if mode.decode() == SYMLINK_MODE:
            links[name.decode("utf-8", "surrogateescape")] = rest.split()[-1].decode()
    if links:
        targets = tree.read_blobs(links.values())
        return {p: targets.get(b, b"").decode("utf-8", "replace") for p, b in links.items()}
    return {}


def _check_symlinks(tree: GitTree, base: str, plans: Sequence[_PatchPlan]) -> None:
    """Refuse paths that go through a symlink leading outside the tree (the base's, or
    one an earlier patch of the series makes)."""
    paths = sorted({p for plan in plans for h in plan.headers
                    for p in (h.old_path, h.new_path) if p})
    links = _symlinks_in(tree, base, sorted({pre for p in paths for pre in prefixes(p)}))
    for plan in plans:
        touched = [p for h in plan.headers for p in (h.old_path, h.new_path) if p]
        check_through_symlinks(touched, links, plan.where)
        for h in plan.headers:
            if h.new_path and h.is_symlink:
                links[h.new_path] = h.added[0] if h.added else ""
            elif h.new_path:
                links.pop(h.new_path, None)


def _resolve_base(tree: GitTree, series: Series, base: str | None
                  ) -> tuple[str | None, str, list[str]]:
    """(commit id, how it was chosen, notes)."""
    notes: list[str] = []
    if base is not None:
        found = tree.commit(base)
        if found is None:
            raise TreeError(f"{base}: no such commit in {tree.top}")
        return found, "given base", notes
    wanted = series_base_commit(series)
    head = tree.commit("HEAD")
    if wanted:
        found = tree.commit(wanted)
        if found is not None:
            return found, "base-commit", notes
        notes.append(f"base-commit {wanted[:12]} is not in the tree"
                     + (f"; applying on HEAD ({head[:12]})" if head else ""))
    if head is None:
        notes.append(f"the tree at {tree.top} has no HEAD commit; reviewing from the "
                     "patches alone")
    return head, "HEAD", notes


def apply_series(tree: GitTree, series: Series, base: str | None = None) -> SeriesTree:
    """Apply ``series`` in a temporary index on its base; see the module docstring.

    Raises UnsafePathError (before anything is written) for a path outside the tree.
    """
    plans = [_plan(p) for p in series.patches if not p.skipped and p.files]
    wanted = {(plan.patch.index, fd.path) for plan in plans for fd, _ in plan.files
              if fd.maps_to_c}
    if not wanted:
        return SeriesTree(tree.top, None, {}, ())
    base_id, how, notes = _resolve_base(tree, series, base)
    if base_id is not None:
        _check_symlinks(tree, base_id, plans)
    known = _index_line_blobs(tree, plans)
    if wanted <= known.keys():
        texts = tree.read_blobs({b for b, _, _ in known.values()})
        return SeriesTree(tree.top, base_id, _images(known, texts), (
            f"kernel tree {tree.top}: the tree holds every post-image the patches name "
            "(their index lines); nothing to apply",))
    if base_id is None:
        return SeriesTree(tree.top, None, {}, tuple(notes))
    blobs: dict[tuple[int, str], tuple[str, str, ImageSource]] = {}
    failed: int | None = None
    with tempfile.TemporaryDirectory(prefix="reviewbot-tree-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"),
               "GIT_OBJECT_DIRECTORY": str(Path(tmp) / "objects"),
               "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(tree.objects)}
        (Path(tmp) / "objects").mkdir()
        _seed_index(tree, base_id, plans, env)
        applied = 0
        for plan in plans:
            res = tree.git(["apply", "--cached", "--whitespace=nowarn"], plan.diff, env)
            if res.code != 0:
                failed = plan.patch.index
                notes.append(f"{plan.where} does not apply on {base_id[:12]}: "
                             f"{res.first_error}; it and the patches after it are reviewed "
                             "without the applied tree")
                break
            applied += 1
            blobs.update(_staged_blobs(tree, plan, env))
        if failed is not None:
            found = {k: v for k, v in known.items() if k[0] >= failed}
            blobs.update(found)
            if found:
                notes.append(f"{len({k[0] for k in found})} of those patches use the "
                             "post-images named in their index lines (the tree has them)")
        texts = tree.read_blobs({b for b, _, _ in blobs.values()}, env)
    images = _images(blobs, texts)
    notes.insert(0, f"kernel tree {tree.top}: {applied} of {len(plans)} patches applied on "
                    f"{base_id[:12]} ({how})")
    return SeriesTree(tree.top, base_id, images, tuple(notes), failed)


def _images(blobs: Mapping[tuple[int, str], tuple[str, str, ImageSource]],
            texts: Mapping[str, bytes]) -> dict[tuple[int, str], FileImage]:
    return {key: FileImage(path, blob, texts[blob].decode("utf-8", "replace"), source)
            for key, (blob, path, source) in blobs.items() if blob in texts}


def _seed_index(tree: GitTree, base: str, plans: Sequence[_PatchPlan],
                env: Mapping[str, str]) -> None:
    """A temporary index holding only the base's version of the paths the series touches."""
    paths = sorted({p for plan in plans for h in plan.headers
                    for p in (h.old_path, h.new_path) if p})
    _must(tree, ["read-tree", "--empty"], None, env)
    if not paths:
        return
    listing = tree.git(["ls-tree", "-r", "-z", base, "--", *paths],
                       env={**env, "GIT_LITERAL_PATHSPECS": "1"})
    if listing.code != 0:
        raise TreeError(f"git ls-tree failed in {tree.top}: {listing.first_error}")
    if listing.out:
        _must(tree, ["update-index", "-z", "--index-info"], listing.out, env)


def _must(tree: GitTree, args: list[str], stdin: bytes | None,
          env: Mapping[str, str]) -> bytes:
    res = tree.git(args, stdin, env)
    if res.code != 0:
        raise TreeError(f"git {args[0]} failed in {tree.top}: {res.first_error}")
    return res.out


def _staged_blobs(tree: GitTree, plan: _PatchPlan, env: Mapping[str, str]
                  ) -> dict[tuple[int, str], tuple[str, str, ImageSource]]:
    wanted = {h.new_path: fd for fd, h in plan.files
              if h is not None and h.new_path and fd.maps_to_c}
    if not wanted:
        return {}
    out = _must(tree, ["ls-files", "-s", "-z", "--", *wanted],
                None, {**env, "GIT_LITERAL_PATHSPECS": "1"})
    found: dict[tuple[int, str], tuple[str, str, ImageSource]] = {}
    for entry in out.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        parts = meta.split()
        path = name.decode("utf-8", "surrogateescape")
        if len(parts) == 3 and path in wanted and parts[0].decode() != SYMLINK_MODE:
            found[(plan.patch.index, wanted[path].path)] = (parts[1].decode(), path,
                                                            "applied")
    return found


def _index_line_blobs(tree: GitTree, plans: Sequence[_PatchPlan]
                      ) -> dict[tuple[int, str], tuple[str, str, ImageSource]]:
    wanted = [(plan, fd, h) for plan in plans for fd, h in plan.files
              if h is not None and h.new_path and h.new_blob and fd.maps_to_c
              and h.new_mode != SYMLINK_MODE and h.new_blob.strip("0")]
    ids = tree.object_ids(h.new_blob for _, _, h in wanted if h.new_blob)
    out: dict[tuple[int, str], tuple[str, str, ImageSource]] = {}
    for plan, fd, h in wanted:
        full = ids.get(h.new_blob or "")
        if full and h.new_path:
            out[(plan.patch.index, fd.path)] = (full, h.new_path, "index-blob")
    return out
