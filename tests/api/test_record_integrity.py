"""The attacks on the record over HTTP, on SQLite and PostgreSQL: nobody closes a major hazard
alone.

* a principal's `plan` with `grade: general` re-graded a major hazard, which the general path
  then closed with one signature (both bundled base campaigns);
* one token holding every signing role gave all four signatures of a 销号 chain;
* each signer's 验收意见 was overwritten by the next;
* data nested 260 levels deep gave a 500; a huge description or a year-1 date was stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from storage import audit, tokens
from storage.tables import Case
from tests.support.world import World

LINYIN = "special-action-2023-linyin"
THREE_YEAR = "three-year-plan-2024-2026"
HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "description": "储罐区可燃气体报警装置失效", "found_on": "2023-06-01"}
PLAN_2023 = {"goals_and_tasks": "更换报警装置", "measures": "停用储罐区，更换并校验",
             "funds_and_materials": "企业自筹", "responsible": "设备部",
             "deadline": "2023-07-31", "safety_measures": "专人巡检"}
RECTIFIED_2023 = {"rectified_on": "2023-06-20", "rectification_result": "已更换并校验"}
PLAN_2024 = {"plan_goal": "更换报警装置", "plan_measures": "停用储罐区，更换并校验",
             "plan_funds": "企业自筹12万元", "plan_organization": "设备部",
             "deadline": "2026-12-25", "plan_emergency": "专人巡检"}
RECTIFIED_2024 = {"rectified_on": "2026-12-10", "rectification_report": "已更换并校验"}
CASE_T = Case.__table__  # type: ignore[attr-defined]


def fire(client: TestClient, world: World, who: str, case_id: str, trigger: str,
         data: Mapping[str, Any] | None = None) -> Any:
    return client.post(f"/cases/{case_id}/events", json={"trigger": trigger,
                                                         "data": dict(data or {})},
                       headers=world.auth(who))


def opened(client: TestClient, world: World, campaign: str, data: Mapping[str, Any]) -> str:
    r = client.post("/cases", headers=world.auth("principal"), json={
        "campaign": campaign, "type": "hazard", "unit": "u-chem-01", "data": dict(data)})
    assert r.status_code == 201, r.text
    case_id: str = r.json()["id"]
    return case_id


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def token_id(world: World, name: str) -> str:
    return f"token:{world.principal(name).token_id}"


def assert_record_is_its_history(world: World, case_id: str) -> None:
    """The case row's data is its `open` entry's data merged, in order, with every later
    entry's data (what an audit check of case rows relies on)."""
    with world.services.db.read() as conn:
        entries = audit.history(conn, f"case:{case_id}")
        row = conn.execute(select(CASE_T.c.data).where(CASE_T.c.id == case_id)).scalar_one()
    merged = dict(entries[0]["data"]["data"])
    for entry in entries[1:]:
        merged.update(entry["data"])
    assert row == merged


def test_2023_a_principal_cannot_regrade_a_major_hazard_and_close_it_alone(
        client: TestClient, world: World) -> None:
    case_id = opened(client, world, LINYIN, HAZARD)
    refused = fire(client, world, "principal", case_id, "plan", {**PLAN_2023, "grade": "general"})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "fields_not_settable"
    assert body["refused_fields"] == ["grade"]
    assert "grade" not in body["settable_fields"] and "deadline" in body["settable_fields"]
    assert "grade is set by 'regrade'" in body["detail"]
    case = client.get(f"/cases/{case_id}", headers=world.auth("principal")).json()
    assert (case["data"]["grade"], case["state"], case["version"]) == ("major", "reported", 1)

    ok(fire(client, world, "principal", case_id, "plan", PLAN_2023))
    ok(fire(client, world, "principal", case_id, "submit", RECTIFIED_2023))
    signed = ok(fire(client, world, "acceptance_team", case_id, "accept"))
    assert (signed["completed"], signed["state"]) == (False, "awaiting_acceptance")


def test_2024_a_principal_cannot_regrade_a_major_hazard_and_close_it_alone(
        client: TestClient, world: World) -> None:
    world.clock.advance(days=365 * 3 + 180)  # 2026-11-29, inside the three-year plan
    case_id = opened(client, world, THREE_YEAR, {**HAZARD, "found_on": "2026-11-20"})
    refused = fire(client, world, "principal", case_id, "plan", {**PLAN_2024, "grade": "general"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "fields_not_settable"
    ok(fire(client, world, "principal", case_id, "plan", PLAN_2024))
    refused = fire(client, world, "principal", case_id, "update_progress",
                   {"progress_note": "已停用储罐区", "grade": "general"})
    assert refused.json()["code"] == "fields_not_settable"
    ok(fire(client, world, "principal", case_id, "submit", RECTIFIED_2024))
    verify = fire(client, world, "community", case_id, "verify", {"acceptance_opinion": "同意"})
    assert verify.status_code == 422 and verify.json()["code"] == "condition_failed"
    case = client.get(f"/cases/{case_id}", headers=world.auth("community")).json()
    assert (case["data"]["grade"], case["state"]) == ("major", "awaiting_acceptance")


def test_a_regulators_regrade_is_audited_and_opens_the_general_path(
        client: TestClient, world: World) -> None:
    case_id = opened(client, world, LINYIN, HAZARD)
    regrade = {"grade": "general", "regrade_reason": "经复核不属于重大事故隐患判定标准情形",
               "criterion": "不适用"}
    refused = fire(client, world, "principal", case_id, "regrade", regrade)
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
    assert refused.json()["required_roles"] == ["regulator", "safety_office"]

    regraded = ok(fire(client, world, "regulator", case_id, "regrade", regrade))
    assert (regraded["from_state"], regraded["state"], regraded["role"]) == (
        "reported", "reported", "regulator")
    history = client.get(f"/cases/{case_id}/history", headers=world.auth("regulator")).json()
    last = history[-1]
    assert (last["action"], last["role"], last["data"]) == ("regrade", "regulator", regrade)
    assert (last["actor"], last["actor_name"]) == (token_id(world, "regulator"), "demo regulator")
    assert client.get("/audit/verify", headers=world.auth("admin")).json()["ok"] is True

    triggers = client.get(f"/cases/{case_id}/triggers", headers=world.auth("principal")).json()
    assert triggers["triggers"] == ["fix_now", "plan"]
    assert ok(fire(client, world, "principal", case_id, "fix_now", RECTIFIED_2023))[
        "state"] == "awaiting_acceptance"
    assert_record_is_its_history(world, case_id)


def everyone_token(world: World) -> str:
    """One street official's token holding every role of the 销号 chain."""
    with world.services.db.write() as conn:
        issued = tokens.create(conn, name="林荫街道一人多角色", scope_kind="org",
                               scope_id="linyin", now=world.clock(), by="test",
                               roles=("acceptance_team", "locality", "regulator",
                                      "government"))
    world.tokens["everyone"] = issued.secret
    return f"token:{issued.id}"


def test_one_token_cannot_give_two_signatures_of_a_chain(
        client: TestClient, world: World) -> None:
    everyone = everyone_token(world)
    case_id = opened(client, world, LINYIN, HAZARD)
    ok(fire(client, world, "principal", case_id, "plan", PLAN_2023))
    ok(fire(client, world, "principal", case_id, "submit", RECTIFIED_2023))
    first = ok(fire(client, world, "everyone", case_id, "accept"))
    assert (first["role"], first["completed"]) == ("acceptance_team", False)

    again = fire(client, world, "everyone", case_id, "accept")
    assert again.status_code == 403, again.text
    body = again.json()
    assert body["code"] == "same_signer"
    assert (body["role"], body["signed_as"], body["signer"]) == (
        "locality", "acceptance_team", "林荫街道一人多角色")
    assert "already signed 'accept' as acceptance_team" in body["detail"]
    triggers = client.get(f"/cases/{case_id}/triggers", headers=world.auth("everyone")).json()
    assert "accept" not in triggers["triggers"]

    for who in ("locality", "regulator", "government"):
        ok(fire(client, world, who, case_id, "accept"))
    case = client.get(f"/cases/{case_id}", headers=world.auth("locality")).json()
    assert case["state"] == "closed"
    assert [(s["role"], s["actor"], s["completed"]) for s in case["signatures"]] == [
        ("acceptance_team", everyone, True),
        ("locality", token_id(world, "locality"), True),
        ("regulator", token_id(world, "regulator"), True),
        ("government", token_id(world, "government"), True)]


COSIGN = """\
paicha: 1
id: cosign-2023
extends: special-action-2023
title: 一人可签两级的示例方案
cases:
  hazard:
    transitions:
      - {id: accept_major, same_signer: allowed}
"""


def test_a_campaign_may_let_one_person_sign_for_two_roles_explicitly(
        client: TestClient, world: World) -> None:
    r = client.post("/campaigns", content=COSIGN.encode(), headers={
        **world.auth("admin"), "Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    r = client.post("/campaigns/cosign-2023/deployments", json={"org": "linyin"},
                    headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    everyone = everyone_token(world)
    case_id = opened(client, world, "cosign-2023", HAZARD)
    ok(fire(client, world, "principal", case_id, "plan", PLAN_2023))
    ok(fire(client, world, "principal", case_id, "submit", RECTIFIED_2023))
    for role in ("acceptance_team", "locality"):
        assert ok(fire(client, world, "everyone", case_id, "accept"))["role"] == role
    for who in ("regulator", "government"):
        ok(fire(client, world, who, case_id, "accept"))
    case = client.get(f"/cases/{case_id}", headers=world.auth("locality")).json()
    assert case["state"] == "closed"
    assert [s["actor"] for s in case["signatures"][:2]] == [everyone, everyone]


def test_each_signer_keeps_their_own_opinion_on_the_case(
        client: TestClient, world: World) -> None:
    world.clock.advance(days=365 * 3 + 180)
    case_id = opened(client, world, THREE_YEAR, {**HAZARD, "found_on": "2026-11-20"})
    ok(fire(client, world, "principal", case_id, "plan", PLAN_2024))
    ok(fire(client, world, "principal", case_id, "submit", RECTIFIED_2024))
    signers = ("acceptance_team", "community", "regulator", "government")
    ok(fire(client, world, "acceptance_team", case_id, "accept",
            {"acceptance_opinion": "验收组：整改到位"}))
    # the opinion on the case is not the next signer's
    missing = fire(client, world, "community", case_id, "accept")
    assert missing.status_code == 422 and missing.json()["missing_fields"] == [
        "acceptance_opinion"]
    for who in signers[1:]:
        ok(fire(client, world, who, case_id, "accept", {"acceptance_opinion": f"{who}：同意"}))

    case = client.get(f"/cases/{case_id}", headers=world.auth("community")).json()
    assert case["state"] == "closed"
    opinions = ["验收组：整改到位", "community：同意", "regulator：同意", "government：同意"]
    assert [(s["role"], s["actor"], s["actor_name"], s["data"]) for s in case["signatures"]] == [
        (who, token_id(world, who), f"demo {who}", {"acceptance_opinion": opinion})
        for who, opinion in zip(signers, opinions, strict=True)]
    assert case["data"]["acceptance_opinion"] == "government：同意"

    history = client.get(f"/cases/{case_id}/history", headers=world.auth("community")).json()
    assert [(h["action"], h["actor_name"]) for h in history[-4:]] == [
        ("accept:signoff", "demo acceptance_team"), ("accept:signoff", "demo community"),
        ("accept:signoff", "demo regulator"), ("accept", "demo government")]
    assert {h["actor"] for h in history} == {token_id(world, w) for w in ("principal", *signers)}
    assert_record_is_its_history(world, case_id)


def test_keys_the_transition_does_not_declare_are_refused(
        client: TestClient, world: World) -> None:
    case_id = opened(client, world, LINYIN, HAZARD)
    for extra in ({"bogus": 1}, {"description": "改写登记内容"}, {"acceptance_opinion": "同意"}):
        refused = fire(client, world, "principal", case_id, "plan", {**PLAN_2023, **extra})
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "fields_not_settable"
        assert refused.json()["refused_fields"] == list(extra)
    case = client.get(f"/cases/{case_id}", headers=world.auth("principal")).json()
    assert (case["version"], case["data"]) == (1, HAZARD)


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


def test_deeply_nested_data_is_a_422_not_a_500(client: TestClient, world: World) -> None:
    for depth in (260, 20):
        r = client.post("/cases", headers=world.auth("principal"), json={
            "campaign": LINYIN, "type": "hazard", "unit": "u-chem-01",
            "data": {**HAZARD, "description": nested(depth)}})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "request_invalid"
        assert "nested more than 10 levels deep" in r.json()["detail"]
    case_id = opened(client, world, LINYIN, HAZARD)
    r = fire(client, world, "principal", case_id, "plan", {**PLAN_2023, "measures": nested(260)})
    assert r.status_code == 422, r.text


def test_a_huge_text_or_an_implausible_date_is_not_stored(
        client: TestClient, world: World) -> None:
    for data, problem in (({**HAZARD, "description": "x" * 100_000},
                           "description: text of 100,000 characters; at most 20,000"),
                          ({**HAZARD, "found_on": "0001-01-01"},
                           "found_on: 0001-01-01 is outside the dates this campaign records "
                           "(2013-01-01 to 2033-12-31)")):
        r = client.post("/cases", headers=world.auth("principal"), json={
            "campaign": LINYIN, "type": "hazard", "unit": "u-chem-01", "data": data})
        assert r.status_code == 422, r.text[:300]
        assert r.json()["code"] == "invalid_data"
        assert any(problem in p for p in r.json()["problems"]), r.json()
    assert client.get("/cases", headers=world.auth("principal")).json()["data"] == []


def _june_inspection(client: TestClient, world: World) -> int:
    rows = client.get("/obligations", params={
        "unit": "u-chem-01", "check": "principal_inspection", "due_from": "2023-06-30",
        "due_to": "2023-06-30"}, headers=world.auth("principal")).json()["data"]
    assert len(rows) == 1, rows
    found: int = rows[0]["id"]
    return found


def test_evidence_keeps_the_same_bounds(client: TestClient, world: World) -> None:
    june = _june_inspection(client, world)
    inspection = {"inspected_at": "2023-06-12", "record": "检查记录第2023-06号"}
    for evidence, path, message in (
            ({**inspection, "photos": nested(260)}, None, "nested more than 10 levels"),
            ({**inspection, "record": "x" * 100_000}, "$.record", "text of 100,000 characters"),
            ({**inspection, "inspected_at": "0001-01-01"}, "$.inspected_at",
             "0001-01-01 is outside the dates this campaign records")):
        r = client.post(f"/obligations/{june}/completions", json={"evidence": evidence},
                        headers=world.auth("principal"))
        assert r.status_code == 422, r.text[:300]
        body = r.json()
        if path is None:
            assert body["code"] == "request_invalid" and message in body["detail"]
        else:
            assert body["code"] == "evidence_invalid"
            assert [(p["path"], message in p["message"]) for p in body["problems"]] == [
                (path, True)]
    done = client.get(f"/obligations/{june}/completions", headers=world.auth("principal"))
    assert done.json() == []
