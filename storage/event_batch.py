"""Several decided lifecycle events written to SQLite in a handful of driver calls.

`CaseStore.decide` reads a case and decides an event without writing; `bind` turns a batch of
such decisions into one bound statement per table, and `run` hands each to the driver's
executemany: a few calls for the batch instead of several per event. Each case update is still
guarded by the version read, which guards the head of its audit stream on the same row too: a
batch that finds one moved raises BatchConflict and writes nothing that stays.

A batch holds each case at most once: its events were decided before any of them was written,
so a second event on a case would be decided without the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

from storage import audit, timers
from storage.cases import WRITE, EventWrite
from storage.prepared import Bound


class BatchConflict(Exception):
    """A case changed between deciding and writing."""


@dataclass(frozen=True)
class BoundBatch:
    size: int
    cases: Bound
    entries: Bound
    cancels: Bound
    timers: Bound

    def run(self, conn: Connection) -> None:
        """Write the batch in `conn`'s transaction; BatchConflict if a guard missed."""
        driver = conn.connection.driver_connection
        if self.cases.run(driver) != self.size:
            raise BatchConflict("a case changed since it was read")
        self.entries.run(driver)
        self.cancels.run(driver)  # every cancel before every insert: a restart stops first
        self.timers.run(driver)


def bind(dialect: Dialect, events: Sequence[EventWrite]) -> BoundBatch:
    """The batch's statements, bound; each case at most once."""
    ids = [e.written.id for e in events]
    if len(set(ids)) != len(ids):
        raise ValueError("a batch holds each case at most once")
    return BoundBatch(
        len(events),
        WRITE.bound(dialect, [e.case_params for e in events]),
        audit.ENTRY.bound(dialect, [e.audit.entry for e in events]),
        timers.CANCEL.bound(dialect, [s for e in events for s in e.stops]),
        timers.INSERT.bound(dialect, [r for e in events for r in e.timer_rows]),
    )
