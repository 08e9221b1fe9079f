"""A year's calendar file: read into the year's schedule, or refused with every problem, each
with its line and JSON path (as a campaign is)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.errors import CalendarInvalid
from engine.schedules import read_schedule

DATA = Path(__file__).resolve().parents[1] / "data" / "calendars"


def problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(CalendarInvalid) as refused:
        read_schedule(text, "2027.yaml")
    return [(p.line, p.path, p.message) for p in refused.value.problems]


def test_a_well_formed_file_is_the_year_s_schedule() -> None:
    year = read_schedule((DATA / "2027-test.yaml").read_text(encoding="utf-8"), "2027.yaml")
    assert (year.year, year.notice, year.notice_date) == (
        2027, "测试用（非国务院通知）", dt.date(2026, 11, 1))
    assert [h.name for h in year.holidays][:2] == ["元旦", "春节"]
    assert dt.date(2027, 2, 10) in year.rest_days and dt.date(2027, 2, 14) in year.workdays
    assert year.is_working_day(dt.date(2027, 2, 14)) and not year.is_working_day(
        dt.date(2027, 2, 8))


def test_a_malformed_file_gets_every_problem_with_its_line() -> None:
    found = problems((DATA / "2027-broken.yaml").read_text(encoding="utf-8"))
    assert [(line, path) for line, path, _ in found] == [
        (3, "$.source.date"), (6, "$.holidays[1].to"), (7, "$.holidays[2].to"),
        (8, "$.holidays[3]"), (9, "$.holidays[4].name"), (9, "$.holidays[4].days"),
        (10, "$.workdays[0]"), (10, "$.workdays[1]"), (10, "$.workdays[3]"),
        (10, "$.workdays[4]"), (10, "$.workdays[5]")]
    messages = [message for _, _, message in found]
    assert "the holiday ends (2027-02-06) before it starts (2027-02-13)" in messages
    assert "2028-10-07 is not in 2027" in messages
    assert "2027-01-03 is already a day of 元旦" in messages
    assert "2027-02-15 is a 周一, a working day anyway" in messages
    assert "2027-01-02 is both a working day and a day of 元旦" in messages
    assert "2027-02-14 is listed twice" in messages


def test_missing_parts_and_wrong_shapes_are_named() -> None:
    assert problems("year: 2027\n") == [
        (1, "$", "missing `holidays`"),
        (1, "$", "missing `source`: the State Council notice this schedule is from")]
    found = problems("year: twenty\nsource: 国办发明电\nholidays: {}\nworkdays: 2027-02-14\n"
                     "extra: 1\n")
    assert [(line, path) for line, path, _ in found] == [
        (1, "$.year"), (2, "$.source"), (3, "$.holidays"), (4, "$.workdays"), (5, "$.extra")]
    assert problems("- 2027\n") == [(1, "$", "a calendar file must be a mapping of keys")]
    assert problems("") == [(1, "$", "the file is empty")]


def test_a_year_file_too_large_is_refused_before_it_is_read() -> None:
    found = problems("year: 2027\n" + "# 注释\n" * 20_000)
    assert found[0][2].startswith("file is larger than")
