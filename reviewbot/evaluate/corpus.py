"""Read a review corpus: ``manifest.json`` and the patch files it names (validated)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from reviewbot.engine.schema import CLASSES
from reviewbot.errors import InputError

NEGATIVE = "negative"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Comment:
    """A reviewer comment on one added line (or, for ``negative``, a clean review)."""

    id: str
    patch_file: str  # relative to the corpus directory
    category: str  # a review class, or "negative"
    file: str  # path in the kernel tree
    lines: tuple[int, ...]  # post-image lines the comment is about
    text: str  # what the reviewer said

    @property
    def negative(self) -> bool:
        return self.category == NEGATIVE


@dataclass(frozen=True)
class Corpus:
    root: Path
    comments: tuple[Comment, ...]  # every manifest entry, negatives included

    @property
    def patch_files(self) -> tuple[str, ...]:
        """Every patch file the manifest names, in manifest order, once each."""
        return tuple(dict.fromkeys(c.patch_file for c in self.comments))

    @property
    def negative_files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.patch_file for c in self.comments if c.negative))

    def path(self, patch_file: str) -> Path:
        return self.root / patch_file


def _safe_relative(name: str, root: Path, where: str) -> str:
    """``name`` as a path inside ``root``; anything else (absolute, ``..``) is refused."""
    pure = PurePosixPath(name)
    if not name or pure.is_absolute() or ".." in pure.parts or "\\" in name:
        raise InputError(f"{where}: patch_file {name!r} must be a relative path inside "
                         "the corpus directory")
    resolved = (root / pure).resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise InputError(f"{where}: patch_file {name!r} points outside the corpus directory")
    if not resolved.is_file():
        raise InputError(f"{where}: patch_file {name!r} not found in {root}")
    return str(pure)


def _entry(raw: Any, n: int, root: Path) -> Comment:
    where = f"manifest.json entry {n + 1}"
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be an object")
    ident = raw.get("id")
    if isinstance(ident, str) and ident:
        where += f" ({ident})"
    for key in ("id", "patch_file", "category"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise InputError(f"{where}: {key} must be a non-empty string")
    category = raw["category"]
    if category != NEGATIVE and category not in CLASSES:
        raise InputError(f"{where}: category {category!r} is not one of "
                         f"{', '.join((*CLASSES, NEGATIVE))}")
    file = raw.get("file", "")
    if not isinstance(file, str):
        raise InputError(f"{where}: file must be a string")
    lines = raw.get("lines", [])
    if not isinstance(lines, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in lines):
        raise InputError(f"{where}: lines must be a list of positive line numbers")
    if category != NEGATIVE and (not lines or not file):
        raise InputError(f"{where}: a comment needs file and lines")
    text = raw.get("reviewer_comment", "")
    return Comment(id=raw["id"], patch_file=_safe_relative(raw["patch_file"], root, where),
                   category=category, file=file, lines=tuple(lines),
                   text=text if isinstance(text, str) else "")


def load_corpus(directory: str | Path) -> Corpus:
    """The corpus in ``directory``; InputError (one line) for anything malformed."""
    root = Path(directory)
    manifest = root / "manifest.json"
    if not root.is_dir():
        raise InputError(f"{root}: not a directory")
    if not manifest.is_file():
        raise InputError(f"{root}: no manifest.json (see the corpus README for the format)")
    try:
        if manifest.stat().st_size > MAX_MANIFEST_BYTES:
            raise InputError(f"{manifest}: larger than {MAX_MANIFEST_BYTES} bytes")
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {manifest}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{manifest}: not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InputError(f"{manifest}: nested too deeply to be a manifest") from exc
    if not isinstance(data, list):
        raise InputError(f"{manifest}: must be a JSON array of entries")
    comments = tuple(_entry(raw, n, root) for n, raw in enumerate(data))
    seen: set[str] = set()
    for c in comments:
        if c.id in seen:
            raise InputError(f"{manifest}: id {c.id!r} used twice")
        seen.add(c.id)
    return Corpus(root, comments)
