"""A message factory for the deadline tests: valid defaults, keyword overrides."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from deadlines.channels import Message

NOW = dt.datetime(2023, 6, 28, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai, a Wednesday

MakeMessage = Callable[..., Message]


@pytest.fixture(name="make_message")
def make_message_fixture() -> MakeMessage:
    """A function building a Message; every field can be overridden by keyword."""

    def make(**overrides: Any) -> Message:
        fields: dict[str, Any] = {
            "idempotency_key": "case-1/rectify/2023-06-30/remind/-3d",
            "kind": "remind",
            "title": "整改期限提醒",
            "text": "整改期限（2023-06-30）3日后到期",
            "campaign": "zdyh-2023",
            "subject": "case-1",
            "roles": ("unit", "street"),
            "due_date": dt.date(2023, 6, 30),
            "late": False,
            "at": NOW,
            "extra": {"clock_id": "rectify"},
        }
        fields.update(overrides)
        return Message(**fields)

    return make
