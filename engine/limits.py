"""Bounds on the data a case or a completion carries: nesting, text, lists, size and dates.

A field's JSON Schema says what a value means; these bounds say how much of it the record
takes, whatever the campaign declares: a 15 MB 隐患描述 or data nested hundreds of levels deep
costs every reader of the case, every audit check and every report, and is never what an
office meant to record. They hold for opening a case, for every event and for an obligation's
evidence; a field's own `maxLength` or `maxItems` may be lower.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from engine import texts
from engine.model import Campaign

MAX_DEPTH = 10  # objects and lists inside the data, one inside the other
MAX_TEXT = 20_000  # characters of one text value
MAX_KEY = 200  # characters of one key of a nested object
MAX_ITEMS = 1_000  # items of one list (or keys of one object)
MAX_TOTAL_TEXT = 200_000  # characters of all text (keys and values) of the whole data
MAX_VALUES = 10_000  # values of the whole data, each text, number, object and list counted
MAX_PROBLEMS = 20  # problems named per request: data that breaks more is refused all the same
# A date a person records (发现日期, 整改期限 …) lies near the campaign: hazards found years before
# it (存量) are recorded, deadlines run past its end. Outside this window it is a typing error
# (0001-01-01, 2203-06-01) that would sort, count and arm clocks wrongly.
YEARS_BEFORE = 10
YEARS_AFTER = 10
_CONTAINERS = (dict, list)


class Breach(NamedTuple):
    """One bound broken: where (a path into the data, "" for the whole), and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True)
class Size:
    """How much data holds: characters of text and values, as the bounds count them."""

    text: int = 0
    values: int = 0

    def breach(self) -> Breach:
        return Breach("", texts.t("campaign.limits.size", text=self.text, values=self.values,
                                  max_text=MAX_TOTAL_TEXT, max_values=MAX_VALUES))


def problems(sent: Mapping[str, Any], stored: Mapping[str, Any] | None = None
             ) -> list[Breach]:
    """Every bound that `sent` (an object of fields: a case's data, an event's, an evidence)
    breaks, each named by its path ("description", "items[3].name"); with `stored`, the data
    the case holds before `sent` is merged into it, the bounds of the whole are those of the
    merged record. A record stored over the bounds before they existed may move on (with
    data in bounds), not be refused every event. (On every event's path: plain loops.)"""
    found: list[Breach] = []
    text, values = _size(sent, found)
    if found:
        return found
    if stored:
        before_text, before_values = _stored(stored.values())
        before_text += sum(map(len, stored))
        before_values += len(stored)
        after_text, after_values = before_text + text, before_values + values
        replaced = [key for key in sent if key in stored]
        if replaced:  # their old values leave the record
            old_text, old_values = _stored([stored[key] for key in replaced])
            after_text -= old_text + sum(map(len, replaced))
            after_values -= old_values + len(replaced)
        if (after_text > MAX_TOTAL_TEXT or after_values > MAX_VALUES) and not (
                before_text > MAX_TOTAL_TEXT or before_values > MAX_VALUES):
            found.append(Size(after_text, after_values).breach())
            return found
    if text > MAX_TOTAL_TEXT or values > MAX_VALUES:
        found.append(Size(text, values).breach())
    return found


def _stored(values: Iterable[Any]) -> tuple[int, int]:
    """Characters of text and values nested in stored `values` (their bounds were checked
    when they were written: measured only)."""
    text = nested = 0
    for value in values:
        if type(value) is str:
            text += len(value)
        elif isinstance(value, _CONTAINERS):
            inner_text, inner_values = _nested(value, "", [])
            text += inner_text
            nested += inner_values
    return text, nested


def _size(data: Mapping[str, Any], problems: list[Breach] | None) -> tuple[int, int]:
    """Characters of text and values of an object of fields; its bounds broken go to
    `problems` (None: stored data, already checked, measured only)."""
    text = sum(map(len, data))
    values = len(data)
    for key, value in data.items():
        if type(value) is str:  # the usual field: one short text, counted without a walk
            text += len(value)
            if problems is not None and (len(value) > MAX_TEXT or len(key) > MAX_KEY):
                if len(key) > MAX_KEY:
                    problems.append(_long_key("", key))
                if len(value) > MAX_TEXT:
                    problems.append(_long(key[:40], len(value)))
        elif isinstance(value, _CONTAINERS):
            if problems is not None and len(key) > MAX_KEY:
                problems.append(_long_key("", key))
            nested_text, nested_values = _nested(value, key[:40], [] if problems is None
                                                 else problems)
            text += nested_text
            values += nested_values
        elif problems is not None and len(key) > MAX_KEY:
            problems.append(_long_key("", key))
    return text, values


def _long(path: str, length: int) -> Breach:
    return Breach(path, texts.t("campaign.limits.text", length=length, limit=MAX_TEXT))


def _long_key(path: str, key: str) -> Breach:
    return Breach(path, texts.t("campaign.limits.key", length=len(key), limit=MAX_KEY))


def _nested(top: dict[str, Any] | list[Any], path: str, problems: list[Breach]
            ) -> tuple[int, int]:
    """Walks a nested value without recursion (no depth can exhaust the stack)."""
    text = values = 0
    stack: list[tuple[Any, str, int]] = [(top, path, 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, _CONTAINERS):
            if depth > MAX_DEPTH:
                problems.append(Breach(where, texts.t("campaign.limits.depth", limit=MAX_DEPTH)))
                continue
            if len(value) > MAX_ITEMS:
                what = "list" if isinstance(value, list) else "object"
                problems.append(Breach(where, texts.t(f"campaign.limits.{what}",
                                                      count=len(value), limit=MAX_ITEMS)))
                continue
            if isinstance(value, list):
                values += len(value)
                stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
            else:
                values += len(value)
                for key, item in value.items():
                    text += len(key)
                    if len(key) > MAX_KEY:
                        problems.append(_long_key(where, key))
                    stack.append((item, f"{where}.{key[:40]}", depth + 1))
        elif isinstance(value, str):
            text += len(value)
            if len(value) > MAX_TEXT:
                problems.append(_long(where, len(value)))
        if values > MAX_VALUES:  # stop walking a value already too large to keep
            problems.append(Breach(path, texts.t("campaign.limits.values", limit=MAX_VALUES)))
            break
        if len(problems) >= MAX_PROBLEMS:
            break
    return text, values


@dataclass(frozen=True)
class DateRange:
    """The dates a campaign's records may carry."""

    first: dt.date
    last: dt.date

    @classmethod
    def for_campaign(cls, campaign: Campaign) -> DateRange:
        return cls(dt.date(max(1, campaign.period_start.year - YEARS_BEFORE), 1, 1),
                   dt.date(min(9999, campaign.period_end.year + YEARS_AFTER), 12, 31))

    def problem(self, name: str, value: Any, *, datetime: bool = False) -> Breach | None:
        """What is wrong with the date (or date-time) text `value` of field `name`, if any;
        a value that is not a date at all is the field schema's to refuse."""
        if not isinstance(value, str):
            return None
        try:
            day = (dt.datetime.fromisoformat(value).date() if datetime
                   else dt.date.fromisoformat(value))
        except ValueError:
            return None
        if self.first <= day <= self.last:
            return None
        return Breach(name, texts.t("campaign.limits.date", day=day.isoformat(),
                                    first=self.first.isoformat(), last=self.last.isoformat()))
