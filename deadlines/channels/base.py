"""The channel contract: the message the outbox hands over, the result a channel returns, and
the Protocol every delivery channel implements."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# Bumped when a field of the JSON body changes meaning; receivers can branch on it.
BODY_VERSION = 1


def _aware(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(dt.UTC)


def require_aware(now: dt.datetime) -> dt.datetime:
    """`now` in UTC; a naive datetime is refused (channels sign and date with it)."""
    return _aware(now, "now")


@dataclass(frozen=True)
class Message:
    """One notification to deliver; `idempotency_key` is the same on every retry of it."""

    idempotency_key: str
    kind: str
    title: str
    text: str
    campaign: str
    subject: str
    roles: tuple[str, ...]
    due_date: dt.date | None
    late: bool
    at: dt.datetime
    extra: dict[str, Any] = field(default_factory=dict)
    # what the message names (unit, org, case, check, deadline, roles, people, link): the
    # variables of its template (engine.templates), and the webhook's structured fields
    context: dict[str, Any] = field(default_factory=dict)
    # the campaign's own template of the kind; None: the packaged default (deadlines.rendering)
    template: str | None = None
    # the language it is worded in (engine.texts: zh or en), its subscription's or the
    # deployment's; a message queued before messages had one is Chinese
    lang: str = "zh"

    def __post_init__(self) -> None:
        if not self.idempotency_key:
            raise ValueError("Message.idempotency_key must not be empty")
        if not self.kind:
            raise ValueError("Message.kind must not be empty")
        # Frozen: normalise through object.__setattr__ so every channel sees UTC and a tuple,
        # and a caller mutating its own dict later cannot change a message already queued.
        object.__setattr__(self, "at", _aware(self.at, "Message.at"))
        object.__setattr__(self, "roles", tuple(self.roles))
        object.__setattr__(self, "extra", dict(self.extra))
        object.__setattr__(self, "context", dict(self.context))
        try:
            json.dumps(self.extra)
            json.dumps(self.context)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Message.extra and .context must be JSON-serialisable: {exc}"
                             ) from exc

    def as_dict(self) -> dict[str, Any]:
        """The message as plain JSON types: dates ISO 8601, `at` in UTC with a `Z`; what a
        webhook receives (the template and the language are the sender's affair, not the
        receiver's: the words are in the message)."""
        return {
            "version": BODY_VERSION,
            "idempotency_key": self.idempotency_key,
            "kind": self.kind,
            "title": self.title,
            "text": self.text,
            "campaign": self.campaign,
            "subject": self.subject,
            "roles": list(self.roles),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "late": self.late,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "extra": self.extra,
            "context": self.context,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """The message back from `as_dict()` (e.g. an outbox row); `version` is ignored."""
        try:
            due = data.get("due_date")
            return cls(
                idempotency_key=str(data["idempotency_key"]), kind=str(data["kind"]),
                title=str(data["title"]), text=str(data["text"]),
                campaign=str(data["campaign"]), subject=str(data["subject"]),
                roles=tuple(data.get("roles") or ()),
                due_date=dt.date.fromisoformat(due) if due else None,
                late=bool(data.get("late", False)),
                # fromisoformat reads the trailing Z from Python 3.11 on.
                at=dt.datetime.fromisoformat(str(data["at"])),
                extra=dict(data.get("extra") or {}),
                context=dict(data.get("context") or {}),
                template=data.get("template") or None,
                lang=str(data.get("lang") or "zh"),
            )
        except KeyError as exc:
            raise ValueError(f"message field {exc.args[0]!r} is missing") from exc

    def as_json(self) -> str:
        """A stable JSON body: sorted keys, no spaces, Chinese kept as UTF-8 (not \\u escapes).

        The same message always gives the same text, so a signature over it can be checked
        and a receiver can compare two deliveries byte for byte.
        """
        return json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt came to. `status` is the HTTP status or SMTP reply code, if any;
    `retry_after` is the wait the receiver asked for (HTTP `Retry-After`), if it did."""

    ok: bool
    status: int | None
    detail: str
    retryable: bool
    retry_after: dt.timedelta | None = None

    def __post_init__(self) -> None:
        if self.ok and self.retryable:
            raise ValueError("a delivered result cannot be retryable")

    @classmethod
    def delivered(cls, status: int | None = None, detail: str = "delivered") -> DeliveryResult:
        """A successful attempt."""
        return cls(True, status, detail, False)

    @classmethod
    def failed(
        cls, detail: str, *, retryable: bool, status: int | None = None,
        retry_after: dt.timedelta | None = None,
    ) -> DeliveryResult:
        """A failed attempt; `retryable` says whether the same message may succeed later."""
        return cls(False, status, detail, retryable, retry_after)


class Channel(Protocol):
    """A way to deliver messages. `send` never raises for a delivery problem: timeouts,
    refused connections and error replies come back as a non-ok DeliveryResult."""

    @property
    def name(self) -> str:
        """The channel's name, as recorded in the outbox."""
        ...

    def send(self, message: Message, *, now: dt.datetime) -> DeliveryResult:
        """Deliver `message` once; `now` (aware) dates and signs the attempt."""
        ...


def clip(text: str, limit: int = 300) -> str:
    """`text` shortened for a result's detail, so a huge error page does not fill the outbox."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
