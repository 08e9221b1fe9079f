"""Concurrent events on one case: a stale version loses and changes nothing, and no update is
lost; the audit chain stays valid. Real threads, real transactions, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from fastapi.testclient import TestClient

from engine.errors import StaleVersion
from storage import audit
from tests.support.world import World

THREADS = 8


def _race(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # collected and asserted on below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_same_version_from_many_threads_exactly_one_wins(world: World) -> None:
    case_id = world.open_hazard()
    community = world.principal("community")

    def refer(index: int) -> str:
        with world.services.db.write() as conn:
            stored, _ = world.services.cases.fire(
                conn, community, case_id, trigger="refer", expected_version=1,
                data={"referred_to": f"部门{index}", "referred_on": "2023-06-02"},
                now=world.clock())
        return str(stored.data["referred_to"])

    results = _race(THREADS, refer)
    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"str": 1, "StaleVersion": THREADS - 1}, results
    winner = next(r for r in results if isinstance(r, str))
    assert all(r.current == 2 for r in results if isinstance(r, StaleVersion))
    with world.services.db.read() as conn:
        stored = world.services.cases.get(conn, community, case_id)
        assert (stored.version, stored.data["referred_to"]) == (2, winner)
        assert [h["action"] for h in audit.history(conn, f"case:{case_id}")] == ["open", "refer"]
        assert audit.verify(conn).ok


def test_writers_without_a_version_lose_no_update(world: World) -> None:
    case_id = world.open_hazard()
    community = world.principal("community")

    def refer(index: int) -> int:
        with world.services.db.write() as conn:
            stored, _ = world.services.cases.fire(
                conn, community, case_id, trigger="refer", expected_version=None,
                data={"referred_to": f"部门{index}", "referred_on": "2023-06-02"},
                now=world.clock())
        return stored.version

    results = _race(THREADS, refer)
    assert sorted(results) == list(range(2, THREADS + 2)), results
    with world.services.db.read() as conn:
        history = audit.history(conn, f"case:{case_id}")
        assert [h["seq"] for h in history] == list(range(1, THREADS + 2))
        assert sorted(h["data"]["referred_to"] for h in history[1:]) == sorted(
            f"部门{i}" for i in range(THREADS))
        assert audit.verify(conn).ok


def test_over_http_same_version_exactly_one_wins(world: World, client: TestClient) -> None:
    # Through the API the events meet on SQLite's writer thread, several to a transaction
    # (storage.writer); on PostgreSQL on the pool. Either way one wins, the rest get 409.
    case_id = world.open_hazard()
    token = {"Authorization": f"Bearer {world.tokens['community']}"}

    def refer(index: int) -> Any:
        return client.post(f"/cases/{case_id}/events", headers=token, json={
            "trigger": "refer", "version": 1,
            "data": {"referred_to": f"部门{index}", "referred_on": "2023-06-02"}})

    responses = _race(THREADS, refer)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: THREADS - 1}, [r.text for r in responses]
    assert all(r.json()["code"] == "stale_version" for r in responses if r.status_code == 409)
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert winner["version"] == 2
    with world.services.db.read() as conn:
        assert [h["action"] for h in audit.history(conn, f"case:{case_id}")] == ["open", "refer"]
        assert audit.verify(conn).ok


def test_over_http_writers_without_a_version_lose_no_update(world: World,
                                                             client: TestClient) -> None:
    case_id = world.open_hazard()
    token = {"Authorization": f"Bearer {world.tokens['community']}"}

    def refer(index: int) -> Any:
        return client.post(f"/cases/{case_id}/events", headers=token, json={
            "trigger": "refer",
            "data": {"referred_to": f"部门{index}", "referred_on": "2023-06-02"}})

    responses = _race(THREADS, refer)
    assert sorted(r.json()["version"] for r in responses) == list(range(2, THREADS + 2))
    with world.services.db.read() as conn:
        history = audit.history(conn, f"case:{case_id}")
        assert [h["seq"] for h in history] == list(range(1, THREADS + 2))
        assert audit.verify(conn).ok
