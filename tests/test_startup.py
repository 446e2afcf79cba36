"""Start-up: what a local check imports, and the compiled-dataclass cache (codecache.py)."""

from __future__ import annotations

import dataclasses
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reviewbot.codecache import CodeCache, default_cache_path
from tests.conftest import FIXTURES

# Modules a review of a local mbox has no use for: the network, b4, git, the bot.
NOT_FOR_A_LOCAL_CHECK = ("b4", "requests", "liblore", "ssl", "http.client", "subprocess", "json",
                         "sqlite3", "tomllib", "reviewbot.fetch.lore", "reviewbot.fetch.git",
                         "reviewbot.fetch.http", "reviewbot.tree.git", "reviewbot.tree.apply",
                         "reviewbot.bot", "reviewbot.report.reply", "reviewbot.evaluate")

_PROBE = """
import sys
from reviewbot.cli import main
status = main(sys.argv[1:])
print(" ".join(sorted(sys.modules)), file=sys.stderr)
"""


def _modules(args: list[str], cache_home: Path, cwd: Path) -> set[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["XDG_CACHE_HOME"] = str(cache_home)
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True,
                          text=True, env=env, cwd=cwd, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stderr.split("\n")[-2].split())


def test_a_local_check_imports_no_network_git_or_bot_code(tmp_path: Path) -> None:
    args = ["check", str(FIXTURES / "series" / "frob-v2.mbox"), "--format", "text",
            "--fail-on", "never"]
    cold = _modules(args, tmp_path / "cache", tmp_path)  # fills the caches
    warm = _modules(args, tmp_path / "cache", tmp_path)
    for name in NOT_FOR_A_LOCAL_CHECK:
        assert not any(m == name or m.startswith(name + ".") for m in warm), name
        if name != "tomllib":  # the first run parses the rule files
            assert not any(m == name or m.startswith(name + ".") for m in cold), name
    assert "reviewbot.checks.braces" in warm  # it did review
    assert (tmp_path / "cache" / "reviewbot" / "rules.bin").is_file()
    assert default_cache_path({"XDG_CACHE_HOME": str(tmp_path / "cache")}).is_file()


def test_version_and_help_import_little(tmp_path: Path) -> None:
    probe = ("import sys\nfrom reviewbot.cli import main\ntry:\n    main(sys.argv[1:])\n"
             "except SystemExit:\n    pass\nprint(' '.join(sorted(sys.modules)), "
             "file=sys.stderr)\n")
    for args in (["--version"], ["check", "--help"]):
        proc = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                              text=True, cwd=tmp_path, check=False, timeout=60)
        loaded = set(proc.stderr.split("\n")[-2].split())
        assert "reviewbot 0.1.0" in proc.stdout or "usage: reviewbot check" in proc.stdout
        assert "dataclasses" not in loaded and "reviewbot.config" not in loaded, args
        if args == ["--version"]:
            assert "argparse" not in loaded


def _make(cache: CodeCache, monkeypatch: pytest.MonkeyPatch) -> type[Any]:
    monkeypatch.setattr(dataclasses, "exec", cache, raising=False)
    try:
        return _sample()
    finally:
        monkeypatch.undo()


def _sample() -> type[Any]:
    @dataclasses.dataclass(frozen=True)
    class Sample:
        name: str
        count: int = 3
        tags: tuple[str, ...] = ()
        extra: dict[str, int] = dataclasses.field(default_factory=dict, repr=False, hash=False)
        hidden: bytes = dataclasses.field(default=b"", compare=False)

    return Sample


def _behaviour(cls: type[Any]) -> list[Any]:
    a, b = cls("x", tags=("t",)), cls("x", tags=("t",), hidden=b"other")
    c = dataclasses.replace(a, count=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "y"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del a.count
    return [repr(a), repr(c), a == b, a == c, hash(a) == hash(b), a.extra is not cls("x").extra,
            str(inspect.signature(cls)), cls.__doc__, cls.__init__.__annotations__,
            [f.name for f in dataclasses.fields(cls)]]


def test_cached_dataclasses_are_the_plain_ones(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    plain = _behaviour(_sample())
    path = tmp_path / "reviewbot" / "code.bin"
    first = CodeCache(path)
    assert _behaviour(_make(first, monkeypatch)) == plain
    assert first.added > 0 and not path.exists()
    first.save()
    assert path.is_file() and oct(path.stat().st_mode & 0o777) == "0o600"
    second = CodeCache(path)
    assert second.entries.keys() == first.entries.keys()
    assert _behaviour(_make(second, monkeypatch)) == plain
    assert second.added == 0  # nothing compiled: every method came from the file


@pytest.mark.parametrize("damage", ["garbage", "other-python", "truncated", "shared-file",
                                    "shared-directory"])
def test_a_bad_or_foreign_code_cache_is_ignored(tmp_path: Path, damage: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "reviewbot" / "code.bin"
    first = CodeCache(path)
    _make(first, monkeypatch)
    first.save()
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(data.split(b"\n", 1)[0] + b"\n\x00\xffgarbage")
    elif damage == "other-python":
        path.write_bytes(data.replace(sys.version.encode(), b"2.7.18", 1))
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "shared-file":
        path.chmod(0o664)
    else:
        path.parent.chmod(0o777)
    second = CodeCache(path)
    assert second.entries == {}
    assert _behaviour(_make(second, monkeypatch)) == _behaviour(_sample())


def test_other_exec_calls_pass_through(tmp_path: Path) -> None:
    cache = CodeCache(tmp_path / "code.bin")
    ns: dict[str, Any] = {}
    cache("x = 6 * 7", ns)
    assert ns["x"] == 42 and cache.added == 1
    local: dict[str, Any] = {}
    cache("y = __name__", None, local)  # no globals: the caller's, as exec would use
    assert local["y"] == __name__ and cache.added == 1  # and not cached
