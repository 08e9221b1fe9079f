"""The bundled campaigns' 调度表 computed from scripted cases equal hand counts, row by row,
at dates before and after the changes (a re-graded hazard, one closed after `as_of`), on SQLite
and PostgreSQL. (The Linyin street's form is in test_reports.py; Chongming's rows are the
national ones it inherits.)"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine import reports as core
from engine.access import Principal
from paicha.demo import SETUP
from storage import reports
from storage.deployments import deploy
from tests.support.world import START, World

NATIONAL = "special-action-2023"
PLAN = "three-year-plan-2024-2026"
JIAOTONG = "/dongsheng/jiaotong/"
LINYIN = "/dongsheng/linyin/"


def person(name: str, roles: set[str], org: str, path: str, number: int) -> Principal:
    """Someone of the org with these roles (each a different person: a chain needs them)."""
    return Principal(number, name, frozenset(roles), "org", org, scope_path=path)


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=2, tzinfo=dt.UTC)


class Script:
    def __init__(self, world: World, campaign: str) -> None:
        self.world, self.campaign = world, campaign

    def open(self, who: Principal, unit: str, case_type: str, data: dict[str, Any],
             day: str) -> str:
        with self.world.services.db.write() as conn:
            stored, _ = self.world.services.cases.open(
                conn, who, campaign_id=self.campaign, case_type=case_type, unit_id=unit,
                data=data, now=at(day))
        return stored.id

    def fire(self, who: Principal, case_id: str, trigger: str, data: dict[str, Any],
             day: str) -> None:
        with self.world.services.db.write() as conn:
            self.world.services.cases.fire(conn, who, case_id, trigger=trigger, data=data,
                                           expected_version=None, now=at(day))

    def figures(self, path: str, day: str) -> dict[str, core.Value]:
        with self.world.services.db.read() as conn:
            campaign = self.world.services.registry.newest(conn, self.campaign).loaded.campaign
            form = campaign.reports["dispatch"]
            when = dt.date.fromisoformat(day)
            scope = reports.Scope(self.campaign, path, when, campaign.timezone,
                                  core.period_of(form.period, when))
            return reports.compute(conn, scope, core.measured(form)).total


def test_the_national_dispatch_form(world: World) -> None:
    # 交通街道 runs the national campaign here (the demo world runs its demo campaign there)
    with world.services.db.write() as conn:
        deploy(conn, SETUP, world.services.registry.newest(conn, NATIONAL), "jiaotong",
               now=START)
    s = Script(world, NATIONAL)
    path = JIAOTONG
    regulator = person("交通街道执法队", {"regulator", "enforcement"}, "jiaotong", path, 901)
    team = person("验收组", {"acceptance_team"}, "jiaotong", path, 902)
    street = person("街道办", {"locality"}, "jiaotong", path, 903)
    government = person("街道主任", {"government", "safety_office"}, "jiaotong", path, 904)
    hotel = Principal(905, "宾馆负责人", frozenset({"principal"}), "unit", "u-hotel-01",
                      unit_org_path="/dongsheng/jiaotong/jiaotong-c1/")
    hazard = {"industry": "culture_tourism", "description": "消防通道堵塞",
              "found_on": "2023-06-01"}
    # 1: major, self-found, planned, closed on 07-20 (after the June form)
    closed = s.open(hotel, "u-hotel-01", "hazard",
                    {**hazard, "source": "self_inspection", "grade": "major"}, "2023-06-01")
    s.fire(hotel, closed, "plan", {"goals_and_tasks": "疏通", "measures": "清理",
                                   "funds_and_materials": "已落实", "responsible": "保安部",
                                   "deadline": "2023-07-30", "safety_measures": "专人值守"},
           "2023-06-02")
    s.fire(hotel, closed, "submit", {"rectified_on": "2023-07-18",
                                     "rectification_result": "已疏通"}, "2023-07-18")
    for signer in (team, street, regulator, government):
        s.fire(signer, closed, "accept", {"acceptance_opinion": "同意"}, "2023-07-20")
    # 2: major, found by the department, put under supervision on 06-15 (挂牌督办)
    supervised = s.open(regulator, "u-hotel-01", "hazard",
                        {**hazard, "source": "department_inspection", "grade": "major"},
                        "2023-06-10")
    s.fire(regulator, supervised, "supervise", {"supervision_document": "交安办督〔2023〕1号"},
           "2023-06-15")
    # 3: major self-found on 06-12, re-graded general on 07-05
    regraded = s.open(hotel, "u-hotel-01", "hazard",
                      {**hazard, "source": "self_inspection", "grade": "major"}, "2023-06-12")
    s.fire(regulator, regraded, "regrade", {"grade": "general", "regrade_reason": "复核"},
           "2023-07-05")
    # a spot check of the hotel with two findings; an enforcement and an assistance visit
    check = s.open(regulator, "u-hotel-01", "spot_check",
                   {"checked_on": "2023-06-20", "department": "应急局"}, "2023-06-20")
    s.fire(regulator, check, "complete", {
        "no_principal_study": True, "no_principal_inspection": False, "no_duty_list": False,
        "no_safety_staff": True, "unlicensed_special_work": False,
        "outsourcing_disorder": False, "drill_deficient": False}, "2023-06-20")
    punished = s.open(regulator, "u-hotel-01", "enforcement",
                      {"kind": "law_enforcement", "inspected_on": "2023-06-21",
                       "department": "应急局"}, "2023-06-21")
    s.fire(regulator, punished, "close", {
        "penalized": True, "fine_amount": 2.5, "double_penalty": True,
        "persons_transferred": 2, "suspension_ordered": True, "interviewed": True},
        "2023-06-25")
    s.open(regulator, "u-hotel-01", "enforcement",
           {"kind": "assistance", "inspected_on": "2023-06-22", "department": "应急局"},
           "2023-06-22")

    june = s.figures(path, "2023-06-30")
    assert {k: june[k] for k in (
        "self_found", "self_fixed", "dept_found", "dept_fixed", "supervised",
        "supervised_fixed", "spot_checked", "no_principal_study", "no_principal_inspection",
        "no_safety_staff", "assisted_key_enterprises", "double_penalties",
        "judicial_transfers", "suspensions", "exposed_interviewed_punished")} == {
        "self_found": 2, "self_fixed": 0,  # closed and regraded: both major, open in June
        "dept_found": 1, "dept_fixed": 0,
        "supervised": 1, "supervised_fixed": 0,
        "spot_checked": 1, "no_principal_study": 1, "no_principal_inspection": 0,
        "no_safety_staff": 1,
        "assisted_key_enterprises": 1, "double_penalties": 1, "judicial_transfers": 2,
        "suspensions": 1, "exposed_interviewed_punished": 1,
    }
    # manual figures are not counted: the submission brings them
    assert june["penalties.1"] is None if "penalties.1" in june else "penalties" not in june
    july = s.figures(path, "2023-07-31")
    assert (july["self_found"], july["self_fixed"], july["dept_found"]) == (1, 1, 1)
    # before anything: zeros, not missing figures
    assert set(s.figures(path, "2023-05-31").values()) == {0}
    # the street's community holds the hotel: the same figures there; none in Linyin
    assert s.figures("/dongsheng/jiaotong/jiaotong-c1/", "2023-06-30") == june


def test_the_three_year_plan_dispatch_form(world: World) -> None:
    s = Script(world, PLAN)
    path = LINYIN
    regulator = person("区应急局", {"regulator", "enforcement", "safety_office"}, "linyin",
                       path, 911)
    plant = Principal(912, "化工厂负责人", frozenset({"principal"}), "unit", "u-chem-01",
                      unit_org_path="/dongsheng/linyin/linyin-c1/")
    base = {"industry": "hazardous_chemicals", "description": "储罐区报警失效"}
    six = {"plan_goal": "修复", "plan_measures": "更换", "plan_funds": "自筹",
           "plan_organization": "设备科", "plan_emergency": "隔离"}
    # a stock hazard (found in 2023), planned with a deadline that passes on 2024-06-30
    stock = s.open(plant, "u-chem-01", "hazard",
                   {**base, "source": "self_inspection", "grade": "major",
                    "found_on": "2023-11-02"}, "2024-04-02")
    s.fire(plant, stock, "plan", {**six, "deadline": "2024-06-30", "funds_amount": 10},
           "2024-04-03")
    # an increment hazard (2024) found by the grid, with a fine
    grid = s.open(regulator, "u-mall-01", "hazard",
                  {**base, "industry": "commerce", "source": "grid_inspection",
                   "grade": "major", "found_on": "2024-05-06"}, "2024-05-06")
    s.fire(regulator, grid, "enforce", {"enforcement_action": "suspension",
                                        "fine_amount": 1.5}, "2024-05-07")
    # a general hazard fixed at once
    general = s.open(plant, "u-chem-01", "hazard",
                     {**base, "source": "self_inspection", "grade": "general",
                      "found_on": "2024-05-08"}, "2024-05-08")
    s.fire(plant, general, "fix_now", {"rectified_on": "2024-05-08",
                                      "rectification_report": "已整改"}, "2024-05-08")
    may = s.figures(path, "2024-05-31")
    assert {k: may[k] for k in (
        "major_found", "major_stock", "major_stock_open", "major_increment", "major_closed",
        "major_open", "major_rectifying", "major_overdue", "units_with_major",
        "units_with_open_major", "major_funds", "src_self", "src_grid", "general_found",
        "general_closed", "enf_suspension", "enf_fines")} == {
        "major_found": 2, "major_stock": 1, "major_stock_open": 1, "major_increment": 1,
        "major_closed": 0, "major_open": 2, "major_rectifying": 1, "major_overdue": 0,
        "units_with_major": 2, "units_with_open_major": 2, "major_funds": 10,
        "src_self": 1, "src_grid": 1, "general_found": 1, "general_closed": 1,
        "enf_suspension": 1, "enf_fines": 1.5,
    }
    # the stock hazard's deadline, Sunday 06-30, rolled to Monday 07-01: overdue from 07-02
    assert s.figures(path, "2024-07-01")["major_overdue"] == 0
    assert s.figures(path, "2024-07-02")["major_overdue"] == 1
    # duties: the plant's monthly inspections (高危) missed since April, none done
    july = s.figures(path, "2024-07-31")
    assert july["insp_done"] == 0 and july["insp_missed"] > 0
