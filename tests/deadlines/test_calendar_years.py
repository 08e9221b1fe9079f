"""A year nobody covers yet, end to end on SQLite and PostgreSQL: a 2027 整改期限 is accepted
and marked provisional (it was refused with 422), the administrator hears once that the year
is missing, and adding the year's file re-dates the deadline and its timers, tells the safety
office once, and leaves the case audited.

Today is 2026-12-07; the chinesecalendar package ends with 2026. The 2027 file is test data
(tests/data/calendars/2027-test.yaml): 春节 2027-02-06..13 off, Sunday 2027-02-14 worked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from deadlines.sweep import Sweeper
from paicha.cli import main
from storage.tables import AuditEntry, Delivery, Org, Unit
from storage.tables import Timer as TimerRow
from tests.support.world import World, shell_has_the_worlds_key

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
timer_t = TimerRow.__table__  # type: ignore[attr-defined]
audit_t = AuditEntry.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]

ROOT = Path(__file__).resolve().parents[2]
YEAR_2027 = ROOT / "tests/data/calendars/2027-test.yaml"
CAMPAIGN = "three-year-plan-2024-2026"
HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "description": "储罐区可燃气体报警装置失效", "found_on": "2026-12-01"}
PLAN = {"plan_goal": "更换", "plan_measures": "停用", "plan_funds": "自筹",
        "plan_organization": "设备部", "plan_emergency": "巡检"}


@pytest.fixture(autouse=True)
def _shell_has_the_worlds_key(monkeypatch: pytest.MonkeyPatch) -> None:
    shell_has_the_worlds_key(monkeypatch)


def local(day: str, hour: int = 9, minute: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00+08:00").astimezone(dt.UTC)


def planned(client: TestClient, world: World, deadline: str) -> tuple[str, Any]:
    """A major hazard opened and planned with `deadline` over HTTP; its id and the answer."""
    opened = client.post("/cases", headers=world.auth("principal"), json={
        "campaign": CAMPAIGN, "unit": "u-chem-01", "data": HAZARD})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    answer = client.post(f"/cases/{case_id}/events", headers=world.auth("principal"), json={
        "trigger": "plan", "data": {**PLAN, "deadline": deadline}, "version": 1})
    return case_id, answer


def case_timers(world: World, case_id: str) -> list[tuple[str, str, str, dt.datetime]]:
    with world.services.db.read() as conn:
        rows = conn.execute(select(timer_t).where(timer_t.c.subject == case_id)
                            .order_by(timer_t.c.id)).all()
    return [(r.kind, r.status, r.key, r.due_at) for r in rows]


def deliveries(world: World, kind: str) -> list[Any]:
    with world.services.db.read() as conn:
        return list(conn.execute(select(delivery_t).where(delivery_t.c.kind == kind)
                                 .order_by(delivery_t.c.id)).all())


def add_year(world: World, path: Path = YEAR_2027) -> int:
    """`paicha calendar add FILE` against the world's database (it recomputes at once, by the
    database's clock: the tests that need the fake clock's moment add over HTTP and sweep)."""
    return main(["calendar", "add", str(path), "--database", world.services.settings.database_url])


def put_year_and_sweep(world: World, client: TestClient) -> Any:
    """PUT /calendar/2027 as the admin, then one sweep at the fake clock's moment."""
    put = client.put("/calendar/2027", content=YEAR_2027.read_text(encoding="utf-8"),
                     headers={**world.auth("admin"), "Content-Type": "application/yaml"})
    assert put.status_code in (200, 201), put.text
    return Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()


def test_a_2027_deadline_is_provisional_then_exact_once_the_year_is_added(
    world: World, client: TestClient
) -> None:
    """The issue's "done when": the event answers 200 with provisional dates; after
    `paicha calendar add 2027.yaml` they are exact."""
    world.clock.now = local("2026-12-07")
    case_id, answer = planned(client, world, "2027-01-15")
    assert answer.status_code == 200, answer.text
    assert answer.json()["deadlines"] == [
        {"clock": "rectification", "due": "2027-01-15", "provisional": True}]
    read = client.get(f"/cases/{case_id}", headers=world.auth("principal")).json()
    assert read["data"]["deadline"] == "2027-01-15"  # stored as entered
    assert read["clocks"]["rectification"] == {"due": "2027-01-15", "gen": 1,
                                               "provisional": True, "needs_year": 2027}
    assert read["provisional"] is True
    upcoming = client.get("/deadlines", headers=world.auth("principal"),
                          params={"unit": "u-chem-01", "due_from": "2027-01-01"}).json()["data"]
    assert [(d["subject"], d["kind"], d["provisional"]) for d in upcoming] == [
        (case_id, "remind", True)]

    assert add_year(world) == 0

    read = client.get(f"/cases/{case_id}", headers=world.auth("principal")).json()
    assert read["clocks"]["rectification"] == {"due": "2027-01-15", "gen": 1,
                                               "provisional": False}
    assert read["provisional"] is False and read["version"] == 3  # the recompute is a version
    upcoming = client.get("/deadlines", headers=world.auth("principal"),
                          params={"unit": "u-chem-01", "due_from": "2027-01-01"}).json()["data"]
    assert [(d["subject"], d["provisional"]) for d in upcoming] == [(case_id, False)]
    # the same deadline: nobody is told, the timers stay
    assert deliveries(world, "calendar_redated") == []
    history = client.get(f"/cases/{case_id}/history", headers=world.auth("principal")).json()
    assert history[-1]["action"] == "calendar_redate"
    assert history[-1]["data"]["provisional"] is False
    # a new event on a 2027 date is exact at once: the registry's lifecycles have the year
    world.services.registry.calendars.invalidate()
    _, again = planned(client, world, "2027-02-08")
    assert again.json()["deadlines"] == [
        {"clock": "rectification", "due": "2027-02-14", "provisional": False}]


def test_adding_the_year_re_dates_a_deadline_and_its_timers_and_tells_the_office(
    world: World, client: TestClient, chinese: None
) -> None:
    world.clock.now = local("2026-12-07")
    case_id, answer = planned(client, world, "2027-02-08")  # a Monday: by the weekend rule
    assert answer.json()["deadlines"] == [
        {"clock": "rectification", "due": "2027-02-08", "provisional": True}]
    before = [t for t in case_timers(world, case_id) if t[1] == "pending"]
    assert [(kind, key.split("#")[1]) for kind, _, key, _ in before] == [("remind", "1")]
    assert before[0][3] == local("2027-02-01", 9, 0)  # -7d

    put_year_and_sweep(world, client)

    read = client.get(f"/cases/{case_id}", headers=world.auth("principal")).json()
    # 2027-02-08 is a day of 春节 in the file: the deadline rolls to the worked Sunday 02-14
    assert read["clocks"]["rectification"] == {"due": "2027-02-14", "gen": 2,
                                               "provisional": False}
    assert read["next_due"] == "2027-02-14"
    after = case_timers(world, case_id)
    assert [(kind, status) for kind, status, key, _ in after if "/2027-02-08/" in key] == [
        ("remind", "cancelled"), ("calendar", "cancelled")]
    pending = [(kind, key, at) for kind, status, key, at in after if status == "pending"]
    # -7d of 02-14 is Sunday 02-07, a day off: the reminder goes out the working day before
    assert pending == [("remind", f"{case_id}/rectification/2027-02-14/remind/-7d#2",
                        local("2027-02-05", 9, 0))]
    told = deliveries(world, "calendar_redated")
    assert [(d.channel, d.message["roles"], d.message["text"]) for d in told] == [
        ("log", ["safety_office"],
         "示例化工有限公司：事故隐患（重大事故隐患数据库）的整改期限（治理的时限）按已录入的2027年"
         "法定节假日安排重算：由2027-02-08（暂定）改为2027-02-14")]
    # added again (the same file, and from the shell), nothing moves and nobody is told twice
    put_year_and_sweep(world, client)
    assert add_year(world) == 0
    assert len(deliveries(world, "calendar_redated")) == 1
    assert client.get(f"/cases/{case_id}", headers=world.auth("principal")
                      ).json()["version"] == read["version"]


def test_the_administrator_hears_once_sixty_days_ahead(world: World, client: TestClient,
                                                       chinese: None) -> None:
    world.clock.now = local("2026-10-01")
    subscribed = {}
    for name, kinds in (("calendar", ["calendar_missing"]), ("everything", [])):
        made = client.post("/subscriptions", headers=world.auth("admin"), json={
            "name": name, "channel": "log", "org": "linyin", "kinds": kinds})
        assert made.status_code == 201, made.text
        subscribed[name] = made.json()["id"]
    planned(client, world, "2027-01-15")
    sweeper = Sweeper(world.services.db, world.services.registry, clock=world.clock)
    sweeper.sweep()
    assert deliveries(world, "calendar_missing") == []  # 2027-01-08 is more than 60 days off
    world.clock.now = local("2026-11-09")  # 60 days before the -7d reminder's 2027-01-08
    sweeper.sweep()
    sweeper.sweep()
    # the log, and the one subscription that asked for the kind by name (not the one that
    # takes every kind of its subtree: this notice concerns the whole deployment)
    notice, asked = deliveries(world, "calendar_missing")
    assert notice.key == "calendar:2027:missing->log"
    assert asked.key == f"calendar:2027:missing->sub{subscribed['calendar']}"
    assert notice.message["roles"] == ["admin"]
    assert "2027年的法定节假日安排尚未录入" in notice.message["text"]
    assert "paicha calendar add" in notice.message["text"]


def test_put_calendar_year_reaches_the_cached_lifecycles_and_the_sweep_recomputes(
    world: World, client: TestClient
) -> None:
    world.clock.now = local("2026-12-07")
    case_id, _ = planned(client, world, "2027-02-08")
    text = YEAR_2027.read_text(encoding="utf-8")
    put = client.put("/calendar/2027", content=text, headers={
        **world.auth("admin"), "Content-Type": "application/yaml"})
    assert put.status_code == 201, put.text
    assert put.json()["year"]["source"] == "测试用（非国务院通知）（2026-11-01）"
    assert client.put("/calendar/2027", content=text, headers={
        **world.auth("admin"), "Content-Type": "application/yaml"}).status_code == 200
    years = client.get("/calendar", headers=world.auth("principal")).json()["data"]
    assert [(y["year"], y["covered_by"], y["version"]) for y in years[-2:]] == [
        (2026, "package", None), (2027, "added", 1)]
    # the process that added the year computes with it at once (the lifecycles are cached)
    _, answer = planned(client, world, "2027-02-08")
    assert answer.json()["deadlines"] == [
        {"clock": "rectification", "due": "2027-02-14", "provisional": False}]
    # and the sweep recomputes what was provisional
    result = Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert result.redated == 1 and result.calendar_notices == 1
    read = client.get(f"/cases/{case_id}", headers=world.auth("principal")).json()
    assert read["clocks"]["rectification"]["due"] == "2027-02-14"
    with world.services.db.read() as conn:
        entry = conn.execute(select(audit_t).where(audit_t.c.stream == "calendar:2027")).one()
    assert (entry.action, entry.actor, entry.data["version"]) == ("add", "demo admin", 1)


def test_a_malformed_calendar_is_refused_with_every_problem_and_its_line(
    world: World, client: TestClient
) -> None:
    text = (ROOT / "tests/data/calendars/2027-broken.yaml").read_text(encoding="utf-8")
    answer = client.put("/calendar/2027", content=text, headers={
        **world.auth("admin"), "Content-Type": "application/yaml"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "calendar_invalid"
    assert [(p["line"], p["path"]) for p in body["problems"]] == [
        (3, "$.source.date"), (6, "$.holidays[1].to"), (7, "$.holidays[2].to"),
        (8, "$.holidays[3]"), (9, "$.holidays[4].name"), (9, "$.holidays[4].days"),
        (10, "$.workdays[0]"), (10, "$.workdays[1]"), (10, "$.workdays[3]"),
        (10, "$.workdays[4]"), (10, "$.workdays[5]")]
    wrong_year = client.put("/calendar/2028", content=YEAR_2027.read_text(encoding="utf-8"),
                            headers={**world.auth("admin"), "Content-Type": "application/yaml"})
    assert wrong_year.status_code == 422
    assert wrong_year.json()["problems"][0]["path"] == "$.year"
    assert client.get("/calendar", headers=world.auth("admin")).json()["data"][-1]["year"] == 2026


PLAN_2027 = """\
paicha: 1
id: plan-2027
title: 2027年示例专项行动
period: {start: 2027-01-01, end: 2027-03-31}
roles:
  principal: {name: 企业主要负责人, scope: unit}
  safety_office: {name: 安委会办公室, scope: org}
phases:
  - {id: mobilize, name: 动员部署, due: 2027-02-07}
checks:
  - {id: monthly_check, name: 每月带队检查, who: principal, for: units, every: month,
     due: {day: 8}}
"""


def test_a_2027_campaign_can_be_written_and_its_dates_follow_the_added_year(
    world: World, client: TestClient, chinese: None
) -> None:
    """The next campaign (a 2027 plan) publishes with a warning, deploys with provisional
    obligations and phase deadline, and adding the year re-dates them and their timers."""
    world.clock.now = local("2026-12-07")
    admin = world.auth("admin")
    published = client.post("/campaigns", content=PLAN_2027,
                            headers={**admin, "Content-Type": "application/yaml"})
    assert published.status_code == 201, published.text
    assert "2027" in published.json()["warnings"][0]["message"]
    deployed = client.post("/campaigns/plan-2027/deployments", headers=admin,
                           json={"org": "linyin"})
    assert deployed.status_code == 201, deployed.text

    def duties() -> list[tuple[str, str, bool]]:
        found = client.get("/obligations", headers=admin, params={
            "campaign": "plan-2027", "unit": "u-chem-01"}).json()["data"]
        return [(o["period"], o["due"], o["provisional"]) for o in found]

    def phase() -> list[tuple[str, str, bool]]:
        found = client.get("/deadlines", headers=admin, params={
            "campaign": "plan-2027", "org": "linyin"}).json()["data"]
        return [(d["due_date"], d["at"], d["provisional"]) for d in found
                if d["kind"] == "phase_due"]

    assert duties() == [("2027-01", "2027-01-08", True), ("2027-02", "2027-02-08", True),
                        ("2027-03", "2027-03-08", True)]
    assert phase() == [("2027-02-08", "2027-02-08T01:00:00Z", True)]

    put_year_and_sweep(world, client)

    # 02-08 is a day of 春节 in the file: due on the worked Sunday 02-14
    assert duties() == [("2027-01", "2027-01-08", False), ("2027-02", "2027-02-14", False),
                        ("2027-03", "2027-03-08", False)]
    assert phase() == [("2027-02-14", "2027-02-14T01:00:00Z", False)]
    with world.services.db.read() as conn:
        reminder = conn.execute(select(timer_t).where(
            timer_t.c.campaign_id == "plan-2027", timer_t.c.kind == "check_due",
            timer_t.c.unit_id == "u-chem-01", timer_t.c.due_date == dt.date(2027, 2, 14))).one()
    assert (reminder.status, reminder.due_at) == ("pending", local("2027-02-14", 9, 0))
    told = [d.message["text"] for d in deliveries(world, "calendar_redated")]
    assert "2027年示例专项行动：阶段「动员部署」截止日期按已录入的2027年法定节假日安排重算：" \
           "由2027-02-08（暂定）改为2027-02-14" in told
    # one notice per org whose units' duty moved, not one per unit, naming the org
    moved = sorted(t for t in told if "规定动作「每月带队检查」（2027-02）" in t)
    assert moved == [f"{org}：规定动作「每月带队检查」（2027-02）期限按已录入的2027年法定节假日"
                     "安排重算：由2027-02-08（暂定）改为2027-02-14"
                     for org in sorted(units_by_org(world, "linyin"))]


def units_by_org(world: World, under: str) -> set[str]:
    """The names of the orgs under `under` that hold units."""
    with world.services.db.read() as conn:
        return {r.name for r in conn.execute(
            select(org_t.c.name).distinct().join(unit_t, unit_t.c.org_id == org_t.c.id)
            .where(org_t.c.path.contains(f"/{under}/")))}
