"""Timers: the clock effects of an event, armed and cancelled in the event's own transaction.

A timer row carries what the core's `Timer` holds, so the sweep rebuilds it and asks
`engine.clocks.decide` what it means now. Keys carry the clock's arm generation: a clock that
stops and starts again with the same deadline arms new timers, not the old ones again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, update

from engine.clocks import ArmClock, StopClock, Timer
from engine.lifecycle import Outcome
from engine.model import CaseType
from storage.tables import Timer as TimerRow

timer_t = TimerRow.__table__  # type: ignore[attr-defined]

PENDING, DONE, CANCELLED = "pending", "done", "cancelled"


def timer_key(timer: Timer, generation: int) -> str:
    return f"{timer.key}#{generation}"


def payload(timer: Timer, generation: int) -> dict[str, Any]:
    return {"case_id": timer.case_id, "clock_id": timer.clock_id, "kind": timer.kind,
            "at": timer.at.isoformat(), "due_date": timer.due_date.isoformat(),
            "label": timer.label, "step": timer.step, "gen": generation}


def from_payload(data: Mapping[str, Any]) -> tuple[Timer, int]:
    """The core timer a row holds, and its arm generation."""
    return Timer(
        case_id=data["case_id"], clock_id=data["clock_id"], kind=data["kind"],
        at=dt.datetime.fromisoformat(data["at"]),
        due_date=dt.date.fromisoformat(data["due_date"]), label=data["label"],
        step=int(data.get("step", 0))), int(data.get("gen", 1))


@dataclass(frozen=True)
class Owner:
    """Where a case's timers belong: for filtering upcoming deadlines by org, unit and role."""

    campaign_id: str
    org_path: str
    unit_id: str | None
    case_type: CaseType


def rows_for(timers: Iterable[Timer], generation: int, owner: Owner) -> list[dict[str, Any]]:
    clocks = {c.id: c for c in owner.case_type.clocks}
    rows = []
    for t in timers:
        clock = clocks.get(t.clock_id)
        roles = list(clock.who) if clock else []
        rows.append({"key": timer_key(t, generation), "subject": t.case_id,
                     "clock_id": t.clock_id, "kind": t.kind, "campaign_id": owner.campaign_id,
                     "org_path": owner.org_path, "unit_id": owner.unit_id, "roles": roles,
                     "due_date": t.due_date, "due_at": t.at, "status": PENDING, "attempts": 0,
                     "payload": payload(t, generation)})
    return rows


def arm(conn: Connection, timers: Iterable[Timer], generation: int, owner: Owner) -> int:
    rows = rows_for(timers, generation, owner)
    if rows:
        conn.execute(insert(timer_t), rows)
    return len(rows)


def cancel(conn: Connection, subject: str, clock_id: str) -> int:
    result = conn.execute(update(timer_t).where(
        timer_t.c.subject == subject, timer_t.c.clock_id == clock_id,
        timer_t.c.status == PENDING).values(status=CANCELLED))
    return int(result.rowcount)


def apply_clock_effects(conn: Connection, outcome: Outcome, generations: Mapping[str, int],
                        owner: Owner) -> None:
    """Store what an event's clock effects say: cancel stopped clocks, arm started ones."""
    for effect in outcome.effects:
        if isinstance(effect, StopClock):
            cancel(conn, effect.case_id, effect.clock_id)
        elif isinstance(effect, ArmClock):
            arm(conn, effect.timers, generations.get(effect.clock_id, 1), owner)
