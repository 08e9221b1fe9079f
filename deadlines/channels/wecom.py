"""The WeCom group robot channel (企业微信群机器人): markdown posted to the robot's webhook.

A WeCom markdown message cannot @mention by mobile number (only `<@userid>`, and a robot's
sender knows no WeCom user ids); `mentioned_mobile_list` belongs to text messages, which lose
the bold title and the quoted facts' layout. So a robot chooses: `format: markdown` (the
default) names the people who hold the role in its facts (经办) and mentions nobody;
`format: text` sends the same words as plain text and @mentions the `at_mobiles` of the
message's roles (docs/channels.md#mentions). One message either way: a second post for the
mentions would count twice against the robot's 20 a minute and could not be retried alone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from deadlines.channels._http import HttpSender, robot_result
from deadlines.channels._render import markdown, mentions, plain, truncate_utf8
from deadlines.channels.base import DeliveryResult, Message, require_aware
from deadlines.channels.config import ConfigReader
from deadlines.outbound import PUBLIC_ONLY, OutboundPolicy
from engine import texts

KIND = "wecom"
DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
# WeCom refuses markdown content over 4096 bytes (UTF-8) with errcode 40058, text over 2048.
CONTENT_LIMIT = 4096
TEXT_LIMIT = 2048
FORMATS = ("markdown", "text")
# 45009: the robot's limit of 20 messages a minute; -1: "system busy". Both pass with time.
RETRYABLE_ERRCODES = frozenset({45009, -1})
# What a failure is recorded as: the errcode and a reason of ours (errmsg is not kept).
KNOWN_ERRCODES = {
    -1: "system busy",
    45009: "over the robot's limit of 20 messages a minute",
    93000: "invalid webhook key: the robot was removed or the key is wrong",
    40058: "the message is too long or malformed",
    40008: "invalid message type",
    44004: "empty message content",
    93017: "the robot's message is not allowed (group settings)",
}
LATE_STYLE = '<font color="warning">{note}</font>'


@dataclass(frozen=True)
class WecomConfig:
    """The robot's key (the `key=` of its webhook URL) and where its API lives."""

    key: str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 10.0
    name: str = KIND
    format: str = "markdown"
    # role -> mobile numbers of the group's members who hold it: @mentioned (format: text)
    at_mobiles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, object],
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> WecomConfig:
        """Read and check a deployment's config (`base_url` against `outbound`); raises
        ChannelConfigInvalid naming fields."""
        reader = ConfigReader(KIND, raw, known=("key", "base_url", "timeout", "format",
                                                  "at_mobiles"))
        key = reader.string("key", secret=True)
        if key.startswith("http"):
            reader.problem("key", texts.t("deadlines.config.wecom_key_url"))
        base_url = reader.url("base_url", outbound=outbound, default=DEFAULT_BASE_URL)
        timeout = reader.number("timeout", default=10.0, minimum=0.01, maximum=300)
        kind = reader.choice("format", FORMATS, "markdown")
        at_mobiles = reader.mobiles("at_mobiles")
        if at_mobiles and kind != "text":
            # numbers kept for a message that cannot mention them: the office would wait in
            # vain for the @ it configured
            reader.problem("at_mobiles", texts.t("deadlines.config.wecom_mentions_need_text"))
        name = reader.name(KIND)
        reader.done()
        return cls(key, base_url, timeout, name, kind, at_mobiles)


def body(message: Message, config: WecomConfig | None = None) -> dict[str, Any]:
    """The robot's message for `message`: markdown, or (`format: text`) the same words as
    plain text @mentioning the mobiles of the message's roles."""
    if config is not None and config.format == "text":
        text = truncate_utf8(f"{message.title}\n\n{plain(message)}".rstrip("\n"), TEXT_LIMIT)
        found: dict[str, Any] = {"content": text}
        mobiles = mentions(message, config.at_mobiles)
        if mobiles:
            found["mentioned_mobile_list"] = mobiles
        return {"msgtype": "text", "text": found}
    content = truncate_utf8(markdown(message, late_style=LATE_STYLE), CONTENT_LIMIT)
    return {"msgtype": "markdown", "markdown": {"content": content}}


class WecomChannel:
    """Posts a markdown message to one WeCom group robot."""

    def __init__(self, config: WecomConfig, *,
                 outbound: OutboundPolicy = PUBLIC_ONLY) -> None:
        self.config = config
        self.name = config.name
        self._url = f"{config.base_url}?{urlencode({'key': config.key})}"
        self._sender = HttpSender(timeout=config.timeout, outbound=outbound,
                                  secrets=(config.key,))

    @classmethod
    def from_dict(cls, raw: Mapping[str, object],
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> WecomChannel:
        """A channel from a deployment's config dict, sending where `outbound` allows."""
        return cls(WecomConfig.from_dict(raw, outbound), outbound=outbound)

    def send(self, message: Message, *, now: dt.datetime) -> DeliveryResult:
        """Post the message once; a reply with errcode != 0 is a failure."""
        require_aware(now)
        content = json.dumps(body(message, self.config), ensure_ascii=False).encode("utf-8")
        response = self._sender.post(
            self._url, content=content, headers={"Content-Type": "application/json"},
        )
        if isinstance(response, DeliveryResult):
            return response
        return robot_result(response, now=now, retryable_codes=RETRYABLE_ERRCODES,
                            known_codes=KNOWN_ERRCODES)

    def close(self) -> None:
        """Close the pooled connections."""
        self._sender.close()

    def __enter__(self) -> WecomChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
