"""The e-mail channel: one UTF-8 mail per message (plain text with an HTML alternative) over
SMTP (smtplib), with a Message-ID derived from the idempotency key so a mail system can drop
a repeat."""

from __future__ import annotations

import datetime as dt
import hashlib
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Literal

from deadlines.channels._render import html, plain
from deadlines.channels.base import DeliveryResult, Message, clip, require_aware
from deadlines.channels.config import ConfigReader
from deadlines.outbound import PUBLIC_ONLY, DestinationRefused, OutboundPolicy
from engine import texts

KIND = "email"
Security = Literal["starttls", "ssl", "none"]
SECURITIES: tuple[Security, ...] = ("starttls", "ssl", "none")
DEFAULT_PORTS: dict[Security, int] = {"starttls": 587, "ssl": 465, "none": 25}
# A failure is recorded by its reply code and a reason of ours; the server's text is not kept.
SMTP_REASONS = {
    421: "service not available", 450: "mailbox unavailable", 451: "local error",
    452: "insufficient storage", 454: "TLS not available", 530: "authentication required",
    534: "authentication mechanism too weak", 535: "authentication failed",
    550: "mailbox unavailable", 551: "user not local", 552: "storage exceeded",
    553: "mailbox name not allowed", 554: "transaction failed",
}


@dataclass(frozen=True)
class EmailConfig:
    """The SMTP server, how to secure and log in to it, and who sends and receives."""

    host: str
    from_address: str
    to: tuple[str, ...]
    port: int = 587
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    timeout: float = 10.0
    name: str = KIND

    @classmethod
    def from_dict(cls, raw: Mapping[str, object],
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> EmailConfig:
        """Read and check a deployment's config (`host` against `outbound`); raises
        ChannelConfigInvalid naming fields."""
        reader = ConfigReader(KIND, raw, known=(
            "host", "port", "security", "username", "password", "from_address", "to",
            "ca_file", "timeout"))
        host = reader.host("host", outbound=outbound)
        security = reader.choice("security", SECURITIES, "starttls")
        port = reader.integer("port", default=DEFAULT_PORTS[security], minimum=1, maximum=65535)
        username = reader.optional_string("username")
        password = reader.optional_string("password", secret=True)
        if (username is None) != (password is None):
            reader.problem("password" if password is None else "username",
                           texts.t("deadlines.config.email_login_pair"))
        if username is not None and security == "none":
            reader.problem("security", texts.t("deadlines.config.email_clear_password"))
        from_address = reader.string("from_address")
        _check_addresses(reader, "from_address", (from_address,))
        to = reader.strings("to")
        _check_addresses(reader, "to", to)
        ca_file = reader.optional_string("ca_file")
        timeout = reader.number("timeout", default=10.0, minimum=0.01, maximum=300)
        name = reader.name(KIND)
        reader.done()
        return cls(host, from_address, to, port, security, username, password, ca_file,
                   timeout, name)


def _check_addresses(reader: ConfigReader, field_name: str, addresses: tuple[str, ...]) -> None:
    # Only the shape: whether an address exists is the mail server's answer to RCPT.
    for address in addresses:
        if address and "@" not in address:
            reader.problem(field_name, texts.t("deadlines.config.not_email", address=address))


def message_id(message: Message, from_address: str) -> str:
    """A Message-ID that is the same on every retry of one message, and on no other."""
    digest = hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:40]
    domain = from_address.rpartition("@")[2] or "paicha.invalid"
    return f"<{digest}.paicha@{domain}>"


def smtp_reason(code: int) -> str:
    """A reply code's meaning, in our words."""
    return SMTP_REASONS.get(code, "temporary failure" if 400 <= code < 500 else "refused")


def smtp_result(exc: Exception) -> DeliveryResult:
    """An smtplib or socket error as a result: 4xx replies and lost connections are
    retryable; 5xx replies, refused logins and TLS set-up problems are not. The detail names
    the error's class and a reply code's meaning, never the server's text."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        refused = ", ".join(f"{addr}: {code}" for addr, (code, _) in exc.recipients.items())
        return DeliveryResult.failed(f"every recipient refused: {clip(refused)}",
                                     status=max(codes, default=None),
                                     retryable=all(400 <= c < 500 for c in codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return DeliveryResult.failed(f"SMTP {code}: {smtp_reason(code)}", status=code,
                                     retryable=400 <= code < 500)
    if isinstance(exc, smtplib.SMTPServerDisconnected | TimeoutError):
        return DeliveryResult.failed(f"{type(exc).__name__}: connection lost", retryable=True)
    if isinstance(exc, ssl.SSLCertVerificationError | smtplib.SMTPException):
        # A certificate that does not verify, or a server without STARTTLS or AUTH: the
        # configuration must change before any retry can succeed.
        return DeliveryResult.failed(f"{type(exc).__name__}: the server cannot be used as "
                                     "configured", retryable=False)
    # OSError: refused or reset connections, unreachable hosts, DNS failures, and TLS errors
    # other than verification (a dropped handshake passes; a wrong port ends in dead letters).
    # strerror is the operating system's word, not the server's.
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "connection failed"
    return DeliveryResult.failed(f"{type(exc).__name__}: {reason}", retryable=True)


class VettedSMTP(smtplib.SMTP):
    """smtplib's SMTP, connecting only to an address the outbound policy vetted (STARTTLS
    still checks the certificate against the configured host name)."""

    def __init__(self, host: str, port: int, *, timeout: float,
                 outbound: OutboundPolicy) -> None:
        self.outbound = outbound  # before connecting, which __init__ does
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return self.outbound.connect(host, port, timeout=timeout)


class VettedSMTPSSL(smtplib.SMTP_SSL):
    """smtplib's SMTP_SSL, connecting only to an address the outbound policy vetted; TLS is
    verified against the configured host name."""

    def __init__(self, host: str, port: int, *, timeout: float, context: ssl.SSLContext,
                 outbound: OutboundPolicy) -> None:
        self.outbound = outbound
        super().__init__(host, port, timeout=timeout, context=context)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = self.outbound.connect(host, port, timeout=timeout)
        return self.context.wrap_socket(raw, server_hostname=host)


def _hang_up(smtp: smtplib.SMTP) -> None:
    # The mail was accepted once DATA got its 250: a QUIT that fails must not turn that into a
    # failure, or the retry would send it twice.
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        smtp.close()


class EmailChannel:
    """Sends each message as one mail; a new SMTP connection per message, since sends are
    rare (minutes apart) and a kept-open connection would be dropped by the server anyway."""

    def __init__(self, config: EmailConfig, *,
                 outbound: OutboundPolicy = PUBLIC_ONLY) -> None:
        self.config = config
        self.name = config.name
        self.outbound = outbound

    @classmethod
    def from_dict(cls, raw: Mapping[str, object],
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> EmailChannel:
        """A channel from a deployment's config dict, sending where `outbound` allows."""
        return cls(EmailConfig.from_dict(raw, outbound), outbound=outbound)

    def compose(self, message: Message, *, now: dt.datetime) -> EmailMessage:
        """The mail for `message`, dated `now`."""
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.config.from_address
        mail["To"] = ", ".join(self.config.to)
        mail["Date"] = format_datetime(require_aware(now))
        mail["Message-ID"] = message_id(message, self.config.from_address)
        mail["X-Paicha-Idempotency-Key"] = message.idempotency_key
        mail["X-Paicha-Kind"] = message.kind
        # multipart/alternative: a mail client shows the HTML part, a plain one the text
        mail.set_content(plain(message), charset="utf-8")
        mail.add_alternative(html(message), subtype="html", charset="utf-8")
        return mail

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        context = ssl.create_default_context(cafile=config.ca_file)
        smtp: smtplib.SMTP
        if config.security == "ssl":
            smtp = VettedSMTPSSL(config.host, config.port, timeout=config.timeout,
                                 context=context, outbound=self.outbound)
        else:
            smtp = VettedSMTP(config.host, config.port, timeout=config.timeout,
                              outbound=self.outbound)
        try:
            if config.security == "starttls":
                smtp.starttls(context=context)
            if config.username is not None and config.password is not None:
                smtp.login(config.username, config.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: Message, *, now: dt.datetime) -> DeliveryResult:
        """Send the mail once; a partial refusal is delivered (a retry would repeat it to the
        recipients who got it) and names the refused addresses in `detail`."""
        mail = self.compose(message, now=now)
        try:
            smtp = self._connect()
            try:
                refused = smtp.send_message(mail)
            finally:
                _hang_up(smtp)
        except DestinationRefused as exc:
            return DeliveryResult.failed(f"destination refused: {exc}", retryable=False)
        except (OSError, smtplib.SMTPException) as exc:
            return smtp_result(exc)
        if refused:
            listed = ", ".join(f"{addr}: {code}" for addr, (code, _) in refused.items())
            return DeliveryResult.delivered(250, f"delivered; refused {clip(listed)}")
        return DeliveryResult.delivered(250, "delivered")

    def close(self) -> None:
        """Nothing is kept open between messages; here so every channel can be closed alike."""
