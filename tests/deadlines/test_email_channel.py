"""The e-mail channel against a local SMTP server (aiosmtpd): the mail as received, STARTTLS,
SSL and login, and how SMTP refusals and lost connections become results."""

from __future__ import annotations

import shutil
import smtplib
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from deadlines.channels import ChannelConfigInvalid, EmailChannel, build_channel
from tests.deadlines.messages import NOW, MakeMessage, make_message_fixture  # noqa: F401
from tests.deadlines.receiver import LOCAL

USER, PASSWORD = "paicha", "s3cret-pass-word"


@dataclass
class Mailbox:
    """What the server accepted, and how it answers RCPT for chosen addresses."""

    mails: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), mail))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> Any:
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        if ok:
            self.logins.append(auth_data.login.decode())
        from aiosmtpd.smtp import AuthResult

        # handled=False: let aiosmtpd send the 535 itself.
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


StartServer = Callable[..., tuple[Mailbox, int]]


@pytest.fixture
def smtp_server() -> Iterator[StartServer]:
    """Starts local SMTP servers (keyword arguments go to aiosmtpd); all stopped afterwards."""
    # Skipped here, not for the module, so the config and error tests run without aiosmtpd.
    controller = pytest.importorskip(
        "aiosmtpd.controller",
        reason="the local SMTP server needs aiosmtpd (test dependency aiosmtpd==1.4.6)")
    running: list[Any] = []

    def start(**options: Any) -> tuple[Mailbox, int]:
        mailbox = Mailbox()
        port = free_port()
        if options.pop("auth", False):
            options["authenticator"] = mailbox.authenticate
        server = controller.Controller(mailbox, hostname="127.0.0.1", port=port, **options)
        server.start()
        running.append(server)
        return mailbox, port

    yield start
    for server in running:
        server.stop()


def tls_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def email(port: int, **config: object) -> EmailChannel:
    channel = build_channel("email", {
        "host": "127.0.0.1", "port": port, "security": "none",
        "from_address": "paicha@anjian.example.cn", "to": ["safety@street.example.cn"], **config,
    }, outbound=LOCAL)
    assert isinstance(channel, EmailChannel)
    return channel


def test_a_mail_carries_title_text_and_a_stable_message_id(
    smtp_server: StartServer, make_message: MakeMessage,
) -> None:
    mailbox, port = smtp_server()
    channel = email(port, to=["a@street.example.cn", "b@street.example.cn"])
    first = channel.send(make_message(), now=NOW)
    channel.send(make_message(), now=NOW)
    channel.send(make_message(idempotency_key="case-2/rectify/2023-06-30/remind/-3d"), now=NOW)
    assert first.ok and first.status == 250
    (sender, recipients, mail), repeat, other = mailbox.mails
    assert sender == "paicha@anjian.example.cn"
    assert recipients == ["a@street.example.cn", "b@street.example.cn"]
    assert mail["Subject"] == "整改期限提醒"
    assert mail["To"] == "a@street.example.cn, b@street.example.cn"
    assert mail["Date"] == "Wed, 28 Jun 2023 01:00:00 +0000"
    assert mail["X-Paicha-Idempotency-Key"] == "case-1/rectify/2023-06-30/remind/-3d"
    # multipart/alternative: the text first, the HTML the mail client prefers last
    assert mail.get_content_type() == "multipart/alternative"
    text, markup = mail.iter_parts()
    assert text.get_content_type() == "text/plain" and markup.get_content_type() == "text/html"
    assert text.get_content_charset() == "utf-8"
    assert text.get_content().replace("\r\n", "\n") == (
        "整改期限（2023-06-30）3日后到期\n\n类型：到期提醒\n行动：zdyh-2023\n对象：case-1\n"
        "期限：2023-06-30\n通知：unit、street\n\n编号：case-1/rectify/2023-06-30/remind/-3d\n"
    )
    assert mail["Message-ID"].endswith(".paicha@anjian.example.cn>")
    assert repeat[2]["Message-ID"] == mail["Message-ID"]
    assert other[2]["Message-ID"] != mail["Message-ID"]


def test_starttls_and_login(
    smtp_server: StartServer, make_message: MakeMessage, certificate: tuple[Path, Path],
) -> None:
    mailbox, port = smtp_server(tls_context=tls_context(certificate), require_starttls=True,
                                auth=True)
    channel = email(port, security="starttls", username=USER, password=PASSWORD,
                    ca_file=str(certificate[0]))
    assert channel.send(make_message(), now=NOW).ok
    assert mailbox.logins == [USER] and len(mailbox.mails) == 1


def test_implicit_ssl(
    smtp_server: StartServer, make_message: MakeMessage, certificate: tuple[Path, Path],
) -> None:
    mailbox, port = smtp_server(ssl_context=tls_context(certificate))
    channel = email(port, security="ssl", ca_file=str(certificate[0]))
    assert channel.send(make_message(), now=NOW).ok
    assert len(mailbox.mails) == 1


def test_a_wrong_password_is_not_retried(
    smtp_server: StartServer, make_message: MakeMessage, certificate: tuple[Path, Path],
) -> None:
    mailbox, port = smtp_server(tls_context=tls_context(certificate), auth=True)
    channel = email(port, security="starttls", username=USER, password="not-the-password",
                    ca_file=str(certificate[0]))
    result = channel.send(make_message(), now=NOW)
    assert (result.ok, result.status, result.retryable) == (False, 535, False)
    assert mailbox.mails == []


def test_an_untrusted_certificate_is_not_retried(
    smtp_server: StartServer, make_message: MakeMessage, certificate: tuple[Path, Path],
) -> None:
    _, port = smtp_server(tls_context=tls_context(certificate))
    result = email(port, security="starttls").send(make_message(), now=NOW)
    assert (result.ok, result.retryable) == (False, False)
    assert "SSLCertVerificationError" in result.detail


def test_a_server_without_starttls_is_not_retried(
    smtp_server: StartServer, make_message: MakeMessage,
) -> None:
    _, port = smtp_server()
    result = email(port, security="starttls").send(make_message(), now=NOW)
    assert (result.ok, result.retryable) == (False, False)
    assert "SMTPNotSupportedError" in result.detail


@pytest.mark.parametrize(
    ("reply", "status", "retryable"),
    [("550 5.1.1 no such user", 550, False), ("451 4.3.0 try later", 451, True)],
)
def test_a_refused_recipient_decides_by_its_code(
    smtp_server: StartServer, make_message: MakeMessage, reply: str, status: int,
    retryable: bool,
) -> None:
    mailbox, port = smtp_server()
    mailbox.refuse["safety@street.example.cn"] = reply
    result = email(port).send(make_message(), now=NOW)
    assert (result.ok, result.status, result.retryable) == (False, status, retryable)
    assert result.detail.startswith("every recipient refused: safety@street.example.cn")


def test_one_refused_recipient_of_two_is_still_delivered(
    smtp_server: StartServer, make_message: MakeMessage,
) -> None:
    mailbox, port = smtp_server()
    mailbox.refuse["gone@street.example.cn"] = "550 no such user"
    result = email(port, to=["safety@street.example.cn", "gone@street.example.cn"]).send(
        make_message(), now=NOW)
    assert result.ok and "gone@street.example.cn: 550" in result.detail
    assert [recipients for _, recipients, _ in mailbox.mails] == [["safety@street.example.cn"]]


def test_no_server_is_retryable(make_message: MakeMessage) -> None:
    result = email(free_port()).send(make_message(), now=NOW)
    assert (result.ok, result.retryable) == (False, True)
    assert "ConnectionRefusedError" in result.detail


def test_smtp_errors_are_classified() -> None:
    from deadlines.channels.email import smtp_result

    assert smtp_result(smtplib.SMTPServerDisconnected("gone")).retryable
    assert smtp_result(TimeoutError("timed out")).retryable
    assert smtp_result(smtplib.SMTPDataError(452, b"mailbox full")).retryable
    assert not smtp_result(smtplib.SMTPDataError(554, b"spam")).retryable
    # the code and our reason for it; the server's words are not kept
    assert smtp_result(smtplib.SMTPDataError(554, b"spam")).detail == (
        "SMTP 554: transaction failed")
    assert not smtp_result(smtplib.SMTPException("No suitable authentication method")).retryable


def test_email_config_is_checked() -> None:
    with pytest.raises(ChannelConfigInvalid) as caught:
        build_channel("email", {"host": "smtp.example.cn", "security": "none",
                                "username": "u", "from_address": "paicha", "to": []})
    assert caught.value.fields == ["password", "security", "from_address", "to"]
    assert "security: 'none' would send the password in clear" in str(caught.value)
    config = EmailChannel.from_dict({"host": "h", "from_address": "a@b.cn", "to": "c@d.cn",
                                     "security": "ssl"}).config
    assert (config.port, config.to) == (465, ("c@d.cn",))
    assert PASSWORD not in repr(EmailChannel.from_dict({
        "host": "h", "from_address": "a@b.cn", "to": "c@d.cn", "username": USER,
        "password": PASSWORD}).config)
