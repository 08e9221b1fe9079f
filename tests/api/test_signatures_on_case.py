"""The 整改台账 sign-off over HTTP, on SQLite and PostgreSQL: a 市直部门直管 enterprise's chain
skips the county's two signatures (its unit's tag as registered when the case was opened), each
level's 意见 stays with its signature, and the case shows every signature, pending and
completed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
from fastapi.testclient import TestClient

from storage import tokens
from tests.api.test_record_integrity import HAZARD, PLAN_2023, RECTIFIED_2023, fire, ok, token_id
from tests.support.world import World

EXAMPLE = Path(__file__).resolve().parents[1] / "campaigns/docs_example/city-managed-example.yaml"
CAMPAIGN = "city-managed-example"
SHORT = ("acceptance_team", "locality", "city_regulator")
FULL = ("acceptance_team", "locality", "regulator", "government", "city_regulator")


def city_managed_plant(client: TestClient, world: World, campaign_text: bytes,
                       campaign: str) -> None:
    """A child campaign published and deployed to 林荫街道, with a city-managed plant (tag
    city_managed) in 林荫 community 1 and its principal's token `u-city-01`."""
    r = client.post("/campaigns", content=campaign_text, headers={
        **world.auth("admin"), "Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    r = client.post(f"/campaigns/{campaign}/deployments", json={"org": "linyin"},
                    headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    r = client.post("/units", headers=world.auth("admin"), json={
        "id": "u-city-01", "name": "市直管化工有限公司", "org": "linyin-c1",
        "industry": "hazardous_chemicals", "tags": ["city_managed"]})
    assert r.status_code == 201, r.text
    with world.services.db.write() as conn:
        plant = tokens.create(conn, name="市直管化工主要负责人", scope_kind="unit",
                              scope_id="u-city-01", now=world.clock(), by="test",
                              roles=("principal",))
    world.tokens["u-city-01"] = plant.secret


def city_world(client: TestClient, world: World) -> None:
    """The example campaign deployed to 林荫街道, a city-managed plant, and a city regulator."""
    city_managed_plant(client, world, EXAMPLE.read_bytes(), CAMPAIGN)
    with world.services.db.write() as conn:
        issued = tokens.create(conn, name="demo city_regulator", scope_kind="org",
                               scope_id="linyin", now=world.clock(), by="test",
                               roles=("city_regulator",))
    world.tokens["city_regulator"] = issued.secret


def awaiting(client: TestClient, world: World, unit: str) -> str:
    principal = "principal" if unit == "u-chem-01" else unit
    r = client.post("/cases", headers=world.auth(principal), json={
        "campaign": CAMPAIGN, "type": "hazard", "unit": unit, "data": HAZARD})
    assert r.status_code == 201, r.text
    case_id: str = r.json()["id"]
    ok(fire(client, world, principal, case_id, "plan", PLAN_2023))
    ok(fire(client, world, principal, case_id, "submit", RECTIFIED_2023))
    return case_id


def opinion(role: str) -> dict[str, str]:
    return {"opinion": f"{role}：整改到位，同意销号"}


def shown(case: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(s["role"], s["actor"], s["data"], s["completed"], s["step"])
            for s in case["signatures"]]


def test_a_city_managed_hazard_closes_with_three_signatures_each_with_its_opinion(
        client: TestClient, world: World) -> None:
    city_world(client, world)
    case_id = awaiting(client, world, "u-city-01")
    for role in SHORT[:2]:
        assert ok(fire(client, world, role, case_id, "accept", opinion(role)))["completed"] is False
    # the county department's turn never comes: the city regulator's does
    refused = fire(client, world, "regulator", case_id, "accept", opinion("regulator"))
    assert refused.status_code == 403, refused.text
    assert "city_regulator" in refused.json()["detail"]
    triggers = client.get(f"/cases/{case_id}/triggers", headers=world.auth("city_regulator"))
    assert "accept" in triggers.json()["triggers"]

    pending = client.get(f"/cases/{case_id}", headers=world.auth("locality")).json()
    assert shown(pending) == [
        (role, token_id(world, role), opinion(role), False, step)
        for role, step in zip(SHORT[:2], (0, 1), strict=True)]

    closed = ok(fire(client, world, "city_regulator", case_id, "accept",
                     opinion("city_regulator")))
    assert (closed["completed"], closed["state"]) == (True, "closed")
    case = client.get(f"/cases/{case_id}", headers=world.auth("locality")).json()
    expected = [(role, token_id(world, role), opinion(role), True, step)
                for role, step in zip(SHORT, (0, 1, 4), strict=True)]
    assert shown(case) == expected
    assert all(s["at"] and s["actor_name"] for s in case["signatures"])
    assert "opinion" not in case["data"]  # each 意见 is its signer's, not the case's
    listed = client.get("/cases", params={"unit": "u-city-01"},
                        headers=world.auth("locality")).json()["data"]
    assert [shown(c) for c in listed] == [expected]
    # the history keeps each signer's own fields apart from what the case holds, and the case
    # row is still exactly what its audit stream replays to
    history = client.get(f"/cases/{case_id}/history", headers=world.auth("locality")).json()
    assert [h["data"] for h in history if h["action"].startswith("accept")] == [
        {"_signature": opinion(role)} for role in SHORT]
    verdict = client.get("/audit/verify", headers=world.auth("admin")).json()
    assert (verdict["ok"], verdict["breaks"]) == (True, [])
    # the 整改台账 prints each level's 意见 in its box; the county's two boxes stay empty
    r = client.get(f"/cases/{case_id}/ledger", headers=world.auth("locality"))
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    boxes = {str(row[0].value): str(row[1].value) for row in sheet.iter_rows()
             if row[0].value and str(row[0].value).endswith(("签字", "意见"))}
    for label, role in (("验收组成员签字", "acceptance_team"), ("乡镇（街道）意见", "locality"),
                        ("省辖市主管部门意见", "city_regulator")):
        assert boxes[label].startswith(opinion(role)["opinion"]), boxes
    assert not boxes["县市区行业主管部门意见"].startswith("regulator")
    assert "主要负责人签字：\n" in boxes["县市区政府意见"] + "\n"


def test_a_plant_the_county_manages_needs_the_county_signatures(
        client: TestClient, world: World) -> None:
    city_world(client, world)
    case_id = awaiting(client, world, "u-chem-01")
    for role in FULL[:2]:
        ok(fire(client, world, role, case_id, "accept", opinion(role)))
    refused = fire(client, world, "city_regulator", case_id, "accept", opinion("x"))
    assert refused.status_code == 403 and "regulator" in refused.json()["detail"]
    for role in FULL[2:]:
        ok(fire(client, world, role, case_id, "accept", opinion(role)))
    case = client.get(f"/cases/{case_id}", headers=world.auth("locality")).json()
    assert case["state"] == "closed"
    assert [(s["role"], s["data"]["opinion"]) for s in case["signatures"]] == [
        (role, opinion(role)["opinion"]) for role in FULL]


def test_a_signer_without_an_opinion_or_with_a_wrong_one_is_refused(
        client: TestClient, world: World) -> None:
    city_world(client, world)
    case_id = awaiting(client, world, "u-city-01")
    missing = fire(client, world, "acceptance_team", case_id, "accept")
    assert missing.status_code == 422 and missing.json()["missing_fields"] == ["opinion"]
    wrong = fire(client, world, "acceptance_team", case_id, "accept", {"opinion": ["同意"]})
    assert wrong.status_code == 422 and "opinion" in wrong.text
    case = client.get(f"/cases/{case_id}", headers=world.auth("locality")).json()
    assert case["signatures"] == [] and case["version"] == 3


def test_a_rejection_clears_the_pending_chain_from_the_case_not_the_history(
        client: TestClient, world: World) -> None:
    city_world(client, world)
    case_id = awaiting(client, world, "u-city-01")
    ok(fire(client, world, "acceptance_team", case_id, "accept", opinion("acceptance_team")))
    ok(fire(client, world, "locality", case_id, "reject",
            {"reason": "探头未联锁", "deadline": "2023-07-14"}))
    case = client.get(f"/cases/{case_id}", headers=world.auth("locality")).json()
    assert (case["state"], case["signatures"]) == ("rectifying", [])
    history = client.get(f"/cases/{case_id}/history", headers=world.auth("locality")).json()
    assert [h["data"] for h in history if h["action"] == "accept:signoff"] == [
        {"_signature": opinion("acceptance_team")}]
