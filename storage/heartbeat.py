"""The sweepers' heartbeat: when a sweep last finished, kept in the database so that `/ready`
on any API replica sees the sweepers of every machine (`paicha scheduler` elsewhere, or the one
inside `paicha serve`)."""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.tables import SweepHeartbeat

heartbeat_t = SweepHeartbeat.__table__  # type: ignore[attr-defined]


def this_process() -> str:
    """`host:pid`, the name a sweeper records itself under."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


@dataclass(frozen=True)
class Beat:
    swept_at: dt.datetime
    swept_by: str


def record(conn: Connection, *, now: dt.datetime, by: str | None = None) -> None:
    """Note that a sweep finished at `now` (the one row, made on the first sweep)."""
    values = {"swept_at": now, "swept_by": by or this_process()}
    # an upsert: two sweepers' first sweeps may meet
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(heartbeat_t).values(id=1, **values)
                 .on_conflict_do_update(index_elements=["id"], set_=values))


def last(conn: Connection) -> Beat | None:
    """The last sweep any sweeper finished, or None before the first."""
    row = conn.execute(select(heartbeat_t.c.swept_at, heartbeat_t.c.swept_by)
                       .where(heartbeat_t.c.id == 1)).one_or_none()
    return None if row is None else Beat(row.swept_at, row.swept_by)
