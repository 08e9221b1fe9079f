"""The log channel, the embedded default: each message becomes one structured log line on
the `paicha.deliveries` logger, so a single-office install sees its reminders with no setup."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from deadlines.channels.base import DeliveryResult, Message, require_aware
from deadlines.channels.config import ConfigReader
from deadlines.outbound import PUBLIC_ONLY, OutboundPolicy
from deadlines.rendering import render

KIND = "log"
LOGGER_NAME = "paicha.deliveries"
Level = Literal["debug", "info", "warning"]
LEVELS: tuple[Level, ...] = ("debug", "info", "warning")
ACTION = "deliver_message"


@dataclass(frozen=True)
class LogConfig:
    """The level the lines are logged at."""

    level: Level = "info"
    name: str = KIND

    @classmethod
    def from_dict(cls, raw: Mapping[str, object]) -> LogConfig:
        """Read and check a deployment's config; raises ChannelConfigInvalid naming fields."""
        reader = ConfigReader(KIND, raw, known=("level",))
        level = reader.choice("level", LEVELS, "info")
        name = reader.name(KIND)
        reader.done()
        return cls(level, name)


def fields(message: Message, *, now: dt.datetime) -> dict[str, Any]:
    """The line's fields; `action` first, as in every structured log line of paicha."""
    return {
        "action": ACTION,
        "idempotency_key": message.idempotency_key,
        "kind": message.kind,
        "campaign": message.campaign,
        "subject": message.subject,
        "roles": list(message.roles),
        "due_date": message.due_date.isoformat() if message.due_date else None,
        "late": message.late,
        "title": message.title,
        # what a person reads: the kind's template over the message's names (deadlines.rendering)
        "text": render(message, "text"),
        "sent_at": require_aware(now).isoformat().replace("+00:00", "Z"),
    }


class LogChannel:
    """Logs each message; always delivered (a log line that cannot be written is the logging
    system's failure, not a delivery to retry)."""

    def __init__(self, config: LogConfig | None = None) -> None:
        self.config = config or LogConfig()
        self.name = self.config.name
        self._logger = logging.getLogger(LOGGER_NAME)
        self._level = logging.getLevelNamesMapping()[self.config.level.upper()]

    @classmethod
    def from_dict(cls, raw: Mapping[str, object],
                  outbound: OutboundPolicy = PUBLIC_ONLY) -> LogChannel:
        """A channel from a deployment's config dict (it sends nothing out: `outbound` is
        taken so that every kind is built alike)."""
        return cls(LogConfig.from_dict(raw))

    def send(self, message: Message, *, now: dt.datetime) -> DeliveryResult:
        """Write one line: the fields as JSON in the message (readable with any formatter),
        and each field on the record too (for a JSON formatter that reads `extra`)."""
        line = fields(message, now=now)
        self._logger.log(self._level, "%s", json.dumps(line, ensure_ascii=False),
                         extra=line)
        return DeliveryResult.delivered(None, "logged")

    def close(self) -> None:
        """Nothing to close; here so every channel can be closed alike."""
