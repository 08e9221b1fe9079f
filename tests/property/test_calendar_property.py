"""The calendar as a value keeps every answer of the years it knows: whatever years an office
adds for other years, working days, shifts and rolled deadlines in 2023–2026 are what
chinese_calendar says, and none of them is provisional; a year nobody covers follows the
weekend rule and is always said to be provisional.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.dates import Deadlines
from engine.model import Duration
from engine.schedules import read_schedule
from engine.workdays import StatutoryCalendar

D = dt.date
DATA = Path(__file__).resolve().parents[1] / "data" / "calendars"
YEAR_2027 = read_schedule((DATA / "2027-test.yaml").read_text(encoding="utf-8"), "2027")
PACKAGE = Deadlines(StatutoryCalendar())
WITH_2027 = Deadlines(StatutoryCalendar([YEAR_2027]))

# 2023–2026 with room for 30 working days either way inside the package's years
known_days = st.dates(min_value=D(2023, 2, 15), max_value=D(2026, 11, 15))
uncovered_days = st.dates(min_value=D(2028, 1, 1), max_value=D(2099, 12, 31))
spans = st.integers(min_value=-30, max_value=30)


@settings(max_examples=300, deadline=None)
@given(day=known_days)
def test_working_days_of_the_known_years_are_chinese_calendar_s(day: dt.date) -> None:
    expected = bool(chinese_calendar.is_workday(day))
    assert PACKAGE.is_working_day(day) is expected
    assert WITH_2027.is_working_day(day) is expected


@settings(max_examples=300, deadline=None)
@given(day=known_days, n=spans, working=st.booleans(), roll=st.booleans())
def test_deadlines_in_the_known_years_are_unchanged_and_exact(
    day: dt.date, n: int, working: bool, roll: bool
) -> None:
    span = Duration(n, working=working)
    for deadlines in (PACKAGE, WITH_2027):
        due, guessed = deadlines.provisional_day(lambda d: d.after(day, span, roll))
        assert guessed is None
        assert due == deadlines.after(day, span, roll)
        if roll:
            assert chinese_calendar.is_workday(due)
    assert PACKAGE.after(day, span, roll) == WITH_2027.after(day, span, roll)


@settings(max_examples=200, deadline=None)
@given(day=uncovered_days, n=st.integers(min_value=1, max_value=20))
def test_a_year_nobody_covers_is_the_weekend_rule_and_provisional(day: dt.date, n: int) -> None:
    finished, guessed = PACKAGE.provisional_day(lambda d: d.finish(day))
    assert finished.weekday() < 5 and finished - day < dt.timedelta(days=3)
    assert guessed == day
    landed, guessed = PACKAGE.provisional_day(
        lambda d: d.shift(day, Duration(n, working=True)))
    weekdays = sum((day + dt.timedelta(days=i)).weekday() < 5
                   for i in range(1, (landed - day).days + 1))
    assert weekdays == n and guessed is not None and guessed > day


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=D(2027, 1, 1), max_value=D(2027, 12, 31)))
def test_an_added_year_is_exact_and_its_own(day: dt.date) -> None:
    expected = day in YEAR_2027.workdays or (
        day.weekday() < 5 and day not in YEAR_2027.rest_days)
    assert WITH_2027.is_working_day(day) is expected
    assert WITH_2027.provisional_day(lambda d: d.is_working_day(day))[1] is None
    assert PACKAGE.provisional_day(lambda d: d.is_working_day(day))[1] == day
