"""A case is judged by its unit as registered when it was opened, on SQLite and PostgreSQL: a
street office that re-tags a county-managed plant `city_managed` mid-case does not spare a
重大事故隐患 the district's two signatures of the 整改台账, un-tagging a city-managed plant does not
add them, and the sweep's automatic 挂牌督办 holds to the same record. The tags changed are the
unit's for cases opened afterwards. Events over HTTP take the event lane (api.event_lane), and
on SQLite the batched writes (storage.event_batch); on PostgreSQL one transaction each."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import null, update

from deadlines.sweep import Sweeper
from storage.tables import Case
from tests.api.test_conditions_on_unit import planned
from tests.api.test_conditions_on_unit import publish as publish_supervision
from tests.api.test_record_integrity import fire, ok
from tests.api.test_signatures_on_case import FULL, SHORT, awaiting, city_world, opinion
from tests.deadlines.test_sweep import local
from tests.support.world import World

case_t = Case.__table__  # type: ignore[attr-defined]

COUNTY_TERMS = {"industry": "hazardous_chemicals", "tags": ["major_hazard_source"]}
CITY_TERMS = {"industry": "hazardous_chemicals", "tags": ["city_managed"]}


def retag(client: TestClient, world: World, unit: str, tags: list[str]) -> None:
    """The street office (an org token over the unit) changes the unit's tags."""
    r = client.patch(f"/units/{unit}", json={"tags": tags}, headers=world.auth("locality"))
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == sorted(tags)


def read(client: TestClient, world: World, case_id: str) -> dict[str, Any]:
    r = client.get(f"/cases/{case_id}", headers=world.auth("locality"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def triggers(client: TestClient, world: World, who: str, case_id: str) -> list[str]:
    r = client.get(f"/cases/{case_id}/triggers", headers=world.auth(who))
    assert r.status_code == 200, r.text
    found: list[str] = r.json()["triggers"]
    return found


def test_tagging_a_county_plant_city_managed_mid_case_skips_no_signature(
        client: TestClient, world: World) -> None:
    city_world(client, world)
    case_id = awaiting(client, world, "u-chem-01")
    assert read(client, world, case_id)["unit_terms"] == COUNTY_TERMS
    for role in FULL[:2]:
        ok(fire(client, world, role, case_id, "accept", opinion(role)))
    # just before the last signatures, the street re-tags the plant 市直部门直管
    retag(client, world, "u-chem-01", ["city_managed", "major_hazard_source"])
    refused = fire(client, world, "city_regulator", case_id, "accept", opinion("city_regulator"))
    assert refused.status_code == 403, refused.text
    assert "regulator" in refused.json()["detail"]
    assert "accept" not in triggers(client, world, "city_regulator", case_id)
    assert "accept" in triggers(client, world, "regulator", case_id)
    for role in FULL[2:]:
        ok(fire(client, world, role, case_id, "accept", opinion(role)))
    case = read(client, world, case_id)
    assert case["state"] == "closed" and case["unit_terms"] == COUNTY_TERMS
    assert [(s["role"], s["step"]) for s in case["signatures"]] == [
        (role, step) for step, role in enumerate(FULL)]
    verdict = client.get("/audit/verify", headers=world.auth("admin")).json()
    assert (verdict["ok"], verdict["breaks"]) == (True, [])

    # the registry's change holds for a case opened afterwards: its chain is the short one
    later = awaiting(client, world, "u-chem-01")
    assert read(client, world, later)["unit_terms"] == {
        "industry": "hazardous_chemicals", "tags": ["city_managed", "major_hazard_source"]}
    for role in SHORT:
        ok(fire(client, world, role, later, "accept", opinion(role)))
    assert read(client, world, later)["state"] == "closed"


def test_untagging_a_city_managed_plant_mid_case_adds_no_signature(
        client: TestClient, world: World) -> None:
    city_world(client, world)
    case_id = awaiting(client, world, "u-city-01")
    ok(fire(client, world, "acceptance_team", case_id, "accept", opinion("acceptance_team")))
    retag(client, world, "u-city-01", [])
    ok(fire(client, world, "locality", case_id, "accept", opinion("locality")))
    refused = fire(client, world, "regulator", case_id, "accept", opinion("regulator"))
    assert refused.status_code == 403 and "city_regulator" in refused.json()["detail"]
    assert "accept" in triggers(client, world, "city_regulator", case_id)
    closed = ok(fire(client, world, "city_regulator", case_id, "accept",
                     opinion("city_regulator")))
    assert (closed["completed"], closed["state"]) == (True, "closed")
    case = read(client, world, case_id)
    assert case["unit_terms"] == CITY_TERMS
    assert [(s["role"], s["step"]) for s in case["signatures"]] == list(
        zip(SHORT, (0, 1, 4), strict=True))


def test_the_sweep_judges_the_automatic_supervision_by_the_unit_as_registered(
        client: TestClient, world: World) -> None:
    publish_supervision(client, world)
    county = planned(client, world, "u-chem-01")
    city = planned(client, world, "u-city-01")
    # both plants swap their registration before the 整改期限 passes
    retag(client, world, "u-chem-01", ["city_managed", "major_hazard_source"])
    retag(client, world, "u-city-01", [])
    world.clock.now = local("2023-08-01", 10, 0)
    result = Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert read(client, world, county)["state"] == "supervised"
    assert read(client, world, city)["state"] == "rectifying"
    assert [r.split(":")[0] for r in result.refusals] == [city]


def test_the_audit_check_finds_a_unit_record_changed_on_the_case_row(
        client: TestClient, world: World) -> None:
    city_world(client, world)
    case_id = awaiting(client, world, "u-chem-01")
    history = client.get(f"/cases/{case_id}/history", headers=world.auth("locality")).json()
    assert history[0]["action"] == "open" and history[0]["data"]["unit_terms"] == COUNTY_TERMS
    with world.services.db.write() as conn:  # outside the API: someone with the database
        conn.execute(update(case_t).where(case_t.c.id == case_id).values(unit_terms=CITY_TERMS))
    verdict = client.get("/audit/verify", headers=world.auth("admin")).json()
    assert verdict["ok"] is False
    [found] = verdict["breaks"]
    assert found["stream"] == f"case:{case_id}"
    # (PostgreSQL's JSONB orders the keys its own way: the text is checked by its parts)
    assert found["problem"].startswith("the case row's unit_terms {")
    assert found["problem"].endswith(
        "as the case was opened: the row was changed outside the log")
    assert "city_managed" in found["problem"] and "major_hazard_source" in found["problem"]


def test_a_row_stored_without_the_units_terms_follows_the_unit_as_it_is(
        client: TestClient, world: World) -> None:
    """A case row a tool inserted without them (the API always stores them, and 0010 filled
    every older row) is judged as before: by its unit as registered now."""
    city_world(client, world)
    case_id = awaiting(client, world, "u-city-01")
    with world.services.db.write() as conn:
        conn.execute(update(case_t).where(case_t.c.id == case_id).values(unit_terms=null()))
    assert read(client, world, case_id)["unit_terms"] is None
    retag(client, world, "u-city-01", [])
    for role in FULL[:3]:  # the county's department signs: the plant is no longer city-managed
        ok(fire(client, world, role, case_id, "accept", opinion(role)))
