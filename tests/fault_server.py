"""A small HTTP server on 127.0.0.1 that answers with faults, one per URL prefix.

``<url>/<mode>/<msgid>/t.mbox.gz`` answers according to ``mode`` (see ``_MODES``);
``<url>/<mode>/`` is thus a "lore URL" whose every fetch (and every search, a POST)
shows that fault. ``hits`` counts requests per mode (to check that retries are
bounded). The ``feed-*`` modes are public-inbox lists for ``watch --lore-list``:
``<url>/<mode>/new.atom`` is a feed of patches whose threads stall or are large. Every
fault ends by itself within ``MAX_FAULT_SECONDS`` (a client that does not give up fails
its test, it does not hang).
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
MAX_FAULT_SECONDS = 30.0
FEED_ENTRIES = 100  # patches in a feed-* mode's new.atom
BIG_ENTRIES = 50  # patches in feed-big's new.atom
BIG_PART = 6 << 20  # bytes of each of the two patches of a feed-big thread


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
        self.other: str | None = None  # another server's URL, for the cross-host redirect
        self._big: dict[str, bytes] = {}  # "body": the compressed big patch body

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer is what some tests do: stay quiet."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def mode_url(self, mode: str) -> str:
        return f"{self.url}/{mode}/"

    def big_thread(self, n: int) -> bytes:
        """The t.mbox.gz of feed-big entry ``n``: a cover letter and two patches of
        BIG_PART bytes each (12 MiB decompressed, a few KB compressed: gzip members,
        the big body compressed once)."""
        if "body" not in self._big:
            self._big["body"] = gzip.compress(big_body(BIG_PART), 9)
        first, second, last = feed_thread_parts("feed-big", n)
        return b"".join([gzip.compress(first), self._big["body"], gzip.compress(second),
                         self._big["body"], gzip.compress(last)])


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

    def do_POST(self) -> None:
        """A search (``POST <url>/<mode>/?x=m&t=1&q=...``): the form is read, then the
        mode answers as for a GET."""
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(length, 1 << 16))
        self.do_GET()


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


def _trickle(h: _Handler) -> None:
    """The status line and then a long header, one byte every 0.2 s: each byte comes
    well within any socket timeout, the headers never end (until MAX_FAULT_SECONDS)."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nX-Pad: " + b"a" * 4000
    h.close_connection = True
    start = time.monotonic()
    for byte in head:
        if h.server.stop_event.wait(0.2) or time.monotonic() - start > MAX_FAULT_SECONDS:
            return
        h.wfile.write(bytes([byte]))
        h.wfile.flush()


def _redirect_away(h: _Handler) -> None:
    """A redirect to the same path on another server (``other``, else "localhost"
    instead of 127.0.0.1: the same socket, but another host)."""
    other = h.server.other or h.server.url.replace("127.0.0.1", "localhost")
    rest = h.path.split("/", 2)[2]
    h._send(302, b"", "text/plain", {"Location": f"{other}/ok/{rest}"})


def _redirect_here(h: _Handler) -> None:  # the same server: followed
    rest = h.path.split("/", 2)[2]
    h._send(301, b"", "text/plain", {"Location": f"/ok/{rest}"})


def feed(mode: str, url: str, n: int = FEED_ENTRIES) -> bytes:
    """A public-inbox new.atom with ``n`` patch entries, newest first."""
    entries = "".join(
        f"<entry><author><name>Ada</name><email>ada@example.org</email></author>"
        f"<title>[PATCH 0/2] {mode} {i}: fixes</title><updated>2026-01-01T00:00:00Z"
        f"</updated><link href=\"{url}/{mode}/cover.{i}.{mode}@example.org/\"/>"
        f"<id>urn:uuid:{i}</id></entry>" for i in reversed(range(n)))
    return ("<?xml version=\"1.0\" encoding=\"us-ascii\"?>"
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>frob</title>"
            f"{entries}</feed>").encode()


def _feed_mail(msgid: str, subject: str, body: bytes, cover: str | None) -> bytes:
    head = [b"From mboxrd@z Thu Jan  1 00:00:00 1970", b"From: Ada <ada@example.org>",
            b"To: linux-frob@vger.example.org", b"Subject: " + subject.encode(),
            b"Date: Thu, 01 Jan 2026 00:00:00 +0000", b"Message-ID: <%s>" % msgid.encode()]
    if cover:
        head += [b"In-Reply-To: <%s>" % cover.encode(), b"References: <%s>" % cover.encode()]
    return b"\n".join(head) + b"\n\n" + body


def feed_thread_parts(mode: str, n: int) -> list[bytes]:
    """Thread ``n`` of a feed, cut where the patches' big bodies go: a cover letter and
    two patches adding ``drivers/frob/table.c`` (the body is :func:`big_body`)."""
    cover = f"cover.{n}.{mode}@example.org"
    out = [_feed_mail(cover, f"[PATCH 0/2] {mode} {n}: fixes", b"Fixes.\n\n", None)]
    for i in (1, 2):
        out[-1] += _feed_mail(f"{i}.{n}.{mode}@example.org", f"[PATCH {i}/2] {mode} {n}: "
                              f"part {i}", b"Fill the table.\n---\n", cover)
        out.append(b"\n")
    return out


def big_body(size: int) -> bytes:
    lines = [b"+\tfrob_table[%d] = %d;\n" % (i, i) for i in range(size // 28)]
    return (b"diff --git a/drivers/frob/table.c b/drivers/frob/table.c\nnew file mode "
            b"100644\n--- /dev/null\n+++ b/drivers/frob/table.c\n@@ -0,0 +1,%d @@\n"
            % len(lines)) + b"".join(lines)


def _feed_stall(h: _Handler) -> None:
    """A feed of FEED_ENTRIES patches whose every thread never answers."""
    if h.path.endswith("/new.atom"):
        h._send(200, feed("feed-stall", h.server.url), "application/atom+xml")
        return
    h.server.stop_event.wait(MAX_FAULT_SECONDS)


def _feed_big(h: _Handler) -> None:
    """A feed of BIG_ENTRIES patches whose threads hold 12 MiB each."""
    if h.path.endswith("/new.atom"):
        h._send(200, feed("feed-big", h.server.url, BIG_ENTRIES), "application/atom+xml")
        return
    n = h.path.split("/")[2].split(".")[1]  # /feed-big/cover.<n>.feed-big@.../t.mbox.gz
    h._send(200, h.server.big_thread(int(n)) if n.isdigit() else b"")


_MODES = {
    "ok": _ok, "notfound": _not_found, "429": _too_many, "retry-later": _retry_later,
    "503": _unavailable, "flaky": _flaky, "403": _forbidden, "slow": _slow,
    "drip": _drip, "truncated": _truncated, "cut": _cut, "corrupt": _corrupt,
    "badcrc": _bad_crc, "bomb": _bomb, "huge": _huge, "endless": _endless,
    "html": _html, "empty": _empty, "loop": _loop, "plain": _plain_mbox,
    "trickle": _trickle, "redirect-away": _redirect_away, "redirect-here": _redirect_here,
    "feed-stall": _feed_stall, "feed-big": _feed_big,
}


@contextlib.contextmanager
def running() -> Iterator[FaultServer]:
    """A FaultServer serving in a thread, stopped (every fault cut short) at the end."""
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


@pytest.fixture(scope="module")
def fault_server() -> Iterator[FaultServer]:
    with running() as srv:
        yield srv


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    time.sleep(0)
    return port
