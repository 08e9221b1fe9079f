"""A campaign in another time zone: "overdue" and "missed" in lists are judged by the day
where each campaign runs, as each case's own `overdue` flag is, whatever the lists span."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.world import HAZARD, LINYIN, World

ZONED = "zone-test"
CAMPAIGN = f"""paicha: 1
id: {ZONED}
extends: special-action-2023
title: 时区测试（洛杉矶）
period: {{start: "2023-05-01", end: "2023-12-31"}}
timezone: America/Los_Angeles
"""
PLAN = {"goals_and_tasks": "更换", "measures": "更换", "funds_and_materials": "自筹",
        "responsible": "设备部", "deadline": "2023-06-05", "safety_measures": "巡检"}


def _open(client: TestClient, world: World, who: str, campaign: str, unit: str) -> str:
    opened = client.post("/cases", headers=world.auth(who), json={
        "campaign": campaign, "type": "hazard", "unit": unit, "data": HAZARD})
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["id"]
    planned = client.post(f"/cases/{case_id}/events", headers=world.auth(who),
                          json={"trigger": "plan", "data": PLAN})
    assert planned.status_code == 200, planned.text
    return case_id


def _ids(client: TestClient, world: World, path: str, **params: Any) -> dict[Any, Any]:
    answer = client.get(path, headers=world.auth("admin"), params={"limit": 500, **params})
    assert answer.status_code == 200, answer.text
    return {row["id"]: row for row in answer.json()["data"]}


@pytest.fixture
def zoned(client: TestClient, world: World) -> None:
    published = client.post("/campaigns", headers={**world.auth("admin"),
                                                   "Content-Type": "application/yaml"},
                            content=CAMPAIGN.encode())
    assert published.status_code == 201, published.text
    deployed = client.post(f"/campaigns/{ZONED}/deployments", headers=world.auth("admin"),
                           json={"org": "jiaotong"})
    assert deployed.status_code == 201, deployed.text


@pytest.mark.usefixtures("zoned")
def test_overdue_is_judged_by_each_campaigns_own_day(client: TestClient, world: World) -> None:
    here = _open(client, world, "principal", LINYIN, "u-chem-01")  # Asia/Shanghai
    there = _open(client, world, "hotel_principal", ZONED, "u-hotel-01")  # Los Angeles
    # 2023-06-06 01:00 in Shanghai, 2023-06-05 10:00 in Los Angeles: the deadline of
    # 2023-06-05 has passed in Shanghai and not yet in Los Angeles
    world.clock.now = dt.datetime(2023, 6, 5, 17, 0, tzinfo=dt.UTC)
    overdue = _ids(client, world, "/cases", overdue="true")
    not_overdue = _ids(client, world, "/cases", overdue="false")
    assert here in overdue and here not in not_overdue
    assert there in not_overdue and there not in overdue
    # the list agrees with each case's own flag
    assert overdue[here]["overdue"] is True and not_overdue[there]["overdue"] is False
    world.clock.now = dt.datetime(2023, 6, 6, 8, 0, tzinfo=dt.UTC)  # 06-06 01:00 there too
    assert there in _ids(client, world, "/cases", overdue="true")


@pytest.mark.usefixtures("zoned")
def test_missed_is_judged_by_each_campaigns_own_day(client: TestClient, world: World) -> None:
    duties = _ids(client, world, "/obligations", campaign=ZONED)
    first = min(row["due"] for row in duties.values())
    due = [i for i, row in duties.items() if row["due"] == first]
    day = dt.date.fromisoformat(first)
    # the day after in Shanghai, the day itself in Los Angeles
    world.clock.now = dt.datetime(day.year, day.month, day.day, 17, 0, tzinfo=dt.UTC)
    missed = _ids(client, world, "/obligations", campaign=ZONED, status="missed")
    still_open = _ids(client, world, "/obligations", campaign=ZONED, status="open")
    assert not set(due) & set(missed) and set(due) <= set(still_open)
    assert all(still_open[i]["status"] == "open" for i in due)
    read = client.get(f"/obligations/{due[0]}", headers=world.auth("admin")).json()
    assert read["status"] == "open"
    world.clock.now += dt.timedelta(hours=15)  # the next day in Los Angeles too
    assert set(due) <= set(_ids(client, world, "/obligations", campaign=ZONED,
                                status="missed"))
