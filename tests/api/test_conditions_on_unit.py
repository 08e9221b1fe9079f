"""Conditions on the unit and clocks limited by a condition, live, on SQLite and PostgreSQL: the
sweep's automatic 挂牌督办 sees the case's unit as an event over HTTP does, and a clock for major
hazards only starts and stops with a regrade, its timers with it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from deadlines.sweep import Sweeper
from storage.tables import Timer as TimerRow
from tests.api.test_record_integrity import HAZARD, PLAN_2023, fire, ok
from tests.api.test_signatures_on_case import city_managed_plant
from tests.deadlines.test_sweep import local
from tests.support.world import World

timer_t = TimerRow.__table__  # type: ignore[attr-defined]

CHILD = """\
paicha: 1
id: unit-conditions-2023
extends: special-action-2023
title: 市直部门直管企业由市级部门督办的示例方案
tags:
  city_managed: 市直部门直管企业
selectors:
  city_managed: {tags: city_managed}
cases:
  hazard:
    transitions:
      # 逾期未整改的挂牌督办 by the county: a city-managed plant's is the city's business
      - {id: supervise, when: {not: {unit: city_managed}}}
    clocks:
      - id: major_watch
        name: 重大隐患整改跟踪
        when: {grade: major}
        runs_in: [rectifying, supervised]
        due: {after: 30d}
        who: regulator
        remind: [-3d]
"""
CAMPAIGN = "unit-conditions-2023"


def publish(client: TestClient, world: World) -> None:
    city_managed_plant(client, world, CHILD.encode(), CAMPAIGN)


def planned(client: TestClient, world: World, unit: str, grade: str = "major") -> str:
    who = "principal" if unit == "u-chem-01" else unit
    r = client.post("/cases", headers=world.auth(who), json={
        "campaign": CAMPAIGN, "type": "hazard", "unit": unit,
        "data": {**HAZARD, "grade": grade}})
    assert r.status_code == 201, r.text
    case_id: str = r.json()["id"]
    ok(fire(client, world, who, case_id, "plan", PLAN_2023))
    return case_id


def case(client: TestClient, world: World, case_id: str) -> dict[str, Any]:
    r = client.get(f"/cases/{case_id}", headers=world.auth("regulator"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_sweep_judges_the_automatic_supervision_by_the_cases_unit(
        client: TestClient, world: World) -> None:
    publish(client, world)
    county = planned(client, world, "u-chem-01")
    city = planned(client, world, "u-city-01")
    world.clock.now = local("2023-08-01", 10, 0)  # the 整改期限 2023-07-31 has passed
    result = Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert case(client, world, county)["state"] == "supervised"
    assert case(client, world, city)["state"] == "rectifying"
    assert result.refusals == [
        f"{city}: supervise: case {city}: 'supervise' needs not (unit matches 'city_managed'), "
        "which the case does not meet"]
    # by hand, over HTTP, the same condition refuses the county's department
    refused = fire(client, world, "regulator", city, "supervise",
                   {"supervision_document": "督办〔2023〕7号"})
    assert refused.status_code == 422 and refused.json()["code"] == "condition_failed"
    assert "unit matches 'city_managed'" in refused.text
    triggers = client.get(f"/cases/{city}/triggers", headers=world.auth("regulator")).json()
    assert "supervise" not in triggers["triggers"] and "regrade" in triggers["triggers"]


def pending_timers(world: World, case_id: str, clock_id: str) -> int:
    with world.services.db.read() as conn:
        return len(conn.execute(select(timer_t.c.id).where(
            timer_t.c.subject == case_id, timer_t.c.clock_id == clock_id,
            timer_t.c.status == "pending")).all())


def test_a_clock_for_major_hazards_follows_a_regrade(client: TestClient, world: World) -> None:
    publish(client, world)
    case_id = planned(client, world, "u-chem-01", grade="general")
    shown = case(client, world, case_id)
    assert "major_watch" not in shown["clocks"] and shown["clocks"]["rectification"]["due"]
    assert pending_timers(world, case_id, "major_watch") == 0

    world.clock.advance(days=2)  # 2023-06-03: thirty days from today
    major = ok(fire(client, world, "regulator", case_id, "regrade",
                    {"grade": "major", "regrade_reason": "经判定属重大事故隐患"}))
    assert major["clocks_started"] == ["major_watch"]
    assert case(client, world, case_id)["clocks"]["major_watch"]["due"] == "2023-07-03"
    assert pending_timers(world, case_id, "major_watch") > 0

    general = ok(fire(client, world, "regulator", case_id, "regrade",
                      {"grade": "general", "regrade_reason": "复核为一般事故隐患"}))
    assert (general["clocks_started"], general["clocks_stopped"]) == ([], ["major_watch"])
    clocks = case(client, world, case_id)["clocks"]
    assert clocks["major_watch"]["due"] is None and clocks["rectification"]["due"]
    assert pending_timers(world, case_id, "major_watch") == 0
