"""One bounded HTTP GET: a deadline, a byte cap, bounded retries on 429/5xx.

Built on ``requests`` directly (imported lazily) rather than through liblore, whose
``LoreNode`` reads whole answers into memory, gunzips them without a cap and fails over
on 5xx without waiting; see README "Fetching from lore".
"""

from __future__ import annotations

import email.utils
import http
import time
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot import __version__
from reviewbot.errors import FetchError, LimitError
from reviewbot.fetch.gunzip import gunzip_limited

if TYPE_CHECKING:
    import requests

USER_AGENT = f"reviewbot/{__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_READ = 64 * 1024


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
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, url: str) -> float:
        left = self.left()
        if left <= 0:
            raise FetchError(f"timed out after {self.seconds:g} s fetching from "
                             f"{_host(url)} (see --timeout)")
        return left


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
    honoured); other statuses fail at once. The whole call ends within about
    ``policy.timeout`` seconds (a socket wait started just before the deadline may
    add up to the time that was left).
    """
    import requests
    import urllib3.exceptions

    deadline = _Deadline(policy.timeout)
    with requests.Session() as session:
        session.max_redirects = 5
        session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        attempt = 0
        while True:
            attempt += 1
            left = deadline.check(url)
            try:
                resp = session.request("GET" if data is None else "POST", url, data=data,
                                       stream=True, timeout=(left, left))
            except requests.Timeout as exc:
                raise FetchError(f"timed out after {policy.timeout:g} s fetching from "
                                 f"{_host(url)} (see --timeout)") from exc
            except requests.TooManyRedirects as exc:
                raise FetchError(f"too many redirects fetching {url}") from exc
            except (requests.RequestException, urllib3.exceptions.HTTPError,
                    OSError) as exc:
                raise FetchError(f"cannot reach {_host(url)}: {_reason(exc)}") from exc
            with resp:
                code = resp.status_code
                if code == 200:
                    try:
                        data = _read_body(resp, url, policy, deadline)
                    except (requests.Timeout, urllib3.exceptions.TimeoutError,
                            TimeoutError) as exc:
                        raise FetchError(f"timed out after {policy.timeout:g} s fetching "
                                         f"from {_host(url)} (see --timeout)") from exc
                    except (requests.RequestException, urllib3.exceptions.HTTPError,
                            OSError) as exc:
                        raise FetchError(f"{_host(url)} closed the connection before the "
                                         f"whole answer arrived ({_reason(exc)})") from exc
                    return HttpAnswer(resp.url, resp.headers.get("Content-Type", ""), data)
                if code == 404:
                    raise NotFoundError(f"{_status_text(code)} for {url}")
                if code not in RETRY_STATUSES:
                    raise FetchError(f"{_host(url)} answered {_status_text(code)} for {url}")
                asked = _retry_after(resp.headers.get("Retry-After"))
            wait = asked if asked is not None else policy.backoff * 2 ** (attempt - 1)
            if attempt >= policy.attempts or wait > policy.max_wait or (
                    wait >= deadline.left()):
                why = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                if asked is not None and wait > policy.max_wait:
                    why += f"; it asks to wait {wait:.0f} s"
                raise FetchError(f"{_host(url)} answered {_status_text(code)} ({why}); "
                                 "try again later")
            time.sleep(wait)
