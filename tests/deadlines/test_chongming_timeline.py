"""The whole 2023 Chongming campaign, live: one high-risk unit (a chemical plant, with a hazard
left overdue) and one ordinary shop, swept on a fake clock from May to December. Every phase
deadline, check reminder, case reminder, overdue notice and escalation the scheduler sends is
exactly what `paicha simulate` prints for the same campaign and events, at the same instants."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from api.services import campaign_loader
from deadlines.sweep import Sweeper
from engine.access import Principal
from engine.orgs import Org, Unit
from engine.simulation import ScriptedEvent, Simulation
from paicha.files import bundled_dir
from storage import subjects, tokens
from storage.bootstrap import prepare
from storage.campaigns import CampaignRegistry
from storage.cases import CaseStore
from storage.db import Database
from storage.deployments import deploy
from storage.tables import Delivery
from storage.tables import Timer as TimerRow

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
timer_t = TimerRow.__table__  # type: ignore[attr-defined]

CAMPAIGN = "special-action-2023-chongming"
TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2023, 5, 1, tzinfo=TZ).astimezone(dt.UTC)
END = dt.datetime(2024, 1, 1, tzinfo=TZ).astimezone(dt.UTC)
SETUP = Principal(0, "test", frozenset(), "admin")

ORGS = [Org("cm", "崇明区", "county"), Org("cm-town", "城桥镇", "town", "cm"),
        Org("cm-community", "鳌山社区", "community", "cm-town")]
UNITS = [Unit("u-chem", "城桥化工有限公司", "cm-community", "hazardous_chemicals",
              frozenset({"major_hazard_source"})),
         Unit("u-shop", "鳌山五金商店", "cm-community", "industry_trade")]
HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "found_on": "2023-06-01", "description": "储罐区可燃气体报警失效"}
PLAN = {"goals_and_tasks": "修复报警", "measures": "更换探头", "funds_and_materials": "2万元",
        "responsible": "设备部", "deadline": "2023-06-20", "safety_measures": "加强巡检"}


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(dt.UTC)


EVENTS = [
    ScriptedEvent(local("2023-06-01 10:00"), "h1", "open", frozenset({"principal"}),
                  case_type="hazard", data=HAZARD),
    ScriptedEvent(local("2023-06-02 10:00"), "h1", "fire", frozenset({"principal"}),
                  trigger="plan", data=PLAN),
]


def simulated(registry: CampaignRegistry, db: Database) -> list[tuple[str, str, str]]:
    with db.read() as conn:
        campaign = registry.newest(conn, CAMPAIGN).loaded.campaign
    simulation = Simulation(campaign, dt.date(2023, 5, 1), dt.date(2023, 12, 31))
    sent = ("phase_due", "check_reminder", "check_due", "remind", "overdue", "overdue_repeat",
            "escalate")
    return sorted((h.at.isoformat(), h.kind, h.text)
                  for h in simulation.run([*ORGS, *UNITS], EVENTS) if h.kind in sent)


def live(registry: CampaignRegistry, db: Database) -> list[tuple[str, str, str]]:
    now = START
    with db.write() as conn:
        for org in ORGS:
            subjects.create_org(conn, SETUP, id=org.id, name=org.name, level=org.level,
                                parent=org.parent, now=now)
        for unit in UNITS:
            subjects.create_unit(conn, SETUP, id=unit.id, name=unit.name, org=unit.org,
                                 industry=unit.industry, tags=sorted(unit.tags), now=now)
        deploy(conn, SETUP, registry.newest(conn, CAMPAIGN), "cm", now=now)
        issued = tokens.create(conn, name="城桥化工 主要负责人", roles=["principal"],
                               scope_kind="unit", scope_id="u-chem", now=now)
        principal = tokens.resolve(conn, issued.secret)
    assert principal is not None
    cases = CaseStore(registry)
    clock = [now]
    sweeper = Sweeper(db, registry, clock=lambda: clock[0])
    events = list(EVENTS)
    case_id: str | None = None
    for _ in range(5000):  # bounded: a campaign year has a few hundred distinct instants
        with db.read() as conn:
            next_due = conn.execute(select(timer_t.c.due_at).where(
                timer_t.c.status == "pending").order_by(timer_t.c.due_at).limit(1)).scalar()
        next_event = events[0].at if events else None
        candidates = [t for t in (next_due, next_event) if t is not None and t < END]
        if not candidates:
            break
        clock[0] = min(candidates)
        if next_event is not None and clock[0] == next_event:
            event = events.pop(0)
            with db.write() as conn:
                if event.action == "open":
                    stored, _ = cases.open(conn, principal, campaign_id=CAMPAIGN,
                                           case_type="hazard", unit_id="u-chem",
                                           data=event.data, now=clock[0])
                    case_id = stored.id
                else:
                    assert case_id is not None
                    cases.fire(conn, principal, case_id, trigger=event.trigger or "",
                               data=event.data, expected_version=None, now=clock[0])
            continue
        sweeper.sweep()
    with db.read() as conn:
        rows: list[Any] = conn.execute(
            select(delivery_t.c.kind, delivery_t.c.message, timer_t.c.due_at)
            .join(timer_t, timer_t.c.id == delivery_t.c.timer_id)
            .where(delivery_t.c.channel == "log")).all()
    return sorted((r.due_at.isoformat(), r.kind, r.message["text"]) for r in rows)


def test_the_live_sweep_sends_exactly_what_the_dry_run_shows(database_url: str) -> None:
    db = Database(database_url)
    registry = CampaignRegistry(campaign_loader)
    try:
        prepare(db, registry, bundled_dir(), now=START)
        expected = simulated(registry, db)
        sent = live(registry, db)
    finally:
        db.dispose()
    assert sent == expected
    # and what that is, in numbers a policy officer can check against the plan
    kinds = [kind for _, kind, _ in sent]
    assert kinds.count("phase_due") == 3  # 05-22, 06-30, 11-30 (12-31 rolls into 2024)
    assert kinds.count("remind") == 3 and kinds.count("overdue") == 1
    assert kinds.count("escalate") == 1
    monthly = [at[:10] for at, kind, text in sent
               if kind == "check_due" and "带队" in text and "城桥化工" not in text]
    assert len(monthly) >= 7
