"""Size limits: compressed input, oversized messages, patches, lines and series; --limit."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.errors import ConfigError
from reviewbot.limits import Limits, parse_limits
from tests.conftest import FIXTURES

FROB = FIXTURES / "series" / "frob-v2.mbox"


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def patch_mail(added: list[str], subject: str = "[PATCH] frob: change") -> bytes:
    body = "".join(f"+{t}\n" for t in added)
    return (f"From: Ada <ada@example.org>\nSubject: {subject}\n\nWhy.\n---\n"
            f"diff --git a/drivers/x.c b/drivers/x.c\n--- a/drivers/x.c\n+++ b/drivers/x.c\n"
            f"@@ -1,0 +1,{len(added)} @@\n{body}").encode()


@pytest.mark.parametrize("compress", [gzip.compress, lzma.compress, bz2.compress])
def test_compressed_mbox_is_reviewed(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     compress: object) -> None:
    path = tmp_path / "t.mbox.gz"
    path.write_bytes(compress(FROB.read_bytes()))  # type: ignore[operator]
    code, out, _ = check(capsys, str(path), "--format", "json")
    plain = check(capsys, str(FROB), "--format", "json")[1]
    assert code == 1 and json.loads(out) == json.loads(plain)


def test_decompression_bomb_is_refused(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b"\n" * (8 << 20)))  # 8 MiB of newlines, ~8 KiB packed
    code, _, err = check(capsys, str(path), "--limit", "input-bytes=1M")
    assert code == 2 and err.count("\n") == 1
    assert "decompressed gzip input larger than the limit of 1048576" in err


def test_corrupt_archive_is_a_clear_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.xz"
    path.write_bytes(lzma.compress(FROB.read_bytes())[:200])
    code, _, err = check(capsys, str(path))
    assert code == 2 and "cannot decompress (xz)" in err and err.count("\n") == 1


def test_input_limit_names_the_configured_limit(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, str(FROB), "--limit", "input-bytes=1k")
    assert code == 2 and "limit of 1024 bytes" in err and "--limit input-bytes" in err


def test_oversized_message_is_skipped_with_reason(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    big = patch_mail(["int x;"] * 2000, "[PATCH 1/2] big")
    small = patch_mail(["int y;"], "[PATCH 2/2] small").replace(
        b"From: ", b"In-Reply-To: <c@x>\nFrom: ")
    sep = b"From nobody Mon Sep 17 00:00:00 2001\n"
    path = tmp_path / "two.mbox"
    path.write_bytes(sep + big.replace(b"From: ", b"Message-ID: <c@x>\nFrom: ") + b"\n"
                     + sep + small)
    code, out, _ = check(capsys, str(path), "--format", "json", "--limit", "message-bytes=8k")
    patches = json.loads(out)["patches"]
    assert code == 0
    assert [p["index"] for p in patches] == [1, 2]
    assert "over the limit of 8192 (--limit message-bytes=N)" in patches[0]["skipped"]
    assert patches[0]["subject"] == "[PATCH 1/2] big"  # headers were still read
    assert patches[1]["skipped"] is None


def test_long_line_and_long_patch_are_skipped(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.patch"
    path.write_bytes(patch_mail(["int x = " + "1" * 5000 + ";"]))
    out = check(capsys, str(path), "--format", "json", "--limit", "line-length=4096")[1]
    skipped = json.loads(out)["patches"][0]["skipped"]
    assert "characters long, over the limit of 4096" in skipped
    path.write_bytes(patch_mail(["int x;"] * 50))
    out = check(capsys, str(path), "--format", "json", "--limit", "lines-per-patch=20")[1]
    assert "diff longer than 20 lines" in json.loads(out)["patches"][0]["skipped"]


def test_patches_per_series_limit(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = check(capsys, str(FROB), "--limit", "patches-per-series=2")
    assert code == 2 and "3 patches, more than the limit of 2" in err


@pytest.mark.parametrize("spec", ["nope=1", "input-bytes", "input-bytes=0",
                                  "line-length=-5", "message-bytes=12T"])
def test_bad_limit_is_a_one_line_error(capsys: pytest.CaptureFixture[str], spec: str) -> None:
    code, _, err = check(capsys, str(FROB), "--limit", spec)
    assert code == 2 and err.startswith("reviewbot: error: --limit") and err.count("\n") == 1


def test_parse_limits() -> None:
    limits = parse_limits(["line-length=2k", "Message-Bytes=3M", "patches-per-series=7"])
    assert limits == Limits(line_length=2048, message_bytes=3 << 20, patches_per_series=7)
    with pytest.raises(ConfigError) as bad:
        parse_limits(["x=1"])
    assert str(bad.value).endswith("NAME one of input-bytes, patches-per-series, "
                                   "message-bytes, lines-per-patch, line-length")
