"""SOURCE dispatch (path / Message-ID / URL), the config file, the cache, bounded gunzip."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.config import (
    UserConfig,
    config_path,
    load_config,
    read_environment,
    xdg_dir,
)
from reviewbot.errors import ConfigError, InputError, LimitError
from reviewbot.fetch.cache import MAGIC, CacheEntry, ThreadCache, default_cache_dir
from reviewbot.fetch.gunzip import CorruptError, TruncatedError, gunzip_limited
from reviewbot.fetch.lore import lore_options, normalize_base_url, thread_url
from reviewbot.fetch.resolve import classify
from reviewbot.fetch.thread import newest_date, select_series, split_thread
from tests.conftest import FIXTURES
from tests.fault_server import gzip_bomb

MID = "20260121162253.2216580-10-kas@kernel.org"


# --- classify ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("source", "kind", "msgid", "base"),
    [
        ("-", "stdin", None, None),
        (MID, "msgid", MID, None),
        (f"<{MID}>", "msgid", MID, None),
        (f" <{MID}> ", "msgid", MID, None),
        (f"id:{MID}", "msgid", MID, None),
        ("<odd/part@host.example>", "msgid", "odd/part@host.example", None),
        (f"https://lore.kernel.org/linux-mm/{MID}/", "url", MID,
         "https://lore.kernel.org/linux-mm/"),
        (f"https://lore.kernel.org/linux-mm/{MID}/T/#u", "url", MID,
         "https://lore.kernel.org/linux-mm/"),
        (f"https://lore.kernel.org/all/{MID}/raw", "url", MID, "https://lore.kernel.org/all/"),
        (f"https://lore.kernel.org/linux-mm/{MID}/t.mbox.gz", "url", MID,
         "https://lore.kernel.org/linux-mm/"),
        (f"https://lore.kernel.org/r/{MID}", "url", MID, "https://lore.kernel.org/all/"),
        (f"https://patch.msgid.link/{MID}", "url", MID, None),
        ("http://127.0.0.1:8080/lists/mm/a%2Fb@c.d/", "url", "a/b@c.d",
         "http://127.0.0.1:8080/lists/mm/"),
        (f"https://lore.kernel.org/linux-mm/%3C{MID}%3E/", "url", MID,
         "https://lore.kernel.org/linux-mm/"),
        # not Message-IDs: taken as (missing) paths
        ("series@v2.mbox", "path", None, None),
        ("patches/foo@bar", "path", None, None),
        ("no-at-sign", "path", None, None),
        ("two words@x", "path", None, None),
    ],
)
def test_classify(source: str, kind: str, msgid: str | None, base: str | None) -> None:
    got = classify(source)
    assert (got.kind, got.msgid, got.base_url) == (kind, msgid, base)


def test_an_existing_path_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (MID, "<x@y>", "id:a@b"):
        Path(name).write_bytes((FIXTURES / "series" / "frob-v2.mbox").read_bytes())
        assert classify(name).kind == "path"
    os.mkdir("maildir@home")
    assert classify("maildir@home").kind == "path"


def test_url_without_message_id_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="not the URL of a message"):
        classify("https://lore.kernel.org/linux-mm/")


def test_missing_file_named_like_a_msgid_says_no_such_file(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "nope@v2.mbox"]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_thread_url_quotes_the_msgid() -> None:
    assert thread_url("http://h/all/", "a/b@c") == "http://h/all/a%2Fb@c/t.mbox.gz"
    assert normalize_base_url("http://h/all") == "http://h/all/"
    for bad in ("ftp://h/all/", "lore.kernel.org/all", "http://h/all/?q=x"):
        with pytest.raises(InputError):
            normalize_base_url(bad)


# --- config --------------------------------------------------------------------------------

def test_config_location_follows_xdg(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert config_path(env) == tmp_path / "reviewbot" / "config.toml"
    assert xdg_dir("XDG_CONFIG_HOME", ".config", {"XDG_CONFIG_HOME": "relative"}) == (
        Path.home() / ".config")  # a relative value is ignored, as the spec says
    assert config_path({"REVIEWBOT_CONFIG": "/x/y.toml"}) == Path("/x/y.toml")
    assert default_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == (
        tmp_path / "reviewbot" / "lore")


def test_config_keys_are_typed_and_read_at_the_edge(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "reviewbot" / "config.toml"
    path.parent.mkdir()
    path.write_text('lore_url = "http://127.0.0.1:9/mirror"\nlore_timeout = 7\n'
                    'tree = "~/linux"\n[reply]\nname = "Jane"\nlists = ["a@b.org"]\n')
    env = read_environment({"XDG_CONFIG_HOME": str(tmp_path), "REVIEWBOT_FROM": "J <j@x.org>",
                            "XDG_CACHE_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"})
    cfg = env.config
    assert (cfg.path, cfg.lore_url, cfg.lore_timeout) == (path, "http://127.0.0.1:9/mirror", 7)
    assert cfg.tree == Path("~/linux").expanduser() and cfg.reply.lists == ("a@b.org",)
    assert (env.reviewer, env.no_color) == ("J <j@x.org>", True)
    assert env.cache_dir() == tmp_path / "cache" / "reviewbot"
    opts = lore_options(cfg)
    assert opts.url == "http://127.0.0.1:9/mirror/" and not opts.url_explicit
    assert opts.http.timeout == 7.0
    opts = lore_options(cfg, "http://other/all/", 3.0, no_cache=True, offline=True)
    assert (opts.url, opts.url_explicit, opts.http.timeout) == ("http://other/all/", True, 3)
    assert not opts.use_cache and opts.offline
    assert lore_options().url == "http://127.0.0.1:9/all/"  # the tests' closed default


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lore_url = 5\n", "lore_url: expected a string"),
        ("lore_timeout = true\n", "lore_timeout: expected a number > 0"),
        ("lore_timeout = -1\n", "lore_timeout: expected a number > 0"),
        ("lore_timeout = nan\n", "lore_timeout: expected a number > 0"),
        ('tree = ""\n', "tree: expected a path"),
        ("lore_url = \n", "not valid TOML"),
        ('lore_ulr = "http://x/"\n', "lore_ulr: unknown key (did you mean 'lore_url'"),
        ("[watch]\ninterval = 5\n", "watch: unknown section"),
        ('[reply]\nnmae = "x"\n', "[reply] nmae: unknown key (did you mean 'name'?)"),
        ('[reply]\nlists = "a@b"\n', "[reply] lists: expected a list of strings"),
        ('reply = "x"\n', "[reply] must be a table"),
    ],
)
@pytest.mark.parametrize("argv", [["check", MID], ["check", "--no-tree", "--format", "text",
                                                   str(FIXTURES / "series" / "frob-v2.mbox")],
                                  ["watch", "--status"],
                                  ["eval", "--no-tree", str(FIXTURES / "eval-corpus")]])
def test_bad_config_is_one_line_exit_2_whatever_the_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        text: str, message: str, argv: list[str]) -> None:
    """One rule: the config file is checked whole when it is read, and check (local or
    fetched, any format), watch and eval read it when they start."""
    path = tmp_path / "c.toml"
    path.write_text(text)
    monkeypatch.setenv("REVIEWBOT_CONFIG", str(path))
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err and str(path) in err


def test_every_problem_of_a_config_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('lore_timeout = 0\ntre = "x"\n[reply]\nemail = 3\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: tre: unknown key (did you mean 'tree'?); "
                              "lore_timeout: expected a number > 0; "
                              "[reply] email: expected a string")
    assert load_config(tmp_path / "missing.toml") == UserConfig(tmp_path / "missing.toml")


@pytest.mark.parametrize("value", ["0", "-3", "nan", "inf"])
def test_bad_timeout_option(capsys: pytest.CaptureFixture[str], value: str) -> None:
    assert main(["check", MID, "--timeout", value]) == 2
    assert "--timeout must be a positive number" in capsys.readouterr().err


# --- cache ---------------------------------------------------------------------------------

def test_cache_round_trip_and_expiry(tmp_path: Path) -> None:
    store = ThreadCache(tmp_path)
    now = time.time()
    young = CacheEntry("http://h/all/", "a@b", now, now - 3600, b"From x\n\nbody\n")
    old = CacheEntry("http://h/all/", "c@d", now, now - 30 * 86400, b"From y\n\nbody\n")
    unknown = CacheEntry("http://h/all/", "e@f", now, None, b"x")
    for entry in (young, old, unknown):
        store.put(entry)
        assert store.get(entry.url, entry.msgid) == entry
    assert young.ttl() == 600 and unknown.ttl() == 600 and old.ttl() == 7 * 86400
    assert young.fresh(now + 599) and not young.fresh(now + 601)
    assert old.fresh(now + 6 * 86400) and not old.fresh(now + 8 * 86400)
    assert not young.fresh(now - 3600)  # fetched "in the future": clock skew, refetch
    assert store.get("http://other/", "a@b") is None
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


@pytest.mark.parametrize("damage", ["cut", "header", "json", "size", "swap"])
def test_damaged_cache_entry_is_a_miss(tmp_path: Path, damage: str) -> None:
    store = ThreadCache(tmp_path)
    entry = CacheEntry("http://h/all/", "a@b", time.time(), None, b"From x\n\nbody\n" * 50)
    store.put(entry)
    path = store.path(entry.url, entry.msgid)
    data = path.read_bytes()
    head, body = data.split(b"\n", 1)
    meta = json.loads(head[len(MAGIC):])
    if damage == "cut":
        path.write_bytes(data[:-10])
    elif damage == "header":
        path.write_bytes(b"garbage\n" + body)
    elif damage == "json":
        path.write_bytes(MAGIC + b"{not json\n" + body)
    elif damage == "size":
        meta["size"] = "many"
        path.write_bytes(MAGIC + json.dumps(meta).encode() + b"\n" + body)
    else:  # another entry's file under this name
        meta["msgid"] = "other@x"
        path.write_bytes(MAGIC + json.dumps(meta).encode() + b"\n" + body)
    assert store.get(entry.url, entry.msgid) is None


def test_failed_cache_write_leaves_no_temp_file(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = ThreadCache(tmp_path)
    good = CacheEntry("http://h/all/", "a@b", time.time(), None, b"old")
    store.put(good)

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("reviewbot.fetch.cache.os.replace", boom)
    with pytest.raises(OSError):
        store.put(CacheEntry("http://h/all/", "a@b", time.time(), None, b"new"))
    monkeypatch.undo()
    assert store.get("http://h/all/", "a@b") == good
    assert sorted(p.name for p in tmp_path.iterdir()) == [store.path("http://h/all/",
                                                                      "a@b").name]


# --- gunzip --------------------------------------------------------------------------------

def test_gunzip_limited() -> None:
    data = b"From x\n" * 1000
    assert gunzip_limited(gzip.compress(data), len(data), "t") == data
    assert gunzip_limited(gzip.compress(b"a") + gzip.compress(b"b"), 10, "t") == b"ab"
    assert gunzip_limited(gzip.compress(b"a") + bytes(8), 10, "t") == b"a"
    with pytest.raises(LimitError):
        gunzip_limited(gzip.compress(data), len(data) - 1, "t")
    with pytest.raises(TruncatedError):
        gunzip_limited(gzip.compress(data)[:-9], len(data), "t")
    with pytest.raises(CorruptError):
        gunzip_limited(b"not gzip", 100, "t")
    with pytest.raises(CorruptError):
        gunzip_limited(gzip.compress(b"a") + b"junk", 100, "t")


def test_gunzip_bomb_stops_at_the_cap() -> None:
    bomb = gzip_bomb(256 << 20, member=8 << 20)  # 256 MiB of zeros in about 250 KB
    with pytest.raises(LimitError, match="more than 1048576 bytes"):
        gunzip_limited(bomb, 1 << 20, "t")


# --- thread selection (b4) without a server ------------------------------------------------

def test_select_series_from_a_thread_mbox() -> None:
    mbox = ((FIXTURES / "lore" / "gadget-v1.mbox").read_bytes()
            + (FIXTURES / "lore" / "gadget-v2.mbox").read_bytes())
    raws = split_thread(mbox + mbox)  # every message twice: duplicates are dropped
    assert len(raws) == 8
    assert b"\nFrom a style point of view" in raws[3]  # mboxrd escaping undone
    sel = select_series(raws, "a1b2c3d4-rob@example.org", None, "test")
    assert sel.revision == 2 and sel.other_revisions == (1,)
    assert [m.origin.split("<")[1] for m in sel.messages] == [
        "20250310090000.5151-0-grace@example.org>", "20250310090000.5151-1-grace@example.org>",
        "20250310090000.5151-2-grace@example.org>"]
    with pytest.raises(InputError, match="does not contain"):
        select_series(raws, "absent@x", None, "test")
    stamp = newest_date(raws)
    assert stamp is not None and time.gmtime(stamp)[:3] == (2025, 3, 11)
