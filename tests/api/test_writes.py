"""The hot path's writes on SQLite: events that arrive together commit together on the loop, a
failing one is undone alone, and when another writer holds the file lock the loop does not wait:
the writer thread does, and the write lands once the lock is free."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from api.writes import Writes
from storage.db import Database
from tests.support.db import Templates, fresh_database


@pytest.fixture
def db(templates: Templates, tmp_path: Path) -> Iterator[Database]:
    for url in fresh_database("sqlite", templates, tmp_path):
        database = Database(url)
        with database.write() as conn:
            conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
        yield database
        database.dispose()


def _notes(db: Database) -> list[str]:
    with db.read() as conn:
        return [r.body for r in conn.execute(text("SELECT body FROM note ORDER BY id"))]


def _add(body: str, transactions: list[int] | None = None) -> Any:
    def job(conn: Connection) -> str:
        conn.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": body})
        if transactions is not None:  # which transaction the job ran in
            transactions.append(id(conn.get_transaction()))
        return body
    return job


def test_events_arriving_together_commit_together_and_a_failure_is_undone_alone(
        db: Database) -> None:
    writes = Writes(db)
    transactions: list[int] = []

    def fails(conn: Connection) -> None:
        conn.execute(text("INSERT INTO note (body) VALUES ('half-done')"))
        raise ValueError("refused")

    async def main() -> list[Any]:
        return await asyncio.gather(writes.run(_add("一", transactions)), writes.run(fails),
                                    writes.run(_add("二", transactions)),
                                    return_exceptions=True)

    try:
        results = asyncio.run(main())
    finally:
        writes.close()
    assert results[0] == "一" and results[2] == "二"
    assert isinstance(results[1], ValueError)
    assert len(set(transactions)) == 1  # one transaction, one commit
    assert _notes(db) == ["一", "二"]


def test_the_loop_never_waits_for_the_lock(db: Database) -> None:
    writes = Writes(db)
    holder = sqlite3.connect(db.url.removeprefix("sqlite:///"), isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another writer: an import, the sweep, the CLI
    released = threading.Timer(0.5, lambda: holder.execute("COMMIT"))

    async def main() -> tuple[str, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        released.start()
        result = await writes.run(_add("after the lock"))
        ticker.cancel()
        return result, ticks

    try:
        result, ticks = asyncio.run(main())
    finally:
        released.join()
        holder.close()
        writes.close()
    assert result == "after the lock"
    assert ticks >= 10  # the loop went on serving while the writer thread waited
    assert _notes(db) == ["after the lock"]


def test_postgresql_writes_go_to_the_pool() -> None:
    writes = Writes(Database("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert writes.thread is None
    writes.close()
