"""GET /cases in each order it offers, paged one case at a time: every case once, in order;
a cursor is read only in the order it was given in."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.world import HAZARD, World

PLAN = {"goals_and_tasks": "更换", "measures": "更换", "funds_and_materials": "自筹",
        "responsible": "设备部", "safety_measures": "巡检"}


def _all(client: TestClient, world: World, sort: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = client.get("/cases", headers=world.auth("admin"), params={
            "sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        found += answer.json()["data"]
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return found


@pytest.fixture
def cases(client: TestClient, world: World) -> list[str]:
    made = []
    for deadline in ("2023-07-20", None, "2023-07-05", None, "2023-07-05"):
        world.clock.advance(minutes=1)
        case_id = world.open_hazard({**HAZARD, "description": f"隐患 {deadline}"})
        if deadline:
            answer = client.post(f"/cases/{case_id}/events", headers=world.auth("principal"),
                                 json={"trigger": "plan", "data": {**PLAN,
                                                                   "deadline": deadline}})
            assert answer.status_code == 200, answer.text
        made.append(case_id)
    return made


def test_each_order_pages_through_every_case_once(client: TestClient, world: World,
                                                  cases: list[str]) -> None:
    newest = [c["id"] for c in _all(client, world, "newest")]
    oldest = [c["id"] for c in _all(client, world, "oldest")]
    assert newest == list(reversed(cases)) and oldest == cases
    due = _all(client, world, "due")
    assert sorted(c["id"] for c in due) == sorted(cases)
    keys = [(c["next_due"] is None, c["next_due"] or "", c["id"]) for c in due]
    assert keys == sorted(keys)
    assert [c["next_due"] for c in due][:3] == ["2023-07-05", "2023-07-05", "2023-07-20"]


def test_a_cursor_is_read_only_in_its_own_order(client: TestClient, world: World,
                                                cases: list[str]) -> None:
    first = client.get("/cases", headers=world.auth("admin"), params={"limit": 1}).json()
    answer = client.get("/cases", headers=world.auth("admin"),
                        params={"limit": 1, "sort": "due", "cursor": first["next_cursor"]})
    assert answer.status_code == 422 and answer.json()["code"] == "bad_cursor"
    due = client.get("/cases", headers=world.auth("admin"),
                     params={"limit": 1, "sort": "due"}).json()
    answer = client.get("/cases", headers=world.auth("admin"),
                        params={"limit": 1, "sort": "oldest", "cursor": due["next_cursor"]})
    assert answer.status_code == 422 and answer.json()["code"] == "bad_cursor"
    assert client.get("/cases", headers=world.auth("admin"),
                      params={"sort": "soonest"}).status_code == 422
