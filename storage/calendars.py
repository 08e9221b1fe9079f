"""Calendar years offices add: each a version of a year's statutory schedule, validated by
engine.schedules, audited (stream `calendar:<year>`), and read back as the StatutoryCalendar
the core computes with.

Every process keeps the calendar it read in a `CalendarCache` and looks again for a newer
version at most every PAICHA_CALENDAR_REFRESH_SECONDS (default 30): an API replica or a sweeper
that did not add a year picks it up within that bound; the process that added it at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, select

from engine import texts
from engine.document import locate, parse
from engine.errors import CalendarInvalid, Problem
from engine.schedules import read_schedule
from engine.workdays import PACKAGE_YEARS, Holiday, StatutoryCalendar, YearSchedule, package_version
from storage import audit
from storage.tables import CalendarYear

calendar_t = CalendarYear.__table__  # type: ignore[attr-defined]

DEFAULT_REFRESH_SECONDS = 30.0


def refresh_seconds() -> float:
    """How long a process trusts the calendar it read ($PAICHA_CALENDAR_REFRESH_SECONDS)."""
    return float(os.environ.get("PAICHA_CALENDAR_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS))


@dataclass(frozen=True)
class YearRow:
    """One added version of a year."""

    id: int
    year: int
    version: int
    notice: str
    notice_date: dt.date
    sha256: str
    added_at: dt.datetime
    added_by: str
    schedule: YearSchedule

    def summary(self) -> dict[str, Any]:
        s = self.schedule
        return {"year": self.year, "covered_by": "added", "version": self.version,
                "source": s.source, "notice": self.notice, "notice_date": self.notice_date,
                "added_at": self.added_at, "added_by": self.added_by, "sha256": self.sha256,
                "holidays": [{"name": h.name, "from": h.first, "to": h.last}
                             for h in s.holidays],
                "workdays": sorted(s.workdays)}


def _schedule_json(schedule: YearSchedule) -> dict[str, Any]:
    return {"holidays": [{"name": h.name, "from": h.first.isoformat(), "to": h.last.isoformat()}
                         for h in schedule.holidays],
            "workdays": sorted(day.isoformat() for day in schedule.workdays)}


def _row(found: Any) -> YearRow:
    data = found.schedule
    schedule = YearSchedule(
        found.year,
        tuple(Holiday(h["name"], dt.date.fromisoformat(h["from"]),
                      dt.date.fromisoformat(h["to"])) for h in data["holidays"]),
        frozenset(dt.date.fromisoformat(d) for d in data["workdays"]),
        found.notice, found.notice_date)
    return YearRow(found.id, found.year, found.version, found.notice, found.notice_date,
                   found.sha256, found.added_at, found.added_by, schedule)


def newest(conn: Connection) -> list[YearRow]:
    """The newest version of every added year, by year (there are a few dozen at most)."""
    latest = (select(calendar_t.c.year, func.max(calendar_t.c.version).label("v"))
              .group_by(calendar_t.c.year).subquery())
    rows = conn.execute(select(calendar_t).join(
        latest, (calendar_t.c.year == latest.c.year) & (calendar_t.c.version == latest.c.v))
        .order_by(calendar_t.c.year))
    return [_row(r) for r in rows]


def stamp(conn: Connection) -> int:
    """A number that grows with every version added: whether a cached calendar is current."""
    return int(conn.execute(select(func.max(calendar_t.c.id))).scalar() or 0)


def statutory(conn: Connection) -> StatutoryCalendar:
    """The statutory calendar: the added years (newest versions), then the package's."""
    return StatutoryCalendar(row.schedule for row in newest(conn))


def _year_mismatch(text: str, source: str, year: int, expected: int) -> CalendarInvalid:
    document = parse(text, source)
    mark = locate(document, ["year"])
    return CalendarInvalid([Problem(
        mark.source, mark.line, mark.column, "$.year",
        texts.t("errors.calendar.year_mismatch", year=year, expected=expected),
        texts.t("errors.calendar.year_mismatch.hint", year=year))])


def add_year(conn: Connection, text: str, source: str, *, by: str, now: dt.datetime,
             expected_year: int | None = None) -> tuple[YearRow, bool]:
    """Add a calendar file's year as its next version; (row, created). The same text as the
    year's newest version adds nothing. CalendarInvalid with every problem otherwise."""
    schedule = read_schedule(text, source)
    if expected_year is not None and schedule.year != expected_year:
        raise _year_mismatch(text, source, schedule.year, expected_year)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    current = conn.execute(select(calendar_t).where(calendar_t.c.year == schedule.year)
                           .order_by(calendar_t.c.version.desc()).limit(1)).one_or_none()
    if current is not None and current.sha256 == digest:
        return _row(current), False
    version = 1 if current is None else current.version + 1
    new_id = conn.execute(insert(calendar_t).values(
        year=schedule.year, version=version, notice=schedule.notice,
        notice_date=schedule.notice_date, schedule=_schedule_json(schedule), text=text,
        sha256=digest, added_at=now, added_by=by).returning(calendar_t.c.id)).scalar_one()
    audit.append(conn, stream=f"calendar:{schedule.year}", at=now, actor=by, role=None,
                 action="add", data={"version": version, "sha256": digest,
                                     "source": schedule.source, **_schedule_json(schedule)})
    return _row(conn.execute(select(calendar_t).where(calendar_t.c.id == new_id)).one()), True


def add_folder(conn: Connection, folder: Path, *, by: str, now: dt.datetime
               ) -> list[tuple[YearRow, bool]]:
    """Add the calendar files bundled in `folder` (years the package lacks, once published)
    whose text is not their year's newest version yet. A year an office added with another
    text stays as the office added it: a bundled file only fills a year nobody added."""
    done: list[tuple[YearRow, bool]] = []
    if not folder.is_dir():
        return done
    added = {row.year for row in newest(conn)}
    for path in sorted(folder.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        year = read_schedule(text, f"campaigns/calendars/{path.name}").year
        if year not in added:
            done.append(add_year(conn, text, f"campaigns/calendars/{path.name}", by=by,
                                 now=now))
    return done


def coverage(conn: Connection) -> list[dict[str, Any]]:
    """Every year the statutory calendar knows, with what covers it: an added notice (which
    wins) or the chinesecalendar package."""
    added = {row.year: row.summary() for row in newest(conn)}
    package = f"chinesecalendar {package_version()}"
    years = [added.get(year) or {"year": year, "covered_by": "package", "source": package,
                                 "version": None}
             for year in sorted(PACKAGE_YEARS | set(added))]
    return years


class CalendarCache:
    """The statutory calendar as last read from the database, trusted for `seconds`."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = refresh_seconds() if seconds is None else seconds
        self._lock = threading.Lock()
        self._stamp = -1
        self._calendar = StatutoryCalendar()
        self._checked = float("-inf")

    def current(self, conn: Connection) -> tuple[int, StatutoryCalendar]:
        """(stamp, calendar): read again when older than the bound and a year was added."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked < self.seconds:
                return self._stamp, self._calendar
        latest = stamp(conn)
        with self._lock:
            if latest != self._stamp:
                self._calendar = statutory(conn)
                self._stamp = latest
            self._checked = now
            return self._stamp, self._calendar

    def invalidate(self) -> None:
        """Look again at the next use (after this process added a year)."""
        with self._lock:
            self._checked = float("-inf")
