"""Delivery channels: the message contract, the five channel kinds, and `build_channel`, the
one way a deployment's config turns into a channel (no names resolved by import)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from deadlines.channels.base import Channel, DeliveryResult, Message
from deadlines.channels.config import ChannelConfigInvalid
from deadlines.channels.dingtalk import DingtalkChannel
from deadlines.channels.email import EmailChannel
from deadlines.channels.log import LogChannel
from deadlines.channels.webhook import WebhookChannel, verify_signature
from deadlines.channels.wecom import WecomChannel
from deadlines.outbound import PUBLIC_ONLY, OutboundPolicy
from engine import texts

Factory = Callable[[Mapping[str, object], OutboundPolicy], Channel]

CHANNEL_KINDS: Mapping[str, Factory] = {
    "webhook": WebhookChannel.from_dict,
    "wecom": WecomChannel.from_dict,
    "dingtalk": DingtalkChannel.from_dict,
    "email": EmailChannel.from_dict,
    "log": LogChannel.from_dict,
}


def build_channel(kind: str, config: Mapping[str, object], *,
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> Channel:
    """The channel of `kind` set up from a deployment's `config`, sending only where
    `outbound` allows (by default: public addresses).

    Raises ChannelConfigInvalid (a ValueError) for an unknown kind, listing the known ones,
    and for a config with problems, naming every field at fault — a destination the policy
    refuses among them.
    """
    factory = CHANNEL_KINDS.get(kind)
    if factory is None:
        known = ", ".join(sorted(CHANNEL_KINDS))
        raise ChannelConfigInvalid(str(kind), [("kind", texts.t("deadlines.config.unknown_kind",
                                                                known=known))])
    return factory(config, outbound)


__all__ = [
    "CHANNEL_KINDS",
    "Channel",
    "ChannelConfigInvalid",
    "DeliveryResult",
    "DingtalkChannel",
    "EmailChannel",
    "LogChannel",
    "Message",
    "WebhookChannel",
    "WecomChannel",
    "build_channel",
    "verify_signature",
]
