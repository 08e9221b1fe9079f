"""The SQLite writer: jobs that wait together commit together; a failing job is undone alone;
a failed commit fails every job of its batch and keeps nothing; callers hear only after the
commit; closing finishes what was queued."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, exc, text

from storage.db import Database
from storage.writer import SerialWriter, WriterClosed
from tests.support.db import Templates, fresh_database


@pytest.fixture
def db(templates: Templates, tmp_path: Path) -> Iterator[Database]:
    # the writer is SQLite's: PostgreSQL takes concurrent writers on its pool
    for url in fresh_database("sqlite", templates, tmp_path):
        database = Database(url)
        with database.write() as conn:
            conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL, "
                              "parent INTEGER REFERENCES note(id))"))
        yield database
        database.dispose()


@pytest.fixture
def writer(db: Database) -> Iterator[SerialWriter]:
    running = SerialWriter(db)
    yield running
    running.close()


def _notes(db: Database) -> list[str]:
    with db.read() as conn:
        return [r.body for r in conn.execute(text("SELECT body FROM note ORDER BY id"))]


def _add(body: str) -> Any:
    def job(conn: Connection) -> str:
        conn.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": body})
        return body
    return job


def _blocked(writer: SerialWriter) -> tuple[threading.Event, Future[Any]]:
    """A job that holds the writer until released, so that the next ones queue as one batch."""
    started, release = threading.Event(), threading.Event()

    def hold(conn: Connection) -> str:
        started.set()
        release.wait(10)
        return "held"

    future = writer.submit(hold)
    assert started.wait(10)
    return release, future


def test_a_failing_job_is_undone_alone_and_the_rest_commit_together(db: Database,
                                                                    writer: SerialWriter) -> None:
    release, held = _blocked(writer)

    def fails(conn: Connection) -> None:
        conn.execute(text("INSERT INTO note (body) VALUES ('half-done')"))
        raise ValueError("refused")

    futures = [writer.submit(_add("一")), writer.submit(fails), writer.submit(_add("二"))]
    release.set()
    assert held.result(10) == "held"
    assert futures[0].result(10) == "一" and futures[2].result(10) == "二"
    with pytest.raises(ValueError, match="refused"):
        futures[1].result(10)
    assert _notes(db) == ["一", "二"]


def test_a_failed_commit_fails_the_whole_batch_and_keeps_nothing(db: Database,
                                                                 writer: SerialWriter) -> None:
    release, held = _blocked(writer)

    def dangling(conn: Connection) -> str:
        # a foreign key checked only at COMMIT: the statement succeeds, the commit fails
        conn.execute(text("PRAGMA defer_foreign_keys = ON"))
        conn.execute(text("INSERT INTO note (body, parent) VALUES ('orphan', 999)"))
        return "orphan"

    futures = [writer.submit(_add("一")), writer.submit(dangling)]
    release.set()
    assert held.result(10) == "held"  # a batch of its own, committed before
    for future in futures:
        with pytest.raises(exc.IntegrityError):
            future.result(10)
    assert _notes(db) == []
    assert writer.submit(_add("after")).result(10) == "after"  # the writer goes on
    assert _notes(db) == ["after"]


def test_many_threads_all_land(db: Database) -> None:
    writer = SerialWriter(db, max_batch=8)
    try:
        futures: list[Future[Any]] = []
        lock = threading.Lock()

        def submit(index: int) -> None:
            for n in range(25):
                future = writer.submit(_add(f"{index}-{n}"))
                with lock:
                    futures.append(future)

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(f.result(30) for f in futures) == sorted(_notes(db))
        assert len(_notes(db)) == 200
    finally:
        writer.close()


def test_close_finishes_the_queue_then_refuses(db: Database) -> None:
    writer = SerialWriter(db)
    release, held = _blocked(writer)
    queued = writer.submit(_add("queued"))
    closing = threading.Thread(target=writer.close)
    closing.start()
    release.set()
    closing.join(10)
    assert held.result(1) == "held" and queued.result(1) == "queued"
    assert _notes(db) == ["queued"]
    with pytest.raises(WriterClosed):
        writer.submit(_add("late"))


def test_refuses_postgresql() -> None:
    with pytest.raises(ValueError, match="SQLite"):
        SerialWriter(Database("postgresql+psycopg://nobody@127.0.0.1:1/none"))
