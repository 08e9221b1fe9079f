"""Timers: the clock effects of an event, armed and cancelled in the event's own transaction.

A timer row carries what the core's `Timer` holds, so the sweep rebuilds it and asks
`engine.clocks.decide` what it means now. Keys carry the clock's arm generation: a clock that
stops and starts again with the same deadline arms new timers, not the old ones again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, insert, update

from engine.clocks import ArmClock, StopClock, Timer
from engine.lifecycle import Outcome
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


def rows_for(timers: Iterable[Timer], generation: int) -> list[dict[str, Any]]:
    return [{"key": timer_key(t, generation), "subject": t.case_id, "clock_id": t.clock_id,
             "kind": t.kind, "due_at": t.at, "status": PENDING, "attempts": 0,
             "payload": payload(t, generation)} for t in timers]


def arm(conn: Connection, timers: Iterable[Timer], generation: int) -> int:
    rows = rows_for(timers, generation)
    if rows:
        conn.execute(insert(timer_t), rows)
    return len(rows)


def cancel(conn: Connection, subject: str, clock_id: str) -> int:
    result = conn.execute(update(timer_t).where(
        timer_t.c.subject == subject, timer_t.c.clock_id == clock_id,
        timer_t.c.status == PENDING).values(status=CANCELLED))
    return int(result.rowcount)


def apply_clock_effects(conn: Connection, outcome: Outcome, generations: Mapping[str, int]
                        ) -> None:
    """Store what an event's clock effects say: cancel stopped clocks, arm started ones."""
    for effect in outcome.effects:
        if isinstance(effect, StopClock):
            cancel(conn, effect.case_id, effect.clock_id)
        elif isinstance(effect, ArmClock):
            arm(conn, effect.timers, generations.get(effect.clock_id, 1))
