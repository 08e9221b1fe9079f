"""The webhook channel: the message as signed JSON, POSTed to a subscriber's URL, and the
check a receiver runs on it."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from deadlines.channels._http import HttpSender, status_result
from deadlines.channels.base import DeliveryResult, Message, require_aware
from deadlines.channels.config import ConfigReader
from deadlines.outbound import PUBLIC_ONLY, OutboundPolicy
from engine import texts

KIND = "webhook"
SIGNATURE_PREFIX = "sha256="
# Shorter secrets can be guessed offline from one captured request and its signature.
MIN_SECRET_LENGTH = 16


def sign(secret: str, timestamp: str, body: bytes | str) -> str:
    """The `X-Paicha-Signature` value: `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}`."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + raw,
                      hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: str, timestamp: str, body: bytes | str, header: str, *,
    now: dt.datetime, tolerance: int = 300,
) -> bool:
    """Whether a request really came from paicha with this secret, recently.

    Pass the raw `X-Paicha-Timestamp` and `X-Paicha-Signature` headers and the raw body as
    received (bytes, before any JSON parsing). False when the timestamp is not a whole number,
    is more than `tolerance` seconds from `now` either way (a replayed request), or the
    signature does not match. The comparison takes constant time.
    """
    if not (timestamp.isascii() and timestamp.isdigit()) or not header.startswith(
        SIGNATURE_PREFIX
    ):
        return False
    if abs(require_aware(now).timestamp() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


@dataclass(frozen=True)
class WebhookConfig:
    """Where to POST, with which secret, and how long to wait."""

    url: str
    secret: str = field(repr=False)
    timeout: float = 10.0
    name: str = KIND

    @classmethod
    def from_dict(cls, raw: Mapping[str, object],
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> WebhookConfig:
        """Read and check a deployment's config (the URL against `outbound`); raises
        ChannelConfigInvalid naming fields."""
        reader = ConfigReader(KIND, raw, known=("url", "secret", "timeout"))
        url = reader.url("url", outbound=outbound)
        secret = reader.string("secret", secret=True)
        if secret and len(secret) < MIN_SECRET_LENGTH:
            reader.problem("secret", texts.t("deadlines.config.short_secret",
                                             length=MIN_SECRET_LENGTH))
        timeout = reader.number("timeout", default=10.0, minimum=0.01, maximum=300)
        name = reader.name(KIND)
        reader.done()
        return cls(url, secret, timeout, name)


class WebhookChannel:
    """POSTs `Message.as_json()` with an idempotency key and an HMAC signature."""

    def __init__(self, config: WebhookConfig, *,
                 outbound: OutboundPolicy = PUBLIC_ONLY) -> None:
        self.config = config
        self.name = config.name
        self._sender = HttpSender(timeout=config.timeout, outbound=outbound,
                                  secrets=(config.secret,))

    @classmethod
    def from_dict(cls, raw: Mapping[str, object],
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> WebhookChannel:
        """A channel from a deployment's config dict, sending where `outbound` allows."""
        return cls(WebhookConfig.from_dict(raw, outbound), outbound=outbound)

    def _request(self, message: Message, *, now: dt.datetime) -> tuple[bytes, dict[str, str]]:
        """The body and headers of one attempt; the timestamp is `now`, so each retry is signed
        afresh and a receiver's replay window holds."""
        body = message.as_json()
        timestamp = str(int(require_aware(now).timestamp()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            "X-Paicha-Timestamp": timestamp,
            "X-Paicha-Signature": sign(self.config.secret, timestamp, body),
        }
        return body.encode("utf-8"), headers

    def send(self, message: Message, *, now: dt.datetime) -> DeliveryResult:
        """POST the message once."""
        body, headers = self._request(message, now=now)
        response = self._sender.post(self.config.url, content=body, headers=headers)
        if isinstance(response, DeliveryResult):
            return response
        return status_result(response, now=now)

    def close(self) -> None:
        """Close the pooled connections."""
        self._sender.close()

    def __enter__(self) -> WebhookChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
