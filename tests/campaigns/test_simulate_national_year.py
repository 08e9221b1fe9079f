"""A whole year of the national 2023 campaign, simulated: exactly one notice per moment the
plan's text and the 2023 working-day calendar give — counted by hand below, not by the engine.

The 2023 calendar (国务院办公厅 2022年12月8日 通知): 劳动节 04-29..05-03 (05-06 Saturday a
make-up workday); 端午 06-22..06-24 (06-25 Sunday a make-up workday); 中秋国庆 09-29..10-06 (10-07
Saturday and 10-08 Sunday make-up workdays); 元旦 2024 12-30..2024-01-01. The campaign rolls a
deadline on a rest day to the next working day (`roll_to_working_day: true`), moves a reminder
on a rest day to the working day before, reminds at 09:00 and decides overdue at 09:00
(`overdue_at` default) on working days.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine import texts
from engine.orgs import Org, Unit
from engine.simulation import Happening, ScriptedEvent, Simulation
from paicha.files import loader_for

# what these tests read is the Chinese a deadline says by default
pytestmark = pytest.mark.usefixtures("chinese")

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")

STREET = Org("street-1", "某街道", "street")
PLANT = Unit("u-chem", "某化工厂", "street-1", "hazardous_chemicals")  # 高危: high_risk

HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "found_on": "2023-06-01", "description": "储罐区可燃气体报警失效"}
# 整改期限 30 September: in the 国庆 holiday, so it rolls to Saturday 7 October (a workday)
PLAN = {"goals_and_tasks": "修复报警", "measures": "更换探头", "funds_and_materials": "2万元",
        "responsible": "设备部", "deadline": "2023-09-30", "safety_measures": "加强巡检"}


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(f"2023-{text}")


# ── the hand-worked list: (kind, subject, local day) → how many notices ──────────────────────
# phases (campaign text `phases:`): 09:00 on the (rolled) due day
PHASES = [
    ("phase_due", "mobilize", d("05-15")),     # 2023-05-15, a Monday
    ("phase_due", "self_check", d("06-30")),   # a Friday
    ("phase_due", "enforcement", d("11-30")),  # a Thursday
    # summary 12-31 is a Sunday, 2024-01-01 元旦: rolled to 2024-01-02, after the window
]

# 报送调度表 (dispatch_report): the street, monthly, `due: {day: 28}`, `remind: [-3d, 0d]`.
# The 28th rolled to a working day; -3d counted from that, moved back off a rest day.
DISPATCH_DUE = {
    "05": "05-29",  # 05-28 is a Sunday → Monday 05-29
    "06": "06-28",  # Wednesday
    "07": "07-28",  # Friday
    "08": "08-28",  # Monday
    "09": "09-28",  # Thursday (the holiday starts 09-29)
    "10": "10-30",  # 10-28 is a Saturday → Monday 10-30
    "11": "11-28",  # Tuesday
    "12": "12-28",  # Thursday
}
DISPATCH_EARLY = {
    "05": "05-26",  # 05-29 - 3 = Friday 05-26
    "06": "06-25",  # 06-28 - 3 = Sunday 06-25, a make-up workday: stays
    "07": "07-25",  # Tuesday
    "08": "08-25",  # Friday
    "09": "09-25",  # Monday
    "10": "10-27",  # 10-30 - 3 = Friday 10-27
    "11": "11-24",  # 11-28 - 3 = Saturday 11-25 → the working day before, Friday 11-24
    "12": "12-25",  # Monday
}
STREET_CHECKS = [
    ("check_due", "street-1", d("05-15")),  # mobilization_meeting, due the mobilize phase
    ("check_due", "street-1", d("06-30")),  # safety_month, due "2023-06-30"
    *[("check_due", "street-1", d(day)) for day in DISPATCH_DUE.values()],
    *[("check_reminder", "street-1", d(day)) for day in DISPATCH_EARLY.values()],
    # summary_report is due with the summary phase: 2024-01-02, after the window
]
# the 调度表 itself, as it stands when each dispatch due day ends
REPORTS = [("report_due", "dispatch", d(day)) for day in DISPATCH_DUE.values()]

# The plant's principal (二(一)1–5). Checks without `remind:` are announced on their due day.
SELF_CHECK_DUTIES = ["study_and_deploy", "hazard_ledger", "responsibility_system", "duty_lists",
                     "safety_staffing", "warning_education", "welding_equipment_check",
                     "hazardous_work_personnel_review", "outsourcing_review"]
# principal_inspection: quarterly, monthly for high_risk — due at each month's end, rolled
INSPECTION_DUE = ["05-31", "06-30", "07-31", "08-31",
                  "10-07",  # 09-30 is in the 国庆 holiday → Saturday 10-07, a make-up workday
                  "10-31", "11-30"]  # 12-31 → 2024-01-02, after the window
PLANT_CHECKS = [
    *[("check_due", "u-chem", d("06-30")) for _ in SELF_CHECK_DUTIES],  # 9 one-off duties
    *[("check_due", "u-chem", d(day)) for day in INSPECTION_DUE],
    # emergency_drill: yearly, half-yearly for high_risk: the first half-year ends Friday
    # 06-30; the second's 12-31 rolls to 2024-01-02, after the window
    ("check_due", "u-chem", d("06-30")),
]

# The hazard h1, planned on 06-02 with 整改期限 09-30 (→ 10-07) and never rectified;
# clock `rectification`: remind [-7d, -1d, 0d], overdue remind_every 1d, fire supervise,
# escalate after 30d to the government.
HAZARD_CASE = [
    ("opened", "h1", d("06-01")),
    ("fired", "h1", d("06-02")),
    ("clock_started", "h1", d("06-02")),
    # -7d = 09-30 and -1d = 10-06 are both in the holiday: both move to Thursday 09-28, and one
    # reminder goes out then
    ("remind", "h1", d("09-28")),
    ("remind", "h1", d("10-07")),  # 0d, on the (rolled) deadline day
    # overdue at 09:00 on the first working day after 10-07: Sunday 10-08 (a make-up workday),
    # and it fires 挂牌督办
    ("overdue", "h1", d("10-08")),
    ("auto_fired", "h1", d("10-08")),
    # 10-07 + 30 days = Monday 11-06 ends: escalated at 09:00 on Tuesday 11-07
    ("escalate", "h1", d("11-07")),
]


def _working_days(first: str, last: str) -> list[dt.date]:
    """Monday to Friday from `first` to `last`: right for October 9 to December 31, 2023, a
    stretch with no holiday and no make-up workday."""
    day, found = d(first), []
    while day <= d(last):
        if day.weekday() < 5:
            found.append(day)
        day += dt.timedelta(days=1)
    return found


# repeats: each working day after the overdue day, 10-09 .. 12-29 (12-30/31 a weekend): 17 in
# October, 22 in November, 21 in December
REPEATS = [("overdue_repeat", "h1", day) for day in _working_days("10-09", "12-31")]

EXPECTED = Counter([*PHASES, *STREET_CHECKS, *REPORTS, *PLANT_CHECKS, *HAZARD_CASE, *REPEATS])


@pytest.fixture(scope="module")
def happenings() -> list[Happening]:
    path = ROOT / "campaigns/special-action-2023.yaml"
    campaign = loader_for([path]).load(path.read_text(encoding="utf-8"), path.name).campaign
    events = [
        ScriptedEvent(_at("06-01 10:00"), "h1", "open", frozenset({"principal"}),
                      case_type="hazard", data=HAZARD, unit="u-chem"),
        ScriptedEvent(_at("06-02 10:00"), "h1", "fire", frozenset({"principal"}),
                      trigger="plan", data=PLAN),
    ]
    simulation = Simulation(campaign, campaign.period_start, campaign.period_end)
    with texts.use("zh"):  # before the function-scoped `chinese` of the tests: said here
        found = list(simulation.run([STREET, PLANT], events))
    assert simulation.unit_of("h1") == PLANT  # the case's unit, with its industry
    return found


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2023-{text}").replace(tzinfo=TZ).astimezone(dt.UTC)


def _key(h: Happening) -> tuple[str, str, dt.date]:
    return h.kind, h.subject, h.at.astimezone(TZ).date()


def test_the_hand_count_of_the_year_holds_to_the_last_notice(
    happenings: list[Happening],
) -> None:
    assert len(REPEATS) == 17 + 22 + 21
    found = Counter(_key(h) for h in happenings)
    assert found == EXPECTED, (found - EXPECTED, EXPECTED - found)
    by_kind = Counter(kind for kind, _, _ in found.elements())
    assert by_kind == {"phase_due": 3, "check_due": 27, "check_reminder": 8, "report_due": 8,
                       "opened": 1, "fired": 1, "clock_started": 1, "remind": 2, "overdue": 1,
                       "auto_fired": 1, "escalate": 1, "overdue_repeat": 60}


def test_no_notice_is_told_twice(happenings: list[Happening]) -> None:
    """One notice per (subject, deadline, kind, day): the 9 duties due on 06-30 are 9 notices
    with 9 texts, never one text twice."""
    told = Counter((h.kind, h.subject, h.at, h.text) for h in happenings)
    assert [key for key, count in told.items() if count > 1] == []
    clock = [(h.kind, h.at.astimezone(TZ).date()) for h in happenings if h.subject == "h1"]
    assert len(clock) == len(set(clock))


def test_the_messages_say_the_real_date_and_the_days_left(happenings: list[Happening]) -> None:
    texts = {_key(h): h.text for h in happenings}
    # the "1 day before" reminder pulled back across 国庆 says the deadline, not "9日后到期"
    assert texts[("remind", "h1", d("09-28"))] == "整改期限：10月7日到期，还有9日"
    assert texts[("remind", "h1", d("10-07"))] == "整改期限：今日（10月7日）到期"
    assert texts[("overdue", "h1", d("10-08"))] == "整改期限：10月7日到期，已逾期1日"
    assert texts[("overdue_repeat", "h1", d("10-09"))] == "整改期限：10月7日到期，已逾期2日"
    assert texts[("escalate", "h1", d("11-07"))] == "整改期限：10月7日到期，已逾期31日，升级督办"
    assert texts[("check_reminder", "street-1", d("11-24"))].endswith(
        "（2023-11）：11月28日到期，还有4日")
