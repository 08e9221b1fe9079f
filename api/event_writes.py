"""How the API fires lifecycle events: on SQLite, in batches on the event loop; on PostgreSQL,
one transaction each on the thread pool.

SQLite writes one transaction at a time whatever we do, and a transaction of one event takes a
fraction of a millisecond. Handing it to a thread costs more than running it: the loop and the
thread contend for the GIL around every SQLite call (bench/README.md has the figures). So the
events that arrived together run together, on the loop, in one write transaction:

* each is decided from the case as it stands (`CaseStore.decide`: the core's decision, the rows
  it writes, nothing written yet); a refusal (409, 422, 403 …) goes back to its caller alone;
* the batch's rows go to SQLite in one driver call per table (storage.event_batch) and one
  commit; only then do the callers hear. A batch holds each case once: a second event on a case
  waits for the next batch, and is decided from what the first wrote.

The loop never copies the write-ahead log back either: storage.checkpoint does, on its thread.
And it never waits for the file lock: its connection gives up at once when another writer
(the deadline sweep, an import, the CLI, another process) holds it, and the batch's events then
go one by one to a writer thread (storage.writer), which waits its turn; later events on their
cases wait for them. A batch whose write fails otherwise keeps nothing, and its events go to
that thread too, each in a savepoint of its own, so that only the one at fault fails.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from engine.access import Principal
from engine.lifecycle import Outcome
from storage import event_batch
from storage.cases import CaseStore, StoredCase
from storage.checkpoint import Checkpointer
from storage.db import Database, write_options
from storage.writer import SerialWriter

R = TypeVar("R")
Clock = Callable[[], Any]
# the caller's answer from the case as written and the outcome, read in the same transaction
Render = Callable[[Connection, StoredCase, Outcome], R]

log = logging.getLogger(__name__)
_THREAD = object()  # the lock was taken: the event goes to the writer thread
MAX_DEFERRALS = 32  # loop turns a batch may wait for more events (a few µs each)


@dataclass(frozen=True)
class EventRequest(Generic[R]):
    principal: Principal
    case_id: str
    trigger: str
    data: Mapping[str, Any]
    expected_version: int | None
    render: Render[R]


class EventWrites:
    """Fires events for `async def` routes; the caller's `render(conn, event)` once written."""

    def __init__(self, db: Database, cases: CaseStore, clock: Clock, *,
                 max_batch: int = 64) -> None:
        self.db = db
        self.cases = cases
        self.clock = clock
        self.max_batch = max_batch
        self.thread = SerialWriter(db) if db.is_sqlite else None
        self.checkpointer = Checkpointer(db) if db.is_sqlite else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_lock = threading.Lock()
        self._threaded: dict[str, int] = {}  # cases with events on the writer thread
        self._pending: list[tuple[EventRequest[Any], asyncio.Future[Any]]] = []
        self._scheduled = False
        self._deferred = 0
        self._conn: Connection | None = None

    async def fire(self, request: EventRequest[R]) -> R:
        if self.thread is None:
            return await run_in_threadpool(self._one, request)
        loop = asyncio.get_running_loop()
        with self._loop_lock:
            if self._loop is None:
                self._loop = loop
        if loop is not self._loop:  # one connection, one loop; another loop uses the thread
            return await asyncio.wrap_future(self.thread.submit(
                partial(self._decided_and_applied, request=request)))
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((request, future))
        self._kick()
        try:
            result = await future
        except asyncio.CancelledError:  # the caller left after its event was handed over
            if future.done() and not future.cancelled() and future.result() is _THREAD:
                self._release(request.case_id)
            raise
        if result is _THREAD:
            return await self._on_thread(request)
        return result  # type: ignore[no-any-return]

    async def _on_thread(self, request: EventRequest[R]) -> R:
        """One event on the writer thread; later events on its case wait for it."""
        assert self.thread is not None
        try:
            return await asyncio.wrap_future(self.thread.submit(
                partial(self._decided_and_applied, request=request)))
        finally:
            self._release(request.case_id)

    def _release(self, case_id: str) -> None:
        """The case's event handed to the thread is done: its later events may batch again."""
        self._threaded[case_id] -= 1
        if not self._threaded[case_id]:
            del self._threaded[case_id]
        self._kick()

    # -- one at a time (PostgreSQL, or a second event loop) ----------------------------------

    def _one(self, request: EventRequest[R]) -> R:
        with self.db.write() as conn:
            return self._decided_and_applied(conn, request)

    def _decided_and_applied(self, conn: Connection, request: EventRequest[R]) -> R:
        written, outcome = self.cases.fire(
            conn, request.principal, request.case_id, trigger=request.trigger,
            data=request.data, expected_version=request.expected_version, now=self.clock())
        return request.render(conn, written, outcome)

    # -- batches (SQLite) --------------------------------------------------------------------

    def _kick(self) -> None:
        if not self._scheduled and self._pending:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._flush)

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self.db.engine.connect().execution_options(**write_options())
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA busy_timeout = 0")  # the loop never waits for the lock
            driver.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's thread does
            self._conn = conn
        return self._conn

    def _flush(self) -> None:
        # Wait while the loop still has callbacks ready: requests already read are on their
        # way here, and joining this batch spares them a commit each. The loop's ready queue
        # is an implementation detail of asyncio's own loop; without one, flush at once.
        ready = getattr(self._loop, "_ready", None)
        if ready and self._deferred < MAX_DEFERRALS:
            self._deferred += 1
            assert self._loop is not None
            self._loop.call_soon(self._flush)
            return
        self._deferred = 0
        self._scheduled = False
        batch = self._take()
        self._kick()
        if not batch:
            return
        decided: list[tuple[EventRequest[Any], Any, asyncio.Future[Any]]] = []
        began = False
        try:
            conn = self._connection()
            with conn.begin():
                began = True
                events = []
                for request, future in batch:
                    try:
                        event = self.cases.decide(
                            conn, request.principal, request.case_id, trigger=request.trigger,
                            data=request.data, expected_version=request.expected_version,
                            now=self.clock())
                        answer = request.render(conn, event.written, event.outcome)
                    except Exception as exc:  # a refusal: nothing to write for this one
                        future.set_exception(exc)
                    else:
                        events.append(event)
                        decided.append((request, answer, future))
                event_batch.bind(conn.dialect, events).run(conn)
        except Exception as exc:
            # Another writer holds the lock (the thread waits for it), or the batch failed and
            # nothing of it stays: either way each event goes alone to the writer thread, in a
            # savepoint of its own, so that only one at fault fails.
            if began or not _busy(exc):
                log.warning("a batch of %d events failed (%s); writing them one by one",
                            len(decided), exc)
            self._to_thread(batch)
            return
        except BaseException as exc:  # nobody is left waiting
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            raise
        if self.checkpointer is not None:
            self.checkpointer.nudge()
        for _, answer, future in decided:
            if not future.cancelled():
                future.set_result(answer)

    def _to_thread(self, batch: list[tuple[EventRequest[Any], asyncio.Future[Any]]]) -> None:
        # Counted now, not when the callers wake: the next batch must already skip their cases.
        for request, future in batch:
            if not future.done():
                self._threaded[request.case_id] = self._threaded.get(request.case_id, 0) + 1
                future.set_result(_THREAD)

    def _take(self) -> list[tuple[EventRequest[Any], asyncio.Future[Any]]]:
        """The next batch: each case once, none with an event still on the writer thread."""
        batch: list[tuple[EventRequest[Any], asyncio.Future[Any]]] = []
        waiting: list[tuple[EventRequest[Any], asyncio.Future[Any]]] = []
        cases: set[str] = set(self._threaded)
        for request, future in self._pending:
            if future.cancelled():
                continue
            if request.case_id in cases or len(batch) >= self.max_batch:
                waiting.append((request, future))  # decided once what is before it is written
            else:
                cases.add(request.case_id)
                batch.append((request, future))
        self._pending = waiting
        return batch

    def close(self) -> None:
        if self._conn is not None:
            self._conn.invalidate()  # its PRAGMAs are the loop's: not for the pool
            self._conn.close()
            self._conn = None
        if self.thread is not None:
            self.thread.close()
        if self.checkpointer is not None:
            self.checkpointer.close()


def _busy(error: Exception) -> bool:
    return (isinstance(error, OperationalError)
            and getattr(error.orig, "sqlite_errorname", "") == "SQLITE_BUSY")
