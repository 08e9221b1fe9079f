"""A town plan written from the docs, taken through the API on SQLite and PostgreSQL as an
office would: published, its orgs and units imported by their Chinese names, deployed; the
duty of 各社区和各有关部门 (a weekly 周统计 on Mondays) lands on each community and department;
a 危险化学品 plant gets the stricter drill; and a major hazard is closed by the 整改台账's
signatures, each level with its own 意见 — a 市直部门直管企业's without the district's two."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from storage import tokens
from tests.api.test_record_integrity import fire, ok, token_id
from tests.support.world import World, obligations

PLAN = Path(__file__).resolve().parents[1] / "data/town-2024.yaml"
ORGS = ("id,name,level,parent\n"
        "t-s1,某街道,街道,\nt-c1,东社区,社区,t-s1\nt-d1,街道安监所,街道行业领域部门,t-s1\n")
UNITS = ("id,name,org,industry,tags\n"
         "t-chem,化工厂,t-c1,危险化学品,市直部门直管企业\n"
         "t-plant,涂料厂,t-c1,危险化学品,\n"
         "t-shop,五金店,t-c1,其他,\n")
CHAIN = ("acceptance_team", "locality", "district_regulator", "district_government",
         "city_regulator")


def town(client: TestClient, world: World) -> None:
    world.clock.now = dt.datetime(2024, 5, 6, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai
    admin = world.auth("admin")
    r = client.post("/campaigns", content=PLAN.read_bytes(),
                    headers={**admin, "Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    r = client.post("/orgs/import", files={"file": ("orgs.csv", ORGS.encode(), "text/csv")},
                    headers=admin)
    assert r.status_code == 200, r.text
    r = client.post("/campaigns/town-2024/deployments", json={"org": "t-s1"}, headers=admin)
    assert r.status_code == 201, r.text
    # the units come after the deployment, as they do when a street registers its enterprises
    r = client.post("/units/import", files={"file": ("units.csv", UNITS.encode(), "text/csv")},
                    headers=admin)
    assert r.status_code == 200, r.text
    people = {**{role: (role, "org", "t-s1") for role in CHAIN},
              "community": ("community", "org", "t-c1"),
              "t-chem": ("principal", "unit", "t-chem"),
              "t-plant": ("principal", "unit", "t-plant")}
    with world.services.db.write() as conn:
        for name, (role, kind, scope) in people.items():
            issued = tokens.create(conn, name=f"town {name}", scope_kind=kind, scope_id=scope,
                                   now=world.clock(), by="test", roles=(role,))
            world.tokens[f"town-{name}"] = issued.secret


def town_obligations(client: TestClient, world: World, **params: str) -> list[dict[str, Any]]:
    return obligations(client, world, campaign="town-2024", **params)


def test_words_by_chinese_name_are_stored_as_ids_and_give_the_plans_duties(
        client: TestClient, world: World) -> None:
    town(client, world)
    units = {u["id"]: u for u in client.get("/units", params={"org": "t-s1"},
                                            headers=world.auth("admin")).json()["data"]}
    assert (units["t-chem"]["industry"], units["t-chem"]["tags"]) == (
        "hazardous_chemicals", ["city_managed"])
    levels = {o["id"]: o["level"] for o in client.get(
        "/orgs", params={"under": "t-s1"}, headers=world.auth("admin")).json()["data"]}
    assert levels == {"t-s1": "street", "t-c1": "community", "t-d1": "department"}

    weekly = [(o["subject"], o["due"])
              for o in town_obligations(client, world, check="weekly_statistics")]
    mondays = ["2024-05-13", "2024-05-20", "2024-05-27", "2024-06-03"]
    assert sorted(weekly) == sorted((org, day) for org in ("t-c1", "t-d1") for day in mondays)
    # 各社区和各有关部门: the community's own holder completes the community's
    weekly_c1 = [o for o in town_obligations(client, world, check="weekly_statistics", org="t-c1")
                 if o["due"] == "2024-05-13"]
    r = client.post(f"/obligations/{weekly_c1[0]['id']}/completions",
                    json={"evidence": {}}, headers=world.auth("town-community"))
    assert r.status_code in (200, 201), r.text

    drills = {(o["subject"], o["period"], o["due"])
              for o in town_obligations(client, world, check="evacuation_drill")}
    # 危险化学品 by its Chinese name: the stricter half-yearly drill, as written by id would
    assert drills == {("t-chem", "2024H1", "2024-07-01"), ("t-chem", "2024H2", "2024-12-31"),
                      ("t-plant", "2024H1", "2024-07-01"), ("t-plant", "2024H2", "2024-12-31"),
                      ("t-shop", "once", "2024-09-30")}


def awaiting(client: TestClient, world: World, unit: str) -> str:
    r = client.post("/cases", headers=world.auth(f"town-{unit}"), json={
        "campaign": "town-2024", "type": "hazard", "unit": unit,
        "data": {"grade": "major", "description": "储罐区可燃气体报警装置失效",
                 "found_on": "2024-05-06"}})
    assert r.status_code == 201, r.text
    case_id: str = r.json()["id"]
    ok(fire(client, world, f"town-{unit}", case_id, "start"))
    ok(fire(client, world, f"town-{unit}", case_id, "submit", {"rectified_on": "2024-05-20"}))
    return case_id


def test_each_level_signs_with_its_own_opinion_and_the_chain_follows_the_unit(
        client: TestClient, world: World) -> None:
    town(client, world)
    signers = {"t-chem": ("acceptance_team", "locality", "city_regulator"), "t-plant": CHAIN}
    for unit, roles in signers.items():
        case_id = awaiting(client, world, unit)
        for role in roles:
            outcome = ok(fire(client, world, f"town-{role}", case_id, "accept",
                              {"opinion": f"{role}：同意销号"}))
        assert (outcome["completed"], outcome["state"]) == (True, "closed")
        case = client.get(f"/cases/{case_id}", headers=world.auth("town-locality")).json()
        assert [(s["role"], s["actor"], s["data"], s["completed"]) for s in case["signatures"]
                ] == [(role, token_id(world, f"town-{role}"), {"opinion": f"{role}：同意销号"},
                       True) for role in roles]
        assert "opinion" not in case["data"]


def test_a_signer_without_an_opinion_and_a_skipped_level_are_refused(
        client: TestClient, world: World) -> None:
    town(client, world)
    case_id = awaiting(client, world, "t-chem")
    r = fire(client, world, "town-acceptance_team", case_id, "accept")
    assert r.status_code == 422 and "opinion" in r.text, r.text
    ok(fire(client, world, "town-acceptance_team", case_id, "accept", {"opinion": "同意"}))
    ok(fire(client, world, "town-locality", case_id, "accept", {"opinion": "同意"}))
    # a city-managed plant's sheet has no district box: the district may not sign it
    r = fire(client, world, "town-district_regulator", case_id, "accept", {"opinion": "同意"})
    assert r.status_code == 403 and "city_regulator" in r.json()["detail"], r.text
