"""A real public-inbox server on 127.0.0.1 for tests (Debian's public-inbox 1.9).

:class:`PublicInboxServer` builds v2 inboxes in a temp dir, delivers messages with
``public-inbox-mda --no-precheck`` (adding the ``From``/``To``/``Date`` headers
public-inbox needs when a message lacks them; the body is never touched), keeps the
``/all/`` extindex up to date, and runs ``public-inbox-httpd`` on a free port.

Fixtures (session-scoped; import them into a conftest to use them):

- ``public_inbox``: a running server with the inboxes of :data:`INBOXES`, empty.
  Tests that deliver into it must use Message-IDs of their own.
- ``public_inbox_bin``: skips the test with a clear reason when the public-inbox
  programs are not installed (``.ci/run`` installs them).

What the server serves: ``<url>/<inbox>/<msgid>/raw``, ``.../t.mbox.gz``,
``<url>/<inbox>/new.atom``, ``<url>/all/...`` (see design/PUBLIC-INBOX.md).
"""

from __future__ import annotations

import contextlib
import email.utils
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.fetch.local import split_mbox

PROGRAMS = ("public-inbox-init", "public-inbox-mda", "public-inbox-extindex",
            "public-inbox-httpd")
# inbox name -> list address
INBOXES = {"linux-gadget": "linux-gadget@lists.example.org",
           "linux-misc": "linux-misc@lists.example.org",
           "linux-mm": "linux-mm@kvack.org"}
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def missing_programs() -> list[str]:
    return [p for p in PROGRAMS if shutil.which(p) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def with_headers(raw: bytes, address: str, sender: str) -> bytes:
    """``raw`` with the headers public-inbox needs added in front when absent.

    ``From`` (``sender``), ``Date`` (now) and the list ``address`` in ``To`` (when it is
    in neither ``To`` nor ``Cc``). The existing headers and the body are kept as they are.
    """
    match = _HEADER_END.search(raw)
    head = raw[:match.start()] if match else raw
    names = {m.group(1).lower() for m in re.finditer(rb"(?m)^([A-Za-z0-9-]+):", head)}
    lines: list[bytes] = []
    if b"from" not in names:
        lines.append(b"From: " + sender.encode())
    if b"date" not in names:
        lines.append(b"Date: " + email.utils.formatdate(usegmt=True).encode())
    to_cc = b"\n".join(m.group(0) for m in re.finditer(
        rb"(?im)^(?:to|cc):.*(?:\n[ \t].*)*", head))
    if address.encode().lower() not in to_cc.lower():
        lines.append(b"To: <" + address.encode() + b">")
    return b"".join(line + b"\n" for line in lines) + raw


class PublicInboxServer:
    """Inboxes, an extindex for ``/all/``, and ``public-inbox-httpd``, all in ``root``."""

    def __init__(self, root: Path, inboxes: dict[str, str] | None = None) -> None:
        self.root = root
        self.inboxes = dict(inboxes or INBOXES)
        self.config = root / "pi-config"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "PI_CONFIG": str(self.config), "HOME": str(root / "home"),
                    "LC_ALL": "C.UTF-8"}
        (root / "home").mkdir(parents=True, exist_ok=True)
        self.delivered = 0

    # --- addresses -------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def all_url(self) -> str:
        """The ``/all/`` extindex, as lore's ``https://lore.kernel.org/all/``."""
        return f"{self.url}/all/"

    def inbox_url(self, name: str) -> str:
        return f"{self.url}/{name}/"

    # --- building ----------------------------------------------------------------------
    def _run(self, *argv: str, stdin: bytes | None = None,
             extra_env: dict[str, str] | None = None) -> None:
        proc = subprocess.run(argv, input=stdin, capture_output=True, check=False,
                              env={**self.env, **(extra_env or {})}, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): "
                               f"{proc.stderr.decode(errors='replace')[-2000:]}")

    def create(self) -> None:
        self.port = _free_port()
        for name, address in self.inboxes.items():
            self._run("public-inbox-init", "-V2", name, str(self.root / name),
                      f"{self.url}/{name}", address)
        self._run("git", "config", "-f", str(self.config), "publicinboxmda.spamcheck",
                  "none")
        self._run("git", "config", "-f", str(self.config), "extindex.all.topdir",
                  str(self.root / "all"))
        self._run("git", "config", "-f", str(self.config), "extindex.all.url",
                  f"{self.url}/all")

    def deliver(self, raw: bytes, inbox: str,
                sender: str = "Unknown Sender <unknown@example.org>") -> None:
        """Deliver one RFC 822 message into ``inbox`` (headers added as needed)."""
        address = self.inboxes[inbox]
        self._run("public-inbox-mda", "--no-precheck", stdin=with_headers(raw, address, sender),
                  extra_env={"ORIGINAL_RECIPIENT": address})
        self.delivered += 1

    def deliver_mbox(self, data: bytes, inboxes: tuple[str, ...] | str,
                     sender: str = "Unknown Sender <unknown@example.org>") -> int:
        """Deliver every message of an mbox (``>From`` escaping undone) to each inbox."""
        names = (inboxes,) if isinstance(inboxes, str) else inboxes
        msgs = split_mbox(data, "mbox")
        self.deliver_many([(m.data, name, sender) for m in msgs for name in names])
        return len(msgs)

    def deliver_many(self, items: list[tuple[bytes, str, str]]) -> None:
        """Deliver ``(message, inbox, sender)`` items: in order within an inbox, the
        inboxes side by side (each v2 inbox has its own lock; this saves seconds)."""
        from concurrent.futures import ThreadPoolExecutor

        per_inbox: dict[str, list[tuple[bytes, str]]] = {}
        for raw, inbox, sender in items:
            per_inbox.setdefault(inbox, []).append((raw, sender))

        def run(inbox: str) -> None:
            for raw, sender in per_inbox[inbox]:
                self.deliver(raw, inbox, sender)

        with ThreadPoolExecutor(max_workers=len(per_inbox) or 1) as pool:
            for future in [pool.submit(run, name) for name in per_inbox]:
                future.result()

    def update_all(self) -> None:
        """Bring the ``/all/`` extindex up to date (after deliveries)."""
        self._run("public-inbox-extindex", "--all", str(self.root / "all"))

    # --- serving -----------------------------------------------------------------------
    def start(self) -> None:
        if not (self.root / "all").exists():
            self.update_all()
        for _ in range(3):
            logdir = self.root / "logs"
            logdir.mkdir(exist_ok=True)
            self.proc = subprocess.Popen(
                ["public-inbox-httpd", "-W0", "-l", self.url,
                 "-1", str(logdir / "out.log"), "-2", str(logdir / "err.log")],
                env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)
            if self._wait_ready():
                return
            self.stop()
            self._move_port()
        raise RuntimeError(f"public-inbox-httpd did not start; see {self.root}/logs")

    def _move_port(self) -> None:
        """Another process took the port: pick a new one (config URLs follow)."""
        self.port = _free_port()
        self._run("git", "config", "-f", str(self.config), "extindex.all.url",
                  f"{self.url}/all")
        for name in self.inboxes:
            self._run("git", "config", "-f", str(self.config), f"publicinbox.{name}.url",
                      f"{self.url}/{name}")

    def _wait_ready(self, seconds: float = 15.0) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True  # it answers
            except OSError:
                time.sleep(0.05)
        return False

    @contextlib.contextmanager
    def running(self) -> Iterator[PublicInboxServer]:
        """Create the inboxes, index them, serve them; stop the server on the way out."""
        self.create()
        self.update_all()
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def stop(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture(scope="session")
def public_inbox_bin() -> None:
    missing = missing_programs()
    if missing:
        pytest.skip(f"public-inbox is not installed (missing {', '.join(missing)}); "
                    "apt-get install public-inbox")


@pytest.fixture(scope="session")
def public_inbox(public_inbox_bin: None,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicInboxServer]:
    """A running public-inbox server with empty inboxes (see :data:`INBOXES`)."""
    with PublicInboxServer(tmp_path_factory.mktemp("public-inbox")).running() as server:
        yield server
