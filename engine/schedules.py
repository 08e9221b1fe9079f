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

from engine import texts
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
                                          format_path([*path, key]),
                                          texts.t("semantics.calendar.unknown_key", key=key),
                                          texts.t("semantics.calendar.unknown_key.hint",
                                                  keys=texts.listed(known))))


def read_schedule(text: str, source: str) -> YearSchedule:
    """The year's schedule a calendar file holds; CalendarInvalid with every problem if it
    cannot be used."""
    try:
        document = parse(text, source, max_bytes=MAX_BYTES)
    except DocumentError as exc:
        raise CalendarInvalid([_for_calendars(p, text) for p in exc.problems]) from None
    problems = _Problems(document)
    problems.unknown_keys(document, [], _KEYS)
    year = _year(document, problems)
    notice, notice_date = _source(document, problems)
    holidays = _holidays(document, problems, year)
    workdays = _workdays(document, problems, year, holidays)
    if problems.found or year is None or notice is None or notice_date is None:
        raise CalendarInvalid(problems.found)
    return YearSchedule(year, tuple(holidays), frozenset(workdays), notice, notice_date)


def _for_calendars(problem: Problem, text: str) -> Problem:
    """A reading problem worded for a calendar file (the reader words them for campaigns):
    the refusals that tell how a campaign starts (an empty file, or one that is not a mapping
    of keys) tell how a calendar file starts."""
    if "paicha: 1" not in problem.hint:
        return problem
    message = problem.message
    if any(line.strip() and not line.lstrip().startswith(("#", "---", "..."))
           for line in text.splitlines()):
        message = texts.t("semantics.calendar.not_mapping")
    return dataclasses.replace(problem, message=message, hint=texts.t("semantics.calendar.start"))


def _year(document: Mapping, problems: _Problems) -> int | None:
    year = document.get("year")
    if "year" not in document:
        problems.add([], texts.t("semantics.calendar.missing", key="year"),
                     texts.t("semantics.calendar.missing_year.hint"))
    elif isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        problems.add(["year"], texts.t("semantics.calendar.not_a_year", value=year),
                     texts.t("semantics.calendar.not_a_year.hint"))
    else:
        return year
    return None


def _source(document: Mapping, problems: _Problems) -> tuple[str | None, dt.date | None]:
    hint = texts.t("semantics.calendar.source.hint")
    source = document.get("source")
    if "source" not in document:
        problems.add([], texts.t("semantics.calendar.missing_source"), hint)
        return None, None
    if not isinstance(source, Mapping):
        problems.add(["source"], texts.t("semantics.calendar.source_shape"), hint)
        return None, None
    problems.unknown_keys(source, ["source"], _SOURCE_KEYS)
    number = source.get("number")
    if not isinstance(number, str) or not number.strip():
        problems.add(["source", "number"], texts.t("semantics.calendar.missing_number"), hint)
        number = None
    day = parse_date(source.get("date"))
    if day is None:
        problems.add(["source", "date"],
                     texts.t("semantics.calendar.not_a_date", value=source.get("date")),
                     texts.t("semantics.calendar.notice_date.hint"))
    return (number.strip() if number else None), day


def _in_year(day: dt.date, year: int | None) -> bool:
    return year is None or day.year == year


def _holidays(document: Mapping, problems: _Problems, year: int | None) -> list[Holiday]:
    items = document.get("holidays")
    hint = texts.t("semantics.calendar.holidays.hint")
    if "holidays" not in document:
        problems.add([], texts.t("semantics.calendar.missing", key="holidays"), hint)
        return []
    if not isinstance(items, list) or not items:
        problems.add(["holidays"], texts.t("semantics.calendar.holidays_shape"), hint)
        return []
    found: list[Holiday] = []
    seen: dict[dt.date, str] = {}
    for index, item in enumerate(items):
        path: list[str | int] = ["holidays", index]
        if not isinstance(item, Mapping):
            problems.add(path, texts.t("semantics.calendar.holiday_shape"), hint)
            continue
        problems.unknown_keys(item, path, _HOLIDAY_KEYS)
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.add([*path, "name"], texts.t("semantics.calendar.holiday_name"))
            name = None
        days = []
        for key in ("from", "to"):
            day = parse_date(item.get(key))
            if day is None:
                problems.add([*path, key],
                             texts.t("semantics.calendar.not_a_date", value=item.get(key))
                             if key in item else texts.t("semantics.calendar.missing", key=key),
                             texts.t("semantics.write_date"))
            elif not _in_year(day, year):
                problems.add([*path, key],
                             texts.t("semantics.calendar.other_year", day=day, year=year),
                             texts.t("semantics.calendar.holiday_other_year.hint", year=year))
                day = None
            days.append(day)
        first, last = days
        if first is None or last is None or name is None:
            continue
        if last < first:
            problems.add([*path, "to"],
                         texts.t("semantics.calendar.holiday_reversed", first=first, last=last),
                         texts.t("semantics.calendar.holiday_reversed.hint"))
            continue
        if (last - first).days >= _LONGEST_HOLIDAY:
            problems.add([*path, "to"],
                         texts.t("semantics.calendar.holiday_too_long", name=name,
                                 days=(last - first).days + 1),
                         texts.t("semantics.calendar.holiday_too_long.hint"))
            continue
        holiday = Holiday(name.strip(), first, last)
        clash = [day for day in holiday.days() if day in seen]
        if clash:
            problems.add(path, texts.t("semantics.calendar.holiday_clash", day=clash[0],
                                       holiday=seen[clash[0]]),
                         texts.t("semantics.calendar.holiday_clash.hint"))
            continue
        seen.update(dict.fromkeys(holiday.days(), holiday.name))
        found.append(holiday)
    return found


def _workdays(document: Mapping, problems: _Problems, year: int | None,
              holidays: list[Holiday]) -> set[dt.date]:
    items = document.get("workdays", [])
    if not isinstance(items, list):
        problems.add(["workdays"], texts.t("semantics.calendar.workdays_shape"),
                     texts.t("semantics.calendar.workdays_shape.hint"))
        return set()
    off = {day: h.name for h in holidays for day in h.days()}
    found: set[dt.date] = set()
    for index, value in enumerate(items):
        path: list[str | int] = ["workdays", index]
        day = parse_date(value)
        if day is None:
            problems.add(path, texts.t("semantics.calendar.not_a_date", value=value),
                         texts.t("semantics.write_date"))
        elif not _in_year(day, year):
            problems.add(path, texts.t("semantics.calendar.other_year", day=day, year=year),
                         texts.t("semantics.calendar.workday_other_year.hint"))
        elif day in found:
            problems.add(path, texts.t("semantics.calendar.workday_twice", day=day),
                         texts.t("semantics.calendar.workday_twice.hint"))
        elif day in off:
            problems.add(path, texts.t("semantics.calendar.workday_off", day=day,
                                       holiday=off[day]),
                         texts.t("semantics.calendar.workday_off.hint"))
        elif day.weekday() < 5:
            problems.add(path, texts.t("semantics.calendar.workday_weekday", day=day,
                                       weekday=_WEEKDAYS[day.weekday()]),
                         texts.t("semantics.calendar.workday_weekday.hint"))
        else:
            found.add(day)
    return found
