"""Deadline arithmetic on the statutory calendar: periods, day-of-period dues, shifts, rolling.

Every expected date below was worked out from the State Council's holiday notices for 2023–2026
and cross-checked with `chinese_calendar.is_workday`, not taken from the code under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.dates import (
    Deadlines,
    Period,
    end_of_day,
    last_day_of_month,
    local_date,
    period_containing,
    periods,
)
from engine.model import Campaign, DateRef, Duration, PeriodDue, Phase, Recurrence
from engine.workdays import EveryDayCalendar, StatutoryCalendar

D = dt.date
CN = Deadlines(StatutoryCalendar())
CN_AS_WRITTEN = Deadlines(StatutoryCalendar(), roll=False)
EVERY_DAY = Deadlines(EveryDayCalendar())
MONTHS: dict[Recurrence, int] = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def month(year: int, number: int) -> Period:
    return period_containing("month", D(year, number, 1))


# ── the statutory calendar ─────────────────────────────────────────────────────────────────


def test_spring_festival_2024_holiday_and_make_up_days() -> None:
    # 国办发明电〔2023〕7号: 2月10日至17日放假调休，共8天；2月4日（星期日）、2月18日（星期日）上班
    for day in range(10, 18):
        assert not CN.is_working_day(D(2024, 2, day)), f"2024-02-{day} is a holiday"
    assert CN.is_working_day(D(2024, 2, 4)) and D(2024, 2, 4).weekday() == 6
    assert CN.is_working_day(D(2024, 2, 18)) and D(2024, 2, 18).weekday() == 6
    assert not CN.is_working_day(D(2024, 2, 3))  # an ordinary Saturday
    assert CN.finish(D(2024, 2, 10)) == D(2024, 2, 18)
    assert CN.finish(D(2024, 2, 17)) == D(2024, 2, 18)
    assert CN.finish(D(2024, 2, 3)) == D(2024, 2, 4)  # Saturday rolls to the make-up Sunday
    assert CN.shift(D(2024, 2, 8), Duration(1, working=True)) == D(2024, 2, 9)
    assert CN.shift(D(2024, 2, 9), Duration(1, working=True)) == D(2024, 2, 18)
    assert CN.shift(D(2024, 2, 9), Duration(2, working=True)) == D(2024, 2, 19)
    assert CN.shift(D(2024, 2, 18), Duration(-1, working=True)) == D(2024, 2, 9)


def test_national_day_2023_holiday_and_make_up_days() -> None:
    # 中秋国庆: 9月29日至10月6日放假调休，共8天；10月7日（星期六）、10月8日（星期日）上班
    for day in (D(2023, 9, 29), D(2023, 9, 30), *(D(2023, 10, d) for d in range(1, 7))):
        assert not CN.is_working_day(day), day
    assert CN.is_working_day(D(2023, 10, 7)) and CN.is_working_day(D(2023, 10, 8))
    assert CN.finish(D(2023, 9, 30)) == D(2023, 10, 7)
    assert CN.shift(D(2023, 9, 28), Duration(1, working=True)) == D(2023, 10, 7)
    assert CN.shift(D(2023, 9, 28), Duration(3, working=True)) == D(2023, 10, 9)
    # calendar days ignore the holiday; the deadline then rolls
    assert CN.after(D(2023, 9, 27), Duration(3)) == D(2023, 10, 7)


def test_new_year_2024_rolls_a_sunday_deadline_past_the_holiday() -> None:
    assert D(2023, 12, 31).weekday() == 6 and not CN.is_working_day(D(2024, 1, 1))
    assert CN.finish(D(2023, 12, 31)) == D(2024, 1, 2)
    assert CN.in_period(month(2023, 12), None) == D(2024, 1, 2)
    assert CN.in_period(period_containing("quarter", D(2023, 11, 1)), None) == D(2024, 1, 2)


def test_make_up_saturday_2026_02_28_is_a_working_day() -> None:
    # 2026 春节: 2月15日至23日放假；2月14日（星期六）、2月28日（星期六）上班
    assert CN.in_period(month(2026, 2), None) == D(2026, 2, 28)
    assert not CN.is_working_day(D(2026, 2, 23)) and CN.finish(D(2026, 2, 23)) == D(2026, 2, 24)


def test_rolling_can_be_turned_off_by_the_campaign_or_the_deadline() -> None:
    assert CN_AS_WRITTEN.finish(D(2023, 12, 31)) == D(2023, 12, 31)
    assert CN_AS_WRITTEN.finish(D(2023, 12, 31), roll=True) == D(2024, 1, 2)
    assert CN.finish(D(2023, 12, 31), roll=False) == D(2023, 12, 31)
    assert CN.in_period(month(2023, 5), PeriodDue(day=28, roll=False)) == D(2023, 5, 28)
    assert EVERY_DAY.finish(D(2023, 12, 31)) == D(2023, 12, 31)


def test_a_year_nobody_covers_is_counted_monday_to_friday_and_said_so() -> None:
    # 2099 (and 1999) are in no schedule: the weekend rule answers, never an error
    assert CN.finish(D(2099, 1, 3)) == D(2099, 1, 5)  # Saturday -> Monday
    assert CN.is_working_day(D(2099, 1, 1))  # a Thursday; New Year is not guessed
    assert CN.finish(D(1999, 10, 1)) == D(1999, 10, 1)
    due, guessed = CN.provisional_day(lambda d: d.finish(D(2099, 1, 3)))
    assert (due, guessed) == (D(2099, 1, 5), D(2099, 1, 3))
    # a computation inside the known years is exact
    assert CN.provisional_day(lambda d: d.finish(D(2023, 12, 31))) == (D(2024, 1, 2), None)
    # rolling from 2026-12-31 (a Thursday, a working day) looks at no day of 2027
    assert CN.provisional_day(lambda d: d.finish(D(2026, 12, 31)))[1] is None
    assert CN.provisional_day(lambda d: d.shift(D(2026, 12, 31), Duration(1, working=True))
                              ) == (D(2027, 1, 1), D(2027, 1, 1))
    assert EVERY_DAY.finish(D(2100, 1, 2)) == D(2100, 1, 2)
    assert EVERY_DAY.provisional_day(lambda d: d.finish(D(2100, 1, 2)))[1] is None


def test_working_day_helpers() -> None:
    assert CN.next_working_day(D(2023, 10, 1)) == D(2023, 10, 7)
    assert CN.previous_working_day(D(2023, 10, 1)) == D(2023, 9, 28)
    assert CN.previous_working_day(D(2023, 10, 9)) == D(2023, 10, 9)


# ── periods ────────────────────────────────────────────────────────────────────────────────


def test_period_labels_and_bounds() -> None:
    q3 = period_containing("quarter", D(2023, 8, 15))
    assert (q3.first, q3.last, q3.label) == (D(2023, 7, 1), D(2023, 9, 30), "2023Q3")
    h2 = period_containing("half_year", D(2024, 7, 1))
    assert (h2.first, h2.last, h2.label) == (D(2024, 7, 1), D(2024, 12, 31), "2024H2")
    feb = period_containing("month", D(2024, 2, 10))
    assert (feb.last, feb.label) == (D(2024, 2, 29), "2024-02")
    year = period_containing("year", D(2025, 3, 3))
    assert (year.first, year.last, year.label) == (D(2025, 1, 1), D(2025, 12, 31), "2025")
    # ISO weeks: 2024-12-30 (Monday) belongs to 2025-W01
    week = period_containing("week", D(2025, 1, 1))
    assert (week.first, week.last, week.label) == (D(2024, 12, 30), D(2025, 1, 5), "2025-W01")


def test_periods_are_every_calendar_period_overlapping_the_window() -> None:
    assert [p.label for p in periods("quarter", D(2023, 5, 1), D(2023, 12, 31))] == [
        "2023Q2", "2023Q3", "2023Q4"]  # fmt: skip
    assert [p.label for p in periods("month", D(2023, 5, 15), D(2023, 7, 1))] == [
        "2023-05", "2023-06", "2023-07"]  # fmt: skip
    assert [p.label for p in periods("half_year", D(2024, 1, 1), D(2026, 12, 31))] == [
        "2024H1", "2024H2", "2025H1", "2025H2", "2026H1", "2026H2"]  # fmt: skip
    assert len(periods("month", D(2024, 4, 1), D(2026, 12, 31))) == 33


def test_an_empty_window_has_no_periods() -> None:
    assert periods("month", D(2023, 6, 15), D(2023, 6, 1)) == []


# ── day-of-period deadlines ────────────────────────────────────────────────────────────────


def test_day_31_in_a_30_day_month_is_the_last_day() -> None:
    assert EVERY_DAY.in_period(month(2023, 6), PeriodDue(day=31)) == D(2023, 6, 30)
    assert EVERY_DAY.in_period(month(2023, 2), PeriodDue(day=30)) == D(2023, 2, 28)
    assert EVERY_DAY.in_period(month(2024, 2), PeriodDue(day=31)) == D(2024, 2, 29)
    assert last_day_of_month(2100, 2) == D(2100, 2, 28)  # not a leap year
    # on the statutory calendar the clamped day still rolls: 2023-09-30 → 2023-10-07
    assert CN.in_period(month(2023, 9), PeriodDue(day=31)) == D(2023, 10, 7)


def test_day_of_period_forms() -> None:
    q3 = period_containing("quarter", D(2023, 7, 1))
    assert CN.in_period(q3, PeriodDue(day=28)) == D(2023, 9, 28)
    assert CN.in_period(q3, PeriodDue(day=10, month=2)) == D(2023, 8, 10)
    assert CN.in_period(q3, PeriodDue(day="last", month=1)) == D(2023, 7, 31)
    # 每月15日前报上月: December's report is due in January
    assert CN.in_period(month(2023, 12), PeriodDue(day=15, month="next")) == D(2024, 1, 15)
    # 每年6月10日和12月10日前: 2024-06-10 is 端午 (Monday) → Tuesday 06-11
    h1 = period_containing("half_year", D(2024, 1, 1))
    assert CN.in_period(h1, PeriodDue(day=10)) == D(2024, 6, 11)
    # 每月28日前: 2023-05-28 Sunday → 05-29; 2023-10-28 Saturday → 10-30
    assert CN.in_period(month(2023, 5), PeriodDue(day=28)) == D(2023, 5, 29)
    assert CN.in_period(month(2023, 10), PeriodDue(day=28)) == D(2023, 10, 30)
    # a week is due on its Sunday, rolled: 2023-W39 ends 10-01 in the National Day holiday
    week = period_containing("week", D(2023, 9, 27))
    assert CN.in_period(week, PeriodDue(day=5)) == D(2023, 10, 7)


def test_one_off_deadlines_resolve_dates_and_phase_ends() -> None:
    campaign = Campaign(
        id="c", title="c", period_start=D(2023, 5, 1), period_end=D(2023, 12, 31),
        phases=(Phase("mobilize", "动员部署", D(2023, 5, 20)),),
    )  # fmt: skip
    assert CN.resolve(DateRef(phase="mobilize"), campaign) == D(2023, 5, 22)
    assert CN.resolve(DateRef(phase="mobilize", roll=False), campaign) == D(2023, 5, 20)
    # 3d from Saturday 05-20: 05-23 (Tuesday); 3wd: Mon 22, Tue 23, Wed 24
    assert CN.resolve(DateRef(phase="mobilize", after=Duration(3)), campaign) == D(2023, 5, 23)
    after_3wd = DateRef(phase="mobilize", after=Duration(3, working=True))
    assert CN.resolve(after_3wd, campaign) == D(2023, 5, 24)
    assert CN.resolve(DateRef(date=D(2023, 8, 5)), campaign) == D(2023, 8, 7)
    with pytest.raises(ValueError):
        CN.resolve(DateRef(), campaign)


def test_instants_in_the_campaign_time_zone() -> None:
    end = end_of_day(D(2023, 5, 22), "Asia/Shanghai")
    assert end == dt.datetime(2023, 5, 22, 16, 0, tzinfo=dt.UTC)
    assert local_date(dt.datetime(2023, 5, 22, 16, 30, tzinfo=dt.UTC), "Asia/Shanghai") == D(
        2023, 5, 23
    )
    with pytest.raises(ValueError):
        local_date(dt.datetime(2023, 5, 22, 16, 30), "Asia/Shanghai")


# ── properties ─────────────────────────────────────────────────────────────────────────────

# far enough inside the calendar's years that a shift of 40 working days stays inside them
covered_days = st.dates(min_value=D(2004, 3, 1), max_value=D(2026, 10, 31))


def working_days_between(after: dt.date, through: dt.date) -> int:
    """Working days in (after, through], counted with chinese_calendar directly."""
    count, day = 0, after
    while day < through:
        day += dt.timedelta(days=1)
        count += bool(chinese_calendar.is_workday(day))
    return count


@settings(max_examples=300)
@given(start=covered_days, n=st.integers(min_value=1, max_value=40))
def test_shifting_by_working_days_counts_exactly_n_after_the_start(start: dt.date, n: int) -> None:
    landed = CN.shift(start, Duration(n, working=True))
    assert landed > start
    assert chinese_calendar.is_workday(landed)
    assert working_days_between(start, landed) == n  # the start day itself is never counted


@settings(max_examples=200)
@given(start=covered_days, n=st.integers(min_value=1, max_value=40))
def test_shifting_back_by_working_days_mirrors_forward(start: dt.date, n: int) -> None:
    landed = CN.shift(start, Duration(-n, working=True))
    assert landed < start and chinese_calendar.is_workday(landed)
    assert working_days_between(landed - dt.timedelta(days=1), start - dt.timedelta(days=1)) == n


@settings(max_examples=300)
@given(day=covered_days)
def test_finish_is_idempotent_and_never_moves_a_working_day(day: dt.date) -> None:
    finished = CN.finish(day)
    assert CN.finish(finished) == finished
    assert finished >= day and chinese_calendar.is_workday(finished)
    if chinese_calendar.is_workday(day):
        assert finished == day
    else:
        # nothing in between is a working day: it moved to the first one
        assert working_days_between(day, finished - dt.timedelta(days=1)) == 0


period_kinds = st.sampled_from(["month", "quarter", "half_year", "year"])


@st.composite
def period_dues(draw: st.DrawFn) -> tuple[Period, PeriodDue]:
    every: Recurrence = draw(period_kinds)
    # the following month of a year ending in 2025 is still inside the calendar
    period = period_containing(every, draw(st.dates(D(2004, 1, 1), D(2025, 12, 31))))
    day: int | Literal["last"] = draw(st.one_of(st.integers(1, 31), st.just("last")))
    months = MONTHS[every]
    which: int | Literal["last", "next"] = draw(
        st.one_of(st.integers(1, months), st.sampled_from(["last", "next"]))
    )
    return period, PeriodDue(day=day, month=which)


@settings(max_examples=300)
@given(case=period_dues())
def test_in_period_lies_within_or_after_its_period(case: tuple[Period, PeriodDue]) -> None:
    period, due = case
    written = CN_AS_WRITTEN.in_period(period, due)
    rolled = CN.in_period(period, due)
    assert rolled == CN.finish(written) and rolled >= written >= period.first
    if due.month == "next":
        following = period.last + dt.timedelta(days=1)
        assert (written.year, written.month) == (following.year, following.month)
    else:
        assert written <= period.last
        if due.day == "last":
            assert written == last_day_of_month(written.year, written.month)
