"""One bounded HTTP GET: a deadline, a byte cap, bounded retries on 429/5xx, redirects
followed only on the same server.

Built on ``requests`` directly (imported lazily) rather than through liblore, whose
``LoreNode`` reads whole answers into memory, gunzips them without a cap and fails over
on 5xx without waiting; see README "Fetching from lore".

The deadline covers the whole call: connecting, the TLS handshake, the status line and
headers, the body, every retry. A socket timeout alone bounds one wait for data, so a
server sending a header byte every half second could hold a request for ever: every
socket a request opens is registered with its :class:`_Deadline`, whose timer shuts the
socket down when the time is up, which ends whatever read is waiting on it. (Name
resolution happens before there is a socket: it is bounded by the system resolver.)
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from reviewbot import __version__
from reviewbot.errors import FetchError, LimitError
from reviewbot.fetch.gunzip import gunzip_limited

if TYPE_CHECKING:
    import requests

USER_AGENT = f"reviewbot/{__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_READ = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


class NotFoundError(FetchError):
    """The server answered 404."""


@dataclass(frozen=True)
class HttpPolicy:
    """Limits for one fetch; every field bounds time or memory."""

    timeout: float = 30.0  # seconds for the whole fetch: every attempt, every byte
    max_bytes: int = 32 * 1024 * 1024  # bytes downloaded (before any gunzip)
    attempts: int = 4  # tries in all when the server answers 429 or 5xx
    backoff: float = 1.0  # first wait between tries; doubles each time
    max_wait: float = 10.0  # longest single wait (also caps a Retry-After)


@dataclass(frozen=True)
class HttpAnswer:
    url: str  # after redirects
    content_type: str
    data: bytes


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _status_text(code: int) -> str:
    try:
        return f"HTTP {code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason(exc: BaseException) -> str:
    """A short cause for a connection failure, from the exception chain."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cur, ConnectionResetError):
            return "connection reset by the server"
        text = str(cur)
        if "Name or service not known" in text or "getaddrinfo failed" in text or (
                "Temporary failure in name resolution" in text):
            return "host name not found"
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return "TLS certificate verification failed"
        stack.extend(a for a in cur.args if isinstance(a, BaseException))
        for nxt in (cur.__cause__, cur.__context__, getattr(cur, "reason", None)):
            if isinstance(nxt, BaseException):
                stack.append(nxt)
    return type(exc).__name__


class _Deadline:
    """The end of one ``http_get``: a timer shuts down every socket registered with
    :meth:`watch` when the time is up (each is a duplicate descriptor of a request's
    socket, owned here: no other socket can be hit by mistake)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._timer: threading.Timer | None = None
        self._closed = False

    def left(self) -> float:
        return self.end - time.monotonic()

    def timed_out(self, url: str) -> FetchError:
        return FetchError(f"timed out after {self.seconds:g} s fetching from "
                          f"{_host(url)} (see --timeout)")

    def check(self, url: str) -> float:
        left = self.left()
        if left <= 0 or self.expired:
            raise self.timed_out(url)
        return left

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self._closed:
                sock.close()
                return
            self._socks.append(sock)
            if self._timer is None:
                self._timer = threading.Timer(max(0.0, self.left()), self._expire)
                self._timer.daemon = True
                self._timer.start()
        if self.expired:
            self._expire()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                with contextlib.suppress(OSError):  # not connected any more
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            for sock in self._socks:
                sock.close()
            self._socks.clear()


_ACTIVE = threading.local()  # .deadline: the _Deadline of this thread's http_get


@contextmanager
def _active(deadline: _Deadline) -> Iterator[None]:
    _ACTIVE.deadline = deadline
    try:
        yield
    finally:
        _ACTIVE.deadline = None
        deadline.close()


@cache
def _adapter_class() -> type[Any]:
    """A ``requests`` adapter whose connections register their sockets with the
    deadline of the ``http_get`` running in their thread (built on first use: requests
    and urllib3 are imported only by the commands that fetch)."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def watched(sock: socket.socket) -> socket.socket:
        deadline = getattr(_ACTIVE, "deadline", None)
        if deadline is not None:
            deadline.watch(sock.dup())
        return sock

    class Conn(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return watched(super()._new_conn())

    class TlsConn(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return watched(super()._new_conn())

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class TlsPool(HTTPSConnectionPool):
        ConnectionCls = TlsConn

    pools = {"http": Pool, "https": TlsPool}

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if hasattr(manager, "pool_classes_by_scheme"):
                manager.pool_classes_by_scheme = pools
            return manager

    return Adapter


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def _redirect(current: str, location: str | None) -> str:
    """Where a redirect from ``current`` leads, if it stays on the same server (scheme,
    host and port): a redirect elsewhere is refused, naming the refused target."""
    if not location:
        raise FetchError(f"{_host(current)} answered a redirect without a Location")
    target = urllib.parse.urljoin(current, location.strip())
    if _origin(target) != _origin(current):
        raise FetchError(f"{_host(current)} redirected to {target[:300]}, another server: "
                         "not followed (name that server with --lore-url if you trust it)")
    return target


def _read_body(resp: requests.Response, url: str, policy: HttpPolicy,
               deadline: _Deadline) -> bytes:
    length = resp.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > policy.max_bytes:
        raise LimitError(f"the answer from {_host(url)} is {int(length)} bytes, more than "
                         f"the limit of {policy.max_bytes}")
    parts: list[bytes] = []
    size = 0
    while True:
        deadline.check(url)
        # read1: at most one recv, so a server sending a byte now and then cannot
        # hold us past the deadline (read() would wait for the whole 64 KiB)
        chunk = resp.raw.read1(_READ, decode_content=False)
        if not chunk:
            deadline.check(url)  # an end forced by the deadline is not the whole answer
            break
        size += len(chunk)
        if size > policy.max_bytes:
            raise LimitError(f"the answer from {_host(url)} is more than the limit of "
                             f"{policy.max_bytes} bytes")
        parts.append(chunk)
    body = b"".join(parts)
    encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding in ("gzip", "x-gzip"):  # a proxy compressed it again: unwrap, bounded
        body = gunzip_limited(body, policy.max_bytes, f"the answer from {_host(url)}")
    elif encoding not in ("", "identity"):
        raise FetchError(f"{_host(url)} answered with an unsupported Content-Encoding "
                         f"({encoding[:40]})")
    return body


def http_get(url: str, policy: HttpPolicy, data: bytes | None = None) -> HttpAnswer:
    """GET ``url`` within ``policy``; every failure is a one-line :class:`FetchError`.
    With ``data``, POST it instead (public-inbox's search answers only a POST).

    404 raises :class:`NotFoundError`. 429 and 5xx are retried ``policy.attempts``
    times in all with doubling waits (a ``Retry-After`` up to ``policy.max_wait`` is
    honoured); other statuses fail at once. A redirect is followed (up to
    MAX_REDIRECTS) only when it stays on the same scheme, host and port. The whole call
    ends within ``policy.timeout`` seconds (plus the time to close a socket).
    """
    import requests
    import urllib3.exceptions

    deadline = _Deadline(policy.timeout)
    with requests.Session() as session, _active(deadline):
        session.mount("http://", _adapter_class()())
        session.mount("https://", _adapter_class()())
        session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        current, attempt, hops = url, 0, 0
        while True:
            left = deadline.check(url)
            try:
                resp = session.request("GET" if data is None else "POST", current,
                                       data=data, stream=True, timeout=(left, left),
                                       allow_redirects=False)
            except requests.Timeout as exc:
                raise deadline.timed_out(url) from exc
            except (requests.RequestException, urllib3.exceptions.HTTPError,
                    OSError) as exc:
                if deadline.expired:
                    raise deadline.timed_out(url) from exc
                raise FetchError(f"cannot reach {_host(current)}: {_reason(exc)}") from exc
            with resp:
                code = resp.status_code
                if code in REDIRECT_STATUSES:
                    hops += 1
                    if hops > MAX_REDIRECTS:
                        raise FetchError(f"too many redirects fetching {url}")
                    current = _redirect(current, resp.headers.get("Location"))
                    continue
                if code == 200:
                    try:
                        body = _read_body(resp, current, policy, deadline)
                    except (requests.Timeout, urllib3.exceptions.TimeoutError,
                            TimeoutError) as exc:
                        raise deadline.timed_out(url) from exc
                    except (requests.RequestException, urllib3.exceptions.HTTPError,
                            OSError) as exc:
                        if deadline.expired:
                            raise deadline.timed_out(url) from exc
                        raise FetchError(f"{_host(current)} closed the connection before "
                                         f"the whole answer arrived ({_reason(exc)})") from exc
                    return HttpAnswer(current, resp.headers.get("Content-Type", ""), body)
                if code == 404:
                    raise NotFoundError(f"{_status_text(code)} for {current}")
                if code not in RETRY_STATUSES:
                    raise FetchError(f"{_host(current)} answered {_status_text(code)} for "
                                     f"{current}")
                asked = _retry_after(resp.headers.get("Retry-After"))
            wait = asked if asked is not None else policy.backoff * 2 ** (attempt)
            attempt += 1
            if attempt >= policy.attempts or wait > policy.max_wait or (
                    wait >= deadline.left()):
                why = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                if asked is not None and wait > policy.max_wait:
                    why += f"; it asks to wait {wait:.0f} s"
                raise FetchError(f"{_host(current)} answered {_status_text(code)} ({why}); "
                                 "try again later")
            time.sleep(wait)
