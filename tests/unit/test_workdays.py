"""The statutory calendar as a value: an added year wins over the package, a year nobody covers
follows the weekend rule, and what covers which year is told, not hidden."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar

from engine.dates import Deadlines
from engine.model import Duration
from engine.schedules import read_schedule
from engine.workdays import PACKAGE_YEARS, StatutoryCalendar, YearSchedule

D = dt.date
DATA = Path(__file__).resolve().parents[1] / "data" / "calendars"


def schedule(name: str) -> YearSchedule:
    return read_schedule((DATA / name).read_text(encoding="utf-8"), name)


def test_an_added_year_wins_over_the_package() -> None:
    override = schedule("2026-override.yaml")
    calendar = StatutoryCalendar([override])
    # the package: Thursday 2026-12-31 is worked, Sunday 2026-12-27 is not
    assert chinese_calendar.is_workday(D(2026, 12, 31))
    assert not chinese_calendar.is_workday(D(2026, 12, 27))
    assert not calendar.is_working_day(D(2026, 12, 31))
    assert calendar.is_working_day(D(2026, 12, 27))
    # every other day of 2026 answers as before
    day = D(2026, 1, 1)
    while day.year == 2026:
        if day not in (D(2026, 12, 31), D(2026, 12, 27)):
            assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)
    deadlines = Deadlines(calendar)
    # a deadline on the added holiday rolls into 2027, which nobody covers: provisional
    assert deadlines.provisional_day(lambda d: d.finish(D(2026, 12, 31))) == (
        D(2027, 1, 1), D(2027, 1, 1))
    # the year before it stays the package's
    assert deadlines.finish(D(2025, 12, 31)) == D(2025, 12, 31)


def test_coverage_is_the_package_s_years_and_the_added_ones() -> None:
    assert min(PACKAGE_YEARS) == 2004 and 2026 in PACKAGE_YEARS and 2027 not in PACKAGE_YEARS
    plain = StatutoryCalendar()
    assert plain.covers(2026) and not plain.covers(2027)
    assert plain.first_uncovered(D(2026, 12, 1), D(2027, 2, 1)) == D(2027, 1, 1)
    assert plain.first_uncovered(D(2027, 3, 5), D(2027, 2, 1)) == D(2027, 2, 1)
    assert plain.first_uncovered(D(2023, 1, 1), D(2026, 12, 31)) is None
    added = StatutoryCalendar([schedule("2027-test.yaml")])
    assert added.covers(2027) and added.first_uncovered(D(2026, 12, 1), D(2027, 2, 1)) is None
    assert added.first_uncovered(D(2027, 12, 1), D(2028, 1, 9)) == D(2028, 1, 1)
    # as it was before 2027 was added: what a provisional date was computed with
    before = added.omitting([2027])
    assert not before.covers(2027) and before.is_working_day(D(2027, 2, 8))
    assert not added.is_working_day(D(2027, 2, 8))  # 春节 in the test file
    assert added.is_working_day(D(2027, 2, 14))  # a Sunday worked (调休)


def test_working_days_are_counted_across_the_year_end_on_the_added_year() -> None:
    deadlines = Deadlines(StatutoryCalendar([schedule("2027-test.yaml")]))
    # from Wednesday 2026-12-30, three working days: 12-31, then 元旦 01-01..03 off, 01-04, 01-05
    assert deadlines.provisional_day(
        lambda d: d.shift(D(2026, 12, 30), Duration(3, working=True))) == (D(2027, 1, 5), None)
    weekend_only = Deadlines(StatutoryCalendar())
    # by the weekend rule 2027-01-01 (a Friday) would count: provisional, and a day earlier
    assert weekend_only.provisional_day(
        lambda d: d.shift(D(2026, 12, 30), Duration(3, working=True))) == (
        D(2027, 1, 4), D(2027, 1, 1))
