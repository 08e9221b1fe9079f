"""Who may publish a campaign's versions, deploy it and undeploy it, written as the attacks.

The demo runs the national campaign (special-action-2023) in 交通街道 (`other_street`, whose
token holds safety_office there) and the street's plans in 林荫街道 (`safety_office`).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from storage import tokens
from storage.tables import AuditEntry, Timer
from tests.support.world import HAZARD, LINYIN, World, obligations

NATIONAL = "special-action-2023"
SIGNOFFS = "signoffs: [acceptance_team, locality, regulator, government]"

timer_t = Timer.__table__  # type: ignore[attr-defined]
audit_t = AuditEntry.__table__  # type: ignore[attr-defined]


def _publish(client: TestClient, world: World, who: str, text: str) -> Any:
    return client.post("/campaigns", content=text.encode(), headers={
        **world.auth(who), "Content-Type": "application/yaml"})


def _raw(client: TestClient, world: World, campaign: str) -> str:
    answer = client.get(f"/campaigns/{campaign}/raw", headers=world.auth("admin"))
    assert answer.status_code == 200, answer.text
    return answer.text


def _newest(client: TestClient, world: World, campaign: str) -> dict[str, Any]:
    answer = client.get(f"/campaigns/{campaign}", headers=world.auth("admin"))
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _plan(campaign_id: str, parent: str, title: str, due: str = "2023-05-12") -> str:
    return (f"paicha: 1\nid: {campaign_id}\nextends: {parent}\ntitle: {title}\n"
            f"phases:\n  - {{id: mobilize, due: \"{due}\"}}\n")


def _token(world: World, name: str, roles: tuple[str, ...], org: str) -> None:
    with world.services.db.write() as conn:
        world.tokens[name] = tokens.create(conn, name=name, roles=roles, scope_kind="org",
                                           scope_id=org, now=world.clock()).secret


# -- publishing ------------------------------------------------------------------------------

def test_a_street_may_not_cut_the_sign_offs_of_the_national_campaign(
        client: TestClient, world: World) -> None:
    raw = _raw(client, world, NATIONAL)
    assert SIGNOFFS in raw
    cut = raw.replace(SIGNOFFS, "who: [locality]")
    # 交通街道 is the only place it runs, and its safety office still may not rewrite it
    refused = _publish(client, world, "other_street", cut)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "not_campaign_owner"
    assert "extends: special-action-2023" in refused.json()["detail"]
    assert _publish(client, world, "safety_office", cut).status_code == 403
    assert _newest(client, world, NATIONAL)["version"] == 1
    assert SIGNOFFS in _raw(client, world, NATIONAL)
    admin = _publish(client, world, "admin", cut)  # the national text is the admin's to change
    assert admin.status_code == 201, admin.text
    assert admin.json()["version"]["owner_org"] is None


def test_a_street_may_not_publish_another_streets_campaign(client: TestClient,
                                                           world: World) -> None:
    theirs = _publish(client, world, "other_street",
                      _plan("jiaotong-2023", NATIONAL, "交通街道实施方案"))
    assert theirs.status_code == 201, theirs.text
    # it runs nowhere yet: nothing but its owner keeps 林荫街道 from rewriting it
    refused = _publish(client, world, "safety_office",
                       _plan("jiaotong-2023", NATIONAL, "交通街道实施方案（林荫改）", "2023-05-30"))
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "not_campaign_owner"
    assert "jiaotong" in refused.json()["detail"]
    assert _newest(client, world, "jiaotong-2023")["version"] == 1
    assert theirs.json()["version"]["owner_org"] == "jiaotong"
    # the owner, and the district's safety office above it, may
    mine = _publish(client, world, "other_street",
                    _plan("jiaotong-2023", NATIONAL, "交通街道实施方案（修订）"))
    assert (mine.status_code, mine.json()["version"]["version"]) == (201, 2), mine.text
    _token(world, "district_office", ("safety_office",), "dongsheng")
    district = _publish(client, world, "district_office",
                        _plan("jiaotong-2023", NATIONAL, "交通街道实施方案（区修订）"))
    assert (district.status_code, district.json()["version"]["version"]) == (201, 3)
    assert district.json()["version"]["owner_org"] == "jiaotong"  # the owner stays


def test_a_bundled_district_plan_is_the_admins_to_change(client: TestClient,
                                                        world: World) -> None:
    raw = _raw(client, world, "special-action-2023-chongming")
    edited = raw.replace("title: 上海市崇明区", "title: （改）上海市崇明区")
    for who in ("other_street", "safety_office"):
        refused = _publish(client, world, who, edited)
        assert refused.status_code == 403, (who, refused.text)
        assert refused.json()["code"] == "not_campaign_owner"
    assert _newest(client, world, "special-action-2023-chongming")["version"] == 1


def test_a_street_publishes_and_revises_its_own_extension(client: TestClient,
                                                         world: World) -> None:
    first = _publish(client, world, "safety_office",
                     _plan("linyin-2024", NATIONAL, "林荫街道2024年实施方案"))
    assert first.status_code == 201, first.text
    assert first.json()["version"]["owner_org"] == "linyin"
    again = _publish(client, world, "safety_office",
                     _plan("linyin-2024", NATIONAL, "林荫街道2024年实施方案（修订）"))
    assert (again.status_code, again.json()["version"]["version"]) == (201, 2), again.text
    # adapting another street's campaign is a new id extending it, and allowed
    theirs = _publish(client, world, "other_street",
                      _plan("jiaotong-2023", NATIONAL, "交通街道实施方案"))
    assert theirs.status_code == 201, theirs.text
    adapted = _publish(client, world, "safety_office",
                       _plan("linyin-from-jiaotong", "jiaotong-2023", "林荫街道借鉴交通街道方案"))
    assert adapted.status_code == 201, adapted.text
    assert adapted.json()["version"]["owner_org"] == "linyin"


def test_publishing_needs_a_safety_office(client: TestClient, world: World) -> None:
    for who in ("community", "locality", "regulator", "principal", "acceptance_team"):
        refused = _publish(client, world, who, _plan(f"x-{who}", NATIONAL, "某方案"))
        assert refused.status_code == 403, (who, refused.text)
        assert refused.json()["code"] == "forbidden"
        assert refused.json()["required_roles"] == ["safety_office"]


# -- deploying -------------------------------------------------------------------------------

def test_a_grid_worker_may_not_deploy(client: TestClient, world: World) -> None:
    refused = client.post("/campaigns/three-year-plan-2024-2026/deployments",
                          json={"org": "linyin-c1"}, headers=world.auth("community"))
    assert refused.status_code == 403, refused.text
    body = refused.json()
    assert body["code"] == "forbidden"
    assert (body["required_roles"], body["held_roles"]) == (["safety_office"],
                                                            ["community", "grid_worker"])
    deployed = client.get("/campaigns/three-year-plan-2024-2026/deployments",
                          headers=world.auth("admin")).json()
    assert [d["org"] for d in deployed] == ["linyin"]


def test_a_safety_office_deploys_only_in_its_subtree(client: TestClient, world: World) -> None:
    outside = client.post(f"/campaigns/{NATIONAL}/deployments", json={"org": "linyin-c1"},
                          headers=world.auth("other_street"))
    assert (outside.status_code, outside.json()["code"]) == (403, "out_of_scope")
    inside = client.post(f"/campaigns/{NATIONAL}/deployments", json={"org": "linyin-c1"},
                         headers=world.auth("safety_office"))
    assert inside.status_code == 201, inside.text


def test_a_neighbours_plan_runs_here_only_as_an_adaptation(client: TestClient,
                                                           world: World) -> None:
    theirs = _publish(client, world, "other_street",
                      _plan("jiaotong-2023", NATIONAL, "交通街道实施方案"))
    assert theirs.status_code == 201, theirs.text
    # running it in 林荫街道 would freeze it for 交通街道 and take its every later version
    refused = client.post("/campaigns/jiaotong-2023/deployments", json={"org": "linyin-c1"},
                          headers=world.auth("safety_office"))
    assert (refused.status_code, refused.json()["code"]) == (403, "not_campaign_owner")
    assert "extends: jiaotong-2023" in refused.json()["detail"]
    own = client.post("/campaigns/jiaotong-2023/deployments", json={"org": "jiaotong-c1"},
                      headers=world.auth("other_street"))
    assert own.status_code == 201, own.text
    _token(world, "district_office", ("safety_office",), "dongsheng")
    district = client.post("/campaigns/jiaotong-2023/deployments", json={"org": "linyin"},
                           headers=world.auth("district_office"))
    assert district.status_code == 201, district.text
    # the national plan belongs to no office: every street runs it
    national = client.post(f"/campaigns/{NATIONAL}/deployments", json={"org": "linyin-c1"},
                           headers=world.auth("safety_office"))
    assert national.status_code == 201, national.text


# -- undeploying -----------------------------------------------------------------------------

def _pending_timers(world: World, **where: str) -> int:
    conditions = [timer_t.c.status == "pending",
                  *(timer_t.c[k] == v for k, v in where.items())]
    with world.services.db.read() as conn:
        return len(conn.execute(select(timer_t.c.id).where(*conditions)).all())


def test_undeploying_is_refused_to_all_but_the_street_office(client: TestClient,
                                                            world: World) -> None:
    path = f"/campaigns/{LINYIN}/deployments/linyin"
    for who in ("community", "locality", "regulator", "principal", "government"):
        refused = client.delete(path, headers=world.auth(who))
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), who
    other = client.delete(path, headers=world.auth("other_street"))
    assert (other.status_code, other.json()["code"]) == (403, "out_of_scope")
    assert [d["org"] for d in client.get(f"/campaigns/{LINYIN}/deployments",
                                         headers=world.auth("admin")).json()] == ["linyin"]
    missing = client.delete(f"/campaigns/{LINYIN}/deployments/linyin-c1",
                            headers=world.auth("safety_office"))
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


PLAN = {"goals_and_tasks": "更换报警装置", "measures": "停用储罐区，更换并校验",
        "funds_and_materials": "企业自筹", "responsible": "设备部", "deadline": "2023-07-31",
        "safety_measures": "专人巡检"}


def test_undeploying_ends_what_the_deployment_armed(client: TestClient, world: World) -> None:
    case_id = world.open_hazard()
    planned = client.post(f"/cases/{case_id}/events", headers=world.auth("principal"),
                          json={"trigger": "plan", "data": PLAN})
    assert planned.status_code == 200, planned.text  # its 整改期限 clock runs
    case_timers = _pending_timers(world, subject=case_id)
    assert case_timers > 0
    june = obligations(client, world, unit="u-chem-01", check="principal_inspection",
                        campaign=LINYIN, due_from="2023-06-30", due_to="2023-06-30")[0]
    done = client.post(f"/obligations/{june['id']}/completions", headers=world.auth("principal"),
                       json={"evidence": {"inspected_at": "2023-06-12", "record": "检查记录"}})
    assert done.status_code == 201, done.text
    before = obligations(client, world, campaign=LINYIN)
    assert {r["status"] for r in before} == {"open", "missed", "done"}
    assert _pending_timers(world, campaign_id=LINYIN, kind="phase_due") > 0
    unrelated = obligations(client, world, campaign="three-year-plan-2024-2026")

    answer = client.delete(f"/campaigns/{LINYIN}/deployments/linyin",
                           headers=world.auth("safety_office"))
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    opened = [r for r in before if r["status"] == "open"]
    assert summary["obligations_removed"] == len(opened)
    assert (summary["obligations_kept"], summary["still_covered_by"]) == (0, [])

    # what happened stays: the completed inspection with its evidence, and the missed duties
    after = obligations(client, world, campaign=LINYIN)
    assert sorted(r["id"] for r in after) == sorted(
        r["id"] for r in before if r["status"] != "open")
    evidence = client.get(f"/obligations/{june['id']}/completions",
                          headers=world.auth("principal")).json()
    assert [c["evidence"]["record"] for c in evidence] == ["检查记录"]
    # what it armed is gone: phase and obligation reminders of the campaign, but not the case's
    assert _pending_timers(world, campaign_id=LINYIN, kind="phase_due") == 0
    with world.services.db.read() as conn:
        left = conn.execute(select(timer_t.c.subject).where(
            timer_t.c.status == "pending", timer_t.c.campaign_id == LINYIN)).scalars().all()
    assert left == [case_id] * case_timers
    assert obligations(client, world, campaign="three-year-plan-2024-2026") == unrelated

    # no new case under it; the open one goes on
    refused = client.post("/cases", headers=world.auth("principal"), json={
        "campaign": LINYIN, "unit": "u-chem-01", "data": HAZARD})
    assert (refused.status_code, refused.json()["code"]) == (422, "campaign_not_deployed")
    moved = client.post(f"/cases/{case_id}/events", headers=world.auth("principal"), json={
        "trigger": "submit", "data": {"rectified_on": "2023-07-20",
                                      "rectification_result": "已更换并校验"}})
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "awaiting_acceptance"
    # a unit added later owes it nothing
    unit = client.post("/units", headers=world.auth("locality"), json={
        "id": "u-new-01", "name": "新设企业", "org": "linyin-c1", "industry": "construction"})
    assert unit.status_code == 201, unit.text
    assert obligations(client, world, unit="u-new-01", campaign=LINYIN) == []
    assert client.get(f"/campaigns/{LINYIN}/deployments",
                      headers=world.auth("admin")).json() == []
    with world.services.db.read() as conn:
        entry = conn.execute(select(audit_t).where(audit_t.c.stream == "org:linyin")
                             .order_by(audit_t.c.seq.desc()).limit(1)).one()
    assert (entry.action, entry.actor, entry.data["campaign"]) == (
        "undeploy", "demo safety_office", LINYIN)
    assert client.get("/audit/verify", headers=world.auth("admin")).json()["ok"] is True

    # deploying again brings back the duties and reminders it ended, and not twice
    again = client.post(f"/campaigns/{LINYIN}/deployments", json={"org": "linyin"},
                        headers=world.auth("safety_office"))
    assert again.status_code == 201, again.text
    restored = obligations(client, world, campaign=LINYIN, unit="u-chem-01",
                            check="principal_inspection")
    assert [r["done"] for r in restored if r["due"] == june["due"]] == [1]
    assert _pending_timers(world, campaign_id=LINYIN, kind="phase_due") > 0


def test_undeploying_below_a_deployment_above_keeps_the_duties(client: TestClient,
                                                               world: World) -> None:
    # 交通街道 runs the national campaign on its own too (the demo runs its demo campaign there)
    for org in ("jiaotong", "dongsheng", "linyin-c1"):
        made = client.post(f"/campaigns/{NATIONAL}/deployments", json={"org": org},
                           headers=world.auth("admin"))
        assert made.status_code == 201, made.text
    before = obligations(client, world, campaign=NATIONAL, org="linyin-c1")
    answer = client.delete(f"/campaigns/{NATIONAL}/deployments/linyin-c1",
                           headers=world.auth("safety_office"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["still_covered_by"] == ["dongsheng"]
    assert answer.json()["obligations_removed"] == 0
    assert obligations(client, world, campaign=NATIONAL, org="linyin-c1") == before
    # undeploying the district keeps what 交通街道's own deployment covers
    jiaotong = obligations(client, world, campaign=NATIONAL, org="jiaotong")
    district = client.delete(f"/campaigns/{NATIONAL}/deployments/dongsheng",
                             headers=world.auth("admin"))
    assert district.status_code == 200, district.text
    assert district.json()["obligations_removed"] > 0
    assert obligations(client, world, campaign=NATIONAL, org="jiaotong") == jiaotong
    assert [r for r in obligations(client, world, campaign=NATIONAL, org="linyin")
            if r["status"] == "open"] == []


def test_a_partly_completed_duty_stays_with_its_evidence(client: TestClient,
                                                        world: World) -> None:
    # a street plan asking high-risk units for two inspections a month (每月至少2次)
    text = ("paicha: 1\nid: linyin-twice\nextends: special-action-2023\ntitle: 林荫街道加密检查\n"
            "checks:\n  - id: principal_inspection\n"
            "    stricter: [{for: high_risk, every: month, times: 2}]\n")
    assert _publish(client, world, "safety_office", text).status_code == 201
    deployed = client.post("/campaigns/linyin-twice/deployments", json={"org": "linyin-c1"},
                           headers=world.auth("safety_office"))
    assert deployed.status_code == 201, deployed.text
    june = obligations(client, world, campaign="linyin-twice", unit="u-chem-01",
                        check="principal_inspection", due_from="2023-06-30",
                        due_to="2023-06-30")[0]
    once = client.post(f"/obligations/{june['id']}/completions", headers=world.auth("principal"),
                       json={"evidence": {"inspected_at": "2023-06-12", "record": "第一次"}})
    assert once.status_code == 201, once.text
    answer = client.delete("/campaigns/linyin-twice/deployments/linyin-c1",
                           headers=world.auth("safety_office"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["obligations_kept"] == 1
    left = obligations(client, world, campaign="linyin-twice", status="open")
    assert [(r["id"], r["done"], r["times"]) for r in left] == [(june["id"], 1, 2)]
    assert _pending_timers(world, subject=f"obligation:{june['id']}") == 0
