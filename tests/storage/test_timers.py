"""Stopping a clock cancels exactly its pending timers, found by their keys on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import insert, select

from storage import timers
from storage.db import Database
from storage.tables import Timer

timer_t = Timer.__table__  # type: ignore[attr-defined]
AT = dt.datetime(2024, 3, 29, 15, 59, 59, tzinfo=dt.UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def _timer(case_id: str, clock_id: str, due: str, label: str, gen: int = 1) -> dict[str, object]:
    return {"key": f"{case_id}/{clock_id}/{due}/remind/{label}#{gen}", "subject": case_id,
            "clock_id": clock_id, "kind": "remind", "campaign_id": "linyin", "org_path": "/d/",
            "unit_id": None, "roles": [], "due_date": dt.date.fromisoformat(due), "due_at": AT,
            "status": "pending", "attempts": 0, "payload": {"label": label}}


def _pending(db: Database) -> set[str]:
    with db.read() as conn:
        return set(conn.execute(select(timer_t.c.key).where(timer_t.c.status == "pending"))
                   .scalars())


ROWS = [
    _timer("c1", "rectification", "2024-03-29", "-7d"),
    _timer("c1", "rectification", "2024-03-29", "-1d"),
    _timer("c1", "rectification", "2024-03-20", "-1d", gen=2),  # left by an earlier deadline
    _timer("c1", "acceptance", "2024-03-29", "-1d"),  # another clock of the case
    _timer("c1x", "rectification", "2024-03-29", "-1d"),  # a case whose id starts alike
    _timer("c1", "rectification_extra", "2024-03-29", "-1d"),  # a clock whose id starts alike
]


@pytest.mark.parametrize(("due", "cancelled"), [
    ("2024-03-29", {0, 1}),  # the deadline the clock ran to: only its timers are walked
    (None, {0, 1, 2}),  # not known: every timer of the clock
])
def test_stopping_a_clock_cancels_its_pending_timers_and_no_others(
        db: Database, due: str | None, cancelled: set[int]) -> None:
    with db.write() as conn:
        conn.execute(insert(timer_t), ROWS)
        timers.write_clock_writes(
            conn, [timers.cancel_params("c1", "rectification", due)], [])
    assert _pending(db) == {str(r["key"]) for i, r in enumerate(ROWS) if i not in cancelled}
