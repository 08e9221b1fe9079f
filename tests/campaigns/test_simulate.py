"""The dry run prints what the engine would do, in order, on the statutory calendar.

Expected dates are worked out by hand: 2023 端午 holiday 06-22..06-24 with 06-25 (Sunday) a
make-up workday; reminders at 09:00, and overdue decided at 09:00 on the first working day
after the due day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.orgs import Unit
from engine.simulation import Happening, ScriptedEvent, Simulation
from paicha.files import loader_for

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
PLAN = {"goals_and_tasks": "修复报警", "measures": "更换探头", "funds_and_materials": "2万元",
        "responsible": "设备部", "deadline": "2023-06-20", "safety_measures": "加强巡检"}
HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "found_on": "2023-05-30", "description": "储罐区可燃气体报警失效"}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ).astimezone(dt.UTC)


def event(when: str, action: str, roles: set[str], name: str | None = None,
          data: dict[str, str] | None = None) -> ScriptedEvent:
    return ScriptedEvent(at(when), "h1", "open" if action == "open" else "fire",
                         frozenset(roles), case_type="hazard" if action == "open" else None,
                         trigger=None if action == "open" else name, data=data or {})


def run(events: list[ScriptedEvent], start: str, end: str,
        units: list[Unit] | None = None) -> list[Happening]:
    path = ROOT / "campaigns/special-action-2023-chongming.yaml"
    campaign = loader_for([path]).load(path.read_text(encoding="utf-8"), path.name).campaign
    simulation = Simulation(campaign, dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    return list(simulation.run(units or [], events))


def local(h: Happening) -> str:
    return h.at.astimezone(TZ).strftime("%m-%d %H:%M")


def test_an_ignored_deadline_reminds_escalates_and_repeats_on_working_days_only() -> None:
    happenings = run([
        event("2023-06-01 10:00", "open", {"principal"}, data=HAZARD),
        event("2023-06-02 10:00", "fire", {"principal"}, "plan", PLAN),
        event("2023-06-28 15:00", "fire", {"principal"}, "submit",
              {"rectified_on": "2023-06-28", "rectification_result": "已更换"}),
    ], "2023-06-01", "2023-07-31")
    case = [(local(h), h.kind) for h in happenings if h.subject == "h1"]
    assert case == [
        ("06-01 10:00", "opened"),
        ("06-02 10:00", "fired"),
        ("06-02 10:00", "clock_started"),
        ("06-13 09:00", "remind"),   # -7d from Tuesday 06-20
        ("06-19 09:00", "remind"),   # -1d
        ("06-20 09:00", "remind"),   # on the day
        # overdue is decided once a day, at 09:00 on working days: Wednesday 06-21
        ("06-21 09:00", "overdue"),
        ("06-21 09:00", "auto_fired"),  # overdue fires 挂牌督办
        # 06-22..24 端午 holiday: no repeats; 06-25 is a make-up workday
        ("06-25 09:00", "overdue_repeat"),
        ("06-26 09:00", "overdue_repeat"),
        ("06-27 09:00", "overdue_repeat"),
        ("06-28 09:00", "overdue_repeat"),
        ("06-28 15:00", "fired"),    # submitted: the clock stops, nothing more is sent
        ("06-28 15:00", "clock_stopped"),
    ]
    auto = next(h for h in happenings if h.kind == "auto_fired")
    assert "挂牌督办" in auto.text
    overdue = next(h for h in happenings if h.kind == "overdue")
    assert set(overdue.roles) >= {"principal", "safety_office"}


def test_closing_starts_the_three_day_report_clock_rolled_past_the_weekend() -> None:
    signers = ["acceptance_team", "locality", "regulator", "government"]
    events = [
        event("2023-06-01 10:00", "open", {"principal"}, data=HAZARD),
        event("2023-06-02 10:00", "fire", {"principal"}, "plan", PLAN),
        event("2023-06-19 10:00", "fire", {"principal"}, "submit",
              {"rectified_on": "2023-06-19", "rectification_result": "已更换"}),
        *[event(f"2023-06-21 1{i}:00", "fire", {role}, "accept") for i, role in
          enumerate(signers)],
    ]
    happenings = run(events, "2023-06-01", "2023-07-31")
    kinds = [(local(h), h.kind) for h in happenings if h.subject == "h1"][-6:]
    # 销号 on Wednesday 06-21; 3 days later is Saturday 06-24 (端午), rolled to Sunday 06-25,
    # a make-up workday. The clock reminds on the due day and is overdue after it.
    assert kinds == [
        ("06-21 11:00", "signed"), ("06-21 12:00", "signed"), ("06-21 13:00", "fired"),
        ("06-21 13:00", "clock_started"), ("06-25 09:00", "remind"), ("06-26 09:00", "overdue"),
    ]
    started = next(h for h in happenings if h.kind == "clock_started" and "销号" in h.text)
    assert "2023-06-25" in started.text


def test_phase_deadlines_and_monthly_dispatch_roll_off_rest_days() -> None:
    town_units = [Unit("u-chem", "化工厂", "town-1", "hazardous_chemicals")]
    happenings = run([], "2023-05-01", "2023-12-31", town_units)
    phases = [(h.at.astimezone(TZ).date().isoformat(), h.subject) for h in happenings
              if h.kind == "phase_due"]
    assert phases == [("2023-05-22", "mobilize"), ("2023-06-30", "self_check"),
                      ("2023-11-30", "enforcement")]  # 12-31 rolls to 2024-01-02, past --to
    monthly = sorted(h.at.astimezone(TZ).date().isoformat() for h in happenings
                     if h.kind == "check_due" and h.subject == "u-chem"
                     and "带队检查" in h.text)
    # 高危: monthly, due the last day of each month, rolled past rest days
    assert monthly == ["2023-05-31", "2023-06-30", "2023-07-31", "2023-08-31", "2023-10-07",
                       "2023-10-31", "2023-11-30"]
