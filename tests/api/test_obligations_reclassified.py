"""A unit whose industry or tags change, or an org whose level changes, owes from then on what
its new kind owes: on SQLite and PostgreSQL, through PATCH and through a re-import.

Dates from campaigns/special-action-2023.yaml (林荫街道's plan inherits them): 主要负责人带队检查
is quarterly, monthly for 高危 units (危险化学品 among them), due on each period's last day rolled
to a working day. The clock stands at 2023-07-20: June and Q2 have ended, July and Q3 have not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from storage.tables import Timer as TimerRow
from tests.support.world import World

CHECK = "principal_inspection"
CAMPAIGN = "special-action-2023-linyin"


def inspections(client: TestClient, world: World, unit: str) -> list[tuple[str, str, int]]:
    r = client.get("/obligations", params={"unit": unit, "check": CHECK, "campaign": CAMPAIGN,
                                           "limit": 100},
                   headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()["data"]
    return [(o["period"], o["due"], o["done"]) for o in rows]


def reclassify(client: TestClient, world: World, how: str, unit: str, industry: str) -> None:
    if how == "patch":
        r = client.patch(f"/units/{unit}", json={"industry": industry},
                         headers=world.auth("locality"))
    else:
        current = client.get(f"/units/{unit}", headers=world.auth("admin")).json()
        sheet = (f"id,name,org,industry,tags\n{unit},{current['name']},{current['org']},"
                 f"{industry},{';'.join(current['tags'])}\n")
        r = client.post("/units/import", files={"file": ("units.csv", sheet.encode(),
                                                         "text/csv")},
                        headers=world.auth("locality"))
    assert r.status_code == 200, r.text


def pending_reminders(world: World, subjects: list[str]) -> list[str]:
    timer_t = TimerRow.__table__  # type: ignore[attr-defined]
    with world.services.db.read() as conn:
        return list(conn.execute(select(timer_t.c.subject).where(
            timer_t.c.subject.in_(subjects), timer_t.c.status == "pending")).scalars())


def obligation_ids(client: TestClient, world: World, unit: str) -> dict[str, int]:
    r = client.get("/obligations", params={"unit": unit, "check": CHECK, "campaign": CAMPAIGN,
                                           "limit": 100},
                   headers=world.auth("admin"))
    return {o["period"]: o["id"] for o in r.json()["data"]}


@pytest.mark.parametrize("how", ["patch", "import"])
def test_a_mall_registered_as_hazardous_chemicals_owes_monthly_inspections_from_this_month(
        client: TestClient, world: World, how: str) -> None:
    assert inspections(client, world, "u-mall-01") == [
        ("2023Q2", "2023-06-30", 0), ("2023Q3", "2023-10-07", 0), ("2023Q4", "2024-01-02", 0)]
    quarterly = obligation_ids(client, world, "u-mall-01")
    world.clock.now = dt.datetime(2023, 7, 20, 1, 0, tzinfo=dt.UTC)
    reclassify(client, world, how, "u-mall-01", "危险化学品")
    assert inspections(client, world, "u-mall-01") == [
        ("2023Q2", "2023-06-30", 0),  # its period has ended: the record of what was owed
        ("2023-07", "2023-07-31", 0), ("2023-08", "2023-08-31", 0),
        ("2023-09", "2023-10-07", 0),  # 09-30 a Saturday, then 国庆: the Saturday worked after
        ("2023-10", "2023-10-31", 0), ("2023-11", "2023-11-30", 0),
        ("2023-12", "2024-01-02", 0)]  # 12-31 a Sunday, then 元旦
    # the quarterly duties withdrawn are no longer reminded of
    withdrawn = [f"obligation:{quarterly[p]}" for p in ("2023Q3", "2023Q4")]
    assert pending_reminders(world, withdrawn) == []


def test_a_duty_done_stays_when_the_unit_is_no_longer_high_risk(
        client: TestClient, world: World) -> None:
    world.clock.now = dt.datetime(2023, 7, 20, 1, 0, tzinfo=dt.UTC)
    july = obligation_ids(client, world, "u-chem-01")["2023-07"]
    r = client.post(f"/obligations/{july}/completions", headers=world.auth("principal"), json={
        "evidence": {"inspected_at": "2023-07-19", "record": "带队检查储罐区"}})
    assert r.status_code in (200, 201), r.text
    reclassify(client, world, "patch", "u-chem-01", "commerce")
    after = inspections(client, world, "u-chem-01")
    assert ("2023-07", "2023-07-31", 1) in after  # done: kept as the record
    assert [row for row in after if row[0] in ("2023-08", "2023-09", "2023-12")] == []
    assert ("2023Q3", "2023-10-07", 0) in after and ("2023Q4", "2024-01-02", 0) in after
    assert ("2023-06", "2023-06-30", 0) in after  # an ended period is never withdrawn


def test_an_org_made_a_community_owes_the_communitys_duties(
        client: TestClient, world: World) -> None:
    def duties(org: str) -> list[str]:
        r = client.get("/obligations", params={"org": org, "limit": 500, "due_from": "2023-07-01"},
                       headers=world.auth("admin"))
        return sorted({o["check"] for o in r.json()["data"] if o["subject"] == org})

    world.clock.now = dt.datetime(2023, 7, 20, 1, 0, tzinfo=dt.UTC)
    r = client.post("/orgs", headers=world.auth("locality"), json={
        "id": "linyin-dept", "name": "林荫街道安监所", "level": "department",
        "parent": "linyin"})
    assert r.status_code == 201, r.text
    assert "community_dispatch_report" not in duties("linyin-dept")
    version = client.get("/orgs/linyin-dept", headers=world.auth("admin")).json()["version"]
    r = client.patch("/orgs/linyin-dept", json={"level": "社区", "version": version},
                     headers=world.auth("locality"))
    assert r.status_code == 200, r.text
    assert "community_dispatch_report" in duties("linyin-dept")
    r = client.patch("/orgs/linyin-dept", json={"level": "department", "version": version + 1},
                     headers=world.auth("locality"))
    assert r.status_code == 200, r.text
    assert "community_dispatch_report" not in duties("linyin-dept")
