"""Sending replies to a real SMTP server (aiosmtpd on 127.0.0.1, started here)."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from reviewbot.cli import main
from reviewbot.config import Settings
from reviewbot.fetch.local import RawMessage, split_mbox
from reviewbot.pipeline import review_messages
from reviewbot.report.lists import ListMatcher, list_id_address
from reviewbot.report.reply import Reply, ReplyConfig, render_replies
from reviewbot.report.smtp import (
    ListRefused,
    SendError,
    SmtpSettings,
    author_only,
    list_recipients,
    send,
    smtp_settings,
)
from reviewbot.series.model import Person
from tests.conftest import FIXTURES
from tests.gitenv import GitConfig, isolate, write_config

FROB = FIXTURES / "series" / "frob-v2.mbox"
ME = "Rev Iewer <rev@example.org>"
DATE = "2026-11-26T10:00:00+00:00"


@dataclass
class Recorder:
    messages: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


@dataclass
class Server:
    port: int
    recorder: Recorder

    @property
    def messages(self) -> list[Envelope]:
        return self.recorder.messages


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(**kwargs: Any) -> tuple[Controller, Server]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, Server(port, recorder)


@pytest.fixture
def smtpd() -> Iterator[Server]:
    controller, server = start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitConfig:
    set_key = isolate(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    return set_key


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", str(FROB), "--from", ME, "--date", DATE, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def parse(env: Envelope) -> email.message.EmailMessage:
    content = env.original_content or env.content
    assert isinstance(content, bytes)
    msg = email.message_from_bytes(content.replace(b"\r\n", b"\n"),
                                   policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def test_send_goes_to_the_author_alone(smtpd: Server, git: GitConfig,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    git("sendemail.smtpServer", "127.0.0.1")
    git("sendemail.smtpServerPort", str(smtpd.port))
    write_config('[reply]\nsignature = "Zoë, reviewing"\n')
    code, out, err = run(capsys, "--send")
    assert code == 1, err  # findings: exit 1 as always; sending worked
    assert out == ""
    assert err.count("reviewbot: sent ") == 2
    assert len(smtpd.messages) == 2
    for env in smtpd.messages:
        assert env.mail_from == "rev@example.org"
        assert env.rcpt_tos == ["ada@example.org"]
        msg = parse(env)
        assert msg["To"] == "Ada Example <ada@example.org>" and msg["Cc"] is None
        assert msg["From"] == ME
        assert msg["Subject"].startswith("Re: [PATCH v2 ")
        assert msg["In-Reply-To"].endswith(".git.ada@example.org>")
        assert msg["Content-Transfer-Encoding"] == "8bit"  # the signature is not ASCII
        body = msg.get_content()
        assert body.endswith("\n-- \nZoë, reviewing\n")
    first = parse(smtpd.messages[0]).get_content()
    assert ("> +\tif (val < 0) {\n> +\t\treturn -ERANGE;\n> +\t}\n\n"
            "No need for the braces here") in first


def test_send_to_lists_only_when_asked(smtpd: Server, git: GitConfig,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    git("sendemail.smtpServer", "127.0.0.1")
    git("sendemail.smtpServerPort", str(smtpd.port))
    code, _, err = run(capsys, "--send", "--to-lists")
    assert code == 1, err
    assert [env.rcpt_tos for env in smtpd.messages] == [
        ["ada@example.org", "maint@example.org", "linux-kernel@vger.kernel.org"]] * 2
    assert parse(smtpd.messages[0])["Cc"] == \
        "Maintainer <maint@example.org>, linux-kernel@vger.kernel.org"


def frob_replies() -> list[Reply]:
    review = review_messages(split_mbox(FROB.read_bytes(), "frob"), Settings())
    from datetime import UTC, datetime

    config = ReplyConfig(Person("Rev", "rev@example.org"), datetime(2026, 1, 1, tzinfo=UTC))
    return [r for sr in review.series for r in render_replies(sr, config)]


def test_library_send_refuses_lists(smtpd: Server) -> None:
    reply = frob_replies()[0]
    settings = SmtpSettings("127.0.0.1", smtpd.port)
    with pytest.raises(ListRefused, match=r"linux-kernel@vger\.kernel\.org"):
        send(reply, settings)
    assert smtpd.messages == []
    send(author_only(reply), settings)
    assert [m.rcpt_tos for m in smtpd.messages] == [["ada@example.org"]]
    # wire format: CRLF line ends, the message as built
    content = smtpd.messages[0].original_content
    assert content is not None and b"\r\n" in content and b"\n\n" not in content
    assert content.replace(b"\r\n", b"\n").rstrip(b"\n") == \
        author_only(reply).data.rstrip(b"\n")


def test_dry_run_and_no_send_flag_send_nothing(smtpd: Server, git: GitConfig,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--send", "--dry-run")  # no server configured: fine
    assert code == 1, err
    assert out.count("Would send 'Re: [PATCH v2 ") == 2
    assert "  to ada@example.org\n" in out and "(sendemail.smtpServer is not set)" in out
    git("sendemail.smtpServer", "127.0.0.1")
    git("sendemail.smtpServerPort", str(smtpd.port))
    code, out, _ = run(capsys, "--send", "--dry-run", "--to-lists")
    assert f"via 127.0.0.1:{smtpd.port} (none)" in out
    assert "to ada@example.org, maint@example.org, linux-kernel@vger.kernel.org" in out
    code, out, _ = run(capsys, "--format", "reply")
    assert out.startswith("From mboxrd@z ")
    assert smtpd.messages == []


def test_options_that_need_send(git: GitConfig, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--dry-run"], ["--to-lists"], ["--format", "text", "--send"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, argv
        assert err.startswith("reviewbot: error: ")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_password_from_the_credential_helper(git: GitConfig, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data == LoginPassword(b"rev", b"s3cret"),
                          handled=False)

    controller, server = start(authenticator=authenticator, auth_required=True,
                               auth_require_tls=False)
    try:
        log = tmp_path / "helper.log"
        git("sendemail.smtpServer", "127.0.0.1")
        git("sendemail.smtpServerPort", str(server.port))
        git("sendemail.smtpUser", "rev")
        git("credential.helper",
            f'!f() {{ cat >> {log}; echo "-- $1" >> {log}; '
            f'test "$1" = get && echo password=s3cret; }}; f')
        code, _, err = run(capsys, "--send")
        assert code == 1, err
        assert len(server.messages) == 2
        assert seen == [(b"rev", b"s3cret")] * 2
        text = log.read_text()
        assert f"protocol=smtp\nhost=127.0.0.1:{server.port}\nusername=rev\n" in text
        assert "-- store" in text  # approved after a successful login, as git does
        # a wrong password from the config: one line per reply, exit 2, nothing sent
        git("sendemail.smtpPass", "wrong")
        code, _out, err = run(capsys, "--send")
        assert code == 2 and len(server.messages) == 2
        lines = err.strip().split("\n")
        assert len(lines) == 2 and all(ln.startswith("reviewbot: error: Re: [PATCH")
                                       and "535" in ln for ln in lines), err
    finally:
        controller.stop()


def test_connection_refused_is_one_line(git: GitConfig,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    git("sendemail.smtpServer", "127.0.0.1")
    git("sendemail.smtpServerPort", str(free_port()))
    code, _, err = run(capsys, "--send")
    assert code == 2
    assert all(ln.startswith("reviewbot: error: ") and "failed" in ln
               for ln in err.strip().split("\n")) and "Traceback" not in err


def test_missing_server_and_sendmail_path(git: GitConfig) -> None:
    from reviewbot.errors import ConfigError

    with pytest.raises(ConfigError, match="smtpServer is not set"):
        smtp_settings()
    git("sendemail.smtpServer", "/usr/sbin/sendmail")
    with pytest.raises(ConfigError, match="over SMTP only"):
        smtp_settings()


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize("mode", ["ssl", "tls"])
def test_tls_with_the_configured_ca(mode: str, git: GitConfig, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    cert, key = _certificate(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    kwargs: dict[str, Any] = ({"ssl_context": ctx} if mode == "ssl"
                              else {"tls_context": ctx, "require_starttls": True})
    controller, server = start(**kwargs)
    try:
        git("sendemail.smtpServer", "127.0.0.1")
        git("sendemail.smtpServerPort", str(server.port))
        git("sendemail.smtpEncryption", mode)
        code, _, err = run(capsys, "--send")
        assert code == 2 and "CERTIFICATE_VERIFY_FAILED" in err  # unknown CA: refused
        assert server.messages == []
        git("sendemail.smtpSSLCertPath", str(cert))
        code, _, err = run(capsys, "--send")
        assert code == 1, err
        assert len(server.messages) == 2
    finally:
        controller.stop()


def test_list_recognition(tmp_path: Path) -> None:
    matcher = ListMatcher(("*@corp.example", "team@example.com"))
    for addr in ("linux-kernel@vger.kernel.org", "linux-mm@kvack.org",
                 "linux-arm-kernel@lists.infradead.org", "dri-devel@lists.freedesktop.org",
                 "x@googlegroups.com", "qemu-devel@nongnu.org", "a@corp.example",
                 "TEAM@example.com"):
        assert matcher.is_list(addr), addr
    for addr in ("kas@kernel.org", "akpm@linux-foundation.org", "me@listserver.org",
                 "team2@example.com"):
        assert not matcher.is_list(addr), addr
    assert list_id_address("Linux MM <linux-mm.kvack.org>") == "linux-mm@kvack.org"
    assert list_id_address("<linux-kernel.vger.kernel.org>") == "linux-kernel@vger.kernel.org"
    assert list_id_address("<frob-team.example.com>") == "frob-team@example.com"
    # a List-Id header of the reviewed mail makes its address a list
    raw = FROB.read_bytes().split(b"\nFrom ")[1].split(b"\n", 1)[1]
    raw = raw.replace(b"Cc: linux-kernel@vger.kernel.org",
                      b"Cc: frob-team@example.com\nList-Id: Frob <frob-team.example.com>")
    review = review_messages([RawMessage(raw, "x")], Settings())
    from datetime import UTC, datetime

    reply = render_replies(review.series[0],
                           ReplyConfig(Person("", "r@example.org"), datetime.now(UTC)))[0]
    settings = SmtpSettings("127.0.0.1", 25)
    assert list_recipients(reply, settings) == ["frob-team@example.com"]
    with pytest.raises(ListRefused):
        send(reply, settings)  # refused before any connection is tried
    assert isinstance(ListRefused("x"), SendError)
