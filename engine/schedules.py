"""A year's statutory schedule read from the small YAML file an office types from the State
Council's notice (国务院办公厅关于XXXX年部分节假日安排的通知):

    year: 2027
    source: {number: 国办发明电〔2026〕N号, date: 2026-11-XX}
    holidays:
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
      - …
    workdays: [2027-02-XX, …]        # weekend days that are working days (调休)

Validation reports every problem at once, each with its line and JSON path, as for campaigns:
dates inside the year, no day both a holiday and a working day, only Saturdays and Sundays
named as working days, no day twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from engine.document import DocumentError, Mapping, format_path, locate, parse
from engine.errors import CalendarInvalid, Problem
from engine.values import parse_date
from engine.workdays import Holiday, YearSchedule

# A notice is a page; a file much larger than this is not one.
MAX_BYTES = 64 * 1024
_KEYS = ("year", "source", "holidays", "workdays")
_HOLIDAY_KEYS = ("name", "from", "to")
_SOURCE_KEYS = ("number", "date")
_LONGEST_HOLIDAY = 31  # days; the longest ever published is 8 (春节, 国庆)
_WEEKDAYS = "一二三四五六日"


class _Problems:
    def __init__(self, document: Mapping) -> None:
        self.document = document
        self.found: list[Problem] = []

    def add(self, path: list[str | int], message: str, hint: str = "") -> None:
        mark = locate(self.document, path)
        self.found.append(Problem(mark.source, mark.line, mark.column, format_path(path),
                                  message, hint))

    def unknown_keys(self, node: Mapping, path: list[str | int], known: tuple[str, ...]) -> None:
        for key in node:
            if key not in known:
                mark = node.key_marks[key]
                self.found.append(Problem(mark.source, mark.line, mark.column,
                                          format_path([*path, key]), f"unknown key {key!r}",
                                          f"the keys here are {', '.join(known)}"))


def read_schedule(text: str, source: str) -> YearSchedule:
    """The year's schedule a calendar file holds; CalendarInvalid with every problem if it
    cannot be used."""
    try:
        document = parse(text, source, max_bytes=MAX_BYTES)
    except DocumentError as exc:
        raise CalendarInvalid([_for_calendars(p) for p in exc.problems]) from None
    problems = _Problems(document)
    problems.unknown_keys(document, [], _KEYS)
    year = _year(document, problems)
    notice, notice_date = _source(document, problems)
    holidays = _holidays(document, problems, year)
    workdays = _workdays(document, problems, year, holidays)
    if problems.found or year is None or notice is None or notice_date is None:
        raise CalendarInvalid(problems.found)
    return YearSchedule(year, tuple(holidays), frozenset(workdays), notice, notice_date)


def _for_calendars(problem: Problem) -> Problem:
    """A reading problem worded for a calendar file (the reader words them for campaigns)."""
    if "paicha: 1" not in problem.hint:
        return problem
    message = problem.message.replace("a campaign must", "a calendar file must")
    return dataclasses.replace(problem, message=message,
                               hint="start with `year:`, `source:`, `holidays:`, `workdays:`")


def _year(document: Mapping, problems: _Problems) -> int | None:
    year = document.get("year")
    if "year" not in document:
        problems.add([], "missing `year`", "write the year the notice is for: `year: 2027`")
    elif isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        problems.add(["year"], f"{year!r} is not a year", "write it as a number: `year: 2027`")
    else:
        return year
    return None


def _source(document: Mapping, problems: _Problems) -> tuple[str | None, dt.date | None]:
    hint = "name the notice: `source: {number: 国办发明电〔2026〕N号, date: 2026-11-XX}`"
    source = document.get("source")
    if "source" not in document:
        problems.add([], "missing `source`: the State Council notice this schedule is from", hint)
        return None, None
    if not isinstance(source, Mapping):
        problems.add(["source"], "`source` must give the notice's number and date", hint)
        return None, None
    problems.unknown_keys(source, ["source"], _SOURCE_KEYS)
    number = source.get("number")
    if not isinstance(number, str) or not number.strip():
        problems.add(["source", "number"], "missing the notice's number (文号)", hint)
        number = None
    day = parse_date(source.get("date"))
    if day is None:
        problems.add(["source", "date"], f"{source.get('date')!r} is not a date",
                     "write the day the notice was issued, YYYY-MM-DD")
    return (number.strip() if number else None), day


def _in_year(day: dt.date, year: int | None) -> bool:
    return year is None or day.year == year


def _holidays(document: Mapping, problems: _Problems, year: int | None) -> list[Holiday]:
    items = document.get("holidays")
    hint = "list each holiday: `- {name: 春节, from: 2027-02-XX, to: 2027-02-XX}`"
    if "holidays" not in document:
        problems.add([], "missing `holidays`", hint)
        return []
    if not isinstance(items, list) or not items:
        problems.add(["holidays"], "`holidays` must be a list of the notice's holidays", hint)
        return []
    found: list[Holiday] = []
    seen: dict[dt.date, str] = {}
    for index, item in enumerate(items):
        path: list[str | int] = ["holidays", index]
        if not isinstance(item, Mapping):
            problems.add(path, "each holiday is `{name: …, from: …, to: …}`", hint)
            continue
        problems.unknown_keys(item, path, _HOLIDAY_KEYS)
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.add([*path, "name"], "a holiday needs its name (元旦, 春节 …)")
            name = None
        days = []
        for key in ("from", "to"):
            day = parse_date(item.get(key))
            if day is None:
                problems.add([*path, key], f"{item.get(key)!r} is not a date"
                             if key in item else f"missing `{key}`", "write YYYY-MM-DD")
            elif not _in_year(day, year):
                problems.add([*path, key], f"{day} is not in {year}",
                             f"a file holds one year: write only the holiday's days in {year} "
                             "(a 元旦 that starts on 12-30 of the year before starts here on "
                             "01-01)")
                day = None
            days.append(day)
        first, last = days
        if first is None or last is None or name is None:
            continue
        if last < first:
            problems.add([*path, "to"], f"the holiday ends ({last}) before it starts ({first})",
                         "`from` is the first day off, `to` the last")
            continue
        if (last - first).days >= _LONGEST_HOLIDAY:
            problems.add([*path, "to"], f"{name} lasts {(last - first).days + 1} days",
                         "check the dates: no holiday is that long")
            continue
        holiday = Holiday(name.strip(), first, last)
        clash = [day for day in holiday.days() if day in seen]
        if clash:
            problems.add(path, f"{clash[0]} is already a day of {seen[clash[0]]}",
                         "each day off belongs to one holiday")
            continue
        seen.update(dict.fromkeys(holiday.days(), holiday.name))
        found.append(holiday)
    return found


def _workdays(document: Mapping, problems: _Problems, year: int | None,
              holidays: list[Holiday]) -> set[dt.date]:
    items = document.get("workdays", [])
    if not isinstance(items, list):
        problems.add(["workdays"], "`workdays` must be a list of dates",
                     "the weekend days the notice makes working days: `[2027-02-XX, …]`")
        return set()
    off = {day: h.name for h in holidays for day in h.days()}
    found: set[dt.date] = set()
    for index, value in enumerate(items):
        path: list[str | int] = ["workdays", index]
        day = parse_date(value)
        if day is None:
            problems.add(path, f"{value!r} is not a date", "write YYYY-MM-DD")
        elif not _in_year(day, year):
            problems.add(path, f"{day} is not in {year}", "a file holds one year")
        elif day in found:
            problems.add(path, f"{day} is listed twice", "list each working day once")
        elif day in off:
            problems.add(path, f"{day} is both a working day and a day of {off[day]}",
                         "a day is either off or worked: check the notice")
        elif day.weekday() < 5:
            problems.add(path, f"{day} is a 周{_WEEKDAYS[day.weekday()]}, a working day anyway",
                         "list only the Saturdays and Sundays the notice makes working days "
                         "(调休上班)")
        else:
            found.add(day)
    return found
