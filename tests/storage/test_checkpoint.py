"""The checkpointer copies the write-ahead log into the database file on its own thread, when
nudged, so that a connection with automatic checkpoints off (the event loop's) never does."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from storage.checkpoint import Checkpointer
from storage.db import Database
from tests.support.db import Templates, fresh_database


def test_a_nudge_copies_the_log_into_the_database(templates: Templates, tmp_path: Path) -> None:
    for url in fresh_database("sqlite", templates, tmp_path):
        db = Database(url)
        checkpointer = Checkpointer(db)
        try:
            with db.write() as conn:
                conn.execute(text("CREATE TABLE note (body TEXT)"))
                conn.execute(text("INSERT INTO note VALUES ('一'), ('二')"))
            assert checkpointer.checkpoints == 0  # nothing happens unasked
            checkpointer.nudge()
            deadline = time.monotonic() + 10
            while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert checkpointer.last is not None
            busy, frames, copied = checkpointer.last
            assert (busy, copied) == (0, frames) and frames > 0
        finally:
            checkpointer.close()
            db.dispose()
