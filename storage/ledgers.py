"""Ledgers (台账, 清单) from stored cases: the cases of a campaign in an org's subtree opened in a
date range, read in batches (never all at once), each with its unit and signatures, as the
paper forms' writers (paicha.forms) take them.

Three ledgers, by id: `rectification_ledger` (重大事故隐患整改台账, a sheet per major hazard),
`work_ledger` (问题隐患排查整治工作台账, a line per hazard) and `inspection_list`
(重大事故隐患专项排查清单, a line per major hazard).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Literal

from sqlalchemy import Connection, select

from engine import texts
from engine.access import Principal
from engine.dates import end_of_day
from engine.errors import InputInvalid, NotFound, OutOfScope
from engine.model import Campaign
from engine.texts import listed
from storage.query import prefix_condition, reach
from storage.report_sql import Snapshot, condition
from storage.report_views import recorded_day
from storage.tables import Case, Org, Unit

case_t = Case.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]

LedgerId = Literal["rectification_ledger", "work_ledger", "inspection_list"]
LEDGERS: dict[str, str] = {
    "rectification_ledger": "重大事故隐患整改台账",
    "work_ledger": "问题隐患排查整治工作台账",
    "inspection_list": "重大事故隐患专项排查清单",
}
MAJOR_ONLY = {"rectification_ledger", "inspection_list"}
BATCH = 500
MAX_RANGE_DAYS = 3660


def ledger_title(ledger: str) -> str:
    if ledger not in LEDGERS:
        raise NotFound("ledger", ledger, texts.t("errors.hint.ledgers", ledgers=listed(LEDGERS)))
    return LEDGERS[ledger]


def cases_of(conn: Connection, principal: Principal, campaign: Campaign, ledger: str, *,
             org_path: str, first: dt.date | None, last: dt.date | None,
             ) -> Iterator[Any]:
    """The ledger's cases (rows with their unit's `unit_name` and `industry`) in the org's
    subtree opened between `first` and `last` (local dates, inclusive), oldest first, read
    `BATCH` at a time."""
    # checked now, not when the first case is read: a writer has begun by then
    for day in (first, last):
        if day is not None:
            recorded_day(campaign, day)
    if first is not None and last is not None:
        if last < first:
            raise InputInvalid(texts.t("errors.range.reversed", first=first, last=last),
                               code="bad_range")
        if (last - first).days > MAX_RANGE_DAYS:
            raise InputInvalid(texts.t("errors.range.ledger_too_long"),
                               code="bad_range")
    return _pages(conn, principal, campaign, ledger, org_path=org_path, first=first, last=last)


def _pages(conn: Connection, principal: Principal, campaign: Campaign, ledger: str, *,
           org_path: str, first: dt.date | None, last: dt.date | None) -> Iterator[Any]:
    c = case_t.c
    query = (select(case_t, unit_t.c.name.label("unit_name"), unit_t.c.industry)
             .join(unit_t, unit_t.c.id == c.unit_id)
             .where(c.campaign_id == campaign.id, prefix_condition(c.org_path, org_path),
                    reach(principal, c.org_path, c.unit_id)))
    if ledger in MAJOR_ONLY:
        snap = Snapshot(c.type, c.state, c.final, c.data, c.next_due, c.opened_at,
                        c.updated_at, conn.dialect.name, dt.date.max, campaign.timezone)
        query = query.where(condition(snap, {"grade": "major"}))
    if first is not None:
        query = query.where(c.opened_at >= end_of_day(first - dt.timedelta(days=1),
                                                      campaign.timezone))
    if last is not None:
        query = query.where(c.opened_at < end_of_day(last, campaign.timezone))
    after: tuple[dt.datetime, str] | None = None
    while True:  # keyset pages: a long ledger holds no cursor open between batches
        page = query
        if after is not None:
            page = page.where((c.opened_at > after[0])
                              | ((c.opened_at == after[0]) & (c.id > after[1])))
        rows = conn.execute(page.order_by(c.opened_at, c.id).limit(BATCH)).all()
        yield from rows
        if len(rows) < BATCH:
            return
        after = (rows[-1].opened_at, rows[-1].id)


def one_case(conn: Connection, principal: Principal, case_id: str) -> tuple[Any, Any]:
    """A case row and its unit row, if the caller reaches the case."""
    row = conn.execute(select(case_t).where(case_t.c.id == case_id)).first()
    if row is None:
        raise NotFound("case", case_id, texts.t("errors.hint.cases"))
    if not principal.reaches_unit(row.unit_id, row.org_path):
        raise OutOfScope(texts.t("errors.what.case", id=case_id), principal.scope)
    unit = conn.execute(select(unit_t).where(unit_t.c.id == row.unit_id)).first()
    return row, unit
