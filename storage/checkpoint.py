"""Copying SQLite's write-ahead log into the database file, on a thread of its own.

By default the connection whose commit pushes the WAL past 1000 pages copies it back there and
then, fsyncs included: on the event loop's connection (api.event_writes) that cost every batch
about 40 % on top of its commit. That connection turns the automatic checkpoint off and nudges
this thread after its commits instead. The checkpoint is PASSIVE, as SQLite's automatic one is:
it waits for no reader and no writer (a TRUNCATE would hold every writer behind a long list
query), and SQLite does it without holding the GIL.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from storage.db import Database

log = logging.getLogger(__name__)


class Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` after a nudge, at most every `pause` seconds."""

    def __init__(self, db: Database, *, pause: float = 0.05) -> None:
        self.db = db
        self.pause = pause
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.checkpoints = 0
        self.last: tuple[int, int, int] | None = None  # SQLite's (busy, log frames, copied)

    def nudge(self) -> None:
        """Ask for a checkpoint soon (cheap: call it after every commit)."""
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stop.is_set():
                    self._thread = threading.Thread(target=self._run, name="paicha-checkpoint",
                                                    daemon=True)
                    self._thread.start()
        self._wanted.set()

    def close(self) -> None:
        """Stop, after one last checkpoint if one was asked for."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        self._wanted.set()
        if thread is not None:
            thread.join(30)

    def _run(self) -> None:
        raw: Any = None
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                if raw is None:
                    raw = self.db.engine.raw_connection()
                self._checkpoint(raw.driver_connection)
            except Exception:  # a checkpoint is an optimization: the next nudge tries again
                log.exception("a WAL checkpoint failed")
                if raw is not None:
                    raw.invalidate()
                    raw = None
            if self._stop.is_set():
                if raw is not None:
                    raw.close()
                return
            self._stop.wait(self.pause)

    def _checkpoint(self, driver: Any) -> None:
        row = driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.last = (int(row[0]), int(row[1]), int(row[2]))
        self.checkpoints += 1
