"""Where the hot path's write transactions run: on SQLite, on the event loop itself, several to
a commit; on PostgreSQL, on the thread pool.

SQLite writes one transaction at a time whatever we do, and a transaction of one lifecycle event
takes a fraction of a millisecond. Handing it to a thread costs more than running it: the loop
and the thread then contend for the GIL around every SQLite call (bench/README.md has the
figures). So the events that arrive together run together, in one transaction on the loop,
each in its own savepoint (storage.writer.run_in_savepoints), and their callers hear after the
commit. The loop never waits for the file lock: its connection gives up at once when another
writer (the deadline sweep, an import, the CLI, another process) holds it, and then the batch
goes to the writer thread (storage.writer.SerialWriter), which waits its turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from storage.db import Database, write_options
from storage.writer import SerialWriter, failed_outcomes, run_in_savepoints

T = TypeVar("T")
Job = Callable[[Connection], Any]

log = logging.getLogger(__name__)
_BUSY = object()  # the batch found the lock taken: the job goes to the writer thread


class Writes:
    """Runs `job(conn)` in a write transaction for an `async def` route; its result once
    committed."""

    def __init__(self, db: Database, *, max_batch: int = 32) -> None:
        self.db = db
        self.max_batch = max_batch
        self.thread = SerialWriter(db) if db.is_sqlite else None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[Job, asyncio.Future[Any]]] = []
        self._conn: Connection | None = None

    async def run(self, job: Callable[[Connection], T]) -> T:
        if self.thread is None:
            return await run_in_threadpool(self._now, job)
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        if loop is not self._loop:  # one connection, one loop; another loop uses the thread
            return await asyncio.wrap_future(self.thread.submit(job))
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((job, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)  # after the callbacks ready now: their events join in
        result = await future
        if result is _BUSY:
            return await asyncio.wrap_future(self.thread.submit(job))
        return result  # type: ignore[no-any-return]

    def _now(self, job: Callable[[Connection], T]) -> T:
        with self.db.write() as conn:
            return job(conn)

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self.db.engine.connect().execution_options(**write_options())
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA busy_timeout = 0")  # the loop never waits for the lock
            self._conn = conn
        return self._conn

    def _flush(self) -> None:
        batch = [(job, f) for job, f in self._pending[:self.max_batch] if not f.cancelled()]
        del self._pending[:self.max_batch]
        if self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        if not batch:
            return
        conn = self._connection()
        began = False
        outcomes: list[tuple[Any, Exception | None]] = []
        try:
            with conn.begin():
                began = True
                outcomes = run_in_savepoints(conn, [job for job, _ in batch])
        except Exception as exc:
            if not began and _busy(exc):
                for _, future in batch:
                    future.set_result(_BUSY)
                return
            # a savepoint or the COMMIT failed: nothing of the batch stays
            log.exception("a batch of %d writes failed and was rolled back", len(batch))
            errors = failed_outcomes(outcomes, len(batch), exc)
            for (_, future), failure in zip(batch, errors, strict=True):
                if not future.cancelled():
                    future.set_exception(failure)
            return
        for (_, future), (result, error) in zip(batch, outcomes, strict=True):
            if future.cancelled():
                continue  # the caller went away; the write stands
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.thread is not None:
            self.thread.close()


def _busy(error: Exception) -> bool:
    return (isinstance(error, OperationalError)
            and getattr(error.orig, "sqlite_errorname", "") == "SQLITE_BUSY")
