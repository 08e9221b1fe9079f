"""The sweep on a fake clock: a hazard's 整改期限 reminders, overdue notice and automatic 挂牌督办
go out once each, in order, also when the sweeper was down; a case that moved on sends nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from deadlines.outbox import Deliverer
from deadlines.sweep import Sweeper
from engine.clocks import arm
from storage import timers, tokens
from storage.tables import Delivery
from storage.tables import Timer as TimerRow
from tests.support.world import World

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
timer_t = TimerRow.__table__  # type: ignore[attr-defined]

CAMPAIGN = "special-action-2023-linyin"
HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "description": "储罐区可燃气体报警装置失效", "found_on": "2023-06-01"}
PLAN = {"goals_and_tasks": "更换", "measures": "停用并更换", "funds_and_materials": "自筹",
        "responsible": "设备部", "deadline": "2023-07-31", "safety_measures": "专人巡检"}


def local(day: str, hour: int = 9, minute: int = 10) -> dt.datetime:
    """`hour:minute` in Shanghai on `day`, as UTC (by default just after the 09:00 reminders)."""
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00+08:00").astimezone(dt.UTC)


def _principal(world: World, name: str) -> Any:
    with world.services.db.read() as conn:
        return tokens.resolve(conn, world.tokens[name])


def planned_hazard(world: World) -> str:
    cases = world.services.cases
    with world.services.db.write() as conn:
        stored, _ = cases.open(conn, _principal(world, "principal"), campaign_id=CAMPAIGN,
                               case_type="hazard", unit_id="u-chem-01", data=HAZARD,
                               now=world.clock())
        cases.fire(conn, _principal(world, "principal"), stored.id, trigger="plan", data=PLAN,
                   expected_version=1, now=world.clock())
    return stored.id


def texts(world: World, case_id: str) -> list[tuple[str, str, bool]]:
    """What the log channel got about one case (the demo's obligations send their own)."""
    with world.services.db.read() as conn:
        rows = conn.execute(select(delivery_t).where(delivery_t.c.channel == "log",
                                                     delivery_t.c.subject == case_id)
                            .order_by(delivery_t.c.id)).all()
    return [(r.kind, r.message["text"], r.late) for r in rows]


@pytest.mark.usefixtures("chinese")  # the Chinese a deadline says by default
def test_reminders_fire_once_in_order_and_late_after_downtime(world: World) -> None:
    case_id = planned_hazard(world)
    sweeper = Sweeper(world.services.db, world.services.registry, clock=world.clock)
    world.clock.now = local("2023-07-24")  # 7 days before
    sweeper.sweep()
    assert texts(world, case_id) == [("remind", "整改期限：7月31日到期，还有7日", False)]
    assert sweeper.sweep().claimed == 0  # done is done
    # the sweeper was down from 25 July until 1 August 10:00
    world.clock.now = local("2023-08-01", 10, 0)
    assert sweeper.sweep().fired == 1
    assert texts(world, case_id) == [
        ("remind", "整改期限：7月31日到期，还有7日", False),
        # Fri 28 July: Sunday's, moved; it says the real date and counts from its own day
        ("remind", "整改期限：7月31日到期，还有3日", True),
        ("remind", "整改期限：今日（7月31日）到期", True),
        ("overdue", "整改期限：7月31日到期，已逾期1日", True),
    ]
    with world.services.db.read() as conn:
        stored = world.services.cases.get(conn, _principal(world, "admin"), case_id)
    assert stored.state == "supervised"  # 逾期未整改的挂牌督办, fired by the system
    # the repeat after a late overdue notice is the next working day, not one per missed day
    world.clock.now = local("2023-08-02")
    sweeper.sweep()
    assert texts(world, case_id)[4:] == [
        ("overdue_repeat", "整改期限：7月31日到期，已逾期2日", False)]


def test_a_running_clock_keeps_one_pending_timer_its_next(world: World) -> None:
    case_id = planned_hazard(world)
    sweeper = Sweeper(world.services.db, world.services.registry, clock=world.clock)
    pending = []
    for day in ("2023-07-20", "2023-07-24", "2023-07-28"):
        world.clock.now = local(day)
        sweeper.sweep()
        with world.services.db.read() as conn:
            pending.append(conn.execute(select(timer_t.c.kind, timer_t.c.payload).where(
                timer_t.c.subject == case_id, timer_t.c.status == "pending")).all())
    assert [[(kind, payload["label"]) for kind, payload in rows] for rows in pending] == [
        [("remind", "-7d")], [("remind", "-1d")], [("remind", "0d")]]  # -1d: Sun moved to Fri 28


def test_a_clock_stored_whole_by_an_older_release_sends_each_timer_once(world: World) -> None:
    # Older releases stored every timer of a clock when it started; the sweep, arming each
    # next timer as it handles one, finds it stored already and leaves it.
    case_id = planned_hazard(world)
    with world.services.db.write() as conn:
        stored = world.services.cases.get(conn, _principal(world, "admin"), case_id)
        lifecycle = world.services.cases.lifecycle_of(conn, stored)
        clock = next(c for c in lifecycle.type.clocks if c.id == "rectification")
        assert stored.next_due is not None
        whole = arm(lifecycle.campaign, clock, case_id, stored.next_due, world.clock(),
                    lifecycle.deadlines).timers
        timers.insert_new(conn, timers.rows_for(whole, stored.clocks["rectification"]["gen"],
                                                timers.Owner(stored.campaign_id,
                                                             stored.org_path, stored.unit_id,
                                                             lifecycle.type)))
    world.clock.now = local("2023-08-01", 10, 0)
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert [kind for kind, _, _ in texts(world, case_id)] == [
        "remind", "remind", "remind", "overdue"]


def test_a_case_that_moved_on_sends_nothing(world: World) -> None:
    case_id = planned_hazard(world)
    with world.services.db.write() as conn:
        world.services.cases.fire(conn, _principal(world, "principal"), case_id,
                                  trigger="submit", expected_version=2, now=world.clock(),
                                  data={"rectified_on": "2023-06-02",
                                        "rectification_result": "已更换"})
        pending = conn.execute(select(timer_t).where(timer_t.c.subject == case_id,
                                                     timer_t.c.status == "pending")).all()
    assert pending == []  # stopping the clock cancelled its timers in the same transaction
    world.clock.now = local("2023-09-30")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert texts(world, case_id) == []


def test_the_log_channel_delivers_what_the_sweep_queued(world: World) -> None:
    planned_hazard(world)
    world.clock.now = local("2023-07-24")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    with world.services.db.read() as conn:
        queued = conn.execute(select(delivery_t)).all()
    run = Deliverer(world.services.db, clock=world.clock).deliver()
    assert (run.sent, run.failed, run.dead) == (len(queued), 0, 0)
    with world.services.db.read() as conn:
        rows = conn.execute(select(delivery_t)).all()
    assert {(r.status, r.attempts) for r in rows} == {("delivered", 1)}
    assert Deliverer(world.services.db, clock=world.clock).deliver().sent == 0


@pytest.mark.usefixtures("chinese")  # the Chinese a deadline says by default
def test_obligation_reminders_stop_once_the_duty_is_done(world: World) -> None:
    """The demo deployed the Linyin plan on 1 June: the chemical plant's principal is reminded
    of the June inspection on its due day unless it was recorded first."""
    sweeper = Sweeper(world.services.db, world.services.registry, clock=world.clock)
    world.clock.now = local("2023-06-30")
    sweeper.sweep()
    with world.services.db.read() as conn:
        june = conn.execute(select(delivery_t).where(
            delivery_t.c.channel == "log", delivery_t.c.kind == "check_due")).all()
    about_chem = [r.message for r in june if r.message["extra"]["subject_id"] == "u-chem-01"]
    assert "主要负责人带队检查本单位重大事故隐患排查整治情况（2023-06）：今日（6月30日）到期" in [
        m["text"] for m in about_chem]
    assert all(m["roles"] == ["principal"] for m in about_chem)


@pytest.mark.usefixtures("chinese")  # the Chinese a deadline says by default
def test_a_rejection_back_to_the_same_deadline_arms_fresh_timers(world: World) -> None:
    """plan (整改期限 07-31) → submit (the clock stops) → reject with the same 07-31: the clock
    runs again under a new generation, and its reminders go out once, not twice."""
    case_id = planned_hazard(world)
    cases = world.services.cases
    with world.services.db.write() as conn:
        cases.fire(conn, _principal(world, "principal"), case_id, trigger="submit",
                   expected_version=2, now=world.clock(),
                   data={"rectified_on": "2023-06-20", "rectification_result": "已更换"})
        _, outcome = cases.fire(conn, _principal(world, "acceptance_team"), case_id,
                                trigger="reject", expected_version=3, now=world.clock(),
                                data={"reason": "报警装置未联网", "deadline": "2023-07-31"})
        stored = cases.get(conn, _principal(world, "admin"), case_id)
    assert [type(e).__name__ for e in outcome.effects] == ["ArmClock"]
    assert stored.clocks["rectification"] == {"due": "2023-07-31", "gen": 2}
    world.clock.now = local("2023-07-24")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert texts(world, case_id) == [("remind", "整改期限：7月31日到期，还有7日", False)]


@pytest.mark.usefixtures("chinese")  # the Chinese a deadline says by default
def test_a_failing_timer_is_set_aside_and_the_rest_go_out(world: World) -> None:
    case_id = planned_hazard(world)
    with world.services.db.write() as conn:
        conn.execute(timer_t.insert().values(
            key="broken", subject=case_id, clock_id="rectification", kind="remind",
            campaign_id=CAMPAIGN, org_path="/", unit_id=None, roles=[], due_date=None,
            due_at=local("2023-07-20"), status="pending", attempts=0, payload={}))
    world.clock.now = local("2023-07-24")
    result = Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert result.failed == 1
    assert texts(world, case_id) == [("remind", "整改期限：7月31日到期，还有7日", False)]
    with world.services.db.read() as conn:
        broken = conn.execute(select(timer_t).where(timer_t.c.key == "broken")).one()
    assert (broken.status, broken.attempts) == ("pending", 1)
    assert broken.due_at > world.clock.now  # tried again later, not in a loop


@pytest.mark.usefixtures("chinese")  # the Chinese a deadline says by default
def test_an_overdue_notice_past_the_published_calendar_still_goes_out(world: World) -> None:
    """The statutory calendar this release knows ends 2026-12-31: a 整改期限 of that day is
    declared overdue on 1 January 2027 at 09:00, the first working day after it by the weekend
    rule (so the clock is provisional until 2027 is added)."""
    world.clock.now = local("2026-12-02")
    cases = world.services.cases
    with world.services.db.write() as conn:
        stored, _ = cases.open(conn, _principal(world, "principal"),
                               campaign_id="three-year-plan-2024-2026", case_type="hazard",
                               unit_id="u-chem-01", now=world.clock(), data={
                                   **HAZARD, "found_on": "2026-12-01"})
        cases.fire(conn, _principal(world, "principal"), stored.id, trigger="plan",
                   expected_version=1, now=world.clock(), data={
                       "plan_goal": "更换", "plan_measures": "停用", "plan_funds": "自筹",
                       "plan_organization": "设备部", "deadline": "2026-12-31",
                       "plan_emergency": "巡检"})
    world.clock.now = local("2027-01-01", 10, 0)
    result = Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert result.failed == 0
    assert ("overdue", "整改期限（治理的时限）：2026年12月31日（暂定）到期，已逾期1日",
            True) in texts(world, stored.id)
