"""Small readers of campaign document values, shared by the semantic checks, the builder and
the schedules: a value or a list of them, a date written as text, the fields a condition reads.

Defensive like the checks that use them: a value of the wrong shape gives nothing, never an error
(the schema reports the shape)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.conditions import UNIT_KEY


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def condition_fields(value: Any) -> list[str]:
    """The fields a condition (`when`, `where`) looks at."""
    found: list[str] = []
    stack = [value]
    while stack:
        part = stack.pop()
        if not isinstance(part, dict):
            continue
        for key, operand in part.items():
            if key in ("all", "any"):
                stack.extend(as_list(operand))
            elif key == "not":
                stack.append(operand)
            elif isinstance(key, str) and key != UNIT_KEY and key not in found:
                found.append(key)
    return found


def parse_date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None
