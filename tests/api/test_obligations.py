"""Obligations (规定动作) over HTTP: expansion on deployment and on new subjects, listing within
the token's scope, completion with evidence, derived status, and pagination.

Expected dates are worked out from campaigns/special-action-2023.yaml (principal_inspection:
quarterly, monthly for high_risk units; due on the period's last day, rolled to the next
working day) as inherited by special-action-2023-linyin, deployed to linyin on 2023-06-01.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from storage import audit, obligations, tokens
from tests.support.world import World

LINYIN = "special-action-2023-linyin"
INSPECTION = {"inspected_at": "2023-06-12", "record": "检查记录第2023-06号", "hazards_found": 0}

# u-chem-01 is hazardous_chemicals (high_risk): one inspection a month. 2023-09-30 is the
# Saturday of the National Day holiday, so September's falls on the make-up workday 10-07;
# 2023-12-31 is a Sunday before New Year's Day, so December's falls on 2024-01-02.
MONTHLY_DUES = ["2023-05-31", "2023-06-30", "2023-07-31", "2023-08-31", "2023-10-07",
                "2023-10-31", "2023-11-30", "2024-01-02"]


def _get(client: TestClient, world: World, token: str, path: str = "/obligations",
         **params: Any) -> Any:
    r = client.get(path, params=params, headers=world.auth(token))
    assert r.status_code == 200, r.text
    return r.json()


def _all(client: TestClient, world: World, token: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a listing, following the cursor."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = _get(client, world, token, limit=500, **params,
                    **({"cursor": cursor} if cursor else {}))
        rows.extend(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


def _one(client: TestClient, world: World, token: str, **params: Any) -> dict[str, Any]:
    rows = _get(client, world, token, **params)["data"]
    assert len(rows) == 1, rows
    found: dict[str, Any] = rows[0]
    return found


def _june_inspection(client: TestClient, world: World) -> dict[str, Any]:
    return _one(client, world, "principal", unit="u-chem-01", check="principal_inspection",
                due_from="2023-06-30", due_to="2023-06-30")


def _complete(client: TestClient, world: World, token: str, obligation_id: int,
              evidence: dict[str, Any], **headers: str) -> Any:
    return client.post(f"/obligations/{obligation_id}/completions",
                       json={"evidence": evidence}, headers={**world.auth(token), **headers})


# -- expansion -------------------------------------------------------------------------------

def test_high_risk_principal_has_monthly_inspections_rolled_to_working_days(
        client: TestClient, world: World) -> None:
    rows = _get(client, world, "principal", unit="u-chem-01", check="principal_inspection",
                campaign=LINYIN)["data"]
    assert [r["due"] for r in rows] == MONTHLY_DUES
    assert [r["period"] for r in rows] == [f"2023-{m:02d}" for m in range(5, 13)]
    assert {(r["role"], r["subject_kind"], r["subject"], r["times"], r["done"], r["variant"])
            for r in rows} == {("principal", "unit", "u-chem-01", 1, 0, "stricter: high_risk")}
    assert rows[0]["org_path"] == "/dongsheng/linyin/linyin-c1/"
    # deployed on 2023-06-01: May's inspection (due 05-31) is missed, the rest are open
    assert [r["status"] for r in rows] == ["missed"] + ["open"] * 7


def test_ordinary_unit_inspects_quarterly(client: TestClient, world: World) -> None:
    rows = _get(client, world, "locality", unit="u-mall-01", check="principal_inspection",
                campaign=LINYIN)["data"]
    assert [(r["period"], r["due"]) for r in rows] == [
        ("2023Q2", "2023-06-30"), ("2023Q3", "2023-10-07"), ("2023Q4", "2024-01-02")]
    assert {r["variant"] for r in rows} == {None}


def test_one_off_duties_fall_on_the_street_phase_end(client: TestClient, world: World) -> None:
    # the street moved 自查自改 to 2023-07-31; one-off obligations have no period
    row = _one(client, world, "principal", unit="u-chem-01", check="warning_education")
    assert (row["due"], row["period"], row["status"]) == ("2023-07-31", None, "open")


def test_org_obligations_belong_to_the_org(client: TestClient, world: World) -> None:
    rows = _get(client, world, "community", check="community_dispatch_report",
                campaign=LINYIN)["data"]
    assert {(r["subject_kind"], r["subject"], r["role"]) for r in rows} == {
        ("org", "linyin-c1", "community")}
    # 每月28日前; 2023-05-28 and 2023-10-28 are rest days
    assert [r["due"] for r in rows][:2] == ["2023-05-29", "2023-06-28"]
    assert "2023-10-30" in [r["due"] for r in rows]


def test_materializing_again_adds_nothing(world: World) -> None:
    with world.services.db.write() as conn:
        published = world.services.registry.newest(conn, LINYIN)
        subjects = obligations.subtree_subjects(conn, "/dongsheng/linyin/", batch=2)
        assert obligations.materialize(conn, published, subjects) == 0


def test_unit_created_after_deployment_gets_obligations_from_that_day(
        client: TestClient, world: World) -> None:
    world.clock.advance(days=75)  # 2023-08-15
    r = client.post("/units", headers=world.auth("locality"), json={
        "id": "u-chem-02", "name": "新化工", "org": "linyin-c2",
        "industry": "hazardous_chemicals"})
    assert r.status_code == 201, r.text
    rows = _get(client, world, "locality", unit="u-chem-02", campaign=LINYIN)["data"]
    # nothing due before it was added: no May–July inspections, no 07-31 one-offs
    assert sorted((r["check"], r["due"]) for r in rows) == sorted(
        [("principal_inspection", due) for due in MONTHLY_DUES[3:]]
        + [("emergency_drill", "2024-01-02")])
    assert {r["org_path"] for r in rows} == {"/dongsheng/linyin/linyin-c2/"}
    # the street's other campaign applies too
    assert _get(client, world, "locality", unit="u-chem-02",
                campaign="three-year-plan-2024-2026")["data"]


def test_org_created_after_deployment_gets_obligations(client: TestClient,
                                                       world: World) -> None:
    world.clock.advance(days=75)  # 2023-08-15
    r = client.post("/orgs", headers=world.auth("locality"), json={
        "id": "linyin-c3", "name": "林荫街道第三社区", "level": "community", "parent": "linyin"})
    assert r.status_code == 201, r.text
    rows = _get(client, world, "locality", org="linyin-c3", campaign=LINYIN,
                check="community_dispatch_report")["data"]
    assert [r["period"] for r in rows] == ["2023-08", "2023-09", "2023-10", "2023-11",
                                           "2023-12"]


def test_subjects_outside_any_deployment_get_none(client: TestClient, world: World) -> None:
    r = client.post("/orgs", headers=world.auth("admin"), json={
        "id": "xinhua", "name": "新华街道", "level": "street", "parent": "dongsheng"})
    assert r.status_code == 201, r.text
    r = client.post("/units", headers=world.auth("admin"), json={
        "id": "u-xinhua-01", "name": "新华化工", "org": "xinhua",
        "industry": "hazardous_chemicals"})
    assert r.status_code == 201, r.text
    assert _get(client, world, "admin", org="xinhua")["data"] == []


def test_deploying_expands_the_whole_period_and_times(client: TestClient, world: World) -> None:
    # a street plan asking high-risk units for two inspections a month (每月至少2次)
    text = ("paicha: 1\nid: xinhua-2023\nextends: special-action-2023\ntitle: 新华街道实施方案\n"
            "checks:\n  - id: principal_inspection\n"
            "    stricter: [{for: high_risk, every: month, times: 2}]\n")
    r = client.post("/campaigns", content=text.encode(), headers={
        **world.auth("admin"), "Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    for path, body in (("/orgs", {"id": "xinhua", "name": "新华街道", "level": "street",
                                  "parent": "dongsheng"}),
                       ("/units", {"id": "u-xinhua-01", "name": "新华化工", "org": "xinhua",
                                   "industry": "hazardous_chemicals"})):
        r = client.post(path, json=body, headers=world.auth("admin"))
        assert r.status_code == 201, r.text
    world.clock.advance(days=30)  # 2023-07-01
    r = client.post("/campaigns/xinhua-2023/deployments", json={"org": "xinhua"},
                    headers=world.auth("admin"))
    assert r.status_code == 201, r.text
    rows = _get(client, world, "admin", unit="u-xinhua-01", check="principal_inspection")["data"]
    assert [r["due"] for r in rows] == MONTHLY_DUES
    assert {r["times"] for r in rows} == {2}
    assert [r["status"] for r in rows[:3]] == ["missed", "missed", "open"]
    street = _get(client, world, "admin", org="xinhua", check="mobilization_meeting")["data"]
    assert [(r["subject"], r["due"]) for r in street] == [("xinhua", "2023-05-15")]

    with world.services.db.write() as conn:
        secret = tokens.create(conn, name="xinhua principal", roles=("principal",),
                               scope_kind="unit", scope_id="u-xinhua-01",
                               now=world.clock.now, by="test").secret
    world.tokens["xinhua"] = secret
    july = rows[2]
    first = _complete(client, world, "xinhua", july["id"], INSPECTION)
    assert first.status_code == 201, first.text
    assert (first.json()["obligation"]["done"], first.json()["obligation"]["status"]) == (1,
                                                                                         "open")
    assert first.json()["obligation"]["completed_at"] is None
    second = _complete(client, world, "xinhua", july["id"], INSPECTION).json()["obligation"]
    assert (second["done"], second["status"]) == (2, "done")
    assert second["completed_at"] is not None
    third = _complete(client, world, "xinhua", july["id"], INSPECTION)
    assert third.status_code == 409, third.text
    assert third.json()["code"] == "already_done"


# -- scope -----------------------------------------------------------------------------------

def test_unit_token_sees_only_its_unit(client: TestClient, world: World) -> None:
    rows = _all(client, world, "principal")
    assert rows
    assert {(r["subject_kind"], r["subject"]) for r in rows} == {("unit", "u-chem-01")}
    assert _get(client, world, "principal", unit="u-mall-01")["data"] == []
    hotel = _all(client, world, "hotel_principal")
    assert {(r["subject"], r["campaign"]) for r in hotel} == {
        ("u-hotel-01", "demo-special-action")}


def test_org_token_sees_its_subtree(client: TestClient, world: World) -> None:
    community = {r["subject"] for r in _all(client, world, "community")}
    assert community == {"linyin-c1", "u-chem-01", "u-site-01"}
    street = {r["subject"] for r in _all(client, world, "locality", org="linyin-c2")}
    assert street == {"linyin-c2", "u-mall-01"}
    district = {r["subject"] for r in _all(client, world, "regulator", check="task_force")}
    assert district == {"linyin"}
    # a filter outside the token's subtree narrows to nothing rather than widening the scope
    assert _get(client, world, "other_street", org="linyin")["data"] == []
    r = client.get("/obligations", params={"org": "nowhere"}, headers=world.auth("admin"))
    assert r.status_code == 404, r.text


def test_reading_another_units_obligation_is_refused(client: TestClient, world: World) -> None:
    june = _june_inspection(client, world)
    r = client.get(f"/obligations/{june['id']}", headers=world.auth("hotel_principal"))
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "out_of_scope"
    r = client.get("/obligations/999999", headers=world.auth("admin"))
    assert r.status_code == 404, r.text


def test_reading_an_obligation_shows_its_evidence_schema(client: TestClient,
                                                         world: World) -> None:
    june = _june_inspection(client, world)
    r = client.get(f"/obligations/{june['id']}", headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["evidence_schema"]["required"] == ["inspected_at", "record"]
    assert detail["campaign_version"] == 1
    assert {k: detail[k] for k in june} == june


# -- completing ------------------------------------------------------------------------------

def test_completion_with_valid_evidence_marks_it_done(client: TestClient, world: World) -> None:
    june = _june_inspection(client, world)
    assert june["status"] == "open"
    world.clock.advance(days=11)  # 2023-06-12
    r = _complete(client, world, "principal", june["id"], INSPECTION)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["completion"]["evidence"] == INSPECTION
    assert (body["completion"]["role"], body["completion"]["late"]) == ("principal", False)
    assert body["obligation"]["status"] == "done"
    assert body["obligation"]["completed_at"] == "2023-06-12T01:00:00Z"
    assert _june_inspection(client, world)["status"] == "done"
    done = _get(client, world, "principal", status="done")["data"]
    assert [d["id"] for d in done] == [june["id"]]
    history = _get(client, world, "principal", f"/obligations/{june['id']}/completions")
    assert [(h["id"], h["late"]) for h in history] == [(body["completion"]["id"], False)]
    again = _complete(client, world, "principal", june["id"], INSPECTION)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "already_done"


def test_evidence_problems_are_all_named(client: TestClient, world: World) -> None:
    june = _june_inspection(client, world)
    r = _complete(client, world, "principal", june["id"],
                  {"inspected_at": "last tuesday", "hazards_found": -1})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "evidence_invalid"
    problems = {p["path"]: p["message"] for p in body["problems"]}
    assert set(problems) == {"$.record", "$.inspected_at", "$.hazards_found"}
    assert "record" in problems["$.record"]
    assert "record" in body["detail"]
    assert _june_inspection(client, world)["done"] == 0
    assert _get(client, world, "principal", f"/obligations/{june['id']}/completions") == []


def test_completing_needs_the_obligations_role_and_scope(client: TestClient,
                                                         world: World) -> None:
    june = _june_inspection(client, world)
    for token, code in (("regulator", "forbidden"), ("safety_office", "forbidden"),
                        ("admin", "forbidden"), ("hotel_principal", "out_of_scope")):
        r = _complete(client, world, token, june["id"], INSPECTION)
        assert r.status_code == 403, (token, r.text)
        assert r.json()["code"] == code, token
    assert _june_inspection(client, world)["done"] == 0


def test_org_duty_is_completed_by_the_community(client: TestClient, world: World) -> None:
    month = _one(client, world, "community", check="community_safety_month")
    r = _complete(client, world, "principal", month["id"], {"activities": 2})
    assert r.status_code == 403, r.text
    r = _complete(client, world, "community", month["id"], {"activities": 0})
    assert r.status_code == 422, r.text
    assert [p["path"] for p in r.json()["problems"]] == ["$.activities"]
    r = _complete(client, world, "community", month["id"], {"activities": 2, "leaflets": 300})
    assert r.status_code == 201, r.text
    assert r.json()["obligation"]["status"] == "done"


def test_missed_after_the_due_date_and_late_completion(client: TestClient, world: World) -> None:
    june = _june_inspection(client, world)
    world.clock.advance(days=29)  # 2023-06-30 09:00 in Shanghai: the due day itself
    assert _june_inspection(client, world)["status"] == "open"
    world.clock.advance(days=1)  # 2023-07-01
    assert _june_inspection(client, world)["status"] == "missed"
    missed = _get(client, world, "principal", status="missed", check="principal_inspection",
                  campaign=LINYIN)["data"]
    assert [m["due"] for m in missed] == MONTHLY_DUES[:2]
    r = _complete(client, world, "principal", june["id"], INSPECTION)
    assert r.status_code == 201, r.text
    assert r.json()["completion"]["late"] is True
    assert r.json()["obligation"]["status"] == "done"
    with world.services.db.read() as conn:
        entries = audit.history(conn, f"obligation:{june['id']}")
    assert [(e["action"], e["role"], e["data"]["late"]) for e in entries] == [
        ("complete", "principal", True)]
    history = _get(client, world, "principal", f"/obligations/{june['id']}/completions")
    assert [h["late"] for h in history] == [True]


def test_a_retried_completion_is_recorded_once(client: TestClient, world: World) -> None:
    june = _june_inspection(client, world)
    key = {"Idempotency-Key": "inspection-2023-06"}
    first = _complete(client, world, "principal", june["id"], INSPECTION, **key)
    again = _complete(client, world, "principal", june["id"], INSPECTION, **key)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert len(_get(client, world, "principal", f"/obligations/{june['id']}/completions")) == 1


# -- listing ---------------------------------------------------------------------------------

def test_pagination_returns_every_row_once_in_due_order(client: TestClient,
                                                        world: World) -> None:
    everything = _get(client, world, "community", limit=500)
    assert everything["next_cursor"] is None
    expected = [r["id"] for r in everything["data"]]
    seen: list[int] = []
    cursor = None
    while True:
        page = _get(client, world, "community", limit=7,
                    **({"cursor": cursor} if cursor else {}))
        assert len(page["data"]) <= 7
        seen.extend(r["id"] for r in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert len(set(seen)) == len(seen) > 7
    keys = [(r["due"], r["id"]) for r in everything["data"]]
    assert keys == sorted(keys)


def test_filters_combine(client: TestClient, world: World) -> None:
    rows = _get(client, world, "locality", role="principal", due_from="2023-07-31",
                due_to="2023-07-31", campaign=LINYIN, limit=500)["data"]
    assert {r["subject"] for r in rows} == {"u-chem-01", "u-mall-01", "u-site-01"}
    assert {r["due"] for r in rows} == {"2023-07-31"}
    assert {r["role"] for r in rows} == {"principal"}
    assert {r["status"] for r in rows} == {"open"}


def test_bad_queries_are_refused(client: TestClient, world: World) -> None:
    for params, code in (({"cursor": "not-a-cursor"}, "bad_cursor"),
                         ({"status": "late"}, "request_invalid"),
                         ({"limit": 501}, "request_invalid"),
                         ({"check": "a\x00"}, "request_invalid")):
        r = client.get("/obligations", params=params, headers=world.auth("principal"))
        assert r.status_code == 422, r.text
        assert r.json()["code"] == code
    r = client.get("/obligations/2147483648", headers=world.auth("admin"))
    assert r.status_code == 422, r.text  # beyond any stored id, refused before the database
    r = client.get("/obligations")
    assert r.status_code == 401, r.text


def test_evidence_text_with_nul_is_refused(client: TestClient, world: World) -> None:
    june = _june_inspection(client, world)
    r = _complete(client, world, "principal", june["id"], {**INSPECTION, "record": "a\x00b"})
    assert r.status_code == 422, r.text
    # refused with the request (as any text no database stores), located inside the evidence
    assert [p["location"] for p in r.json()["problems"]] == ["body.evidence"]
    assert r.json()["problems"][0]["message"].startswith("$.record: text holds a NUL")
