"""A check of several roles (各社区和各有关部门) deployed and done over HTTP: one obligation per
community and per department, due each Monday for the week before, done by a holder of either
role within its scope, and reminded to both roles."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from storage import tokens
from storage.tables import Timer
from tests.support.world import World, obligations

# 各社区和各有关部门每周一报送上周重大事故隐患排查整治情况统计
TEXT = """\
paicha: 1
id: xinhua-2023
extends: special-action-2023
title: 新华街道重大事故隐患专项排查整治2023行动实施方案
checks:
  - id: weekly_statistics
    name: 报送重大事故隐患排查整治周统计
    who: [community, regulator]
    for: {orgs: {level: [community, department]}}
    every: week
    due: {weekday: monday, week: next}
    start: 2023-07-03
    end: 2023-07-30
    remind: [-1d]
"""
MONDAYS = ["2023-07-10", "2023-07-17", "2023-07-24", "2023-07-31"]


def _post(client: TestClient, world: World, path: str, **body: Any) -> None:
    r = client.post(path, json=body, headers=world.auth("admin"))
    assert r.status_code == 201, r.text


def _deploy(client: TestClient, world: World) -> None:
    r = client.post("/campaigns", content=TEXT.encode(), headers={
        **world.auth("admin"), "Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    _post(client, world, "/orgs", id="xinhua", name="新华街道", level="street",
          parent="dongsheng")
    _post(client, world, "/orgs", id="xinhua-c1", name="新华一社区", level="community",
          parent="xinhua")
    _post(client, world, "/orgs", id="xinhua-ajb", name="街道安监所", level="department",
          parent="xinhua")
    world.clock.advance(days=30)  # 2023-07-01
    _post(client, world, "/campaigns/xinhua-2023/deployments", org="xinhua")
    with world.services.db.write() as conn:
        for name, role, org in (("c1", "community", "xinhua-c1"),
                                ("ajb", "regulator", "xinhua-ajb")):
            world.tokens[name] = tokens.create(conn, name=name, roles=(role,), scope_kind="org",
                                               scope_id=org, now=world.clock.now,
                                               by="test").secret


def _rows(client: TestClient, world: World, **params: Any) -> list[dict[str, Any]]:
    return obligations(client, world, check="weekly_statistics", **params)


def test_each_community_and_department_gets_its_monday_obligations(
        client: TestClient, world: World) -> None:
    _deploy(client, world)
    rows = _rows(client, world)
    by_org = {org: [r["due"] for r in rows if r["subject"] == org]
              for org in ("xinhua-c1", "xinhua-ajb", "xinhua")}
    assert by_org == {"xinhua-c1": MONDAYS, "xinhua-ajb": MONDAYS, "xinhua": []}
    assert {r["role"] for r in rows} == {"community,regulator"}
    # either role finds them
    assert len(_rows(client, world, role="regulator")) == len(_rows(client, world,
                                                                   role="community")) == 8
    assert _rows(client, world, role="principal") == []


def test_a_holder_of_either_role_completes_it_within_its_scope(
        client: TestClient, world: World) -> None:
    _deploy(client, world)
    rows = _rows(client, world)
    community = next(r for r in rows if r["subject"] == "xinhua-c1")
    department = next(r for r in rows if r["subject"] == "xinhua-ajb")
    for token, row, status in (("principal", community, 403), ("ajb", community, 403),
                               ("c1", community, 201), ("ajb", department, 201)):
        r = client.post(f"/obligations/{row['id']}/completions", json={"evidence": {}},
                        headers=world.auth(token))
        assert r.status_code == status, (token, r.text)
    done = {r["subject"]: r["status"] for r in _rows(client, world, due_to=MONDAYS[0])}
    assert done == {"xinhua-c1": "done", "xinhua-ajb": "done"}


def test_reminders_go_to_both_roles(client: TestClient, world: World) -> None:
    _deploy(client, world)
    with world.services.db.read() as conn:
        roles = conn.execute(select(Timer.__table__.c.roles).where(  # type: ignore[attr-defined]
            Timer.__table__.c.clock_id == "weekly_statistics")).scalars().all()  # type: ignore[attr-defined]
    assert roles and all(list(r) == ["community", "regulator"] for r in roles)
