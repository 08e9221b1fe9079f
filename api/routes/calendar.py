"""The statutory calendar: which years are known and from what, and adding a year from the
State Council's notice (admin)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from api.deps import Admin, Caller, ServicesDep, yaml_body
from api.errors import problem_responses
from api.schemas import example
from api.services import Services, run_db
from engine.schedules import MAX_BYTES
from engine.texts import t
from storage import calendars

router = APIRouter(prefix="/calendar", tags=["calendar"])

_EXAMPLE_FILE = ("year: 2027\nsource: {number: 国办发明电〔2026〕N号, date: 2026-11-XX}\n"
                 "holidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n"
                 "workdays: []\n")
_YAML_BODY = {"requestBody": {"required": True, "content": {"application/yaml": {
    "schema": {"type": "string"}, "example": _EXAMPLE_FILE}}}}


class HolidayPublic(BaseModel):
    name: str
    from_: dt.date = Field(alias="from")
    to: dt.date


class CalendarYearPublic(BaseModel):
    model_config = example(year=2026, covered_by="package", source="chinesecalendar 1.11.0",
                           version=None)
    year: int
    covered_by: str = Field(description="`added`: an office added the year's notice (it wins); "
                                        "`package`: the chinesecalendar package")
    source: str = Field(description="the notice (number and date), or the package and version")
    version: int | None = Field(description="the added year's version (each PUT of a changed "
                                            "file adds one)")
    notice: str | None = None
    notice_date: dt.date | None = None
    added_at: dt.datetime | None = None
    added_by: str | None = None
    sha256: str | None = None
    holidays: list[HolidayPublic] | None = None
    workdays: list[dt.date] | None = None


class CalendarPublic(BaseModel):
    model_config = example(data=[{"year": 2026, "covered_by": "package",
                                  "source": "chinesecalendar 1.11.0", "version": None}],
                           refresh_seconds=30)
    data: list[CalendarYearPublic]
    refresh_seconds: float = Field(description="other API processes and sweepers use a newly "
                                               "added year within this many seconds")


class CalendarAdded(BaseModel):
    model_config = example(
        created=True, year={
            "year": 2027, "covered_by": "added", "version": 1,
            "source": "国办发明电〔2026〕N号（2026-11-XX）", "notice": "国办发明电〔2026〕N号",
            "notice_date": "2026-11-20", "added_at": "2026-11-21T01:00:00Z", "added_by": "admin",
            "sha256": "4c1d…", "holidays": [{"name": "元旦", "from": "2027-01-01",
                                             "to": "2027-01-03"}], "workdays": []},
        recompute="dates computed provisionally for the year are recomputed by the "
                  "scheduler's next sweeps; other processes use the year within 30 s")
    created: bool = Field(description="false: the same file was the year's newest version")
    year: CalendarYearPublic
    recompute: str


@router.get("", response_model=CalendarPublic, response_model_by_alias=True,
            responses=problem_responses(401), summary="Each year the statutory calendar "
            "covers, and its source")
def read_calendar(services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        years = calendars.coverage(conn)
    return {"data": years, "refresh_seconds": services.registry.calendars.seconds}


@router.put("/{year}", response_model=CalendarAdded, response_model_by_alias=True,
            status_code=201, responses=problem_responses(401, 403, 422),
            openapi_extra=_YAML_BODY,
            summary="Add a year's statutory holidays and 调休 workdays from the State Council's "
                    "notice (admin)",
            description="The body is the year's calendar file (YAML; docs/cli.md). Every problem "
                        "is reported with its line. Adding the same file again adds nothing "
                        "(200); a changed file is the year's next version. Dates computed "
                        "provisionally for the year are recomputed by the scheduler's next "
                        "sweeps.")
async def add_calendar_year(
    year: Annotated[int, Path(ge=2000, le=2100)], request: Request, response: Response,
    services: ServicesDep, principal: Admin,
) -> Any:
    text = await yaml_body(request, what=t("api.what.calendar_file"), max_bytes=MAX_BYTES)
    # validation and the write off the event loop: the database may wait for its lock
    row, created = await run_db(_add, services, text, year, principal.actor)
    if not created:
        response.status_code = 200
    return {"created": created, "year": row.summary(),
            "recompute": t("api.calendar.recompute",
                           seconds=f"{services.registry.calendars.seconds:g}")}


def _add(services: Services, text: str, year: int, by: str) -> tuple[calendars.YearRow, bool]:
    with services.db.write() as conn:
        added = calendars.add_year(conn, text, f"/calendar/{year}", by=by, now=services.now(),
                                   expected_year=year)
    services.registry.calendars.invalidate()  # this process computes with the year at once
    return added
