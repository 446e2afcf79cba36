"""The cache of parsed rule files: used when a file is unchanged, never trusted blindly."""

from __future__ import annotations

import marshal
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from reviewbot.engine import regexcheck
from reviewbot.engine.loader import default_rules_dir, load_rules
from reviewbot.engine.rulecache import _header, default_cache_path
from reviewbot.errors import RuleError
from tests.test_engine import GOOD, _write


class Counter:
    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.real(*args, **kwargs)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> tuple[Counter, Counter]:
    """(TOML parses, backtracking-risk checks) made from here on."""
    parses, risks = Counter(tomllib.loads), Counter(regexcheck.risky_regex)
    monkeypatch.setattr(tomllib, "loads", parses)
    monkeypatch.setattr(regexcheck, "risky_regex", risks)
    return parses, risks


def _cache() -> Path:
    path = default_cache_path()
    assert path is not None
    return path


def _read_cache() -> Any:
    data = _cache().read_bytes()
    assert data.startswith(_header())
    return marshal.loads(data[len(_header()):])


def _write_cache(doc: Any, header: bytes | None = None) -> None:
    _cache().write_bytes((header or _header()) + marshal.dumps(doc))


def _fields(rules: list[Any]) -> list[tuple[Any, ...]]:
    return [(r.id, r.name, r.severity, r.match, r.params, r.examples, r.docs, r.source)
            for r in rules]


def test_second_load_parses_nothing_and_gives_the_same_rules(
        counted: tuple[Counter, Counter]) -> None:
    parses, _ = counted
    first = load_rules()
    assert parses.calls == len(list(default_rules_dir().glob("*/*.toml"))) > 0
    assert _cache().is_file()
    second = load_rules()
    assert parses.calls == len(first)  # nothing parsed again
    assert _fields(second) == _fields(first)


def test_a_changed_file_is_parsed_again(tmp_path: Path,
                                        counted: tuple[Counter, Counter]) -> None:
    parses, _ = counted
    p = _write(tmp_path, "frob", GOOD.format(name="frob", pattern="frobnicate"))
    assert load_rules([tmp_path / "rules"])[0].summary == "test"
    p.write_text(p.read_text().replace('summary = "test"', 'summary = "tset"'))  # same size
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old mtime
    assert load_rules([tmp_path / "rules"])[0].summary == "tset"
    assert parses.calls == 2


def test_checked_patterns_are_remembered_and_bad_ones_reported_every_time(
        tmp_path: Path, counted: tuple[Counter, Counter]) -> None:
    _, risks = counted
    _write(tmp_path, "frob", GOOD.format(name="frob", pattern="frobnicate"))
    load_rules([tmp_path / "rules"])
    load_rules([tmp_path / "rules"])
    assert risks.calls == 1
    _write(tmp_path, "frob", GOOD.format(name="frob", pattern="(a+)+"))
    messages = []
    for _ in range(2):
        with pytest.raises(RuleError) as info:
            load_rules([tmp_path / "rules"])
        messages.append(str(info.value))
    assert messages[0] == messages[1] and "match.pattern" in messages[0]
    assert risks.calls == 3


def test_cached_data_is_validated_like_a_file(tmp_path: Path) -> None:
    p = _write(tmp_path, "frob", GOOD.format(name="frob", pattern="frobnicate"))
    load_rules([tmp_path / "rules"])
    doc = _read_cache()
    doc["files"][str(p.absolute())]["data"]["severity"] = "loud"
    _write_cache(doc)
    with pytest.raises(RuleError, match=r"frob\.toml: severity: .loud. is not one of"):
        load_rules([tmp_path / "rules"])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other-version", "shared",
                                    "shared-directory"])
def test_a_bad_or_foreign_cache_is_ignored(tmp_path: Path, damage: str,
                                           counted: tuple[Counter, Counter]) -> None:
    parses, _ = counted
    p = _write(tmp_path, "frob", GOOD.format(name="frob", pattern="frobnicate"))
    load_rules([tmp_path / "rules"])
    cache = _cache()
    doc = _read_cache()
    doc["files"][str(p.absolute())]["data"]["summary"] = "from the cache"
    _write_cache(doc)
    assert load_rules([tmp_path / "rules"])[0].summary == "from the cache"  # it is used
    data = cache.read_bytes()
    if damage == "garbage":
        cache.write_bytes(_header() + b"\x00\xffnot marshal")
    elif damage == "truncated":
        cache.write_bytes(data[: len(data) // 2])
    elif damage == "other-version":
        cache.write_bytes(data.replace(b"reviewbot-rules 1 ", b"reviewbot-rules 1 0.0.0-", 1))
    elif damage == "shared":
        cache.chmod(0o666)  # anyone could have written it
    else:
        cache.parent.chmod(0o777)  # anyone could have put it there
    assert load_rules([tmp_path / "rules"])[0].summary == "test"
    assert parses.calls == 2
    if not damage.startswith("shared"):
        assert load_rules([tmp_path / "rules"])[0].summary == "test"
        assert parses.calls == 2  # rewritten whole by the second load


def test_an_unwritable_cache_directory_is_no_error(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file: no directory under it
    assert load_rules()


def test_no_home_directory_means_no_cache_and_no_error(
        monkeypatch: pytest.MonkeyPatch, counted: tuple[Counter, Counter]) -> None:
    import dataclasses

    from reviewbot.codecache import install

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert default_cache_path() is None
    n = len(load_rules())
    assert len(load_rules()) == n > 0
    assert counted[0].calls == 2 * n  # parsed every time
    monkeypatch.delattr(dataclasses, "exec", raising=False)
    assert install().path is None
