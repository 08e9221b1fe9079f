"""Case clocks: which timers a transition arms or stops, and what a due timer decides."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from engine.clocks import (
    LATE_AFTER,
    ArmClock,
    ClockEffect,
    ClockUnarmed,
    Notify,
    StopClock,
    Timer,
    TimerDecision,
    arm,
    clock_effects,
    decide,
    following,
    redate,
    schedule,
)
from engine.dates import Deadlines, local_date
from engine.lifecycle import SYSTEM, Actor, Case, Lifecycle, lifecycles
from engine.loader import CampaignLoader
from engine.model import Campaign, CaseType, Check, Clock, Duration
from engine.reminders import check_reminders
from engine.schedules import read_schedule
from engine.workdays import StatutoryCalendar
from paicha.files import campaign_schema, loader_for

# what these tests read is the Chinese a deadline says by default
pytestmark = pytest.mark.usefixtures("chinese")

CAMPAIGNS = Path(__file__).resolve().parents[2] / "campaigns"
NOW = dt.datetime(2023, 6, 1, 2, tzinfo=dt.UTC)  # Thursday 10:00 Asia/Shanghai


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


REGISTRATION: dict[str, Any] = {
    "source": "department_inspection", "grade": "major", "industry": "gas",
    "description": "燃气管道穿越密闭空间", "found_on": "2023-05-31",
}
PLAN: dict[str, Any] = {
    "goals_and_tasks": "改管", "measures": "迁改管道", "funds_and_materials": "企业自筹",
    "responsible": "工程部", "deadline": "2023-07-14", "safety_measures": "加装报警",
}
RECTIFIED: dict[str, Any] = {"rectified_on": "2023-07-10", "rectification_result": "已迁改"}
CHAIN = ("acceptance_team", "locality", "regulator", "government")

SMALL = dedent("""\
    paicha: 1
    id: small-clocks
    title: 小方案
    period: {start: "2023-05-01", end: "2023-12-31"}
    roles:
      community: {name: 社区, scope: org}
      regulator: {name: 行业部门, scope: org}
      government: {name: 人民政府, scope: org}
    cases:
      complaint:
        name: 群众举报
        fields:
          summary: {title: 举报内容, type: string}
        required: [summary]
        initial: handling
        states:
          handling: {name: 办理中}
          escalated: {name: 已督办}
          done: {name: 已办结, final: true}
        transitions:
          - {trigger: escalate, from: handling, to: escalated, who: government}
          - {trigger: finish, from: [handling, escalated], to: done, who: regulator}
        clocks:
          - id: reply
            name: 办理时限
            runs_in: [handling, escalated]
            due: {after: 3wd}
            who: community
            remind: [-1d]
            overdue:
              notify: regulator
              escalate:
                - {after: 2d, notify: government, fire: escalate}
    """)


def person(role: str) -> Actor:
    return Actor(role, frozenset({role}))


PRINCIPAL = person("principal")
REGULATOR = person("regulator")


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    path = CAMPAIGNS / "special-action-2023.yaml"
    return loader_for([path]).load(path.read_text(encoding="utf-8"), str(path)).campaign


@pytest.fixture(scope="module")
def hazard(campaign: Campaign) -> Lifecycle:
    return lifecycles(campaign)["hazard"]


@pytest.fixture(scope="module")
def deadlines(campaign: Campaign) -> Deadlines:
    return Deadlines.for_campaign(campaign)


@pytest.fixture(scope="module")
def hazard_type(campaign: Campaign) -> CaseType:
    return campaign.cases["hazard"]


@pytest.fixture(scope="module")
def rectification(hazard_type: CaseType) -> Clock:
    return next(c for c in hazard_type.clocks if c.id == "rectification")


@pytest.fixture
def reported(hazard: Lifecycle) -> Case:
    return hazard.open("h1", REGISTRATION, PRINCIPAL, NOW).case


def only_arm(effects: tuple[ClockEffect, ...] | list[ClockEffect]) -> ArmClock:
    [armed] = effects
    assert isinstance(armed, ArmClock), effects
    return armed


def timers_by_label(armed: ArmClock) -> dict[str, dt.datetime]:
    return {t.label: t.at for t in armed.timers}


# -- arming --------------------------------------------------------------------------------


def test_planning_arms_reminders_the_overdue_timer_and_escalation(
    hazard: Lifecycle, reported: Case
) -> None:
    outcome = hazard.fire(reported, "plan", PLAN, PRINCIPAL, NOW)
    armed = only_arm(outcome.effects)
    due = dt.date(2023, 7, 14)  # a Friday, a working day
    assert (armed.case_id, armed.clock_id, armed.due_date) == ("h1", "rectification", due)
    assert armed.due_at == utc(2023, 7, 14, 16)  # local midnight after the deadline day
    assert armed.timers == (
        Timer("h1", "rectification", "remind", utc(2023, 7, 7, 1), due, "-7d"),  # 09:00 local
        Timer("h1", "rectification", "remind", utc(2023, 7, 13, 1), due, "-1d"),
        Timer("h1", "rectification", "remind", utc(2023, 7, 14, 1), due, "0d"),
        # declared overdue at 09:00 on the first working day after it: Monday 17 July
        Timer("h1", "rectification", "overdue", utc(2023, 7, 17, 1), due, "due"),
        # 30 days after the deadline is Sunday 13 August: at 09:00 on Monday 14 August
        Timer("h1", "rectification", "escalate", utc(2023, 8, 14, 1), due, "30d", 0),
    )


def test_reminders_already_past_when_the_clock_starts_are_skipped(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    armed = arm(campaign, rectification, "h1", dt.date(2023, 6, 6), NOW, deadlines)
    # -7d would be 30 May, already past at NOW
    assert timers_by_label(armed) == {
        "-1d": utc(2023, 6, 5, 1), "0d": utc(2023, 6, 6, 1),
        "due": utc(2023, 6, 7, 1), "30d": utc(2023, 7, 7, 1),  # 09:00 the day after
    }


def test_each_timer_of_a_schedule_leads_to_the_next_for_any_case(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    # a running clock stores one timer at a time; handling it arms the one `following` gives
    due = dt.date(2023, 7, 14)
    template = schedule(campaign, rectification, "", due, deadlines)
    armed = arm(campaign, rectification, "h1", due, NOW, deadlines).timers
    chain = [armed[0]]
    while (after := following(template, chain[-1])) is not None:
        chain.append(after)
    assert tuple(chain) == armed


def test_a_schedule_has_no_timer_after_its_last_nor_after_a_repeated_overdue_notice(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    due = dt.date(2023, 7, 14)
    timers = schedule(campaign, rectification, "h1", due, deadlines)
    assert following(timers, timers[-1]) is None
    repeat = Timer("h1", "rectification", "overdue_repeat", utc(2023, 7, 17, 1), due, "+1", 1)
    assert following(timers, repeat) is None  # decide arms the next repeat itself


def test_a_reminder_due_exactly_now_is_kept_and_a_second_later_is_not(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    nine = utc(2023, 6, 1, 1)  # 09:00 local on 1 June, the -7d reminder of 8 June
    kept = arm(campaign, rectification, "h1", dt.date(2023, 6, 8), nine, deadlines)
    assert "-7d" in timers_by_label(kept)
    gone = arm(campaign, rectification, "h1", dt.date(2023, 6, 8),
               nine + dt.timedelta(seconds=1), deadlines)
    assert "-7d" not in timers_by_label(gone)


def test_a_deadline_today_after_nine_keeps_only_the_overdue_timers(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    armed = arm(campaign, rectification, "h1", dt.date(2023, 6, 1), NOW, deadlines)
    assert [t.kind for t in armed.timers] == ["overdue", "escalate"]
    assert armed.timers[0].at == utc(2023, 6, 2, 1)  # 09:00 on Friday 2 June


def test_a_reminder_on_a_rest_day_goes_out_the_working_day_before(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    # deadline Monday 5 June: the -1d reminder would fall on Sunday, goes out Friday 2 June
    monday = arm(campaign, rectification, "h1", dt.date(2023, 6, 5), NOW, deadlines)
    assert timers_by_label(monday)["-1d"] == utc(2023, 6, 2, 1)
    # deadline Friday 30 June: -7d is 23 June, inside the 端午 holiday (22–24 June)
    dragon_boat = arm(campaign, rectification, "h1", dt.date(2023, 6, 30), NOW, deadlines)
    assert timers_by_label(dragon_boat)["-7d"] == utc(2023, 6, 21, 1)
    # deadline Monday 26 June: -1d is Sunday 25 June, a 调休 working day: it stays there
    makeup = arm(campaign, rectification, "h1", dt.date(2023, 6, 26), NOW, deadlines)
    assert timers_by_label(makeup)["-1d"] == utc(2023, 6, 25, 1)


def test_two_check_reminders_moved_onto_one_working_day_go_out_once(
    campaign: Campaign, deadlines: Deadlines
) -> None:
    # due Saturday 7 October 2023 (a 调休 working day after 国庆, 29 Sept – 6 Oct): -3d and -1d
    # both fall in the holiday and both move to Thursday 28 September (a clock's reminders:
    # test_a_deadline_in_the_national_day_week)
    check = Check("c", "检查", "principal", "units", remind=(Duration.parse("-3d"),
                                                             Duration.parse("-1d")))
    found = check_reminders(check, dt.date(2023, 10, 7), deadlines, campaign.timezone)
    assert [(r.at, r.label) for r in found] == [(utc(2023, 9, 28, 1), "-3d")]


def test_a_campaign_may_keep_reminders_on_the_rest_day(
    campaign: Campaign, rectification: Clock
) -> None:
    keeping = dataclasses.replace(campaign, reminders_before_rest_days=False)
    deadlines = Deadlines.for_campaign(keeping)
    monday = arm(keeping, rectification, "h1", dt.date(2023, 6, 5), NOW, deadlines)
    assert timers_by_label(monday)["-1d"] == utc(2023, 6, 4, 1)  # Sunday 4 June itself


def test_overdue_is_decided_at_the_campaigns_overdue_at_on_working_days(
    hazard_type: CaseType, rectification: Clock
) -> None:
    # an office whose working day starts at 08:30 says so in its header
    text = ("paicha: 1\nid: early-2023\nextends: special-action-2023\ntitle: 某区方案\n"
            'overdue_at: "08:30"\n')
    parent = CAMPAIGNS / "special-action-2023.yaml"
    early = loader_for([parent]).load(text, "early-2023.yaml").campaign
    assert early.overdue_at == dt.time(8, 30)
    deadlines = Deadlines.for_campaign(early)
    # due Thursday 28 September, the eve of 中秋国庆 (09-29..10-06 off, Saturday 10-07 a
    # make-up workday): declared overdue when the holiday is over, at 08:30 local
    armed = arm(early, rectification, "h1", dt.date(2023, 9, 28), NOW, deadlines)
    first = timer(armed, "due")
    assert first.at == utc(2023, 10, 7, 0, 30)
    decision = decide(early, hazard_type, first, "rectifying", first.at, deadlines)
    assert decision.notifications[0].message == "整改期限：9月28日到期，已逾期9日"
    assert decision.next_timer is not None
    assert decision.next_timer.at == utc(2023, 10, 8, 0, 30)  # Sunday 10-08, a workday


def test_a_deadline_on_a_rest_day_rolls_to_the_next_working_day(
    hazard: Lifecycle, reported: Case
) -> None:
    # Saturday 24 June is in the 端午 holiday; Sunday 25 June is a 调休 working day
    armed = only_arm(hazard.fire(reported, "plan", {**PLAN, "deadline": "2023-06-24"},
                                 PRINCIPAL, NOW).effects)
    assert armed.due_date == dt.date(2023, 6, 25)
    assert armed.due_at == utc(2023, 6, 25, 16)
    # overdue at 09:00 on Monday 26 June, the working day after
    assert {t.kind: t.at for t in armed.timers}["overdue"] == utc(2023, 6, 26, 1)


def test_a_deadline_in_the_national_day_week(hazard: Lifecycle, reported: Case) -> None:
    # 30 Sep is in the 国庆 holiday (29 Sep – 6 Oct); Saturday 7 Oct is a 调休 working day
    armed = only_arm(hazard.fire(reported, "plan", {**PLAN, "deadline": "2023-09-30"},
                                 PRINCIPAL, NOW).effects)
    assert armed.due_date == dt.date(2023, 10, 7)
    at = timers_by_label(armed)
    # -7d (30 Sep) and -1d (6 Oct) both fall in the holiday and move to Thursday 28 Sep: one
    # reminder goes out then, not the same one twice
    assert at["-7d"] == utc(2023, 9, 28, 1) and "-1d" not in at
    assert at["0d"] == utc(2023, 10, 7, 1)
    assert len({t.key for t in armed.timers}) == len(armed.timers)


def test_a_clock_in_the_initial_state_starts_on_open_counting_working_days() -> None:
    small = CampaignLoader(campaign_schema()).load(SMALL, "small.yaml").campaign
    complaint = lifecycles(small)["complaint"]
    opened = complaint.open("c1", {"summary": "占用消防通道"}, person("community"), NOW)
    armed = only_arm(opened.effects)
    # Thursday 1 June + 3 working days: Fri 2, Mon 5, Tue 6
    assert armed.due_date == dt.date(2023, 6, 6)
    assert [t.kind for t in armed.timers] == ["remind", "overdue", "escalate"]
    assert armed.timers[-1].at == utc(2023, 6, 9, 1)  # +2d: Thursday 8 June ends, Friday 09:00


# -- moving, leaving, re-entering --------------------------------------------------------------


def test_moving_between_two_running_states_neither_stops_nor_restarts(
    hazard: Lifecycle, reported: Case
) -> None:
    rectifying = hazard.fire(reported, "plan", PLAN, PRINCIPAL, NOW).case
    supervised = hazard.fire(rectifying, "supervise", {"supervision_document": "督办"},
                             REGULATOR, NOW)
    assert supervised.case.state == "supervised"
    assert supervised.effects == ()
    # the system's overdue escalation does the same move
    assert hazard.fire(rectifying, "supervise", {}, SYSTEM, NOW).effects == ()


@pytest.mark.parametrize("via", ["rectifying", "supervised"])
def test_leaving_the_running_states_stops_the_clock(
    hazard: Lifecycle, reported: Case, via: str
) -> None:
    case = hazard.fire(reported, "plan", PLAN, PRINCIPAL, NOW).case
    if via == "supervised":
        case = hazard.fire(case, "supervise", {"supervision_document": "督办"}, REGULATOR,
                           NOW).case
    submitted = hazard.fire(case, "submit", RECTIFIED, PRINCIPAL, NOW)
    assert submitted.effects == (StopClock("h1", "rectification", "left", via),)


def test_a_rejection_restarts_the_clock_with_the_new_deadline(
    hazard: Lifecycle, reported: Case
) -> None:
    case = hazard.fire(reported, "plan", PLAN, PRINCIPAL, NOW).case
    case = hazard.fire(case, "submit", RECTIFIED, PRINCIPAL, NOW).case
    later = utc(2023, 7, 20, 2)
    rejected = hazard.fire(case, "reject", {"reason": "未验收合格", "deadline": "2023-08-15"},
                           person("regulator"), later)
    armed = only_arm(rejected.effects)
    assert armed.due_date == dt.date(2023, 8, 15)
    assert timers_by_label(armed) == {
        "-7d": utc(2023, 8, 8, 1), "-1d": utc(2023, 8, 14, 1), "0d": utc(2023, 8, 15, 1),
        "due": utc(2023, 8, 16, 1), "30d": utc(2023, 9, 15, 1),
    }


def test_changing_the_deadline_while_running_restarts_the_clock(
    hazard: Lifecycle, reported: Case
) -> None:
    rectifying = hazard.fire(reported, "plan", PLAN, PRINCIPAL, NOW).case
    # 挂牌督办 with a new 整改期限 set by the supervising department
    moved = hazard.fire(rectifying, "supervise",
                        {"supervision_document": "督办", "deadline": "2023-07-31"}, REGULATOR,
                        NOW)
    stop, armed = moved.effects
    assert stop == StopClock("h1", "rectification", "moved")
    assert isinstance(armed, ArmClock) and armed.due_date == dt.date(2023, 7, 31)

    # an internal transition (a new plan under supervision) that changes the deadline
    replanned = hazard.fire(moved.case, "plan", {**PLAN, "deadline": "2023-08-31"}, PRINCIPAL,
                            NOW)
    stop, armed = replanned.effects
    assert stop == StopClock("h1", "rectification", "moved")
    assert isinstance(armed, ArmClock) and armed.due_date == dt.date(2023, 8, 31)


def test_an_internal_transition_that_leaves_the_deadline_alone_touches_no_clock(
    hazard: Lifecycle, reported: Case
) -> None:
    supervised = hazard.fire(reported, "supervise",
                             {"supervision_document": "督办", "deadline": "2023-07-14"},
                             REGULATOR, NOW).case
    plan = {k: v for k, v in PLAN.items() if k != "deadline"}
    assert hazard.fire(supervised, "plan", plan, PRINCIPAL, NOW).effects == ()


def test_a_clock_whose_date_field_is_empty_is_reported_unarmed(
    hazard: Lifecycle, reported: Case
) -> None:
    supervised = hazard.fire(reported, "supervise", {"supervision_document": "督办"}, REGULATOR,
                             NOW)
    assert supervised.effects == (
        ClockUnarmed("h1", "rectification", "deadline"),)
    planned = hazard.fire(supervised.case, "plan", PLAN, PRINCIPAL, NOW)
    assert only_arm(planned.effects[1:]).due_date == dt.date(2023, 7, 14)


# -- clocks bound to events: 销号后3日内报安委办 ---------------------------------------------------


def _closed(hazard: Lifecycle, reported: Case) -> tuple[Case, tuple[ClockEffect, ...]]:
    case = hazard.fire(reported, "plan", PLAN, PRINCIPAL, NOW).case
    case = hazard.fire(case, "submit", RECTIFIED, PRINCIPAL, NOW).case
    for role in CHAIN[:-1]:
        signed = hazard.fire(case, "accept", {}, person(role), NOW)
        assert signed.effects == ()  # a pending signature starts nothing
        case = signed.case
    outcome = hazard.fire(case, "accept", {}, person(CHAIN[-1]), NOW)
    return outcome.case, outcome.effects


def test_closure_starts_the_report_clock_three_days_on_rolled_past_the_weekend(
    hazard: Lifecycle, reported: Case
) -> None:
    _, effects = _closed(hazard, reported)
    armed = only_arm(effects)
    # closed on Thursday 1 June; +3d is Sunday 4 June, rolled to Monday 5 June
    assert (armed.clock_id, armed.due_date) == ("closure_report", dt.date(2023, 6, 5))
    assert armed.timers == (
        Timer("h1", "closure_report", "remind", utc(2023, 6, 5, 1), dt.date(2023, 6, 5), "0d"),
        Timer("h1", "closure_report", "overdue", utc(2023, 6, 6, 1), dt.date(2023, 6, 5),
              "due"),
    )


def test_reporting_the_closure_stops_the_report_clock(hazard: Lifecycle, reported: Case) -> None:
    closed, _ = _closed(hazard, reported)
    outcome = hazard.fire(closed, "report_closure", {"closure_reported_on": "2023-06-02"},
                          person("locality"), NOW)
    [stop] = outcome.effects
    assert isinstance(stop, StopClock)
    assert (stop.case_id, stop.clock_id) == ("h1", "closure_report")


def test_a_clock_stopped_by_a_trigger_gives_the_trigger_as_its_reason(
    hazard: Lifecycle, reported: Case
) -> None:
    """The case stays closed when the closure is reported: the audit must not say it left."""
    closed, _ = _closed(hazard, reported)
    outcome = hazard.fire(closed, "report_closure", {"closure_reported_on": "2023-06-02"},
                          person("locality"), NOW)
    assert outcome.effects == (StopClock("h1", "closure_report", "event", "report_closure"),)


def test_clock_effects_with_no_change_of_state_or_deadline_are_empty(
    campaign: Campaign, hazard_type: CaseType, deadlines: Deadlines
) -> None:
    facts = {**REGISTRATION, **PLAN}
    assert clock_effects(campaign, hazard_type, "h1", "rectifying", "rectifying", "noop", facts,
                         {}, NOW, deadlines) == []
    assert clock_effects(campaign, hazard_type, "h1", None, "reported", "open", facts, facts,
                         NOW, deadlines) == []


# -- deciding a due timer --------------------------------------------------------------------


@pytest.fixture
def armed(campaign: Campaign, rectification: Clock, deadlines: Deadlines) -> ArmClock:
    return arm(campaign, rectification, "h1", dt.date(2023, 7, 14), NOW, deadlines)


def timer(armed: ArmClock, label: str) -> Timer:
    return next(t for t in armed.timers if t.label == label)


def test_a_reminder_notifies_the_clocks_who(
    campaign: Campaign, hazard_type: CaseType, deadlines: Deadlines, armed: ArmClock
) -> None:
    remind = timer(armed, "-7d")
    decision = decide(campaign, hazard_type, remind, "rectifying", remind.at, deadlines)
    assert decision == TimerDecision((Notify(
        "h1", "rectification", "remind", ("principal",), "整改期限：7月14日到期，还有7日",
        dt.date(2023, 7, 14), remind.key),))

    today = timer(armed, "0d")
    decision = decide(campaign, hazard_type, today, "supervised", today.at, deadlines)
    assert decision.notifications[0].message == "整改期限：今日（7月14日）到期"
    assert (decision.fire, decision.next_timer, decision.stale) == (None, None, False)


def test_a_moved_reminder_counts_the_days_from_when_it_goes_out(
    campaign: Campaign, rectification: Clock, hazard_type: CaseType, deadlines: Deadlines
) -> None:
    armed = arm(campaign, rectification, "h1", dt.date(2023, 6, 30), NOW, deadlines)
    remind = timer(armed, "-7d")  # moved to Wednesday 21 June by the 端午 holiday
    decision = decide(campaign, hazard_type, remind, "rectifying", remind.at, deadlines)
    # it says the real date: the deadline is 30 June, nine days from Wednesday 21 June
    assert decision.notifications[0].message == "整改期限：6月30日到期，还有9日"


def test_the_overdue_timer_notifies_fires_and_schedules_the_repeat(
    campaign: Campaign, hazard_type: CaseType, deadlines: Deadlines, armed: ArmClock
) -> None:
    overdue = timer(armed, "due")
    decision = decide(campaign, hazard_type, overdue, "rectifying", overdue.at, deadlines)
    [notice] = decision.notifications
    assert notice.roles == ("principal", "safety_office", "regulator")
    assert (notice.kind, notice.key, notice.late) == ("overdue", overdue.key, False)
    # declared on Monday 17 July (the deadline, Friday 14 July, ended before the weekend)
    assert notice.message == "整改期限：7月14日到期，已逾期3日"
    assert decision.fire == "supervise"
    # remind_every 1d: the next day, Tuesday 18 July, at 09:00
    assert decision.next_timer == Timer("h1", "rectification", "overdue_repeat",
                                        utc(2023, 7, 18, 1), dt.date(2023, 7, 14), "+1", 1)


def test_overdue_repeats_chain_on_working_days_and_fire_nothing(
    campaign: Campaign, rectification: Clock, hazard_type: CaseType, deadlines: Deadlines
) -> None:
    armed = arm(campaign, rectification, "h1", dt.date(2023, 7, 11), NOW, deadlines)  # Tuesday
    first = timer(armed, "due")
    current = decide(campaign, hazard_type, first, "supervised", first.at, deadlines).next_timer
    seen: list[Timer] = []
    # the overdue notice at 09:00 is Wednesday 12's (已逾期1日); then 09:00 local on Thu 13,
    # Fri 14, Mon 17 (the weekend skipped) and Tue 18 July: no day is told twice
    for step, day in enumerate((13, 14, 17, 18), start=1):
        assert current is not None
        assert (current.kind, current.step, current.label) == ("overdue_repeat", step, f"+{step}")
        assert (current.at, current.due_date) == (utc(2023, 7, day, 1), dt.date(2023, 7, 11))
        decision = decide(campaign, hazard_type, current, "supervised", current.at, deadlines)
        assert decision.fire is None
        assert decision.notifications[0].roles == ("principal", "safety_office", "regulator")
        assert decision.notifications[0].message == f"整改期限：7月11日到期，已逾期{day - 11}日"
        seen.append(current)
        current = decision.next_timer
    assert len({t.key for t in seen}) == 4


def test_an_escalation_step_notifies_its_roles(
    campaign: Campaign, hazard_type: CaseType, deadlines: Deadlines, armed: ArmClock
) -> None:
    step = timer(armed, "30d")
    decision = decide(campaign, hazard_type, step, "supervised", step.at, deadlines)
    assert decision.notifications == (Notify(
        "h1", "rectification", "escalate", ("government",),
        "整改期限：7月14日到期，已逾期31日，升级督办", dt.date(2023, 7, 14), step.key),)
    assert (decision.fire, decision.next_timer, decision.stale) == (None, None, False)


def test_an_escalation_step_fires_its_trigger() -> None:
    small = CampaignLoader(campaign_schema()).load(SMALL, "small.yaml").campaign
    complaint_type = small.cases["complaint"]
    deadlines = Deadlines.for_campaign(small)
    armed = only_arm(lifecycles(small)["complaint"].open(
        "c1", {"summary": "x"}, person("community"), NOW).effects)
    step = next(t for t in armed.timers if t.kind == "escalate")
    decision = decide(small, complaint_type, step, "handling", step.at, deadlines)
    assert decision.fire == "escalate"
    assert decision.notifications[0].roles == ("government",)
    overdue = next(t for t in armed.timers if t.kind == "overdue")
    decision = decide(small, complaint_type, overdue, "handling", overdue.at, deadlines)
    assert decision.notifications[0].roles == ("community", "regulator")
    assert (decision.fire, decision.next_timer) == (None, None)  # no remind_every, no fire


def test_the_second_escalation_step_of_the_three_year_plan() -> None:
    path = CAMPAIGNS / "three-year-plan-2024-2026.yaml"
    plan = loader_for([path]).load(path.read_text(encoding="utf-8"), str(path)).campaign
    hazard_type = plan.cases["hazard"]
    deadlines = Deadlines.for_campaign(plan)
    clock = next(c for c in hazard_type.clocks if c.id == "rectification")
    now = utc(2024, 6, 3, 2)
    armed = arm(plan, clock, "t1", dt.date(2024, 7, 12), now, deadlines)
    steps = [t for t in armed.timers if t.kind == "escalate"]
    assert [(t.step, t.label, t.at) for t in steps] == [
        # +7d is Friday 19 July: Monday 22 July 09:00; +30d is Sunday 11 August: Monday 12th
        (0, "7d", utc(2024, 7, 22, 1)), (1, "30d", utc(2024, 8, 12, 1))]
    decision = decide(plan, hazard_type, steps[1], "rectifying", steps[1].at, deadlines)
    assert decision.notifications[0].roles == ("government", "enforcement")


def test_an_overdue_event_bound_clock_without_overdue_rules_notifies_its_who(
    hazard: Lifecycle, reported: Case, campaign: Campaign, hazard_type: CaseType,
    deadlines: Deadlines,
) -> None:
    _, effects = _closed(hazard, reported)
    overdue = next(t for t in only_arm(effects).timers if t.kind == "overdue")
    decision = decide(campaign, hazard_type, overdue, "closed", overdue.at, deadlines)
    assert decision.notifications[0].roles == ("locality",)
    assert (decision.fire, decision.next_timer, decision.stale) == (None, None, False)


@pytest.mark.parametrize("state", ["reported", "awaiting_acceptance", "closed"])
@pytest.mark.parametrize("label", ["-7d", "0d", "due", "30d"])
def test_a_timer_whose_clock_no_longer_runs_is_stale(
    campaign: Campaign, hazard_type: CaseType, deadlines: Deadlines, armed: ArmClock,
    state: str, label: str,
) -> None:
    due = timer(armed, label)
    assert decide(campaign, hazard_type, due, state, due.at, deadlines) == TimerDecision(
        stale=True)


def test_timers_of_unknown_clocks_or_steps_are_stale(
    campaign: Campaign, hazard_type: CaseType, deadlines: Deadlines, armed: ArmClock
) -> None:
    step = timer(armed, "30d")
    beyond = Timer(step.case_id, step.clock_id, "escalate", step.at, step.due_date, "60d", 1)
    assert decide(campaign, hazard_type, beyond, "rectifying", step.at, deadlines).stale
    gone = Timer("h1", "removed_clock", "remind", step.at, step.due_date, "0d")
    assert decide(campaign, hazard_type, gone, "rectifying", step.at, deadlines).stale


def test_a_timer_handled_long_after_its_time_is_marked_late(
    campaign: Campaign, hazard_type: CaseType, deadlines: Deadlines, armed: ArmClock
) -> None:
    remind = timer(armed, "-1d")

    def late(after: dt.timedelta) -> bool:
        decision = decide(campaign, hazard_type, remind, "rectifying", remind.at + after,
                          deadlines)
        return decision.notifications[0].late

    assert not late(dt.timedelta(0))
    assert not late(LATE_AFTER)
    assert late(LATE_AFTER + dt.timedelta(seconds=1))
    assert late(dt.timedelta(days=2))


def test_timer_keys_are_stable_and_distinct(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines, armed: ArmClock
) -> None:
    assert timer(armed, "-7d").key == "h1/rectification/2023-07-14/remind/-7d"
    assert len({t.key for t in armed.timers}) == len(armed.timers) == 5
    later = NOW + dt.timedelta(days=3)
    again = arm(campaign, rectification, "h1", dt.date(2023, 7, 14), later, deadlines)
    assert [t.key for t in again.timers] == [t.key for t in armed.timers]
    moved = arm(campaign, rectification, "h1", dt.date(2023, 7, 31), NOW, deadlines)
    assert not {t.key for t in moved.timers} & {t.key for t in armed.timers}
    other = arm(campaign, rectification, "h2", dt.date(2023, 7, 14), NOW, deadlines)
    assert not {t.key for t in other.timers} & {t.key for t in armed.timers}


def test_an_overdue_notice_handled_days_late_schedules_one_repeat_after_today(
    campaign: Campaign, rectification: Clock, hazard_type: CaseType, deadlines: Deadlines
) -> None:
    armed = arm(campaign, rectification, "h1", dt.date(2023, 7, 11), NOW, deadlines)  # Tuesday
    overdue = timer(armed, "due")
    # nothing ran from Wednesday 12 July until Thursday 13 July 10:00 local
    decision = decide(campaign, hazard_type, overdue, "supervised", utc(2023, 7, 13, 2),
                      deadlines)
    assert decision.notifications[0].late
    assert decision.notifications[0].message == "整改期限：7月11日到期，已逾期2日"
    # the late notice stands for the missed days: the next repeat is Friday, not Wednesday
    assert decision.next_timer is not None
    assert decision.next_timer.at == utc(2023, 7, 14, 1)


# ── years nobody covers: provisional clocks and their recomputation ─────────────────────────

YEAR_2027 = read_schedule((Path(__file__).resolve().parents[1] / "data/calendars/2027-test.yaml"
                           ).read_text(encoding="utf-8"), "2027-test.yaml")
DEC_2026 = dt.datetime(2026, 12, 7, 2, tzinfo=dt.UTC)


def test_a_clock_over_an_uncovered_year_is_armed_provisionally(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    armed = arm(campaign, rectification, "h1", dt.date(2027, 2, 8), DEC_2026, deadlines,
                base=dt.date(2027, 2, 8))
    assert armed.due_date == dt.date(2027, 2, 8)
    assert armed.provisional is not None and armed.provisional.year == 2027
    exact = Deadlines.for_campaign(campaign, StatutoryCalendar([YEAR_2027]))
    assert arm(campaign, rectification, "h1", dt.date(2027, 2, 14), DEC_2026, exact,
               base=dt.date(2027, 2, 8)).provisional is None
    # a clock well inside the known years never looks further
    assert arm(campaign, rectification, "h1", dt.date(2026, 6, 30), DEC_2026,
               deadlines).provisional is None


def test_redate_moves_a_provisional_deadline_onto_the_added_year(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    guessed = arm(campaign, rectification, "h1", dt.date(2027, 2, 8), DEC_2026, deadlines,
                  base=dt.date(2027, 2, 8))
    exact = Deadlines.for_campaign(campaign, StatutoryCalendar([YEAR_2027]))
    redated = redate(campaign, rectification, "h1", base=dt.date(2027, 2, 8),
                     due=dt.date(2027, 2, 8), pending=guessed.timers[0], now=DEC_2026,
                     deadlines=exact)
    assert (redated.clock.due_date, redated.moved, redated.kept) == (
        dt.date(2027, 2, 14), True, False)
    assert redated.clock.provisional is None


def test_redate_of_an_unmoved_deadline_keeps_its_timers(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    guessed = arm(campaign, rectification, "h1", dt.date(2027, 3, 15), DEC_2026, deadlines,
                  base=dt.date(2027, 3, 15))
    exact = Deadlines.for_campaign(campaign, StatutoryCalendar([YEAR_2027]))
    redated = redate(campaign, rectification, "h1", base=dt.date(2027, 3, 15),
                     due=dt.date(2027, 3, 15), pending=guessed.timers[0], now=DEC_2026,
                     deadlines=exact)
    assert (redated.moved, redated.kept, redated.clock.provisional) == (False, False, None)


def test_redate_after_the_guessed_deadline_passed_keeps_the_overdue_path(
    campaign: Campaign, rectification: Clock, deadlines: Deadlines
) -> None:
    exact = Deadlines.for_campaign(campaign, StatutoryCalendar([YEAR_2027]))
    late = dt.datetime(2027, 2, 10, 2, tzinfo=dt.UTC)
    redated = redate(campaign, rectification, "h1", base=dt.date(2027, 2, 8),
                     due=dt.date(2027, 2, 8), pending=None, now=late, deadlines=exact)
    # the case was declared overdue on 02-08; the exact deadline is told, not re-sent
    assert (redated.clock.due_date, redated.moved, redated.kept) == (
        dt.date(2027, 2, 14), True, True)


def test_messages_of_a_provisional_clock_say_so(
    campaign: Campaign, rectification: Clock, hazard_type: CaseType, deadlines: Deadlines
) -> None:
    armed = arm(campaign, rectification, "h1", dt.date(2027, 2, 8), DEC_2026, deadlines)
    timer = armed.timers[0]
    decision = decide(campaign, hazard_type, timer, "rectifying", timer.at, deadlines,
                      provisional=True)
    assert decision.notifications[0].provisional
    assert "整改期限：2月8日（暂定）到期" in decision.notifications[0].message


@pytest.mark.parametrize("offsets", [("-7d", "-1d", "0d"), ("-3d", "-2d", "-1d", "0d"),
                                     ("-3wd", "-1wd", "0d"), ("-10d", "-7d", "-3wd", "-1d")])
def test_no_deadline_of_2023_tells_one_thing_twice_a_day(
    campaign: Campaign, rectification: Clock, hazard_type: CaseType, deadlines: Deadlines,
    offsets: tuple[str, ...],
) -> None:
    """Every deadline of 2023, whatever the offsets and the rolls over 端午 and 国庆: a clock's
    timers and a check's reminders give one notice per (kind, day) at most."""
    clock = dataclasses.replace(rectification,
                                remind=tuple(Duration.parse(o) for o in offsets))
    check = Check("c", "检查", "principal", "units",
                  remind=tuple(Duration.parse(o) for o in offsets))
    day = dt.date(2023, 1, 15)
    while day <= dt.date(2023, 12, 20):
        timers = schedule(campaign, clock, "h1", day, deadlines)
        seen = [(t.kind, local_date(t.at, campaign.timezone)) for t in timers]
        assert len(seen) == len(set(seen)), (day, seen)
        # the overdue notice and its first repeat are on two different working days
        overdue = next(t for t in timers if t.kind == "overdue")
        repeat = decide(campaign, hazard_type, overdue, "rectifying", overdue.at,
                        deadlines).next_timer
        assert repeat is not None
        assert local_date(repeat.at, campaign.timezone) > local_date(overdue.at,
                                                                     campaign.timezone)
        assert deadlines.is_working_day(local_date(overdue.at, campaign.timezone))
        reminders = [local_date(r.at, campaign.timezone)
                     for r in check_reminders(check, day, deadlines, campaign.timezone)]
        assert len(reminders) == len(set(reminders)), (day, reminders)
        day += dt.timedelta(days=1)
