"""Units and orgs that arrive mid-campaign, and checks that arrive with a new version, owe the
current period's duties and the later ones — not only those still to fall due.

Dates from campaigns/special-action-2023.yaml as extended below: the street plan adds a monthly
self-inspection due on the 10th (rolled to a working day), deployed to 林荫街道 on 2023-06-01.
2023-06-10 is a Saturday, so June's falls due on Monday 06-12.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.world import World, obligations

PLAN = "linyin-monthly-2023"
MONTHLY = """
  - id: monthly_self_check
    name: 每月10日前开展一次重大事故隐患自查
    who: principal
    for: units
    every: month
    due: {day: 10}
"""
HEADER = ("paicha: 1\nid: linyin-monthly-2023\nextends: special-action-2023\n"
          "title: 林荫街道每月自查方案\n")


def _publish(client: TestClient, world: World, text: str) -> None:
    r = client.post("/campaigns", content=text.encode(), headers={
        **world.auth("admin"), "Content-Type": "application/yaml"})
    assert r.status_code in (200, 201), r.text


def _deploy(client: TestClient, world: World) -> None:
    r = client.post(f"/campaigns/{PLAN}/deployments", json={"org": "linyin"},
                    headers=world.auth("admin"))
    assert r.status_code == 201, r.text


def _rows(client: TestClient, world: World, **params: Any) -> list[dict[str, Any]]:
    return obligations(client, world, campaign=PLAN, **params)


def test_a_unit_added_in_june_gets_junes_monthly_obligation(client: TestClient,
                                                           world: World) -> None:
    _publish(client, world, HEADER + "checks:" + MONTHLY)
    _deploy(client, world)
    world.clock.advance(days=19)  # 2023-06-20: June's 10th (rolled to 06-12) has passed
    r = client.post("/units", headers=world.auth("locality"), json={
        "id": "u-chem-03", "name": "新化工三厂", "org": "linyin-c1",
        "industry": "hazardous_chemicals"})
    assert r.status_code == 201, r.text
    monthly = _rows(client, world, unit="u-chem-03", check="monthly_self_check")
    assert [(r["period"], r["due"]) for r in monthly] == [
        ("2023-06", "2023-06-12"), ("2023-07", "2023-07-10"), ("2023-08", "2023-08-10"),
        ("2023-09", "2023-09-11"), ("2023-10", "2023-10-10"), ("2023-11", "2023-11-10"),
        ("2023-12", "2023-12-11")]
    assert monthly[0]["status"] == "missed"  # owed, late: the month it came in
    # the monthly (high-risk) inspection of June too; nothing of May
    inspections = _rows(client, world, unit="u-chem-03", check="principal_inspection")
    assert inspections[0]["period"] == "2023-06"
    # one-off duties of the self-check phase (due 06-30) are still ahead: owed
    assert _rows(client, world, unit="u-chem-03", check="warning_education")


def test_a_unit_moved_in_gets_the_current_periods_of_the_campaigns_there(
        client: TestClient, world: World) -> None:
    _publish(client, world, HEADER + "checks:" + MONTHLY)
    _deploy(client, world)
    world.clock.advance(days=19)  # 2023-06-20
    # the hotel of 交通街道 (the demo campaign runs there) moves to 林荫街道第一社区
    r = client.patch("/units/u-hotel-01", json={"org": "linyin-c1"},
                     headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    monthly = _rows(client, world, unit="u-hotel-01", check="monthly_self_check")
    assert [r["period"] for r in monthly][:2] == ["2023-06", "2023-07"]
    assert len(monthly) == 7


def test_a_check_added_in_a_new_version_reaches_the_units_where_it_runs(
        client: TestClient, world: World) -> None:
    _publish(client, world, HEADER)  # v1: the national checks only
    _deploy(client, world)
    before = _rows(client, world, unit="u-chem-01", check="principal_inspection")
    world.clock.advance(days=19)  # 2023-06-20
    _publish(client, world, HEADER + "checks:" + MONTHLY)  # v2 adds the monthly self-check
    monthly = _rows(client, world, unit="u-chem-01", check="monthly_self_check")
    assert [r["period"] for r in monthly] == [f"2023-{m:02d}" for m in range(6, 13)]
    org_units = {r["subject"] for r in _rows(client, world, check="monthly_self_check")}
    assert org_units == {"u-chem-01", "u-mall-01", "u-site-01"}  # every unit of 林荫街道
    # a check both versions have keeps its rows, none added twice
    assert _rows(client, world, unit="u-chem-01", check="principal_inspection") == before


def test_a_new_version_without_new_checks_adds_no_obligation(client: TestClient,
                                                              world: World) -> None:
    _publish(client, world, HEADER + "checks:" + MONTHLY)
    _deploy(client, world)
    count = len(_rows(client, world))
    _publish(client, world, HEADER.replace("每月自查方案", "每月自查方案（修订）")
             + "checks:" + MONTHLY)
    assert len(_rows(client, world)) == count
