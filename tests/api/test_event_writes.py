"""How the API writes lifecycle events on SQLite: the events that arrive together are decided
one by one and committed together; a refusal goes back alone; a second event on a case waits
for the first; a failed write fails only the event at fault; and the event loop never waits for
the file lock."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import pytest
from sqlalchemy import event, text

from api.event_writes import EventRequest, EventWrites
from engine.errors import TransitionNotAllowed
from storage import audit
from storage.cases import StoredCase
from tests.support.world import World

REFER = {"referred_to": "应急管理局", "referred_on": "2023-06-02"}


# Batches are SQLite's; PostgreSQL writes each event on the pool, and
# tests/api/test_concurrency.py runs the races on both.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def sqlite_world(world: World) -> World:
    assert world.services.db.is_sqlite
    return world


def _version(conn: Any, stored: StoredCase, outcome: Any) -> int:
    return stored.version


def _refer(world: World, case_id: str, trigger: str = "refer") -> EventRequest[int]:
    return EventRequest(world.principal("community"), case_id, trigger, REFER, None, _version)


def _versions(world: World, ids: list[str]) -> list[int]:
    with world.services.db.read() as conn:
        return [conn.execute(text("SELECT version FROM case_record WHERE id = :i"),
                             {"i": i}).scalar_one() for i in ids]


def _commits(world: World) -> list[int]:
    seen: list[int] = []
    event.listen(world.services.db.engine, "commit", lambda conn: seen.append(1))
    return seen


def test_events_arriving_together_commit_together_and_a_refusal_goes_back_alone(
        sqlite_world: World) -> None:
    ids = [sqlite_world.open_hazard() for _ in range(3)]
    writes: EventWrites = sqlite_world.services.events
    requests = [*(_refer(sqlite_world, i) for i in ids), _refer(sqlite_world, ids[0], "accept")]
    commits = _commits(sqlite_world)

    async def main() -> list[Any]:
        return await asyncio.gather(*(writes.fire(r) for r in requests), return_exceptions=True)

    results = asyncio.run(main())
    assert results[:3] == [2, 2, 2]
    assert isinstance(results[3], TransitionNotAllowed)  # decided after the refer: refused
    # the three refers in one transaction; the accept, on a case already in it, in the next
    assert len(commits) == 2
    assert _versions(sqlite_world, ids) == [2, 2, 2]
    with sqlite_world.services.db.read() as conn:
        assert audit.verify(conn).ok


def test_a_second_event_on_a_case_is_decided_from_what_the_first_wrote(
        sqlite_world: World) -> None:
    case_id = sqlite_world.open_hazard()
    writes: EventWrites = sqlite_world.services.events
    requests = [_refer(sqlite_world, case_id) for _ in range(3)]

    async def main() -> list[Any]:
        return await asyncio.gather(*(writes.fire(r) for r in requests))

    assert sorted(asyncio.run(main())) == [2, 3, 4]
    with sqlite_world.services.db.read() as conn:
        history = audit.history(conn, f"case:{case_id}")
        assert [h["seq"] for h in history] == [1, 2, 3, 4]
        assert audit.verify(conn).ok


def test_a_failed_write_fails_only_the_event_at_fault(sqlite_world: World) -> None:
    ids = [sqlite_world.open_hazard() for _ in range(2)]
    with sqlite_world.services.db.write() as conn:  # the disk refuses one entry, say
        conn.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON audit_entry "
                          f"WHEN NEW.stream = 'case:{ids[1]}' "
                          f"BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
    writes: EventWrites = sqlite_world.services.events
    requests = [_refer(sqlite_world, i) for i in ids]

    async def main() -> list[Any]:
        return await asyncio.gather(*(writes.fire(r) for r in requests), return_exceptions=True)

    results = asyncio.run(main())
    # the batch fails and keeps nothing; each event is then written alone
    assert results[0] == 2
    assert "refused by the test" in str(results[1])
    assert _versions(sqlite_world, ids) == [2, 1]
    with sqlite_world.services.db.read() as conn:
        assert audit.verify(conn).ok


def test_the_loop_never_waits_for_the_lock(sqlite_world: World) -> None:
    case_id = sqlite_world.open_hazard()
    writes: EventWrites = sqlite_world.services.events
    request = _refer(sqlite_world, case_id)
    holder = sqlite3.connect(sqlite_world.services.db.url.removeprefix("sqlite:///"),
                             isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another writer: an import, the sweep, the CLI
    released = threading.Timer(0.5, lambda: holder.execute("COMMIT"))

    async def main() -> tuple[int, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        released.start()
        version = await writes.fire(request)
        ticker.cancel()
        return version, ticks

    try:
        version, ticks = asyncio.run(main())
    finally:
        released.join()
        holder.close()
    assert version == 2
    assert ticks >= 10  # the loop went on serving while the writer thread waited
    assert _versions(sqlite_world, [case_id]) == [2]


def test_a_batch_that_cannot_begin_goes_to_the_writer_thread(sqlite_world: World,
                                                             monkeypatch: Any) -> None:
    case_id = sqlite_world.open_hazard()
    writes: EventWrites = sqlite_world.services.events
    request = _refer(sqlite_world, case_id)

    def broken() -> Any:
        raise RuntimeError("the loop's connection is gone")

    monkeypatch.setattr(writes, "_connection", broken)
    assert asyncio.run(asyncio.wait_for(writes.fire(request), 10)) == 2
    assert _versions(sqlite_world, [case_id]) == [2]
