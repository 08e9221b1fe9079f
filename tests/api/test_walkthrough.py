"""A major hazard through the Linyin campaign over HTTP, from 登记 to 销号, with the refusals an
integrator meets on the way: wrong role, out of scope, stale version, missing fields."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.world import World

CAMPAIGN = "special-action-2023-linyin"
HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "description": "储罐区可燃气体报警装置失效", "found_on": "2023-06-01"}
PLAN = {"goals_and_tasks": "更换报警装置并联网", "measures": "停用储罐区，更换并校验报警装置",
        "funds_and_materials": "企业自筹12万元", "responsible": "设备部", "deadline": "2023-07-31",
        "safety_measures": "停用期间专人巡检，备足应急物资"}


def fire(client: TestClient, world: World, who: str, case_id: str, trigger: str,
         data: dict[str, Any] | None = None, version: int | None = None) -> Any:
    body: dict[str, Any] = {"trigger": trigger, "data": data or {}}
    if version is not None:
        body["version"] = version
    return client.post(f"/cases/{case_id}/events", json=body, headers=world.auth(who))


def test_major_hazard_from_report_to_closure(client: TestClient, world: World) -> None:
    opened = client.post("/cases", headers=world.auth("principal"), json={
        "campaign": CAMPAIGN, "type": "hazard", "unit": "u-chem-01", "data": HAZARD})
    assert opened.status_code == 201, opened.text
    case = opened.json()
    case_id = case["id"]
    assert (case["state"], case["state_name"], case["version"]) == ("reported", "已登记", 1)
    assert opened.headers["location"] == f"/cases/{case_id}"

    triggers = client.get(f"/cases/{case_id}/triggers", headers=world.auth("principal")).json()
    assert triggers["triggers"] == ["plan"]  # fix_now is for general hazards only

    # the community may not draw up the unit's plan
    refused = fire(client, world, "community", case_id, "plan", PLAN, version=1)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "role_not_allowed"
    assert refused.json()["required_roles"] == ["principal"]

    # another street's officials do not reach this unit at all
    outside = fire(client, world, "other_street", case_id, "supervise",
                   {"supervision_document": "交安督〔2023〕1号"})
    assert outside.status_code == 403
    assert outside.json()["code"] == "out_of_scope"
    assert client.get(f"/cases/{case_id}", headers=world.auth("hotel_principal")
                      ).status_code == 403

    planned = fire(client, world, "principal", case_id, "plan", PLAN, version=1)
    assert planned.status_code == 200, planned.text
    assert planned.json()["state"] == "rectifying"
    assert planned.json()["clocks_started"] == ["rectification"]
    read = client.get(f"/cases/{case_id}", headers=world.auth("principal")).json()
    assert read["next_due"] == "2023-07-31"
    assert read["clocks"]["rectification"]["due"] == "2023-07-31"

    # a second writer that read version 1 changes nothing
    stale = fire(client, world, "principal", case_id, "submit",
                 {"rectified_on": "2023-06-20", "rectification_result": "已更换"}, version=1)
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    assert stale.json()["current_version"] == 2
    assert client.get(f"/cases/{case_id}", headers=world.auth("principal")
                      ).json()["state"] == "rectifying"

    missing = fire(client, world, "principal", case_id, "submit", {}, version=2)
    assert missing.status_code == 422
    assert missing.json()["code"] == "missing_fields"
    assert missing.json()["missing_fields"] == ["rectified_on", "rectification_result"]

    world.clock.advance(days=19)
    submitted = fire(client, world, "principal", case_id, "submit",
                     {"rectified_on": "2023-06-20", "rectification_result": "已更换并校验"},
                     version=2)
    assert submitted.json()["state"] == "awaiting_acceptance"
    assert submitted.json()["clocks_stopped"] == ["rectification"]

    # the sign-off chain runs in order: 验收组, 属地, 行业部门, 政府
    early = fire(client, world, "locality", case_id, "accept")
    assert early.status_code == 403
    assert early.json()["required_roles"] == ["acceptance_team"]
    version = 3
    for signer in ("acceptance_team", "locality", "regulator"):
        signed = fire(client, world, signer, case_id, "accept",
                      {"acceptance_opinion": "同意"} if signer == "acceptance_team" else {},
                      version=version)
        assert signed.status_code == 200, signed.text
        assert (signed.json()["completed"], signed.json()["state"]) == (
            False, "awaiting_acceptance")
        version += 1
    closed = fire(client, world, "government", case_id, "accept", version=version)
    assert closed.json()["completed"] is True
    assert (closed.json()["state"], closed.json()["state_name"]) == ("closed", "已销号")
    assert closed.json()["clocks_started"] == ["closure_report"]

    reported = fire(client, world, "locality", case_id, "report_closure",
                    {"closure_reported_on": "2023-06-21"})
    assert reported.json()["state"] == "closed"
    assert reported.json()["clocks_stopped"] == ["closure_report"]

    history = client.get(f"/cases/{case_id}/history", headers=world.auth("locality")).json()
    assert [(h["action"], h["role"]) for h in history] == [
        ("open", "principal"), ("plan", "principal"), ("submit", "principal"),
        ("accept:signoff", "acceptance_team"), ("accept:signoff", "locality"),
        ("accept:signoff", "regulator"), ("accept", "government"),
        ("report_closure", "locality")]
    verdict = client.get("/audit/verify", headers=world.auth("admin")).json()
    assert verdict["ok"] is True and verdict["breaks"] == []

    listed = client.get("/cases", params={"state": "closed", "field": "grade:major"},
                        headers=world.auth("locality")).json()
    assert [c["id"] for c in listed["data"]] == [case_id]


def test_open_is_idempotent_by_key(client: TestClient, world: World) -> None:
    body = {"campaign": CAMPAIGN, "type": "hazard", "unit": "u-chem-01", "data": HAZARD}
    headers = {**world.auth("principal"), "Idempotency-Key": "ledger-row-17"}
    first = client.post("/cases", json=body, headers=headers)
    again = client.post("/cases", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    listed = client.get("/cases", headers=world.auth("principal")).json()["data"]
    assert len(listed) == 1
    other = client.post("/cases", json={**body, "data": {**HAZARD, "grade": "general"}},
                        headers=headers)
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"


def test_opening_needs_the_fields_and_a_deployed_campaign(client: TestClient,
                                                          world: World) -> None:
    short = client.post("/cases", headers=world.auth("principal"), json={
        "campaign": CAMPAIGN, "type": "hazard", "unit": "u-chem-01",
        "data": {"grade": "major"}})
    assert short.status_code == 422
    assert short.json()["missing_fields"] == ["source", "industry", "description", "found_on"]
    wrong = client.post("/cases", headers=world.auth("principal"), json={
        "campaign": CAMPAIGN, "type": "hazard", "unit": "u-chem-01",
        "data": {**HAZARD, "grade": "huge"}})
    assert wrong.status_code == 422 and wrong.json()["code"] == "invalid_data"
    elsewhere = client.post("/cases", headers=world.auth("hotel_principal"), json={
        "campaign": CAMPAIGN, "type": "hazard", "unit": "u-hotel-01", "data": HAZARD})
    assert elsewhere.status_code == 422
    assert elsewhere.json()["code"] == "campaign_not_deployed"
    assert client.post("/cases", json={"campaign": CAMPAIGN, "unit": "u-chem-01"}
                       ).status_code == 401
