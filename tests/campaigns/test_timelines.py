"""The whole timeline of each bundled campaign for a high-risk unit, a crowded venue, an ordinary
unit and the orgs that report, against dates worked out by hand.

The expected dates come from the seed documents (shared/seeds/) as the campaign files read them,
and from the State Council's holiday notices for 2023–2026; each rolled date was cross-checked
with `chinese_calendar.is_workday`. Rolling follows 民法典 第203条: a deadline on a rest day moves
to the first working day after it, which may be a 调休 make-up Saturday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import chinese_calendar
import pytest

from engine.checks import obligations_for
from engine.dates import Deadlines
from engine.model import Campaign
from engine.orgs import Org, Unit
from paicha.files import loader_for
from paicha.timeline import phase_entries

ROOT = Path(__file__).resolve().parents[2]
D = dt.date
Row = tuple[str, str | None, dt.date]  # (check, period, due)


@cache
def campaign(name: str) -> Campaign:
    path = ROOT / "campaigns" / f"{name}.yaml"
    return loader_for([path]).load(path.read_text(encoding="utf-8"), path.name).campaign


def timeline(name: str, subject: Unit | Org) -> list[Row]:
    c = campaign(name)
    return sorted(
        (o.check, o.period, o.due) for o in obligations_for(c, subject, Deadlines.for_campaign(c))
    )


def variants(name: str, subject: Unit | Org) -> dict[str, set[str | None]]:
    c = campaign(name)
    found: dict[str, set[str | None]] = {}
    for o in obligations_for(c, subject, Deadlines.for_campaign(c)):
        found.setdefault(o.check, set()).add(o.variant)
    return found


def phases(name: str) -> list[tuple[str, dt.date]]:
    c = campaign(name)
    return [(e.item, e.due) for e in phase_entries(c, Deadlines.for_campaign(c))]


def rows(check: str, dues: dict[str, dt.date] | Iterable[tuple[str | None, dt.date]]) -> list[Row]:
    items = dues.items() if isinstance(dues, dict) else dues
    return [(check, period, due) for period, due in items]


def one_off(check: str, *dues: dt.date) -> list[Row]:
    return [(check, None, due) for due in dues]


# ── 2023 calendars (May–December) ──────────────────────────────────────────────────────────
# 2023-09-29..10-06 中秋国庆 holiday, 10-07 (Sat) and 10-08 (Sun) worked; 2024-01-01 元旦 (Mon).

MONTH_ENDS_2023 = {
    "2023-05": D(2023, 5, 31),  # Wed
    "2023-06": D(2023, 6, 30),  # Fri
    "2023-07": D(2023, 7, 31),  # Mon
    "2023-08": D(2023, 8, 31),  # Thu
    "2023-09": D(2023, 10, 7),  # 09-30 Sat in the holiday → 10-07, a make-up Saturday
    "2023-10": D(2023, 10, 31),  # Tue
    "2023-11": D(2023, 11, 30),  # Thu
    "2023-12": D(2024, 1, 2),  # 12-31 Sun, 01-01 元旦 → Tue 01-02
}
QUARTER_ENDS_2023 = {"2023Q2": D(2023, 6, 30), "2023Q3": D(2023, 10, 7), "2023Q4": D(2024, 1, 2)}
HALF_YEAR_ENDS_2023 = {"2023H1": D(2023, 6, 30), "2023H2": D(2024, 1, 2)}
YEAR_END_2023 = {"2023": D(2024, 1, 2)}
# 调度表 每月28日前
DAY_28_2023 = {
    "2023-05": D(2023, 5, 29),  # 05-28 Sun → Mon 05-29
    "2023-06": D(2023, 6, 28),  # Wed
    "2023-07": D(2023, 7, 28),  # Fri
    "2023-08": D(2023, 8, 28),  # Mon
    "2023-09": D(2023, 9, 28),  # Thu, the last working day before the holiday
    "2023-10": D(2023, 10, 30),  # 10-28 Sat → Mon 10-30
    "2023-11": D(2023, 11, 28),  # Tue
    "2023-12": D(2023, 12, 28),  # Thu
}

# 企业主要负责人 二(一)1–4: the one-off duties due at the end of 企业自查自改
SELF_CHECK_DUTIES = (
    "study_and_deploy", "hazard_ledger", "responsibility_system", "duty_lists",
    "safety_staffing", "warning_education", "welding_equipment_check",
    "hazardous_work_personnel_review", "outsourcing_review",
)  # fmt: skip

CHEM_2023 = Unit("u-chem", "化工有限公司", "c1", "hazardous_chemicals",
                 frozenset({"major_hazard_source"}))  # fmt: skip
MALL_2023 = Unit("u-mall", "购物中心", "c1", "other", frozenset({"mall"}))
SHOP_2023 = Unit("u-shop", "五金商店", "c1", "industry_trade")


def self_check_duties(due: dt.date) -> list[Row]:
    return [row for check in SELF_CHECK_DUTIES for row in one_off(check, due)]


# ── special-action-2023: the national shape ────────────────────────────────────────────────


def test_national_phases() -> None:
    assert phases("special-action-2023") == [
        ("mobilize", D(2023, 5, 15)),  # Mon
        ("self_check", D(2023, 6, 30)),
        ("enforcement", D(2023, 11, 30)),
        ("summary", D(2024, 1, 2)),  # 12-31 Sun
    ]


def test_national_high_risk_unit() -> None:
    # 每季度至少1次（高危行业领域企业每月至少1次）; 演练 每半年至少1次 for 高危
    assert timeline("special-action-2023", CHEM_2023) == sorted(
        self_check_duties(D(2023, 6, 30))
        + rows("principal_inspection", MONTH_ENDS_2023)
        + rows("emergency_drill", HALF_YEAR_ENDS_2023)
    )
    assert variants("special-action-2023", CHEM_2023)["principal_inspection"] == {
        "stricter: high_risk"}  # fmt: skip


def test_national_crowded_venue() -> None:
    # 宾馆、商场、娱乐场所等人员密集场所: drills every half year, inspections quarterly
    assert timeline("special-action-2023", MALL_2023) == sorted(
        self_check_duties(D(2023, 6, 30))
        + rows("principal_inspection", QUARTER_ENDS_2023)
        + rows("emergency_drill", HALF_YEAR_ENDS_2023)
    )
    assert variants("special-action-2023", MALL_2023) == {
        **{check: {None} for check in SELF_CHECK_DUTIES},
        "principal_inspection": {None},
        "emergency_drill": {"stricter: crowded"},
    }


def test_national_ordinary_unit() -> None:
    assert timeline("special-action-2023", SHOP_2023) == sorted(
        self_check_duties(D(2023, 6, 30))
        + rows("principal_inspection", QUARTER_ENDS_2023)
        + rows("emergency_drill", YEAR_END_2023)
    )


def test_national_street_and_department() -> None:
    street = Org("s1", "某街道", "street", "d1")
    assert timeline("special-action-2023", street) == sorted(
        one_off("mobilization_meeting", D(2023, 5, 15))
        + one_off("safety_month", D(2023, 6, 30))
        + rows("dispatch_report", DAY_28_2023)
        + one_off("summary_report", D(2024, 1, 2))
    )
    department = Org("dep", "应急管理局", "department", "d1")
    assert timeline("special-action-2023", department) == sorted(
        one_off("department_plan", D(2023, 5, 15))
        + one_off("enforcement_training", D(2023, 6, 30))
    )


# ── special-action-2023-linyin (seed 000, 林荫街道) ────────────────────────────────────────


def test_linyin_phases() -> None:
    # 三、工作安排: 5月25日前, 7月底前, 10月底前, 12月底前
    assert phases("special-action-2023-linyin") == [
        ("mobilize", D(2023, 5, 25)),  # Thu
        ("self_check", D(2023, 7, 31)),  # Mon
        ("enforcement", D(2023, 10, 31)),  # Tue
        ("summary", D(2024, 1, 2)),
    ]


def test_linyin_units() -> None:
    # the national duties, with 自查自改 ending 7月底
    assert timeline("special-action-2023-linyin", CHEM_2023) == sorted(
        self_check_duties(D(2023, 7, 31))
        + rows("principal_inspection", MONTH_ENDS_2023)
        + rows("emergency_drill", HALF_YEAR_ENDS_2023)
    )
    assert timeline("special-action-2023-linyin", MALL_2023) == sorted(
        self_check_duties(D(2023, 7, 31))
        + rows("principal_inspection", QUARTER_ENDS_2023)
        + rows("emergency_drill", HALF_YEAR_ENDS_2023)
    )
    assert timeline("special-action-2023-linyin", SHOP_2023) == sorted(
        self_check_duties(D(2023, 7, 31))
        + rows("principal_inspection", QUARTER_ENDS_2023)
        + rows("emergency_drill", YEAR_END_2023)
    )


def test_linyin_street_and_community() -> None:
    street = Org("linyin", "林荫街道", "street", None)
    assert timeline("special-action-2023-linyin", street) == sorted(
        one_off("task_force", D(2023, 5, 25))  # 四(一) 工作专班, in 动员部署
        + one_off("mobilization_meeting", D(2023, 5, 25))
        + one_off("safety_month", D(2023, 6, 30))
        + rows("dispatch_report", DAY_28_2023)
        + one_off("summary_report", D(2024, 1, 2))
    )
    community = Org("c1", "某社区", "community", "linyin")
    assert timeline("special-action-2023-linyin", community) == sorted(
        one_off("community_unit_ledger", D(2023, 7, 31))
        + one_off("community_dragnet", D(2023, 7, 31))
        + one_off("community_safety_month", D(2023, 6, 30))  # 6月份“安全生产月”
        + rows("community_dispatch_report", DAY_28_2023)
    )


# ── special-action-2023-chongming (seed 002, 崇明区) ───────────────────────────────────────


def test_chongming_phases() -> None:
    # 四、阶段安排: 5月中旬前 (the file reads 05-20), 6月底前, 11月底前, 12月
    assert phases("special-action-2023-chongming") == [
        ("mobilize", D(2023, 5, 22)),  # 05-20 Sat → Mon 05-22
        ("self_check", D(2023, 6, 30)),
        ("enforcement", D(2023, 11, 30)),
        ("summary", D(2024, 1, 2)),
    ]


def test_chongming_units() -> None:
    name = "special-action-2023-chongming"
    # 三(一)1: 高危 monthly — 8 inspections May–December
    chem = timeline(name, CHEM_2023)
    assert chem == sorted(
        self_check_duties(D(2023, 6, 30))
        + rows("principal_inspection", MONTH_ENDS_2023)
        + rows("emergency_drill", HALF_YEAR_ENDS_2023)  # 三(一)5: 高危 每半年至少1次
    )
    assert sum(row[0] == "principal_inspection" for row in chem) == 8
    # no crowded-venue drill variant in this plan: one drill in the year
    assert timeline(name, MALL_2023) == sorted(
        self_check_duties(D(2023, 6, 30))
        + rows("principal_inspection", QUARTER_ENDS_2023)
        + rows("emergency_drill", YEAR_END_2023)
    )
    assert timeline(name, SHOP_2023) == timeline(name, MALL_2023)


def test_chongming_district_owned_enterprise_reports() -> None:
    owned = Unit("u-owned", "区属集团", "c1", "other", frozenset({"district_owned"}))
    assert timeline("special-action-2023-chongming", owned) == sorted(
        self_check_duties(D(2023, 6, 30))
        + rows("principal_inspection", QUARTER_ENDS_2023)
        + rows("emergency_drill", YEAR_END_2023)
        + one_off("lead_goose", D(2024, 1, 2))  # 三(一)6, in 总结提高
        + rows("dispatch_report_enterprises", DAY_28_2023)
        + one_off("plan_report_enterprises", D(2023, 5, 31))
        + one_off("progress_report_enterprises", D(2023, 8, 7), D(2023, 12, 20))
    )


def test_chongming_town_and_department() -> None:
    name = "special-action-2023-chongming"
    town = Org("chengqiao", "城桥镇", "town", "chongming")
    # 四: 每月28日前上报调度表 (自5月份开始); 5月31日前 方案; 8月5日前、12月20日前 贯彻落实情况
    assert timeline(name, town) == sorted(
        one_off("mobilization_meeting", D(2023, 5, 22))
        + rows("dispatch_report", DAY_28_2023)
        + one_off("plan_report_towns", D(2023, 5, 31))
        + one_off("safety_month", D(2023, 6, 30))
        + one_off("progress_report_towns", D(2023, 8, 7), D(2023, 12, 20))  # 08-05 Sat
        + one_off("summary_report", D(2024, 1, 2))
    )
    department = Org("yjj", "区应急局", "department", "chongming")
    assert timeline(name, department) == sorted(
        one_off("department_plan", D(2023, 5, 22))
        + one_off("enforcement_training", D(2023, 6, 30))
        + rows("dispatch_report_departments", DAY_28_2023)
        + one_off("plan_report_departments", D(2023, 5, 31))
        + one_off("progress_report_departments", D(2023, 8, 7), D(2023, 12, 20))
    )
    county = Org("chongming", "崇明区", "county", None)
    assert timeline(name, county) == one_off("joint_inspection", D(2023, 11, 30))


# ── three-year-plan-2024-2026 (seed 003, four street templates) ────────────────────────────
# Holidays that move month ends: 2024-03-31 Sun; 06-30 Sun; 08-31 Sat; 11-30 Sat;
# 2025-01-31 in 春节 (01-28..02-04) → 02-05; 05-31 端午 (05-31..06-02) → 06-03; 08-31 Sun;
# 11-30 Sun; 2026-01-31 Sat; 02-28 Sat is a 调休 working day (stays); 05-31 Sun; 10-31 Sat.

MONTH_ENDS_2024_2026 = {
    "2024-01": D(2024, 1, 31), "2024-02": D(2024, 2, 29), "2024-03": D(2024, 4, 1),
    "2024-04": D(2024, 4, 30), "2024-05": D(2024, 5, 31), "2024-06": D(2024, 7, 1),
    "2024-07": D(2024, 7, 31), "2024-08": D(2024, 9, 2), "2024-09": D(2024, 9, 30),
    "2024-10": D(2024, 10, 31), "2024-11": D(2024, 12, 2), "2024-12": D(2024, 12, 31),
    "2025-01": D(2025, 2, 5), "2025-02": D(2025, 2, 28), "2025-03": D(2025, 3, 31),
    "2025-04": D(2025, 4, 30), "2025-05": D(2025, 6, 3), "2025-06": D(2025, 6, 30),
    "2025-07": D(2025, 7, 31), "2025-08": D(2025, 9, 1), "2025-09": D(2025, 9, 30),
    "2025-10": D(2025, 10, 31), "2025-11": D(2025, 12, 1), "2025-12": D(2025, 12, 31),
    "2026-01": D(2026, 2, 2), "2026-02": D(2026, 2, 28), "2026-03": D(2026, 3, 31),
    "2026-04": D(2026, 4, 30), "2026-05": D(2026, 6, 1), "2026-06": D(2026, 6, 30),
    "2026-07": D(2026, 7, 31), "2026-08": D(2026, 8, 31), "2026-09": D(2026, 9, 30),
    "2026-10": D(2026, 11, 2), "2026-11": D(2026, 11, 30), "2026-12": D(2026, 12, 31),
}  # fmt: skip
QUARTER_ENDS_2024_2026 = {
    "2024Q1": D(2024, 4, 1), "2024Q2": D(2024, 7, 1), "2024Q3": D(2024, 9, 30),
    "2024Q4": D(2024, 12, 31), "2025Q1": D(2025, 3, 31), "2025Q2": D(2025, 6, 30),
    "2025Q3": D(2025, 9, 30), "2025Q4": D(2025, 12, 31), "2026Q1": D(2026, 3, 31),
    "2026Q2": D(2026, 6, 30), "2026Q3": D(2026, 9, 30), "2026Q4": D(2026, 12, 31),
}  # fmt: skip
HALF_YEAR_ENDS_2024_2026 = {
    "2024H1": D(2024, 7, 1), "2024H2": D(2024, 12, 31), "2025H1": D(2025, 6, 30),
    "2025H2": D(2025, 12, 31), "2026H1": D(2026, 6, 30), "2026H2": D(2026, 12, 31),
}  # fmt: skip
YEAR_ENDS_2024_2026 = {"2024": D(2024, 12, 31), "2025": D(2025, 12, 31), "2026": D(2026, 12, 31)}
FROM_Q2_2024 = {p: d for p, d in QUARTER_ENDS_2024_2026.items() if p != "2024Q1"}
FROM_APRIL_2024 = {p: d for p, d in MONTH_ENDS_2024_2026.items() if p >= "2024-04"}
END_OF_PLAN = D(2026, 12, 31)  # 巩固提升 ends, Thursday

THREE_YEAR = "three-year-plan-2024-2026"
CHEM_2024 = Unit("u-chem", "化工有限公司", "c1", "hazardous_chemicals",
                 frozenset({"hazchem_producer"}))  # fmt: skip
MALL_2024 = Unit("u-mall", "商业综合体", "c1", "commerce",
                 frozenset({"crowded", "commercial_complex"}))  # fmt: skip
SHOP_2024 = Unit("u-shop", "五金商店", "c1", "other")


def test_three_year_phases() -> None:
    assert phases(THREE_YEAR) == [
        ("mobilize", D(2024, 4, 1)),  # 03-31 Sun
        ("attack", D(2025, 12, 31)),
        ("consolidate", END_OF_PLAN),
    ]


def test_three_year_high_risk_unit() -> None:
    # 篇2 二(五)12: 高危 每月至少带队开展1次自查; 篇1 三(九)1: 演练 高危 每半年至少1次
    got = timeline(THREE_YEAR, CHEM_2024)
    assert got == sorted(
        one_off("principal_training", END_OF_PLAN)
        + one_off("principal_training_2026", END_OF_PLAN)  # 危化品生产企业, third year
        + one_off("whistleblower_high_risk", D(2024, 12, 31))
        + one_off("five_steps_all", END_OF_PLAN)
        + rows("principal_inspection", MONTH_ENDS_2024_2026)
        + rows("evacuation_drill", HALF_YEAR_ENDS_2024_2026)
    )
    assert sum(row[0] == "principal_inspection" for row in got) == 36


def test_three_year_crowded_venue() -> None:
    assert timeline(THREE_YEAR, MALL_2024) == sorted(
        one_off("principal_training", END_OF_PLAN)
        + one_off("principal_training_2024", D(2024, 12, 31))  # 人员密集场所, first year
        + one_off("principal_training_2026", END_OF_PLAN)  # 大型商业综合体, third year
        + one_off("five_steps_all", END_OF_PLAN)
        + rows("principal_inspection", QUARTER_ENDS_2024_2026)
        + rows("evacuation_drill", YEAR_ENDS_2024_2026)  # no crowded variant in these templates
    )


def test_three_year_ordinary_unit() -> None:
    assert timeline(THREE_YEAR, SHOP_2024) == sorted(
        one_off("principal_training", END_OF_PLAN)
        + one_off("five_steps_all", END_OF_PLAN)
        + rows("principal_inspection", QUARTER_ENDS_2024_2026)
        + rows("evacuation_drill", YEAR_ENDS_2024_2026)
    )


def test_three_year_community() -> None:
    community = Org("c1", "某社区", "community", "street")
    assert timeline(THREE_YEAR, community) == sorted(
        one_off("community_plan", D(2024, 4, 1))
        + one_off("community_mobilization", D(2024, 4, 1))
        + one_off("community_battle_map", D(2024, 4, 1))
        + one_off("hazard_standard_study", D(2024, 4, 1))
        + rows("leader_training", YEAR_ENDS_2024_2026)
        + rows("quarterly_study", QUARTER_ENDS_2024_2026)
        # by the end of March: 2024-03-31 Sun → 04-01
        + rows("community_duty_list",
               {"2024": D(2024, 4, 1), "2025": D(2025, 3, 31), "2026": D(2026, 3, 31)})
        + rows("community_progress_hearing", FROM_Q2_2024)
        + rows("community_dispatch", FROM_APRIL_2024)
        # 篇3 四(四): 每年6月10日、12月10日前报送工作总结; 2024-06-10 is 端午 (Mon) → 06-11
        + rows("community_half_year_summary", {
            "2024H1": D(2024, 6, 11), "2024H2": D(2024, 12, 10),
            "2025H1": D(2025, 6, 10), "2025H2": D(2025, 12, 10),
            "2026H1": D(2026, 6, 10), "2026H2": D(2026, 12, 10)})
        # 每年初, by 31 January: 2025-01-31 in 春节 → 02-05; 2026-01-31 Sat → Mon 02-02
        + rows("community_annual_review", {"2025": D(2025, 2, 5), "2026": D(2026, 2, 2)})
    )  # fmt: skip


def test_three_year_street() -> None:
    street = Org("street", "某街道", "street", None)
    assert timeline(THREE_YEAR, street) == sorted(
        one_off("street_mobilization", D(2024, 4, 1))
        + one_off("hazard_standard_study", D(2024, 4, 1))
        + one_off("emergency_station_built", D(2024, 9, 30))
        + one_off("emergency_station_standard", D(2025, 12, 31))
        + one_off("hazard_database_mechanism", D(2024, 12, 31))
        + rows("street_duty_list",
               {"2024": D(2024, 4, 1), "2025": D(2025, 3, 31), "2026": D(2026, 3, 31)})
        + rows("street_supervision", HALF_YEAR_ENDS_2024_2026)
        + rows("three_musts_training", YEAR_ENDS_2024_2026)
        + rows("quarterly_meeting", FROM_Q2_2024)
        + rows("street_half_year_summary", HALF_YEAR_ENDS_2024_2026)
        # 安全生产月 (June): 2024-06-30 Sun → 07-01
        + rows("safety_month",
               {"2024": D(2024, 7, 1), "2025": D(2025, 6, 30), "2026": D(2026, 6, 30)})
        # 消防宣传月 (November): 2024-11-30 Sat → 12-02; 2025-11-30 Sun → 12-01
        + rows("fire_safety_month",
               {"2024": D(2024, 12, 2), "2025": D(2025, 12, 1), "2026": D(2026, 11, 30)})
        + rows("leader_training", YEAR_ENDS_2024_2026)
        + rows("quarterly_study", QUARTER_ENDS_2024_2026)
    )  # fmt: skip


# ── the hand-written calendars above are themselves checked against chinesecalendar ───────

HAND_WRITTEN = [
    *MONTH_ENDS_2023.values(), *QUARTER_ENDS_2023.values(), *DAY_28_2023.values(),
    *MONTH_ENDS_2024_2026.values(), *QUARTER_ENDS_2024_2026.values(),
    *HALF_YEAR_ENDS_2024_2026.values(), D(2023, 5, 22), D(2023, 8, 7), D(2024, 6, 11),
    D(2025, 2, 5), D(2026, 2, 2), D(2024, 12, 2), D(2025, 12, 1),
]  # fmt: skip


@pytest.mark.parametrize("day", HAND_WRITTEN, ids=str)
def test_every_hand_written_deadline_is_a_working_day(day: dt.date) -> None:
    assert chinese_calendar.is_workday(day)
