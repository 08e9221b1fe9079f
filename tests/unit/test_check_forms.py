"""Check forms a town plan needs, loaded from text: several roles (各社区和各有关部门), a
weekly deadline on a chosen weekday (周统计 on Monday), `every: once` (一次 in a window), and
stricter variants of one-off and `once` checks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from textwrap import dedent, indent
from typing import Any

import pytest

from engine.checks import Expander, Obligation
from engine.dates import Deadlines
from engine.errors import CampaignInvalid, Problem
from engine.loader import CampaignLoader
from engine.model import Campaign
from engine.orgs import Org, Unit
from engine.workdays import StatutoryCalendar

D = dt.date
SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "campaigns/schema/campaign.schema.json").read_text()
)
HEAD = dedent("""\
    paicha: 1
    id: street-plan
    title: 某街道安全生产治本攻坚三年行动实施方案
    period: {start: 2024-01-01, end: 2024-12-31}
    roles:
      principal: {name: 生产经营单位主要负责人, scope: unit}
      community: {name: 社区安委会, scope: org}
      regulator: {name: 街道行业领域部门, scope: org}
      safety_office: {name: 街道安委办, scope: org}
    org_levels:
      street: {name: 街道}
      community: {name: 社区}
      department: {name: 街道行业领域部门}
    industries:
      hazardous_chemicals: 危险化学品
      other: 其他
    selectors:
      high_risk: {industry: hazardous_chemicals}
    phases:
      - {id: mobilize, name: 动员部署, due: 2024-03-31}
      - {id: rectify, name: 排查整治, due: 2024-09-30}
      - {id: summary, name: 总结提高, due: 2024-12-31}
    checks:
    """)
CN = Deadlines(StatutoryCalendar())
COMMUNITY = Org("c1", "东社区", "community", "s1")
DEPARTMENT = Org("d1", "街道应急办", "department", "s1")
STREET = Org("s1", "某街道", "street", None)
CHEM = Unit("u-chem", "化工厂", "c1", "hazardous_chemicals")
SHOP = Unit("u-shop", "五金店", "c1", "other")


def problems(checks: str) -> list[Problem]:
    text = HEAD + indent(dedent(checks), "  ")
    return [p for p in CampaignLoader(SCHEMA).check(text, "plan.yaml") if p.severity == "error"]


def load(checks: str) -> Campaign:
    text = HEAD + indent(dedent(checks), "  ")
    try:
        return CampaignLoader(SCHEMA).load(text, "plan.yaml").campaign
    except CampaignInvalid as exc:  # show every problem, not just the first
        raise AssertionError("\n".join(map(str, exc.problems))) from None


def duties(campaign: Campaign, *subjects: Unit | Org) -> list[Obligation]:
    return list(Expander(campaign, CN).for_subjects(subjects))


def refused(checks: str, path: str, message: str, hint: str = "") -> Problem:
    found = problems(checks)
    matching = [p for p in found if p.path == path and message in p.message and hint in p.hint]
    assert matching, "\n".join(map(str, found)) or "no problem reported"
    return matching[0]


# ── who: several roles ──────────────────────────────────────────────────────────────────────

WEEKLY = """\
    - id: weekly_statistics
      name: 报送重大事故隐患排查整治周统计
      who: [community, regulator]
      for: {orgs: {level: [community, department]}}
      every: week
      due: {weekday: monday, week: next}
      start: 2024-05-06
      end: 2024-06-02
    """


def test_several_roles_give_each_subject_one_obligation_any_of_them_fulfils() -> None:
    campaign = load(WEEKLY)
    assert campaign.checks[0].who == "community,regulator"
    found = duties(campaign, COMMUNITY, DEPARTMENT, STREET)
    assert {o.subject for o in found} == {"c1", "d1"}  # the street is not in `for`
    assert len(found) == 2 * 4  # four weeks, one obligation a week for each
    assert {o.roles for o in found} == {("community", "regulator")}


def test_a_single_role_is_unchanged() -> None:
    campaign = load("""\
        - {id: study, name: 学习安全生产重要论述, who: community,
           for: {orgs: {level: community}}, every: quarter}
        """)
    assert [o.roles for o in duties(campaign, COMMUNITY)] == [("community",)] * 4


@pytest.mark.parametrize(("who", "path", "message", "hint"), [
    ("[community, regulatr]", "$.checks[0].who[1]", "unknown role 'regulatr'",
     "did you mean 'regulator'?"),
    ("[community, community]", "$.checks[0].who[1]", "role 'community' is listed twice",
     "list each role once"),
    ("[]", "$.checks[0].who", "must not be empty", ""),
])
def test_a_bad_list_of_roles_is_refused(who: str, path: str, message: str, hint: str) -> None:
    refused(WEEKLY.replace("[community, regulator]", who), path, message, hint)


# ── due: {weekday: …} ───────────────────────────────────────────────────────────────────────

def test_weekly_statistics_are_due_on_the_monday_after_each_week() -> None:
    found = duties(load(WEEKLY), COMMUNITY)
    assert [(o.period, o.due) for o in found] == [
        ("2024-W19", D(2024, 5, 13)), ("2024-W20", D(2024, 5, 20)),
        ("2024-W21", D(2024, 5, 27)), ("2024-W22", D(2024, 6, 3)),
    ]


def test_a_weekday_in_the_same_week_rolls_off_a_holiday() -> None:
    # 2024-06-10 is 端午节 (a Monday): that week's Monday deadline moves to Tuesday
    campaign = load(WEEKLY.replace("due: {weekday: monday, week: next}", "due: {weekday: monday}")
                    .replace("end: 2024-06-02", "end: 2024-06-16"))
    found = duties(campaign, COMMUNITY)
    assert [(o.nominal, o.due) for o in found][-2:] == [
        (D(2024, 6, 3), D(2024, 6, 3)), (D(2024, 6, 10), D(2024, 6, 11))]
    assert all(o.nominal.weekday() == 0 for o in found)


def test_a_week_whose_weekday_falls_before_the_window_is_left_out() -> None:
    # the window starts on a Wednesday: that week's Monday is before it
    campaign = load(WEEKLY.replace("due: {weekday: monday, week: next}", "due: {weekday: monday}")
                    .replace("start: 2024-05-06", "start: 2024-05-08"))
    assert duties(campaign, COMMUNITY)[0].due == D(2024, 5, 13)


def test_without_a_weekday_a_week_is_still_due_on_its_sunday() -> None:
    campaign = load(WEEKLY.replace("      due: {weekday: monday, week: next}\n", ""))
    assert duties(campaign, COMMUNITY)[0].nominal == D(2024, 5, 12)


@pytest.mark.parametrize(("due", "path", "message", "hint"), [
    ("{weekday: mondy}", "$.checks[0].due.weekday", "'mondy' is not allowed here",
     "did you mean 'monday'?"),
    ("{weekday: 周一}", "$.checks[0].due.weekday", "'周一' is not allowed here",
     "write `weekday: monday` (周一)"),
    ("{day: 5}", "$.checks[0].due.day", "a weekly check is due on a day of the week",
     "due: {weekday: monday}"),
])
def test_a_bad_weekday_is_refused(due: str, path: str, message: str, hint: str) -> None:
    refused(WEEKLY.replace("{weekday: monday, week: next}", due), path, message, hint)


def test_a_weekday_on_a_monthly_check_is_refused() -> None:
    refused(WEEKLY.replace("every: week", "every: month"), "$.checks[0].due.weekday",
            "`weekday` applies only to weekly checks", "`every: week`")


# ── every: once, and stricter variants of one-off checks ────────────────────────────────────

DRILL = """\
    - id: evacuation_drill      # 每年至少组织开展1次疏散逃生演练(高危行业领域每半年至少1次)
      name: 组织开展疏散逃生演练
      who: principal
      for: units
      every: once
      stricter: [{for: high_risk, every: half_year}]
    """


def test_once_is_one_obligation_over_the_window_and_a_variant_may_recur() -> None:
    found = duties(load(DRILL), SHOP, CHEM)
    shop = [(o.period, o.first, o.last, o.due) for o in found if o.subject == "u-shop"]
    # 2024-12-31 is a Tuesday, a working day
    assert shop == [("once", D(2024, 1, 1), D(2024, 12, 31), D(2024, 12, 31))]
    chem = [(o.period, o.variant) for o in found if o.subject == "u-chem"]
    assert chem == [("2024H1", "stricter: high_risk"), ("2024H2", "stricter: high_risk")]


def test_once_in_a_phase_is_due_at_the_phase_end() -> None:
    found = duties(load(DRILL.replace("every: once", "every: once\n      phase: rectify")), SHOP)
    # the phase runs from the day after 动员部署 ends; 2024-09-30 is a working day (调休)
    assert [(o.first, o.last, o.due) for o in found] == [
        (D(2024, 4, 1), D(2024, 9, 30), D(2024, 9, 30))]


def test_a_one_off_check_may_have_an_earlier_deadline_and_more_times_for_some() -> None:
    campaign = load("""\
        - id: outsourcing_review
          name: 对外包外租生产经营活动开展1次全面排查
          who: principal
          for: units
          due: 2024-06-28
          stricter: [{for: high_risk, due: 2024-05-31, times: 2}]
        """)
    found = {o.subject: (o.due, o.times, o.variant) for o in duties(campaign, SHOP, CHEM)}
    assert found == {"u-shop": (D(2024, 6, 28), 1, None),
                     "u-chem": (D(2024, 5, 31), 2, "stricter: high_risk")}


@pytest.mark.parametrize(("checks", "path", "message", "hint"), [
    (DRILL.replace("every: once", "every: once\n      due: 2024-06-30"), "$.checks[0].due",
     "is done once (`every: once`)", "`end: 2023-06-30`"),
    (DRILL.replace("every: once", "due: 2024-06-30"), "$.checks[0].stricter[0].every",
     "the check is one-off, so a variant cannot recur", "`every: once`"),
    (DRILL.replace("every: half_year", "every: once"), "$.checks[0].stricter[0].every",
     "a stricter variant cannot be done just once", ""),
    (DRILL.replace("every: half_year", "due: {day: 28}"), "$.checks[0].stricter[0].due",
     "a variant of a `once` check is due on the last day of its window", ""),
    (DRILL.replace("every: once", "due: 2024-06-30").replace("every: half_year",
                                                             "due: {day: 28}"),
     "$.checks[0].stricter[0].due", "a one-off check's variant is due on a date",
     "due: 2023-06-15"),
    (DRILL.replace("every: half_year", "every: yearly"), "$.checks[0].stricter[0].every",
     "'yearly' is not allowed here", ""),
    (DRILL.replace("every: once", "every: onse"), "$.checks[0].every",
     "'onse' is not allowed here", "did you mean 'once'?"),
    (DRILL.replace("every: once", "due: 2024-06-30\n      start: 2024-05-01"),
     "$.checks[0].start", "`start` applies only to recurring checks and `every: once`", ""),
])
def test_once_and_variant_mistakes_are_refused_with_a_hint(
        checks: str, path: str, message: str, hint: str) -> None:
    refused(checks, path, message, hint)


def test_a_list_where_one_value_goes_says_so() -> None:
    refused(DRILL.replace("every: once", "every: once\n      phase: [mobilize, rectify]"),
            "$.checks[0].phase", "expected text, got a list",
            "this takes one value, not a list: write one, without [ ]")
