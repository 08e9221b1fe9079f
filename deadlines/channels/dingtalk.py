"""The DingTalk custom robot channel (钉钉自定义机器人): markdown posted to the robot, signed
with its secret when the robot is set up with 加签."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from deadlines.channels._http import HttpSender, robot_result
from deadlines.channels._render import markdown, mentions
from deadlines.channels.base import DeliveryResult, Message, require_aware
from deadlines.channels.config import ConfigReader
from deadlines.outbound import PUBLIC_ONLY, OutboundPolicy
from engine import texts

KIND = "dingtalk"
DEFAULT_BASE_URL = "https://oapi.dingtalk.com/robot/send"
# 130101: sent too fast (20 a minute per robot); -1: "system busy". Both pass with time.
RETRYABLE_ERRCODES = frozenset({130101, -1})
# What a failure is recorded as: the errcode and a reason of ours (errmsg is not kept).
KNOWN_ERRCODES = {
    -1: "system busy",
    130101: "sent too fast (20 messages a minute per robot)",
    310000: "the robot's security check failed (sign, keyword or IP)",
    300001: "invalid access token",
    300005: "the robot does not exist or was removed",
    400013: "the group was dissolved",
    410100: "sent too fast",
}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def timestamp_ms(now: dt.datetime) -> int:
    """Milliseconds since the epoch, computed exactly (a float timestamp can be 1 ms off)."""
    return (require_aware(now) - EPOCH) // dt.timedelta(milliseconds=1)


def sign(secret: str, timestamp: int) -> str:
    """DingTalk's `sign`: base64 HMAC-SHA256 of `{timestamp}\\n{secret}` keyed by the secret,
    URL-encoded (quote_plus), ready to go into the query string as it is."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


@dataclass(frozen=True)
class DingtalkConfig:
    """The robot's access token, its signing secret if 加签 is on, and where its API lives."""

    access_token: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 10.0
    name: str = KIND
    # role -> mobile numbers of the group's members who hold it: @mentioned (at.atMobiles)
    at_mobiles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, object],
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> DingtalkConfig:
        """Read and check a deployment's config (`base_url` against `outbound`); raises
        ChannelConfigInvalid naming fields."""
        reader = ConfigReader(KIND, raw, known=("access_token", "secret", "base_url", "timeout",
                                                  "at_mobiles"))
        token = reader.string("access_token", secret=True)
        if token.startswith("http"):
            reader.problem("access_token", texts.t("deadlines.config.dingtalk_token_url"))
        secret = reader.optional_string("secret", secret=True)
        if secret is not None and not secret.startswith("SEC"):
            # DingTalk's signing secrets all start with SEC; anything else is most often the
            # access token or a keyword pasted into the wrong field.
            reader.problem("secret", texts.t("deadlines.config.dingtalk_secret"))
        base_url = reader.url("base_url", outbound=outbound, default=DEFAULT_BASE_URL)
        timeout = reader.number("timeout", default=10.0, minimum=0.01, maximum=300)
        at_mobiles = reader.mobiles("at_mobiles")
        name = reader.name(KIND)
        reader.done()
        return cls(token, secret, base_url, timeout, name, at_mobiles)


def body(message: Message, at_mobiles: Mapping[str, Sequence[str]] | None = None
         ) -> dict[str, Any]:
    """The robot's markdown message; `title` is what the chat list and the push show. The
    mobiles of the message's roles go in `at.atMobiles` and, as DingTalk requires for a
    markdown message to show the mention, as `@138…` in its text."""
    mobiles = mentions(message, at_mobiles or {})
    found: dict[str, Any] = {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": markdown(message, mentions=mobiles)}}
    if mobiles:
        found["at"] = {"atMobiles": mobiles, "isAtAll": False}
    return found


class DingtalkChannel:
    """Posts a markdown message to one DingTalk custom robot."""

    def __init__(self, config: DingtalkConfig, *,
                 outbound: OutboundPolicy = PUBLIC_ONLY) -> None:
        self.config = config
        self.name = config.name
        secrets = (config.access_token, config.secret or "")
        self._sender = HttpSender(timeout=config.timeout, outbound=outbound, secrets=secrets)

    @classmethod
    def from_dict(cls, raw: Mapping[str, object],
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> DingtalkChannel:
        """A channel from a deployment's config dict, sending where `outbound` allows."""
        return cls(DingtalkConfig.from_dict(raw, outbound), outbound=outbound)

    def _url(self, *, now: dt.datetime) -> str:
        """The robot URL for an attempt at `now`; DingTalk refuses a timestamp over an hour
        old, so each attempt is signed afresh."""
        query = f"access_token={quote_plus(self.config.access_token)}"
        if self.config.secret is not None:
            stamp = timestamp_ms(now)
            # `sign` is URL-encoded already; built by hand so it is not encoded twice.
            query += f"&timestamp={stamp}&sign={sign(self.config.secret, stamp)}"
        return f"{self.config.base_url}?{query}"

    def send(self, message: Message, *, now: dt.datetime) -> DeliveryResult:
        """Post the message once; a reply with errcode != 0 is a failure."""
        content = json.dumps(body(message, self.config.at_mobiles),
                             ensure_ascii=False).encode("utf-8")
        response = self._sender.post(
            self._url(now=now), content=content, headers={"Content-Type": "application/json"},
        )
        if isinstance(response, DeliveryResult):
            return response
        return robot_result(response, now=now, retryable_codes=RETRYABLE_ERRCODES,
                            known_codes=KNOWN_ERRCODES)

    def close(self) -> None:
        """Close the pooled connections."""
        self._sender.close()

    def __enter__(self) -> DingtalkChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
