"""Deadline arithmetic: periods, day-of-period deadlines, durations and rest-day rolling.

Rules (民法典 第201–203条): a period counted in days starts the day after the event; a deadline
that falls on a rest day moves to the next working day unless the campaign turns that off.
Working days follow the statutory calendar, with its 调休 make-up workdays. A computation that
needs a year nobody covers gets the weekend rule's answer; `provisional_day` says when that
happened, so the caller can mark its result provisional (nothing here remembers it).
"""

from __future__ import annotations

import calendar as _monthdays
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from engine.model import Campaign, DateRef, Duration, PeriodDue, Recurrence
from engine.workdays import Probe, StatutoryCalendar, WorkCalendar, calendar_for

T = TypeVar("T")

# Reminders go out at this local time on their day; a deadline ends at local midnight after it.
REMINDER_TIME = dt.time(9, 0)


@dataclass(frozen=True)
class Period:
    """One calendar period of a recurrence: a month, a quarter, …; `first`..`last` inclusive."""

    every: Recurrence
    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        """A short name: 2023-05, 2023Q2, 2023H1, 2023, 2023-W19."""
        year = self.first.year
        match self.every:
            case "month":
                return f"{year}-{self.first.month:02d}"
            case "quarter":
                return f"{year}Q{(self.first.month - 1) // 3 + 1}"
            case "half_year":
                return f"{year}H{1 if self.first.month <= 6 else 2}"
            case "year":
                return str(year)
            case _:
                iso = self.first.isocalendar()
                return f"{iso.year}-W{iso.week:02d}"


_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def _month_start(day: dt.date, months: int) -> dt.date:
    index = (day.month - 1) // months * months
    return dt.date(day.year, index + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def last_day_of_month(year: int, month: int) -> dt.date:
    return dt.date(year, month, _monthdays.monthrange(year, month)[1])


def period_containing(every: Recurrence, day: dt.date) -> Period:
    """The calendar period of `every` that contains `day`."""
    if every == "week":
        first = day - dt.timedelta(days=day.weekday())
        return Period(every, first, first + dt.timedelta(days=6))
    months = _MONTHS[every]
    first = _month_start(day, months)
    return Period(every, first, _add_months(first, months) - dt.timedelta(days=1))


def periods(every: Recurrence, start: dt.date, end: dt.date) -> list[Period]:
    """Every calendar period of `every` that overlaps `start`..`end`, in order."""
    found: list[Period] = []
    if end < start:  # an empty window overlaps nothing
        return found
    current = period_containing(every, start)
    while current.first <= end:
        found.append(current)
        current = period_containing(every, current.last + dt.timedelta(days=1))
    return found


class Deadlines:
    """Computes deadlines for one campaign: its calendar and its rolling rule."""

    def __init__(self, calendar: WorkCalendar, *, roll: bool = True,
                 early_reminders: bool = True) -> None:
        self.calendar = calendar
        self.roll = roll
        # A reminder before a deadline that falls on a rest day goes out the working day before
        # (nobody is reminded on a Sunday of a Monday deadline) unless this is off.
        self.early_reminders = early_reminders

    @classmethod
    def for_campaign(cls, campaign: Campaign,
                     statutory: StatutoryCalendar | None = None) -> Deadlines:
        """The campaign's deadlines; `statutory` is the statutory calendar with the years
        offices added (the package's years alone when None)."""
        return cls(calendar_for(campaign.calendar, statutory),
                   roll=campaign.roll_to_working_day,
                   early_reminders=campaign.reminders_before_rest_days)

    def uncovered(self, *days: dt.date) -> dt.date | None:
        """The first day between the earliest and the latest of `days` in a year nobody
        covers: a cheap bound; None means no computation among those days can be a guess."""
        return self.calendar.first_uncovered(min(days), max(days))

    def provisional_day(self, compute: Callable[[Deadlines], T]) -> tuple[T, dt.date | None]:
        """`compute` run with these deadlines, and the first day it asked about in a year no
        schedule covers (so its answer rests on the weekend rule), or None."""
        probe = Probe(self.calendar)
        result = compute(Deadlines(probe, roll=self.roll, early_reminders=self.early_reminders))
        return result, probe.guessed

    def is_working_day(self, day: dt.date) -> bool:
        return self.calendar.is_working_day(day)

    def next_working_day(self, day: dt.date) -> dt.date:
        """`day` itself if it is a working day, else the first working day after it."""
        while not self.calendar.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def previous_working_day(self, day: dt.date) -> dt.date:
        """`day` itself if it is a working day, else the last working day before it."""
        while not self.calendar.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def finish(self, day: dt.date, roll: bool | None = None) -> dt.date:
        """A deadline as it applies: moved off a rest day when rolling is on."""
        return self.next_working_day(day) if (self.roll if roll is None else roll) else day

    def shift(self, day: dt.date, span: Duration) -> dt.date:
        """`day` moved by a duration; the start day is not counted, working days skip rest days."""
        if not span.working:
            return day + dt.timedelta(days=span.days)
        step = 1 if span.days >= 0 else -1
        remaining = abs(span.days)
        while remaining:
            day += dt.timedelta(days=step)
            if self.calendar.is_working_day(day):
                remaining -= 1
        return day

    def after(self, day: dt.date, span: Duration, roll: bool | None = None) -> dt.date:
        """The deadline `span` after an event on `day` (民法典 第201条: start day not counted)."""
        return self.finish(self.shift(day, span), roll)

    def in_period(self, period: Period, due: PeriodDue | None) -> dt.date:
        """The deadline inside a period: day N (or last) of month M of the period."""
        if period.every == "week":
            if due is None or due.weekday is None:
                return self.finish(period.last)
            # the chosen day of the week (周一 is day 0), or of the week after (每周一报上周)
            offset = due.weekday + (7 if due.next_week else 0)
            return self.finish(period.first + dt.timedelta(days=offset), due.roll)
        if due is None:
            return self.finish(period.last)
        months = _MONTHS[period.every]
        if due.month == "last":
            month_first = _add_months(period.first, months - 1)
        elif due.month == "next":
            month_first = _add_months(period.first, months)
        else:
            month_first = _add_months(period.first, due.month - 1)
        last = last_day_of_month(month_first.year, month_first.month)
        # A day past the month's end (31 in a 30-day month) means the month's last day.
        day = last if due.day == "last" else min(
            last, month_first + dt.timedelta(days=due.day - 1)
        )
        return self.finish(day, due.roll)

    def resolve(self, ref: DateRef, campaign: Campaign) -> dt.date:
        """A one-off deadline: a date or a phase end, shifted by `after` if given."""
        if ref.date is not None:
            day = ref.date
        elif ref.phase is not None:
            day = campaign.phase(ref.phase).due
        else:
            raise ValueError("a DateRef needs a date or a phase")
        if ref.after is not None:
            day = self.shift(day, ref.after)
        return self.finish(day, ref.roll)


def end_of_day(day: dt.date, timezone: str) -> dt.datetime:
    """The instant a deadline day ends: local midnight after it, as an aware UTC datetime."""
    local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


def local_instant(day: dt.date, at: dt.time, timezone: str) -> dt.datetime:
    """`at` o'clock local time on `day`, as an aware UTC datetime."""
    return dt.datetime.combine(day, at, ZoneInfo(timezone)).astimezone(dt.UTC)


def local_date(instant: dt.datetime, timezone: str) -> dt.date:
    """The calendar date of an aware instant in the campaign's time zone."""
    if instant.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return instant.astimezone(ZoneInfo(timezone)).date()


def runs_on(campaign: Campaign, now: dt.datetime) -> bool:
    """Whether the campaign runs at `now`: today where it runs lies within its period."""
    return campaign.period_start <= local_date(now, campaign.timezone) <= campaign.period_end
