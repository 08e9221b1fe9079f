"""The audit chain detects a changed, removed or cut-off entry; `paicha audit verify` says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, update

from paicha.cli import main
from storage import audit
from storage.db import Database
from storage.tables import AuditEntry

entry_t = AuditEntry.__table__  # type: ignore[attr-defined]
AT = dt.datetime(2023, 6, 1, 1, 0, tzinfo=dt.UTC)


def _write(db: Database, stream: str, count: int) -> None:
    with db.write() as conn:
        for index in range(count):
            audit.append(conn, stream=stream, at=AT + dt.timedelta(minutes=index),
                         actor="tester", role="principal", action=f"step{index}",
                         from_state="a", to_state="b", data={"n": index, "备注": "整改"})


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    _write(database, "case:one", 4)
    _write(database, "case:two", 2)
    yield database
    database.dispose()


def _problems(db: Database) -> list[tuple[str, int, str]]:
    with db.read() as conn:
        return [(b.stream, b.seq, b.problem) for b in audit.verify(conn).breaks]


def test_an_untouched_log_verifies(db: Database) -> None:
    with db.read() as conn:
        verdict = audit.verify(conn)
    assert (verdict.ok, verdict.entries, verdict.streams) == (True, 6, 2)


def test_a_changed_entry_is_found(db: Database) -> None:
    with db.write() as conn:
        conn.execute(update(entry_t).where(entry_t.c.stream == "case:one", entry_t.c.seq == 2)
                     .values(data={"n": 99}))
    found = _problems(db)
    assert [(s, n) for s, n, _ in found] == [("case:one", 2)]
    assert "changed after it was written" in found[0][2]


def test_a_removed_middle_entry_is_found(db: Database) -> None:
    with db.write() as conn:
        conn.execute(delete(entry_t).where(entry_t.c.stream == "case:one", entry_t.c.seq == 2))
    found = _problems(db)
    assert ("case:one", 3) in [(s, n) for s, n, _ in found]
    assert any("missing" in p for _, _, p in found)


def test_cutting_off_the_newest_entries_is_found(db: Database) -> None:
    with db.write() as conn:
        conn.execute(delete(entry_t).where(entry_t.c.stream == "case:two", entry_t.c.seq == 2))
    found = _problems(db)
    assert [(s, n) for s, n, _ in found] == [("case:two", 1)]
    assert "head says 2" in found[0][2]


def test_the_command_exits_1_on_a_break(db: Database, database_url: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--database", database_url]) == 0
    assert "intact: 6 entries in 2 streams" in capsys.readouterr().err
    with db.write() as conn:
        conn.execute(update(entry_t).where(entry_t.c.seq == 1).values(actor="someone else"))
    assert main(["audit", "verify", "--database", database_url]) == 1
    captured = capsys.readouterr()
    assert "case:one #1: content does not match its hash" in captured.out
    assert "BROKEN in 2 place(s)" in captured.err
