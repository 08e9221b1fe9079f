"""A target not met `warn` days before its date: the safety office is told, once, through the
outbox; a met one, and a deployment that ended, tell nobody."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from deadlines.sweep import Sweeper
from engine.access import Principal
from storage.deployments import undeploy
from storage.tables import Delivery
from tests.deadlines.test_sweep import local
from tests.support.world import World

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
PLAN = "three-year-plan-2024-2026"


def notices(world: World) -> list[tuple[str, str, list[str]]]:
    with world.services.db.read() as conn:
        rows = conn.execute(select(delivery_t).where(delivery_t.c.kind == "target_at_risk")
                            .order_by(delivery_t.c.id)).all()
    return [(r.subject, r.message["text"], r.message["roles"]) for r in rows]


def open_stock_hazard(world: World) -> None:
    plant = Principal(931, "化工厂负责人", frozenset({"principal"}), "unit", "u-chem-01",
                      unit_org_path="/dongsheng/linyin/linyin-c1/")
    world.clock.now = dt.datetime(2024, 3, 1, 2, tzinfo=dt.UTC)
    with world.services.db.write() as conn:
        world.services.cases.open(conn, plant, campaign_id=PLAN, case_type="hazard",
                                  unit_id="u-chem-01", now=world.clock.now, data={
                                      "source": "self_inspection", "grade": "major",
                                      "industry": "hazardous_chemicals", "description": "存量",
                                      "found_on": "2023-10-01"})


def test_a_target_not_met_a_month_before_its_date_is_told_once(world: World,
                                                              chinese: None) -> None:
    open_stock_hazard(world)
    sweeper = Sweeper(world.services.db, world.services.registry, clock=world.clock)
    world.clock.now = local("2024-11-30")
    sweeper.sweep()
    assert notices(world) == []  # not yet: warn is 30 days before 2024-12-31
    world.clock.now = local("2024-12-01")
    sweeper.sweep()
    sent = notices(world)
    stock = [n for n in sent if n[0] == f"target:{PLAN}/stock_cleared"]
    assert stock == [(f"target:{PLAN}/stock_cleared",
                      "2024年底前基本消除2023年及以前排查发现的重大事故隐患存量：截至2024-12-01为1，"
                      "目标≤ 0，12月31日到期，还有30日", ["safety_office"])]
    # the targets of 2024 that hold (nothing missed, nothing open) sent nothing
    assert f"target:{PLAN}/training_2024_coverage" not in {n[0] for n in sent}
    world.clock.now = local("2024-12-02")
    sweeper.sweep()
    assert notices(world) == sent  # once


def test_an_undeployed_campaign_tells_nobody(world: World) -> None:
    open_stock_hazard(world)
    with world.services.db.write() as conn:
        undeploy(conn, Principal(0, "admin", frozenset(), "admin"), world.services.registry,
                 PLAN, "linyin", now=world.clock.now)
    world.clock.now = local("2024-12-01")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert notices(world) == []
