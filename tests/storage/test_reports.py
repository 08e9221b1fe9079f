"""Report figures counted by the database equal hand counts, at past dates as they were then,
rolled up the org tree, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine import reports as core
from engine.model import Measure
from storage import reports
from tests.support.world import LINYIN, World

MAJOR_SELF = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
              "description": "配电室线路老化", "found_on": "2023-06-01"}
PLAN = {"goals_and_tasks": "更换线路", "measures": "停电施工", "funds_and_materials": "已落实",
        "funds_amount": 12.5, "responsible": "设备科", "deadline": "2023-07-20",
        "safety_measures": "临时隔离"}


def at(day: str, hour: int = 2) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=dt.UTC)


def open_case(world: World, token: str, unit: str, data: dict[str, Any], when: str) -> str:
    world.clock.now = at(when)
    with world.services.db.write() as conn:
        stored, _ = world.services.cases.open(
            conn, world.principal(token), campaign_id=LINYIN, case_type="hazard",
            unit_id=unit, data=data, now=world.clock.now)
    return stored.id


def fire(world: World, token: str, case_id: str, trigger: str, data: dict[str, Any],
         when: str, hour: int = 2) -> None:
    world.clock.now = at(when, hour)
    with world.services.db.write() as conn:
        world.services.cases.fire(conn, world.principal(token), case_id, trigger=trigger,
                                  data=data, expected_version=None, now=world.clock.now)


def story(world: World) -> dict[str, str]:
    """Three hazards in 林荫街道 (/dongsheng/linyin/):
    - `closed`: major, self-found at the chemical plant (第一社区) on 06-01, planned 06-02,
      closed on 07-15 after the four signatures;
    - `regraded`: major, self-found at the building site (第一社区) on 06-05, re-graded general
      by the regulator on 07-05;
    - `department`: major, found by the district's inspection (registered by the regulator's
      token) at the mall (第二社区) on 06-10, still open.
    """
    closed = open_case(world, "principal", "u-chem-01", MAJOR_SELF, "2023-06-01")
    fire(world, "principal", closed, "plan", PLAN, "2023-06-02")
    fire(world, "principal", closed, "submit",
         {"rectified_on": "2023-07-10", "rectification_result": "已更换"}, "2023-07-10")
    for signer in ("acceptance_team", "locality", "regulator", "government"):
        fire(world, signer, closed, "accept",
             {"acceptance_opinion": "同意"} if signer == "acceptance_team" else {}, "2023-07-15")
    regraded = open_case(world, "admin", "u-site-01", {**MAJOR_SELF, "found_on": "2023-06-05"},
                         "2023-06-05")
    fire(world, "regulator", regraded, "regrade",
         {"grade": "general", "regrade_reason": "经复核不属于重大事故隐患"}, "2023-07-05")
    department = open_case(world, "regulator", "u-mall-01",
                           {**MAJOR_SELF, "source": "department_inspection",
                            "found_on": "2023-06-10"}, "2023-06-10")
    return {"closed": closed, "regraded": regraded, "department": department}


def figures(world: World, org_path: str, as_of: str, **extra: Measure) -> reports.Figures:
    with world.services.db.read() as conn:
        campaign = world.services.registry.newest(conn, LINYIN).loaded.campaign
        form = campaign.reports["dispatch"]
        day = dt.date.fromisoformat(as_of)
        scope = reports.Scope(LINYIN, org_path, day, campaign.timezone,
                              core.period_of(form.period, day))
        return reports.compute(conn, scope, [*core.measured(form), *extra.items()])


STREET = "/dongsheng/linyin/"
C1 = "/dongsheng/linyin/linyin-c1/"
C2 = "/dongsheng/linyin/linyin-c2/"


def test_figures_at_past_dates_are_as_they_were(world: World) -> None:
    story(world)
    # hand counts: (self_found, self_fixed, dept_found, dept_fixed)
    expected = {
        "2023-05-31": (0, 0, 0, 0),   # before anything was found
        "2023-06-04": (1, 0, 0, 0),   # the plant's hazard
        "2023-06-30": (2, 0, 1, 0),   # + the site's (still major) + the department's
        "2023-07-05": (1, 0, 1, 0),   # the site's re-graded general that day
        "2023-07-14": (1, 0, 1, 0),
        "2023-07-15": (1, 1, 1, 0),   # the plant's closed on the 15th
        "2023-08-31": (1, 1, 1, 0),
    }
    for day, want in expected.items():
        total = figures(world, STREET, day).total
        got = tuple(total[k] for k in ("self_found", "self_fixed", "dept_found", "dept_fixed"))
        assert got == want, day


def test_a_parent_is_the_sum_of_its_children_and_its_own_units(world: World) -> None:
    story(world)
    found = figures(world, STREET, "2023-06-30")
    assert set(found.by_child) == {C1, C2}
    assert found.by_child[C1]["self_found"] == 2 and found.by_child[C2]["self_found"] == 0
    assert found.by_child[C2]["dept_found"] == 1
    for key, value in found.total.items():
        parts = [child.get(key) or 0 for child in found.by_child.values()]
        assert value == sum(p for p in parts if isinstance(p, int | float)), key
    district = figures(world, "/dongsheng/", "2023-06-30")
    assert district.total["self_found"] == 2
    assert set(district.by_child) == {STREET}


def test_sums_units_and_finder_attribution(world: World) -> None:
    story(world)
    units = Measure("count_units", case="hazard", where={"grade": "major"})
    funds = Measure("sum", case="hazard", field="funds_amount", where={"grade": "major"})
    finder = Measure("count", case="hazard", where={"grade": "major"}, attribute="finder")
    found = figures(world, STREET, "2023-06-30", units=units, funds=funds, finder=finder)
    assert found.total["units"] == 3  # the plant, the site and the mall (块: where they lie)
    assert found.total["funds"] == 12.5
    assert found.total["finder"] == 0  # nothing was registered by the street's own people
    district = figures(world, "/dongsheng/", "2023-06-30", finder=finder)
    # 条: the district registered the mall's hazard; its own figure holds it, not the street's
    assert district.total["finder"] == 1
    assert district.by_child["/dongsheng/"]["finder"] == 1  # its own figure
    assert district.by_child[STREET].get("finder", 0) == 0  # not the street's


def test_overdue_and_period_rows(world: World) -> None:
    story(world)
    overdue = Measure("count", case="hazard", where={"open": True, "overdue": True})
    this_month = Measure("count", case="hazard", where={"grade": "major"}, within="period")
    # the plant's plan set the deadline 2023-07-20; it was closed on 07-15: never overdue.
    # the department's has no running clock: never overdue.
    assert figures(world, STREET, "2023-07-31", overdue=overdue).total["overdue"] == 0
    assert figures(world, STREET, "2023-06-30", m=this_month).total["m"] == 3
    assert figures(world, STREET, "2023-07-31", m=this_month).total["m"] == 0


def test_tests_on_the_data_text_never_change_a_count(world: World) -> None:
    """On SQLite a filter is led by LIKE tests on the JSON text (`"major"` somewhere in it) and
    a form's shared terms filter the cases first: text that only looks like a value is still
    told apart by the JSON test, and values written with escapes get no text test."""
    story(world)
    lookalike = {**MAJOR_SELF, "grade": "general", "found_on": "2023-06-20",
                 "description": 'grade "major", true', "location": '"supervised"'}
    open_case(world, "principal", "u-chem-01", lookalike, "2023-06-20")
    quoted = {**MAJOR_SELF, "found_on": "2023-06-21", "location": 'a "quoted" / <place>'}
    open_case(world, "principal", "u-chem-01", quoted, "2023-06-21")
    major = Measure("count", case="hazard", where={"grade": "major"})
    general = Measure("count", case="hazard", where={"grade": {"in": ["general"]}})
    place = Measure("count", case="hazard", where={"location": 'a "quoted" / <place>'})
    found = figures(world, STREET, "2023-06-30", major=major, general=general, place=place)
    # the story's three (still major on 06-30) and the quoted one; the lookalike is general
    assert found.total["major"] == 4
    assert found.total["general"] == 1
    assert found.total["place"] == 1
    assert found.total["self_found"] == 3  # the plant's, the site's and the quoted one
