"""A small HTTP server on 127.0.0.1 that answers with faults, one per URL prefix.

``<url>/<mode>/<msgid>/t.mbox.gz`` answers according to ``mode`` (see ``_MODES``);
``<url>/<mode>/`` is thus a "lore URL" whose every fetch shows that fault. ``hits``
counts requests per mode (to check that retries are bounded).
"""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import FIXTURES

THREAD = (FIXTURES / "lore" / "gadget-v1.mbox").read_bytes()
THREAD_MSGID = "20250304090000.4242-1-grace@example.org"


def gzip_bomb(total: int, member: int = 16 << 20) -> bytes:
    """Concatenated gzip members of zeros: ``total`` bytes once decompressed."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    one = comp.compress(bytes(member)) + comp.flush()
    return one * (total // member)


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()
        self.good = gzip.compress(THREAD)
        self.bomb = gzip_bomb(1 << 30)  # 1 GiB of zeros in about 1 MB
        self.stop_event = threading.Event()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer is what some tests do: stay quiet."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def mode_url(self, mode: str) -> str:
        return f"{self.url}/{mode}/"


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/gzip",
              headers: dict[str, str] | None = None, length: int | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self) -> None:
        mode = self.path.strip("/").split("/")[0]
        srv = self.server
        srv.hits[mode] += 1
        handler = _MODES.get(mode)
        if handler is None:
            self._send(404, b"not found\n", "text/plain")
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            handler(self)


def _ok(h: _Handler) -> None:
    h._send(200, h.server.good)


def _not_found(h: _Handler) -> None:
    h._send(404, b"404 Not Found\n", "text/plain")


def _too_many(h: _Handler) -> None:
    h._send(429, b"slow down\n", "text/plain", {"Retry-After": "0"})


def _retry_later(h: _Handler) -> None:
    h._send(429, b"slow down\n", "text/plain", {"Retry-After": "3600"})


def _unavailable(h: _Handler) -> None:
    h._send(503, b"busy\n", "text/plain")


def _flaky(h: _Handler) -> None:
    if h.server.hits["flaky"] <= 2:
        h._send(502, b"bad gateway\n", "text/plain", {"Retry-After": "0"})
    else:
        h._send(200, h.server.good)


def _forbidden(h: _Handler) -> None:
    h._send(403, b"no\n", "text/plain")


def _slow(h: _Handler) -> None:  # no answer at all for a long while
    h.server.stop_event.wait(20)


def _drip(h: _Handler) -> None:  # headers, then a byte now and then, forever
    h.send_response(200)
    h.send_header("Content-Type", "application/gzip")
    h.send_header("Content-Length", str(len(h.server.good)))
    h.end_headers()
    for byte in h.server.good:
        if h.server.stop_event.wait(0.2):
            return
        h.wfile.write(bytes([byte]))
        h.wfile.flush()


def _truncated(h: _Handler) -> None:  # a complete HTTP answer holding half a gzip file
    h._send(200, h.server.good[: len(h.server.good) // 2])


def _cut(h: _Handler) -> None:  # Content-Length promises more than is sent
    h._send(200, h.server.good[:100], length=len(h.server.good))
    h.close_connection = True


def _corrupt(h: _Handler) -> None:
    data = bytearray(h.server.good)
    mid = len(data) // 2
    data[mid:mid + 16] = bytes(b ^ 0x5A for b in data[mid:mid + 16])
    h._send(200, bytes(data))


def _bad_crc(h: _Handler) -> None:
    data = bytearray(h.server.good)
    data[-8] ^= 0xFF  # the CRC32 in the gzip trailer
    h._send(200, bytes(data))


def _bomb(h: _Handler) -> None:
    h._send(200, h.server.bomb)


def _huge(h: _Handler) -> None:  # declares 10 GB
    h.send_response(200)
    h.send_header("Content-Type", "application/gzip")
    h.send_header("Content-Length", str(10 << 30))
    h.end_headers()
    h.wfile.write(h.server.good[:10])
    h.close_connection = True


def _endless(h: _Handler) -> None:  # chunked, no length, never ends
    h.send_response(200)
    h.send_header("Content-Type", "application/gzip")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    block = b"\x1f\x8b" + bytes(64 * 1024 - 2)
    for _ in range(20_000):  # at most about 1.3 GB
        if h.server.stop_event.is_set():
            return
        h.wfile.write(b"%x\r\n" % len(block) + block + b"\r\n")
    h.wfile.write(b"0\r\n\r\n")


def _html(h: _Handler) -> None:
    h._send(200, b"<html><body>Welcome</body></html>\n", "text/html; charset=utf-8")


def _empty(h: _Handler) -> None:
    h._send(200, gzip.compress(b""))


def _loop(h: _Handler) -> None:
    h._send(302, b"", "text/plain", {"Location": h.path})


def _plain_mbox(h: _Handler) -> None:  # a server that gunzips for us
    h._send(200, THREAD, "application/mbox")


_MODES = {
    "ok": _ok, "notfound": _not_found, "429": _too_many, "retry-later": _retry_later,
    "503": _unavailable, "flaky": _flaky, "403": _forbidden, "slow": _slow,
    "drip": _drip, "truncated": _truncated, "cut": _cut, "corrupt": _corrupt,
    "badcrc": _bad_crc, "bomb": _bomb, "huge": _huge, "endless": _endless,
    "html": _html, "empty": _empty, "loop": _loop, "plain": _plain_mbox,
}


@pytest.fixture(scope="module")
def fault_server() -> Iterator[FaultServer]:
    srv = FaultServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.stop_event.set()
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    time.sleep(0)
    return port
