"""Working-day calendars: the statutory Chinese calendar (with 调休 make-up days) or every day.

The statutory calendar is a value: the years the `chinesecalendar` package knows, and the years
an office added from the State Council's notice (`YearSchedule`, read by engine.schedules and
passed in by the adapters). An added year wins over the package's. A day of a year nobody covers
is counted by the weekend rule (Monday to Friday work) and never refused; whoever computes with
it learns so through `Deadlines.provisional_day`, so that the answer is marked provisional and
recomputed once the year is added.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import chinese_calendar
from chinese_calendar.constants import holidays as _holidays
from chinese_calendar.constants import workdays as _workdays

# The years the installed chinesecalendar package holds the State Council's schedule of.
PACKAGE_YEARS = frozenset(day.year for day in (*_holidays, *_workdays))


def package_version() -> str:
    """The installed chinesecalendar's version, for `calendar show` (\"unknown\" if unsaid)."""
    return str(getattr(chinese_calendar, "__version__", "unknown"))


@dataclass(frozen=True)
class Holiday:
    """One holiday of a year's notice: 春节 from 2027-02-… to 2027-02-…, both days included."""

    name: str
    first: dt.date
    last: dt.date

    def days(self) -> Iterable[dt.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)


@dataclass(frozen=True)
class YearSchedule:
    """A year's statutory schedule as the State Council's notice gives it: holidays, the
    weekend days that are working days (调休), and the notice's number and date."""

    year: int
    holidays: tuple[Holiday, ...]
    workdays: frozenset[dt.date]
    notice: str
    notice_date: dt.date

    @functools.cached_property
    def rest_days(self) -> frozenset[dt.date]:
        return frozenset(day for holiday in self.holidays for day in holiday.days())

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.rest_days

    @property
    def source(self) -> str:
        return f"{self.notice}（{self.notice_date}）"


class WorkCalendar(Protocol):
    """Tells which days are working days, and which years it knows for certain."""

    def is_working_day(self, day: dt.date) -> bool: ...

    def covers(self, year: int) -> bool: ...

    def first_uncovered(self, first: dt.date, last: dt.date) -> dt.date | None: ...


def weekend_rule(day: dt.date) -> bool:
    """The guess for a year nobody covers: Monday to Friday are working days."""
    return day.weekday() < 5


class StatutoryCalendar:
    """Statutory holidays and 调休 workdays: the years added from the State Council's notices,
    then the years of the chinesecalendar package; any other year by the weekend rule."""

    def __init__(self, added: Iterable[YearSchedule] = (), *,
                 without: Iterable[int] = ()) -> None:
        self.added: dict[int, YearSchedule] = {s.year: s for s in added}
        # Years treated as unknown even where the package has them (what a computation made
        # before a year was added saw: engine.checks matches old dates against it).
        self.without = frozenset(without)
        self._package = PACKAGE_YEARS - self.without

    def covers(self, year: int) -> bool:
        """Whether the year's schedule is known (added or in the package)."""
        return (year in self.added and year not in self.without) or year in self._package

    def first_uncovered(self, first: dt.date, last: dt.date) -> dt.date | None:
        """The first day of `first`..`last` in a year nobody covers; None if all are known."""
        if last < first:
            first, last = last, first
        for year in range(first.year, last.year + 1):
            if not self.covers(year):
                return max(first, dt.date(year, 1, 1))
        return None

    def is_working_day(self, day: dt.date) -> bool:
        year = day.year
        if year not in self.without:
            schedule = self.added.get(year)
            if schedule is not None:
                return schedule.is_working_day(day)
        if year in self._package:
            return _statutory_workday(day)
        return weekend_rule(day)

    def omitting(self, years: Iterable[int]) -> StatutoryCalendar:
        """This calendar as it was before `years` were known."""
        return StatutoryCalendar(self.added.values(), without=self.without | set(years))


@functools.lru_cache(maxsize=8192)
def _statutory_workday(day: dt.date) -> bool:
    # chinesecalendar scans its whole holiday table on every call; the answer never changes.
    return bool(chinese_calendar.is_workday(day))


class EveryDayCalendar:
    """`calendar: none`: every day counts as a working day."""

    def is_working_day(self, day: dt.date) -> bool:
        return True

    def covers(self, year: int) -> bool:
        return True

    def first_uncovered(self, first: dt.date, last: dt.date) -> dt.date | None:
        return None


class Probe:
    """A calendar that answers as another one does and notes the first day it was asked about
    that no schedule covers: one computation's guess made visible (Deadlines.provisional_day)."""

    __slots__ = ("guessed", "inner")

    def __init__(self, inner: WorkCalendar) -> None:
        self.inner = inner
        self.guessed: dt.date | None = None

    def is_working_day(self, day: dt.date) -> bool:
        if not self.inner.covers(day.year) and (self.guessed is None or day < self.guessed):
            self.guessed = day
        return self.inner.is_working_day(day)

    def covers(self, year: int) -> bool:
        return self.inner.covers(year)

    def first_uncovered(self, first: dt.date, last: dt.date) -> dt.date | None:
        return self.inner.first_uncovered(first, last)


PACKAGE_ONLY = StatutoryCalendar()


def calendar_for(name: str, statutory: StatutoryCalendar | None = None) -> WorkCalendar:
    """The calendar a campaign's `calendar:` key names; `statutory` carries the added years."""
    if name != "cn":
        return EveryDayCalendar()
    return statutory if statutory is not None else PACKAGE_ONLY
