"""Working-day calendars: the statutory Chinese calendar (with 调休 make-up days) or every day."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Protocol

import chinese_calendar
from chinese_calendar.constants import holidays as _holidays
from chinese_calendar.constants import workdays as _workdays

from engine.errors import CalendarOutOfRange


class WorkCalendar(Protocol):
    """Tells which days are working days."""

    first: dt.date
    last: dt.date

    def is_working_day(self, day: dt.date) -> bool: ...


class StatutoryCalendar:
    """Statutory holidays and 调休 workdays as published by the State Council (chinesecalendar)."""

    first = dt.date(min(_holidays).year, 1, 1)
    last = dt.date(max(max(_holidays), max(_workdays)).year, 12, 31)

    def is_working_day(self, day: dt.date) -> bool:
        if not self.first <= day <= self.last:
            raise CalendarOutOfRange(day, self.first, self.last)
        return _statutory_workday(day)


@functools.lru_cache(maxsize=8192)
def _statutory_workday(day: dt.date) -> bool:
    # chinesecalendar scans its whole holiday table on every call; the answer never changes.
    return bool(chinese_calendar.is_workday(day))


class EveryDayCalendar:
    """`calendar: none`: every day counts as a working day."""

    first = dt.date.min
    last = dt.date.max

    def is_working_day(self, day: dt.date) -> bool:
        return True


def calendar_for(name: str) -> WorkCalendar:
    """The calendar a campaign's `calendar:` key names."""
    return StatutoryCalendar() if name == "cn" else EveryDayCalendar()
