"""Nobody closes a major hazard alone: the attacks on the record, and the core refusing them.

An event changes only the fields its transition declares (a principal's plan cannot re-grade
the hazard it plans for); each signature of a chain is another person's and keeps what that
person sent; case data has bounds on nesting, text, lists, size and dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from engine.errors import (
    ConditionFailed,
    FieldsNotSettable,
    InvalidData,
    MissingFields,
    RoleNotAllowed,
    SameSigner,
    TransitionNotAllowed,
)
from engine.lifecycle import Actor, Case, Lifecycle, lifecycles
from engine.limits import MAX_DEPTH, MAX_ITEMS, MAX_TEXT, MAX_TOTAL_TEXT
from engine.loader import CampaignLoader
from engine.signoffs import Signature
from paicha.files import campaign_schema, loader_for

CAMPAIGNS = Path(__file__).resolve().parents[2] / "campaigns"
NOW = dt.datetime(2023, 6, 1, 2, tzinfo=dt.UTC)
NOW_2024 = dt.datetime(2024, 6, 3, 2, tzinfo=dt.UTC)

REGISTRATION: dict[str, Any] = {
    "source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
    "description": "储罐区可燃气体报警装置失效", "found_on": "2023-05-30"}
PLAN_2023: dict[str, Any] = {
    "goals_and_tasks": "恢复可燃气体报警功能", "measures": "更换探头并联锁",
    "funds_and_materials": "企业自筹", "responsible": "设备部", "deadline": "2023-06-30",
    "safety_measures": "停用储罐，现场监护"}
RECTIFIED_2023: dict[str, Any] = {"rectified_on": "2023-06-20", "rectification_result": "已更换"}
PLAN_2024: dict[str, Any] = {
    "plan_goal": "更换报警装置", "plan_measures": "停用储罐区，更换并校验", "plan_funds": "12万元",
    "plan_organization": "设备部", "deadline": "2024-07-31", "plan_emergency": "专人巡检"}
RECTIFIED_2024: dict[str, Any] = {"rectified_on": "2024-06-20",
                                  "rectification_report": "已更换并校验"}


def person(name: str, *roles: str) -> Actor:
    """A person with a token: a stable id, a display name, roles."""
    return Actor(f"token:{abs(hash(name)) % 10_000}", frozenset(roles), name=name)


PRINCIPAL = person("化工厂主要负责人", "principal")
REGULATOR = person("区应急管理局", "regulator")
SAFETY_OFFICE = person("街道安委办", "safety_office")


def hazard_of(name: str) -> Lifecycle:
    path = CAMPAIGNS / f"{name}.yaml"
    campaign = loader_for([path]).load(path.read_text(encoding="utf-8"), str(path)).campaign
    return lifecycles(campaign)["hazard"]


@pytest.fixture(scope="module")
def hazard_2023() -> Lifecycle:
    return hazard_of("special-action-2023")


@pytest.fixture(scope="module")
def hazard_2024() -> Lifecycle:
    return hazard_of("three-year-plan-2024-2026")


# -- the downgrade-and-close walk --------------------------------------------------------------


def test_2023_a_principal_cannot_regrade_a_major_hazard_to_close_it_alone(
    hazard_2023: Lifecycle,
) -> None:
    """The attack: `plan` with `grade: general` re-graded the hazard, and one acceptance-team
    `accept` (accept_general) then closed it without the four-signature chain."""
    hazard = hazard_2023
    case = hazard.open("h1", REGISTRATION, PRINCIPAL, NOW).case
    with pytest.raises(FieldsNotSettable) as refused:
        hazard.fire(case, "plan", {**PLAN_2023, "grade": "general"}, PRINCIPAL, NOW)
    assert refused.value.refused == ["grade"]
    assert "grade" not in refused.value.settable
    assert "grade is set by 'regrade'" in str(refused.value)

    planned = hazard.fire(case, "plan", PLAN_2023, PRINCIPAL, NOW).case
    with pytest.raises(FieldsNotSettable):
        hazard.fire(planned, "submit", {**RECTIFIED_2023, "grade": "general"}, PRINCIPAL, NOW)
    waiting = hazard.fire(planned, "submit", RECTIFIED_2023, PRINCIPAL, NOW).case
    assert waiting.data["grade"] == "major"
    signed = hazard.fire(waiting, "accept", {}, person("验收组", "acceptance_team"), NOW)
    assert (signed.transition, signed.completed, signed.case.state) == (
        "accept_major", False, "awaiting_acceptance")


def test_2024_a_principal_cannot_regrade_a_major_hazard_to_close_it_alone(
    hazard_2024: Lifecycle,
) -> None:
    """The attack on the three-year plan: re-graded general by `plan`, closed by one community
    `verify` instead of the chain of four."""
    hazard = hazard_2024
    opened = hazard.open("t1", {**REGISTRATION, "found_on": "2024-05-30"}, PRINCIPAL,
                         NOW_2024).case
    with pytest.raises(FieldsNotSettable) as refused:
        hazard.fire(opened, "plan", {**PLAN_2024, "grade": "general"}, PRINCIPAL, NOW_2024)
    assert refused.value.refused == ["grade"]
    planned = hazard.fire(opened, "plan", PLAN_2024, PRINCIPAL, NOW_2024).case
    with pytest.raises(FieldsNotSettable):
        hazard.fire(planned, "update_progress", {"progress_note": "已停用", "grade": "general"},
                    PRINCIPAL, NOW_2024)
    waiting = hazard.fire(planned, "submit", RECTIFIED_2024, PRINCIPAL, NOW_2024).case
    community = person("第一社区", "community")
    with pytest.raises(ConditionFailed):
        hazard.fire(waiting, "verify", {"acceptance_opinion": "同意"}, community, NOW_2024)
    with pytest.raises(RoleNotAllowed, match="the next sign-off needs acceptance_team"):
        hazard.fire(waiting, "accept", {"acceptance_opinion": "同意"}, community, NOW_2024)


@pytest.mark.parametrize("campaign", ["special-action-2023", "three-year-plan-2024-2026"])
def test_a_regulator_regrades_through_its_own_audited_transition(campaign: str) -> None:
    hazard = hazard_of(campaign)
    now = NOW if campaign.startswith("special") else NOW_2024
    case = hazard.open("h1", {**REGISTRATION, "found_on": f"{now.year}-05-30"}, PRINCIPAL,
                       now).case
    regrade = {"grade": "general", "regrade_reason": "经复核不属于重大事故隐患判定标准情形"}
    with pytest.raises(RoleNotAllowed) as refused:
        hazard.fire(case, "regrade", regrade, PRINCIPAL, now)
    assert refused.value.required == ["regulator", "safety_office"]
    with pytest.raises(MissingFields) as missing:
        hazard.fire(case, "regrade", {"grade": "general"}, REGULATOR, now)
    assert missing.value.fields == ["regrade_reason"]

    outcome = hazard.fire(case, "regrade", regrade, REGULATOR, now)
    # an internal transition: the state stays, the grade changes, and what the audit entry
    # records (the outcome's data) says who changed it to what and why
    assert (outcome.source, outcome.target, outcome.role) == ("reported", "reported",
                                                              "regulator")
    assert dict(outcome.data) == regrade
    assert outcome.case.data["grade"] == "general"
    assert "fix_now" in hazard.allowed_triggers(outcome.case, PRINCIPAL)
    back = hazard.fire(outcome.case, "regrade", {"grade": "major", "regrade_reason": "复查",
                                                 "criterion": "第四条第（一）项"},
                       SAFETY_OFFICE, now)
    assert back.case.data["grade"] == "major" and back.role == "safety_office"


def test_regrading_waits_until_a_pending_chain_is_rejected(hazard_2023: Lifecycle) -> None:
    """No half-signed chain outlives the grade it was signed for."""
    case = Case("h1", "hazard", "awaiting_acceptance", {**REGISTRATION, **PLAN_2023})
    with pytest.raises(TransitionNotAllowed):
        hazard_2023.fire(case, "regrade", {"grade": "general", "regrade_reason": "x"},
                         REGULATOR, NOW)


def test_conditions_judge_the_record_as_stored(hazard_2023: Lifecycle) -> None:
    case = hazard_2023.open("h1", REGISTRATION, PRINCIPAL, NOW).case
    assert hazard_2023.allowed_triggers(case, PRINCIPAL) == ["plan"]
    general = hazard_2023.fire(case, "regrade", {"grade": "general", "regrade_reason": "复核"},
                               REGULATOR, NOW).case
    assert hazard_2023.allowed_triggers(general, PRINCIPAL) == ["fix_now", "plan"]


# -- fields an event may set -------------------------------------------------------------------


def test_an_event_may_set_its_optional_fields_and_nothing_else(hazard_2023: Lifecycle) -> None:
    case = hazard_2023.open("h1", REGISTRATION, PRINCIPAL, NOW).case
    planned = hazard_2023.fire(case, "plan", {**PLAN_2023, "funds_amount": 12.5}, PRINCIPAL,
                               NOW).case
    assert planned.data["funds_amount"] == 12.5
    attempts = [{"description": "已不是隐患"}, {"found_on": "2023-05-01"},
                {"acceptance_opinion": "同意"}, {"bogus": 1}]
    for extra in attempts:
        with pytest.raises(FieldsNotSettable) as refused:
            hazard_2023.fire(planned, "submit", {**RECTIFIED_2023, **extra}, PRINCIPAL, NOW)
        assert refused.value.refused == list(extra)
        assert refused.value.settable == ["funds_amount", "rectification_result",
                                          "rectified_on"]


def test_a_supervising_department_may_set_a_new_deadline(hazard_2023: Lifecycle) -> None:
    case = hazard_2023.open("h1", REGISTRATION, PRINCIPAL, NOW).case
    supervised = hazard_2023.fire(case, "supervise", {
        "supervision_document": "督办〔2023〕1号", "supervised_by": "区应急管理局",
        "deadline": "2023-07-31"}, REGULATOR, NOW)
    assert supervised.case.data["deadline"] == "2023-07-31"


def test_a_refused_key_is_named_short_however_long_it_is(hazard_2023: Lifecycle) -> None:
    case = hazard_2023.open("h1", REGISTRATION, PRINCIPAL, NOW).case
    with pytest.raises(FieldsNotSettable) as refused:
        hazard_2023.fire(case, "plan", {**PLAN_2023, "x" * 100_000: 1}, PRINCIPAL, NOW)
    assert len(str(refused.value)) < 1_000
    assert refused.value.refused == ["x" * 57 + "..."]


# -- distinct signers --------------------------------------------------------------------------


CHAIN_2023 = ("acceptance_team", "locality", "regulator", "government")


def awaiting(hazard: Lifecycle, **data: Any) -> Case:
    return Case("h1", "hazard", "awaiting_acceptance", {**REGISTRATION, **data}, version=4)


def test_one_token_cannot_give_two_signatures_of_a_chain(hazard_2023: Lifecycle) -> None:
    """The attack: a token holding every signing role fired `accept` four times and closed
    the case alone."""
    everyone = person("街道安委办（一人多角色）", *CHAIN_2023)
    case = hazard_2023.fire(awaiting(hazard_2023), "accept", {}, everyone, NOW).case
    assert [s.role for s in case.signatures] == ["acceptance_team"]
    with pytest.raises(SameSigner) as refused:
        hazard_2023.fire(case, "accept", {}, everyone, NOW)
    error = refused.value
    assert (error.role, error.signed_as, error.signer) == (
        "locality", "acceptance_team", "街道安委办（一人多角色）")
    assert "already signed 'accept' as acceptance_team" in str(error)
    assert "accept" not in hazard_2023.allowed_triggers(case, everyone)
    assert "reject" in hazard_2023.allowed_triggers(case, everyone)

    for role in CHAIN_2023[1:]:
        case = hazard_2023.fire(case, "accept", {}, person(f"{role} 签字人", role), NOW).case
    assert case.state == "closed"
    assert len({s.actor for s in case.signatures}) == 4


def test_signers_are_told_apart_by_id_not_by_name(hazard_2023: Lifecycle) -> None:
    twin_a = Actor("token:1", frozenset({"acceptance_team"}), name="张三")
    twin_b = Actor("token:2", frozenset({"locality"}), name="张三")
    case = hazard_2023.fire(awaiting(hazard_2023), "accept", {}, twin_a, NOW).case
    assert hazard_2023.fire(case, "accept", {}, twin_b, NOW).case.signatures[-1].actor == (
        "token:2")


def test_a_signature_stored_by_name_still_counts_for_its_signer(hazard_2023: Lifecycle) -> None:
    """Signatures stored before actors had stable ids name their signer."""
    legacy = Signature("accept_major", "acceptance_team", "demo acceptance_team", NOW)
    case = Case("h1", "hazard", "awaiting_acceptance", REGISTRATION, 5, (legacy,))
    same = Actor("token:7", frozenset({"locality"}), name="demo acceptance_team")
    with pytest.raises(SameSigner):
        hazard_2023.fire(case, "accept", {}, same, NOW)


SIGNED_TWICE = dedent("""\
    paicha: 1
    id: small
    title: 小方案
    period: {start: "2023-05-01", end: "2023-12-31"}
    roles:
      principal: {name: 企业主要负责人, scope: unit}
      office: {name: 安委办, scope: org}
      town: {name: 乡镇, scope: org}
    cases:
      hazard:
        name: 隐患
        fields:
          opinion: {title: 意见, type: string}
        initial: waiting
        states:
          waiting: {name: 待验收}
          closed: {name: 已销号, final: true}
        transitions:
          - {trigger: accept, from: waiting, to: closed, signoffs: [office, town],
             requires: [opinion]SAME}
    """)


def small(same_signer: str | None) -> Lifecycle:
    text = SIGNED_TWICE.replace("SAME", f", same_signer: {same_signer}" if same_signer else "")
    return lifecycles(CampaignLoader(campaign_schema()).load(text, "small.yaml").campaign)[
        "hazard"]


@pytest.mark.parametrize("declared", [None, "refused"])
def test_one_person_signs_for_two_roles_only_where_the_campaign_says_so(
    declared: str | None,
) -> None:
    both = person("镇安委办主任", "office", "town")
    lifecycle = small(declared)
    case = lifecycle.fire(Case("c1", "hazard", "waiting"), "accept", {"opinion": "同意"}, both,
                          NOW).case
    with pytest.raises(SameSigner):
        lifecycle.fire(case, "accept", {"opinion": "同意"}, both, NOW)

    allowed = small("allowed")
    case = allowed.fire(Case("c1", "hazard", "waiting"), "accept", {"opinion": "同意"}, both,
                        NOW).case
    assert allowed.allowed_triggers(case, both) == ["accept"]
    closed = allowed.fire(case, "accept", {"opinion": "同意，镇"}, both, NOW).case
    assert closed.state == "closed"
    assert [(s.role, s.actor) for s in closed.signatures] == [
        ("office", both.id), ("town", both.id)]


# -- each signature keeps its own opinion ------------------------------------------------------


def test_each_signer_keeps_their_own_opinion(hazard_2024: Lifecycle) -> None:
    case = Case("t1", "hazard", "awaiting_acceptance", {**REGISTRATION, **PLAN_2024}, 5)
    roles = ("acceptance_team", "community", "regulator", "government")
    for role in roles:
        case = hazard_2024.fire(case, "accept", {"acceptance_opinion": f"{role}：同意销号"},
                                person(f"{role} 签字人", role), NOW_2024).case
    assert case.state == "closed"
    assert [(s.role, s.name, dict(s.data), s.completed) for s in case.signatures] == [
        (role, f"{role} 签字人", {"acceptance_opinion": f"{role}：同意销号"}, True)
        for role in roles]
    # the case data is the record merged in order: the last opinion on top
    assert case.data["acceptance_opinion"] == "government：同意销号"


def test_a_rejection_voids_a_pending_chain_but_not_a_completed_one(
    hazard_2024: Lifecycle,
) -> None:
    case = Case("t1", "hazard", "awaiting_acceptance", {**REGISTRATION, **PLAN_2024}, 5)
    case = hazard_2024.fire(case, "accept", {"acceptance_opinion": "同意"},
                            person("验收组", "acceptance_team"), NOW_2024).case
    rejected = hazard_2024.fire(case, "reject", {"reject_reason": "探头未联锁",
                                                 "deadline": "2024-08-15"},
                                person("社区", "community"), NOW_2024).case
    assert (rejected.state, rejected.signatures) == ("rectifying", ())
    assert rejected.data["deadline"] == "2024-08-15"


# -- bounds on case data -----------------------------------------------------------------------


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


def test_data_nested_260_levels_is_refused_by_name(hazard_2023: Lifecycle) -> None:
    with pytest.raises(InvalidData) as refused:
        hazard_2023.open("h1", {**REGISTRATION, "description": nested(260)}, PRINCIPAL, NOW)
    assert refused.value.problems == [
        f"description{'.a' * MAX_DEPTH}: nested more than {MAX_DEPTH} levels deep; record "
        "flatter data"]
    case = hazard_2023.open("h1", REGISTRATION, PRINCIPAL, NOW).case
    with pytest.raises(InvalidData, match="nested more than"):
        hazard_2023.fire(case, "plan", {**PLAN_2023, "measures": [nested(5000)]}, PRINCIPAL,
                         NOW)


def test_a_text_value_has_a_maximum_length(hazard_2023: Lifecycle) -> None:
    with pytest.raises(InvalidData) as refused:
        hazard_2023.open("h1", {**REGISTRATION, "description": "隐" * 15_000_000}, PRINCIPAL,
                         NOW)
    assert refused.value.problems == [
        f"description: text of 15,000,000 characters; at most {MAX_TEXT:,} (attach a long "
        "document elsewhere and record its reference)"]
    assert hazard_2023.open("h1", {**REGISTRATION, "description": "隐" * MAX_TEXT}, PRINCIPAL,
                            NOW).case.state == "reported"


def test_a_fields_own_max_length_still_applies() -> None:
    text = SIGNED_TWICE.replace("SAME", "").replace("opinion: {title: 意见, type: string}",
                                "opinion: {title: 意见, type: string, maxLength: 10}")
    lifecycle = lifecycles(CampaignLoader(campaign_schema()).load(text, "s.yaml").campaign)[
        "hazard"]
    with pytest.raises(InvalidData, match="is too long"):
        lifecycle.fire(Case("c1", "hazard", "waiting"), "accept", {"opinion": "同" * 11},
                       person("a", "office"), NOW)


def test_the_whole_data_has_a_maximum_size(hazard_2023: Lifecycle) -> None:
    texts = ["description", "location", "criterion", "found_by", "industry", "goals_and_tasks",
             "measures", "funds_and_materials", "responsible", "safety_measures", "reason"]
    big = {name: "字" * 19_000 for name in texts}  # each under the text bound, 209,000 in all
    with pytest.raises(InvalidData, match=f"at most {MAX_TOTAL_TEXT:,} characters"):
        hazard_2023.open("h1", {**REGISTRATION, **big}, PRINCIPAL, NOW)

    # the record as merged counts: 190,000 characters stored, a plan adding 12,000 is refused
    others = ["description", "location", "criterion", "found_by", "industry", "reason",
              "rectification_result", "supervision_document", "acceptance_opinion",
              "regrade_reason"]
    stored = Case("h1", "hazard", "reported",
                  {**REGISTRATION, **{name: "字" * 19_000 for name in others}})
    assert hazard_2023.fire(stored, "plan", PLAN_2023, PRINCIPAL, NOW).case.state == (
        "rectifying")
    with pytest.raises(InvalidData, match="the data would hold"):
        hazard_2023.fire(stored, "plan", {**PLAN_2023, "measures": "字" * 12_000}, PRINCIPAL,
                         NOW)


def test_a_record_stored_before_the_bounds_may_move_on_with_data_in_bounds(
    hazard_2023: Lifecycle,
) -> None:
    legacy = Case("h1", "hazard", "reported",
                  {**REGISTRATION, "description": "旧" * 15_000_000})
    planned = hazard_2023.fire(legacy, "plan", PLAN_2023, PRINCIPAL, NOW).case
    assert planned.state == "rectifying"
    with pytest.raises(InvalidData, match="at most 20,000"):
        hazard_2023.fire(planned, "submit", {**RECTIFIED_2023,
                                             "rectification_result": "新" * 20_001},
                         PRINCIPAL, NOW)


LISTS = dedent("""\
    paicha: 1
    id: lists
    title: 列表
    period: {start: "2023-05-01", end: "2023-12-31"}
    roles:
      office: {name: 安委办, scope: org}
    cases:
      record:
        name: 记录
        fields:
          photos: {title: 照片, type: array, items: {type: string}}
          details: {title: 详情, type: object}
          seen_at: {title: 发现时间, type: datetime}
          noted_on: {title: 记录日期, type: string, format: date}
        initial: open
        states:
          open: {name: 办理中}
          done: {name: 已办结, final: true}
        transitions:
          - {trigger: finish, from: open, to: done, who: office}
    """)


@pytest.fixture(scope="module")
def record() -> Lifecycle:
    campaign = CampaignLoader(campaign_schema()).load(LISTS, "lists.yaml").campaign
    return lifecycles(campaign)["record"]


def test_lists_and_objects_are_bounded(record: Lifecycle) -> None:
    office = person("安委办", "office")
    assert record.open("r1", {"photos": ["p"] * MAX_ITEMS}, office, NOW).case.state == "open"
    with pytest.raises(InvalidData) as refused:
        record.open("r1", {"photos": ["p"] * (MAX_ITEMS + 1)}, office, NOW)
    assert refused.value.problems == [f"photos: a list of 1,001 items; at most {MAX_ITEMS:,}"]
    with pytest.raises(InvalidData, match="a key of 201 characters"):
        record.open("r1", {"details": {"k" * 201: 1}}, office, NOW)
    many = {"details": {f"part{i}": list(range(1_000)) for i in range(11)}}
    with pytest.raises(InvalidData, match="more than 10,000 values"):
        record.open("r1", many, office, NOW)


@pytest.mark.parametrize(("value", "accepted"), [
    ("0001-01-01", False), ("2012-12-31", False), ("2013-01-01", True), ("2023-06-01", True),
    ("2033-12-31", True), ("2034-01-01", False), ("9999-12-31", False)])
def test_a_date_lies_near_the_campaign(hazard_2023: Lifecycle, value: str,
                                       accepted: bool) -> None:
    """The 2023 special action (2023-05-01 to 2023-12-31) records dates of 2013 to 2033."""
    data = {**REGISTRATION, "found_on": value}
    if accepted:
        assert hazard_2023.open("h1", data, PRINCIPAL, NOW).case.data["found_on"] == value
        return
    with pytest.raises(InvalidData) as refused:
        hazard_2023.open("h1", data, PRINCIPAL, NOW)
    assert refused.value.problems == [
        f"found_on: {value} is outside the dates this campaign records (2013-01-01 to "
        "2033-12-31); check the year"]


def test_date_times_and_format_dates_are_bounded_too(record: Lifecycle) -> None:
    office = person("安委办", "office")
    with pytest.raises(InvalidData, match="seen_at: 0001-01-01 is outside"):
        record.open("r1", {"seen_at": "0001-01-01T08:00:00+08:00"}, office, NOW)
    with pytest.raises(InvalidData, match="noted_on: 1900-01-01 is outside"):
        record.open("r1", {"noted_on": "1900-01-01"}, office, NOW)
    assert record.open("r1", {"seen_at": "2023-06-01T08:00:00+08:00", "noted_on": "2023-06-01"},
                       office, NOW).case.state == "open"


def test_an_event_date_outside_the_range_is_refused(hazard_2024: Lifecycle) -> None:
    case = hazard_2024.open("t1", {**REGISTRATION, "found_on": "2024-05-30"}, PRINCIPAL,
                            NOW_2024).case
    with pytest.raises(InvalidData, match="deadline: 0024-07-31 is outside"):
        hazard_2024.fire(case, "plan", {**PLAN_2024, "deadline": "0024-07-31"}, PRINCIPAL,
                         NOW_2024)


# -- validation --------------------------------------------------------------------------------


SELF_GRADED = dedent("""\
    paicha: 1
    id: self-graded
    title: 企业自定等级
    period: {start: "2023-05-01", end: "2023-12-31"}
    roles:
      principal: {name: 企业主要负责人, scope: unit}
      office: {name: 安委办, scope: org}
    cases:
      hazard:
        name: 隐患
        fields:
          grade: {title: 等级, enum: [general, major]}
          deadline: {title: 整改期限, type: date}
          funds: {title: 经费, type: number}
        initial: reported
        states:
          reported: {name: 已登记}
          rectifying: {name: 整改中}
          closed: {name: 已销号, final: true}
        transitions:
          - {trigger: plan, from: reported, to: rectifying, who: principal,
             requires: [deadline], sets: [grade, funds, deadline]}
          - {trigger: regrade, from: [reported, rectifying], who: office, requires: [grade]}
          - {trigger: fix_now, from: rectifying, to: closed, who: principal,
             when: {any: [{grade: general}, {not: {funds: {gt: 10}}}]}, same_signer: allowed}
          - {trigger: accept, from: rectifying, to: closed, signoffs: [office],
             when: {grade: major}}
    """)


def test_validation_warns_where_an_enterprise_may_set_what_decides_its_path() -> None:
    problems = CampaignLoader(campaign_schema()).check(SELF_GRADED, "self-graded.yaml")
    assert [p for p in problems if p.severity == "error"] == []
    warnings = sorted((p.line, p.path, p.message) for p in problems)
    assert warnings == [
        (22, "$.cases.hazard.transitions[0].sets[0]",
         "'grade' decides the condition of 'fix_now', and the unit-scoped role 'principal' "
         "may set it through 'plan'"),
        (22, "$.cases.hazard.transitions[0].sets[1]",
         "'funds' decides the condition of 'fix_now', and the unit-scoped role 'principal' "
         "may set it through 'plan'"),
        (22, "$.cases.hazard.transitions[0].sets[2]",
         "'deadline' is required already, which lets the event set it"),
        (25, "$.cases.hazard.transitions[2].same_signer",
         "`same_signer` applies to sign-off chains; 'fix_now' has none"),
    ]


@pytest.mark.parametrize("name", sorted(p.stem for p in CAMPAIGNS.glob("*.yaml")))
def test_no_bundled_campaign_lets_a_unit_set_what_decides_its_path(name: str) -> None:
    path = CAMPAIGNS / f"{name}.yaml"
    problems = loader_for([path]).check(path.read_text(encoding="utf-8"), str(path))
    assert [str(p) for p in problems if "decides the condition" in p.message] == []
