"""One writer thread for an SQLite database: write jobs queue up and commit several at a time.

SQLite lets one connection write at a time whatever the application does, so a pool of threads
writing hazards' events only queues on the file lock, and each of them pays for its own BEGIN
and COMMIT and for handing the GIL back and forth. Here one thread takes every job waiting, runs
each inside its own SAVEPOINT, and commits them together (group commit):

* a job that raises is rolled back to its savepoint alone, and its caller gets the error;
* the others are committed in one transaction, and their callers learn their results only
  after that commit: nobody is told "done" about a write that could still be lost;
* if the commit itself fails, every job of the batch gets that error and nothing of it stays.

Other writers (the deadline sweep, imports, the CLI, another process) still take the lock
through their own connections as before; the batch holds it for as long as its jobs take.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy import Connection

from storage.db import Database

T = TypeVar("T")
Job = Callable[[Connection], Any]

log = logging.getLogger(__name__)

_STOP = object()
_SAVEPOINT, _RELEASE, _ROLLBACK = ("SAVEPOINT paicha_job", "RELEASE paicha_job",
                                   "ROLLBACK TO paicha_job")


class WriterClosed(RuntimeError):
    """The writer was closed: the service is shutting down."""


class SerialWriter:
    """Runs write jobs, `job(conn) -> result`, on one thread, up to `max_batch` a transaction."""

    def __init__(self, db: Database, *, max_batch: int = 64,
                 name: str = "paicha-writer") -> None:
        if not db.is_sqlite:
            raise ValueError("the serial writer is for SQLite; PostgreSQL takes concurrent "
                             "writers on the connection pool")
        self.db = db
        self.max_batch = max_batch
        self.name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, job: Callable[[Connection], T]) -> Future[T]:
        """Queue `job`; the future holds its result once the transaction holding it committed."""
        future: Future[T] = Future()
        # the job runs in the context of its request: its refusals speak the request's
        # language (engine.texts), whichever thread writes
        context = contextvars.copy_context()

        def in_context(conn: Connection) -> T:
            return context.run(job, conn)

        with self._lock:
            if self._closed:
                raise WriterClosed("the writer is closed: the service is shutting down")
            if self._thread is None:  # started on first use: building services spawns nothing
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()
            self._queue.put((in_context, future))
        return future

    def close(self, timeout: float = 30.0) -> None:
        """Run the jobs already queued, then stop the thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)

    def _loop(self) -> None:
        stop = False
        while not stop:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._run([(job, f) for job, f in batch if f.set_running_or_notify_cancel()])

    def _run(self, batch: list[tuple[Job, Future[Any]]]) -> None:
        outcomes: list[tuple[Any, Exception | None]] = []
        try:
            with self.db.write() as conn:
                outcomes = _run_in_savepoints(conn, [job for job, _ in batch])
        except BaseException as exc:  # BEGIN, a savepoint or the COMMIT failed: nothing stays
            log.exception("a batch of %d writes failed and was rolled back", len(batch))
            for (_, future), outcome in zip(batch, _failed_outcomes(outcomes, len(batch), exc),
                                            strict=True):
                future.set_exception(outcome)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), (result, error) in zip(batch, outcomes, strict=True):
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)


def _run_in_savepoints(conn: Connection, jobs: list[Job]) -> list[tuple[Any, Exception | None]]:
    """Run each job in its own SAVEPOINT of the connection's transaction: (result, None), or
    (None, the error) for a job that raised and was rolled back alone."""
    driver = conn.connection.driver_connection
    assert driver is not None
    outcomes: list[tuple[Any, Exception | None]] = []
    for job in jobs:
        driver.execute(_SAVEPOINT)
        try:
            result = job(conn)
        except Exception as exc:  # the job's own failure: undo it alone
            driver.execute(_ROLLBACK)
            driver.execute(_RELEASE)
            outcomes.append((None, exc))
        else:
            driver.execute(_RELEASE)
            outcomes.append((result, None))
    return outcomes


def _failed_outcomes(outcomes: Sequence[tuple[Any, BaseException | None]], count: int,
                    error: BaseException) -> list[BaseException]:
    """What each job of a batch whose transaction failed gets: its own error if it had one,
    else the transaction's."""
    own = [e for _, e in outcomes] + [None] * (count - len(outcomes))
    return [e if e is not None else error for e in own]
