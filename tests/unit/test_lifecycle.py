"""Case lifecycles: a major hazard walked to 销号; every refusal gives a reason to act on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from textwrap import dedent
from typing import Any, Protocol

import pytest

from engine.clocks import ArmClock
from engine.errors import (
    ConditionFailed,
    FieldsNotSettable,
    InvalidData,
    MissingFields,
    Refused,
    RoleNotAllowed,
    TransitionNotAllowed,
)
from engine.lifecycle import SYSTEM, Actor, Case, Lifecycle, Outcome, lifecycles
from engine.loader import CampaignLoader
from engine.model import Campaign
from engine.signoffs import Signature
from paicha.files import campaign_schema, loader_for

CAMPAIGNS = Path(__file__).resolve().parents[2] / "campaigns"
NOW = dt.datetime(2023, 6, 1, 2, tzinfo=dt.UTC)  # Thursday 10:00 Asia/Shanghai
LATER = NOW + dt.timedelta(days=1)

REGISTRATION: dict[str, Any] = {
    "source": "self_inspection",
    "industry": "hazardous_chemicals",
    "description": "储罐区可燃气体报警装置失效",
    "found_on": "2023-05-30",
}
# 治理方案六要素 (安全生产事故隐患排查治理暂行规定 第十五条)
PLAN: dict[str, Any] = {
    "goals_and_tasks": "恢复可燃气体报警功能",
    "measures": "更换探头并联锁",
    "funds_and_materials": "企业自筹",
    "responsible": "设备部 张三",
    "deadline": "2023-06-30",
    "safety_measures": "停用储罐，现场监护",
}
RECTIFIED: dict[str, Any] = {"rectified_on": "2023-06-20", "rectification_result": "已更换"}
CHAIN = ("acceptance_team", "locality", "regulator", "government")

SMALL = dedent("""\
    paicha: 1
    id: small
    title: 小方案
    period: {start: "2023-05-01", end: "2023-12-31"}
    roles:
      principal: {name: 企业主要负责人, scope: unit}
      community: {name: 社区, scope: org}
      regulator: {name: 行业部门, scope: org}
      government: {name: 人民政府, scope: org}
    cases:
      complaint:
        name: 群众举报
        who: [community, principal]
        fields:
          summary: {title: 举报内容, type: string}
          note: {title: 备注, type: string}
        required: [summary]
        initial: handling
        states:
          handling: {name: 办理中}
          escalated: {name: 已督办}
          done: {name: 已办结, final: true}
        transitions:
          - {trigger: note, from: [handling, escalated], who: [community, regulator],
             requires: [note]}
          - {trigger: escalate, from: handling, to: escalated, who: government, requires: [note]}
          - {trigger: finish, from: [handling, escalated], to: done, who: regulator}
    """)


def person(*roles: str, name: str | None = None) -> Actor:
    return Actor(name or "+".join(roles) or "nobody", frozenset(roles))


PRINCIPAL = person("principal")
REGULATOR = person("regulator")
LOCALITY = person("locality")
SIGNERS = {role: person(role) for role in CHAIN}


class HazardAt(Protocol):
    def __call__(self, stage: str = "reported", *, grade: str = "major", case_id: str = "h1",
                 **fields: Any) -> Case: ...


def load_bundled(name: str) -> Campaign:
    path = CAMPAIGNS / f"{name}.yaml"
    return loader_for([path]).load(path.read_text(encoding="utf-8"), str(path)).campaign


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_bundled("special-action-2023")


@pytest.fixture(scope="module")
def hazard(campaign: Campaign) -> Lifecycle:
    return lifecycles(campaign)["hazard"]


@pytest.fixture(scope="module")
def complaint() -> Lifecycle:
    small = CampaignLoader(campaign_schema()).load(SMALL, "small.yaml").campaign
    return lifecycles(small)["complaint"]


@pytest.fixture
def hazard_at(hazard: Lifecycle) -> HazardAt:
    """A hazard brought through the normal path to `stage`; fields override the registration."""

    def make(stage: str = "reported", *, grade: str = "major", case_id: str = "h1",
             **fields: Any) -> Case:
        case = hazard.open(case_id, {**REGISTRATION, "grade": grade, **fields}, PRINCIPAL,
                           NOW).case
        if stage == "reported":
            return case
        if stage == "supervised":
            return hazard.fire(case, "supervise", {"supervision_document": "督办〔2023〕1号"},
                               REGULATOR, NOW).case
        if grade == "general" and stage == "awaiting_acceptance":
            return hazard.fire(case, "fix_now", RECTIFIED, PRINCIPAL, NOW).case
        case = hazard.fire(case, "plan", PLAN, PRINCIPAL, NOW).case
        if stage == "rectifying":
            return case
        case = hazard.fire(case, "submit", RECTIFIED, PRINCIPAL, NOW).case
        if stage == "awaiting_acceptance":
            return case
        for role in CHAIN if grade == "major" else ("locality",):
            case = hazard.fire(case, "accept", {}, SIGNERS[role], NOW).case
        assert stage == "closed", f"unknown stage {stage}"
        return case

    return make


def snapshot(case: Case) -> tuple[Any, ...]:
    return (case.id, case.type, case.state, dict(case.data), case.version, case.signatures)


# -- the whole walk --------------------------------------------------------------------------


def test_a_major_hazard_walks_from_registration_to_closure(hazard: Lifecycle) -> None:
    opened = hazard.open("h1", {**REGISTRATION, "grade": "major"}, PRINCIPAL, NOW)
    assert (opened.case.state, opened.case.version, opened.completed) == ("reported", 1, True)
    assert (opened.source, opened.target, opened.trigger, opened.role) == (
        None, "reported", "open", "principal")

    planned = hazard.fire(opened.case, "plan", PLAN, PRINCIPAL, NOW)
    assert (planned.source, planned.target, planned.case.state) == (
        "reported", "rectifying", "rectifying")
    assert planned.case.version == 2 and planned.completed and planned.changed_state
    assert planned.role == "principal"
    assert {k: planned.case.data[k] for k in PLAN} == PLAN
    assert planned.case.data["grade"] == "major"  # registration kept
    assert dict(planned.data) == PLAN  # the outcome carries what this event sent

    submitted = hazard.fire(planned.case, "submit", RECTIFIED, PRINCIPAL, LATER)
    assert (submitted.case.state, submitted.case.version) == ("awaiting_acceptance", 3)

    case = submitted.case
    for position, role in enumerate(CHAIN[:-1]):
        signer = SIGNERS[role]
        signed = hazard.fire(case, "accept", {"acceptance_opinion": f"{role} 同意"}, signer,
                             LATER)
        assert not signed.completed
        assert signed.transition == "accept_major"
        assert (signed.source, signed.target, signed.case.state) == (
            "awaiting_acceptance", "awaiting_acceptance", "awaiting_acceptance")
        assert signed.case.version == case.version + 1 == 4 + position
        assert signed.case.signatures == (
            *case.signatures, Signature("accept_major", role, signer.id, LATER, signer.label,
                                        {"acceptance_opinion": f"{role} 同意"}, step=position))
        assert signed.role == role
        assert signed.effects == ()
        case = signed.case
    assert [s.role for s in case.signatures] == list(CHAIN[:-1])

    closed = hazard.fire(case, "accept", {}, SIGNERS["government"], LATER)
    assert closed.completed and closed.changed_state
    assert (closed.transition, closed.role) == ("accept_major", "government")
    assert (closed.case.state, closed.case.version) == ("closed", 7)
    # the closed case keeps who signed its 销号, each with what they sent
    assert [(s.role, s.actor, dict(s.data), s.completed) for s in closed.case.signatures] == [
        *[(role, SIGNERS[role].id, {"acceptance_opinion": f"{role} 同意"}, True)
          for role in CHAIN[:-1]],
        ("government", SIGNERS["government"].id, {}, True)]
    assert closed.case.data["acceptance_opinion"] == "regulator 同意"

    reported = hazard.fire(closed.case, "report_closure", {"closure_reported_on": "2023-06-02"},
                           LOCALITY, LATER)
    assert (reported.source, reported.target, reported.case.state) == ("closed", "closed",
                                                                       "closed")
    assert reported.completed and not reported.changed_state
    assert reported.case.version == 8
    assert reported.case.data["closure_reported_on"] == "2023-06-02"


def test_firing_returns_a_new_case_and_leaves_the_one_passed_in_alone(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    case = hazard_at("reported")
    before = snapshot(case)
    outcome = hazard.fire(case, "plan", PLAN, PRINCIPAL, NOW)
    assert outcome.case.state == "rectifying"
    assert snapshot(case) == before
    with pytest.raises(TypeError):
        outcome.case.data["deadline"] = "2099-01-01"  # type: ignore[index]


# -- refusals --------------------------------------------------------------------------------


def test_a_trigger_in_the_wrong_state_lists_the_triggers_allowed_now(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    case = hazard_at("reported")
    with pytest.raises(TransitionNotAllowed) as refused:
        hazard.fire(case, "submit", RECTIFIED, PRINCIPAL, NOW)
    error = refused.value
    assert (error.case_id, error.state, error.trigger) == ("h1", "reported", "submit")
    assert error.allowed == ["fix_now", "plan", "supervise", "regrade"]
    assert str(error) == ("case h1: 'submit' is not allowed in state 'reported'; "
                          "allowed now: fix_now, plan, supervise, regrade")


def test_a_closed_hazard_allows_only_reporting_the_closure(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    case = hazard_at("closed")
    for trigger in ("plan", "submit", "accept", "reject", "supervise", "fix_now"):
        with pytest.raises(TransitionNotAllowed) as refused:
            hazard.fire(case, trigger, {}, SYSTEM, NOW)
        assert refused.value.allowed == ["report_closure"]


def test_an_unknown_trigger_is_refused_with_the_allowed_ones(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    with pytest.raises(TransitionNotAllowed, match="allowed now: accept, reject"):
        hazard.fire(hazard_at("awaiting_acceptance"), "acept", {}, SIGNERS["acceptance_team"],
                    NOW)


def test_a_wrong_role_names_the_roles_needed_and_the_roles_held(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    case = hazard_at("reported")
    with pytest.raises(RoleNotAllowed) as refused:
        hazard.fire(case, "plan", PLAN, person("regulator", "community"), NOW)
    assert refused.value.required == ["principal"]
    assert refused.value.held == ["community", "regulator"]
    assert str(refused.value) == ("case h1: 'plan' needs one of the roles principal; "
                                  "you hold community, regulator")

    with pytest.raises(RoleNotAllowed) as refused:
        hazard.fire(case, "supervise", {"supervision_document": "督办"}, PRINCIPAL, NOW)
    assert refused.value.required == ["government", "regulator", "safety_office"]
    assert refused.value.held == ["principal"]

    with pytest.raises(RoleNotAllowed, match="you hold no role"):
        hazard.fire(case, "plan", PLAN, person(), NOW)


@pytest.mark.parametrize("signed", range(len(CHAIN)))
def test_an_out_of_order_signer_is_told_who_signs_next(
    hazard: Lifecycle, hazard_at: HazardAt, signed: int
) -> None:
    case = hazard_at("awaiting_acceptance")
    for role in CHAIN[:signed]:
        case = hazard.fire(case, "accept", {}, SIGNERS[role], NOW).case
    expected = CHAIN[signed]
    for role in [r for r in CHAIN if r != expected]:
        with pytest.raises(RoleNotAllowed) as refused:
            hazard.fire(case, "accept", {}, SIGNERS[role], NOW)
        assert refused.value.required == [expected]
        assert refused.value.held == [role]
        assert f"the next sign-off needs {expected}; you hold {role}" in str(refused.value)
    assert hazard.fire(case, "accept", {}, SIGNERS[expected], NOW).case.version == (
        case.version + 1)


def test_missing_required_fields_are_named(hazard: Lifecycle, hazard_at: HazardAt) -> None:
    case = hazard_at("reported")
    partial = {"deadline": "2023-06-30", "measures": "", "responsible": "张三"}
    with pytest.raises(MissingFields) as refused:
        hazard.fire(case, "plan", partial, PRINCIPAL, NOW)
    assert refused.value.trigger == "plan"
    # an empty text is as good as missing
    assert refused.value.fields == ["goals_and_tasks", "measures", "funds_and_materials",
                                    "safety_measures"]
    assert "requires goals_and_tasks, measures, funds_and_materials, safety_measures" in str(
        refused.value)


def test_required_fields_already_on_the_case_count(hazard: Lifecycle,
                                                   hazard_at: HazardAt) -> None:
    case = hazard_at("reported", **{k: v for k, v in PLAN.items() if k != "deadline"})
    with pytest.raises(MissingFields) as refused:
        hazard.fire(case, "plan", {}, PRINCIPAL, NOW)
    assert refused.value.fields == ["deadline"]
    assert hazard.fire(case, "plan", {"deadline": "2023-06-30"}, PRINCIPAL, NOW).case.state == (
        "rectifying")


def test_a_failed_condition_names_the_condition(hazard: Lifecycle, hazard_at: HazardAt) -> None:
    case = hazard_at("reported", grade="major")
    with pytest.raises(ConditionFailed) as refused:
        hazard.fire(case, "fix_now", RECTIFIED, PRINCIPAL, NOW)
    assert refused.value.conditions == ["grade = 'general'"]
    assert str(refused.value) == ("case h1: 'fix_now' needs grade = 'general', "
                                  "which the case does not meet")


def test_a_deadline_that_is_not_a_date_is_invalid_data(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    case = hazard_at("reported")
    with pytest.raises(InvalidData) as refused:
        hazard.fire(case, "plan", {**PLAN, "deadline": "月底前"}, PRINCIPAL, NOW)
    assert refused.value.problems == ["deadline: '月底前' is not a 'date'"]


def test_an_unknown_field_is_refused_naming_what_the_transition_sets(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    with pytest.raises(FieldsNotSettable) as refused:
        hazard.fire(hazard_at("reported"), "plan", {**PLAN, "dealine": "2023-06-30"}, PRINCIPAL,
                    NOW)
    assert refused.value.refused == ["dealine"]
    assert refused.value.settable == sorted([*PLAN, "funds_amount"])
    assert "'dealine' is no field of hazard: did you mean 'deadline'?" in str(refused.value)


def test_an_unknown_field_at_opening_is_invalid_data_listing_the_declared_ones(
    hazard: Lifecycle,
) -> None:
    with pytest.raises(InvalidData) as refused:
        hazard.open("h9", {**REGISTRATION, "grade": "major", "foud_on": "2023-06-01"},
                    PRINCIPAL, NOW)
    [problem] = refused.value.problems
    assert "'foud_on' was unexpected" in problem
    assert "fields of hazard: source, grade," in problem and "found_on" in problem


def test_open_refuses_missing_required_fields(hazard: Lifecycle) -> None:
    data = {**REGISTRATION, "grade": "major", "description": ""}
    del data["found_on"]
    with pytest.raises(MissingFields) as refused:
        hazard.open("h9", data, PRINCIPAL, NOW)
    assert (refused.value.case_id, refused.value.trigger) == ("h9", "open")
    assert refused.value.fields == ["description", "found_on"]


def test_open_refuses_invalid_data(hazard: Lifecycle) -> None:
    with pytest.raises(InvalidData) as refused:
        hazard.open("h9", {**REGISTRATION, "grade": "serious"}, PRINCIPAL, NOW)
    [problem] = refused.value.problems
    assert problem.startswith("grade: 'serious' is not one of")


def test_open_by_a_role_the_case_type_does_not_name_is_refused(complaint: Lifecycle) -> None:
    with pytest.raises(RoleNotAllowed) as refused:
        complaint.open("c1", {"summary": "占用消防通道"}, REGULATOR, NOW)
    assert (refused.value.trigger, refused.value.required, refused.value.held) == (
        "open", ["community", "principal"], ["regulator"])

    opened = complaint.open("c1", {"summary": "占用消防通道"}, person("regulator", "community"),
                            NOW)
    assert (opened.case.state, opened.role) == ("handling", "community")
    assert complaint.open("c2", {"summary": "x"}, SYSTEM, NOW).role is None


def test_open_by_any_role_when_the_case_type_names_none(hazard: Lifecycle) -> None:
    opened = hazard.open("h1", {**REGISTRATION, "grade": "general"}, REGULATOR, NOW)
    assert (opened.case.state, opened.role) == ("reported", "regulator")


def test_refusals_are_checked_in_a_fixed_order(hazard: Lifecycle, hazard_at: HazardAt) -> None:
    """State first, then condition, role, the fields the transition may set, data, required
    fields: the first problem is reported."""
    case = hazard_at("reported", grade="major")
    with pytest.raises(ConditionFailed):
        hazard.fire(case, "fix_now", {"bogus": 1}, REGULATOR, NOW)
    with pytest.raises(RoleNotAllowed):
        hazard.fire(case, "plan", {"bogus": 1}, REGULATOR, NOW)
    with pytest.raises(FieldsNotSettable):
        hazard.fire(case, "plan", {"bogus": 1, "deadline": "soon"}, PRINCIPAL, NOW)
    with pytest.raises(InvalidData):
        hazard.fire(case, "plan", {"deadline": "soon"}, PRINCIPAL, NOW)


def test_a_refused_event_changes_nothing(hazard: Lifecycle, hazard_at: HazardAt) -> None:
    case = hazard_at("awaiting_acceptance")
    case = hazard.fire(case, "accept", {}, SIGNERS["acceptance_team"], NOW).case
    before = snapshot(case)
    attempts: list[tuple[str, Mapping[str, Any], Actor]] = [
        ("plan", PLAN, PRINCIPAL),
        ("accept", {}, SIGNERS["government"]),
        ("accept", {"deadline": "soon"}, SIGNERS["locality"]),
        ("reject", {}, SIGNERS["locality"]),
    ]
    for trigger, data, actor in attempts:
        with pytest.raises(Refused):
            hazard.fire(case, trigger, data, actor, NOW)
        assert snapshot(case) == before
    assert hazard.fire(case, "accept", {}, SIGNERS["locality"], NOW).case.version == (
        case.version + 1)


# -- sign-offs, choice by condition, internal transitions, the system ------------------------


def test_a_rejection_resets_a_partly_signed_chain(hazard: Lifecycle, hazard_at: HazardAt) -> None:
    case = hazard_at("awaiting_acceptance")
    for role in CHAIN[:2]:
        case = hazard.fire(case, "accept", {}, SIGNERS[role], NOW).case
    assert len(case.signatures) == 2

    rejected = hazard.fire(case, "reject", {"reason": "探头未联锁", "deadline": "2023-07-14"},
                           SIGNERS["regulator"], NOW)
    assert (rejected.case.state, rejected.case.signatures) == ("rectifying", ())
    assert rejected.case.version == case.version + 1
    assert rejected.case.data["deadline"] == "2023-07-14"

    again = hazard.fire(rejected.case, "submit", RECTIFIED, PRINCIPAL, LATER).case
    with pytest.raises(RoleNotAllowed) as refused:
        hazard.fire(again, "accept", {}, SIGNERS["regulator"], LATER)
    assert refused.value.required == ["acceptance_team"]
    restarted = hazard.fire(again, "accept", {}, SIGNERS["acceptance_team"], LATER).case
    assert restarted.signatures == (
        Signature("accept_major", "acceptance_team", "acceptance_team", LATER,
                  "acceptance_team", {}, step=0),)


def test_one_trigger_picks_its_transition_by_condition(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    general = hazard_at("awaiting_acceptance", grade="general")
    assert general.data["rectification_result"] == RECTIFIED["rectification_result"]
    accepted = hazard.fire(general, "accept", {}, LOCALITY, NOW)
    assert (accepted.transition, accepted.completed, accepted.case.state) == (
        "accept_general", True, "closed")
    assert accepted.case.signatures == ()
    with pytest.raises(RoleNotAllowed) as refused:
        hazard.fire(general, "accept", {}, SIGNERS["government"], NOW)
    assert refused.value.required == ["acceptance_team", "locality", "regulator"]

    major = hazard_at("awaiting_acceptance", grade="major")
    with pytest.raises(RoleNotAllowed) as refused:
        hazard.fire(major, "accept", {}, LOCALITY, NOW)
    assert refused.value.required == ["acceptance_team"]
    signed = hazard.fire(major, "accept", {}, SIGNERS["acceptance_team"], NOW)
    assert (signed.transition, signed.completed, signed.case.state) == (
        "accept_major", False, "awaiting_acceptance")


def test_an_internal_transition_keeps_the_state(hazard: Lifecycle, hazard_at: HazardAt) -> None:
    case = hazard_at("supervised")
    outcome = hazard.fire(case, "plan", PLAN, PRINCIPAL, NOW)
    assert outcome.transition == "plan_under_supervision"
    assert (outcome.source, outcome.target, outcome.case.state) == (
        "supervised", "supervised", "supervised")
    assert outcome.completed and not outcome.changed_state
    assert outcome.case.version == case.version + 1
    assert outcome.case.data["deadline"] == PLAN["deadline"]


def test_an_internal_transition_keeps_the_state_in_a_small_campaign(
    complaint: Lifecycle,
) -> None:
    case = complaint.open("c1", {"summary": "占用消防通道"}, person("community"), NOW).case
    noted = complaint.fire(case, "note", {"note": "已联系物业"}, REGULATOR, NOW)
    assert (noted.case.state, noted.case.version, noted.target) == ("handling", 2, "handling")
    assert noted.case.data == {"summary": "占用消防通道", "note": "已联系物业"}


def test_the_system_fires_a_transition_without_its_required_fields(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    case = hazard_at("rectifying")
    with pytest.raises(MissingFields) as refused:
        hazard.fire(case, "supervise", {}, REGULATOR, NOW)
    assert refused.value.fields == ["supervision_document"]

    escalated = hazard.fire(case, "supervise", {}, SYSTEM, NOW)
    assert (escalated.case.state, escalated.role, escalated.actor) == ("supervised", None, SYSTEM)
    assert escalated.case.version == case.version + 1
    assert "supervision_document" not in escalated.case.data


def test_the_system_escalates_in_a_small_campaign(complaint: Lifecycle) -> None:
    case = complaint.open("c1", {"summary": "x"}, person("community"), NOW).case
    assert complaint.fire(case, "escalate", {}, SYSTEM, NOW).case.state == "escalated"


def test_the_system_cannot_sign_in_place_of_a_signoff_role(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    """A sign-off chain is signed by the named roles in turn (谁验收、谁签字、谁负责); the system
    holds none of them, so it must not fill a place in the chain."""
    case = hazard_at("awaiting_acceptance", grade="major")
    with pytest.raises(RoleNotAllowed) as refused:
        hazard.fire(case, "accept", {}, SYSTEM, NOW)
    assert refused.value.required == ["acceptance_team"]


# -- allowed triggers ------------------------------------------------------------------------


def test_allowed_triggers_without_an_actor_ignore_roles_and_conditions(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    assert hazard.allowed_triggers(hazard_at("reported", grade="major")) == [
        "fix_now", "plan", "supervise", "regrade"]
    assert hazard.allowed_triggers(hazard_at("rectifying")) == ["supervise", "submit", "regrade"]
    assert hazard.allowed_triggers(hazard_at("supervised")) == ["plan", "submit", "regrade"]
    assert hazard.allowed_triggers(hazard_at("awaiting_acceptance")) == ["accept", "reject"]
    assert hazard.allowed_triggers(hazard_at("closed")) == ["report_closure"]


def test_allowed_triggers_for_an_actor_apply_roles_conditions_and_the_chain(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    major = hazard_at("reported", grade="major")
    general = hazard_at("reported", grade="general")
    assert hazard.allowed_triggers(major, PRINCIPAL) == ["plan"]
    assert hazard.allowed_triggers(general, PRINCIPAL) == ["fix_now", "plan"]
    assert hazard.allowed_triggers(major, REGULATOR) == ["supervise", "regrade"]
    assert hazard.allowed_triggers(major, LOCALITY) == []

    waiting = hazard_at("awaiting_acceptance", grade="major")
    assert hazard.allowed_triggers(waiting, LOCALITY) == ["reject"]
    assert hazard.allowed_triggers(waiting, SIGNERS["acceptance_team"]) == ["accept", "reject"]
    signed = hazard.fire(waiting, "accept", {}, SIGNERS["acceptance_team"], NOW).case
    assert hazard.allowed_triggers(signed, LOCALITY) == ["accept", "reject"]
    assert hazard.allowed_triggers(signed, SIGNERS["acceptance_team"]) == ["reject"]


EVERYTHING: dict[str, Any] = {
    **PLAN, **RECTIFIED, "supervision_document": "督办", "reason": "不合格",
    "closure_reported_on": "2023-06-02", "grade": "general", "regrade_reason": "判定有误",
}
PEOPLE = [person(role) for role in
          ("principal", "locality", "community", "regulator", "safety_office",
           "acceptance_team", "government")] + [person()]


@pytest.mark.parametrize("stage", ["reported", "rectifying", "supervised",
                                   "awaiting_acceptance", "closed"])
@pytest.mark.parametrize("grade", ["general", "major"])
def test_allowed_triggers_for_a_person_are_exactly_what_they_can_fire(
    hazard: Lifecycle, hazard_at: HazardAt, stage: str, grade: str
) -> None:
    case = hazard_at(stage, grade=grade)
    triggers = {t.trigger for t in hazard.type.transitions}
    for actor in PEOPLE:
        allowed = hazard.allowed_triggers(case, actor)
        for trigger in sorted(triggers):
            settable = {f for t in hazard.type.transitions if t.trigger == trigger
                        for f in t.settable}
            data = {k: v for k, v in EVERYTHING.items() if k in settable}
            try:
                hazard.fire(case, trigger, data, actor, NOW)
            except (TransitionNotAllowed, RoleNotAllowed, ConditionFailed):
                assert trigger not in allowed, (actor.id, trigger)
            else:
                assert trigger in allowed, (actor.id, trigger)


def test_allowed_triggers_for_the_system_list_what_the_system_can_fire(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    """`allowed_triggers(case, SYSTEM)` should list what `fire(..., SYSTEM)` accepts: the
    system is refused on no role, so everything the state allows and the data meets."""
    rectifying = hazard_at("rectifying")
    assert hazard.fire(rectifying, "supervise", {}, SYSTEM, NOW).case.state == "supervised"
    assert hazard.allowed_triggers(rectifying, SYSTEM) == ["supervise", "submit", "regrade"]


# -- one machine per case type ---------------------------------------------------------------


def test_lifecycles_builds_one_per_case_type(campaign: Campaign) -> None:
    built = lifecycles(campaign)
    assert set(built) == {"hazard", "spot_check", "enforcement"}
    for name, lifecycle in built.items():
        assert lifecycle.type is campaign.cases[name]
        assert lifecycle.campaign is campaign
    assert built["hazard"].deadlines is built["enforcement"].deadlines


def test_one_lifecycle_serves_a_thousand_cases_and_keeps_none(campaign: Campaign) -> None:
    hazard = lifecycles(campaign)["hazard"]
    machine = hazard.machine
    outcomes: list[Outcome] = []
    cases = [hazard.open(f"h{i}", {**REGISTRATION, "grade": ("general", "major")[i % 2]},
                         PRINCIPAL, NOW).case for i in range(1000)]
    # interleaved: every case moves one step before any moves the next
    cases = [hazard.fire(c, "plan", PLAN, PRINCIPAL, NOW).case for c in cases]
    cases = [hazard.fire(c, "submit", RECTIFIED, PRINCIPAL, NOW).case for c in cases]
    for case in cases:
        actor = LOCALITY if case.data["grade"] == "general" else SIGNERS["acceptance_team"]
        outcomes.append(hazard.fire(case, "accept", {}, actor, NOW))

    assert hazard.machine is machine
    assert len(hazard.machine.models) == 0
    assert [o.case.id for o in outcomes] == [f"h{i}" for i in range(1000)]
    assert [o.case.state for o in outcomes[:2]] == ["closed", "awaiting_acceptance"]
    assert {o.case.state for o in outcomes[0::2]} == {"closed"}
    assert {o.case.state for o in outcomes[1::2]} == {"awaiting_acceptance"}
    assert {o.case.version for o in outcomes} == {4}


def test_three_year_plan_sign_off_needs_the_opinion_at_every_signature() -> None:
    """Each 验收意见 is its signer's own: the one before on the case does not stand in."""
    lifecycle = lifecycles(load_bundled("three-year-plan-2024-2026"))["hazard"]
    now = dt.datetime(2024, 6, 3, 2, tzinfo=dt.UTC)
    case = Case("t1", "hazard", "awaiting_acceptance",
                {"grade": "major", "source": "self_inspection"}, version=5)
    with pytest.raises(MissingFields) as refused:
        lifecycle.fire(case, "accept", {}, person("acceptance_team"), now)
    assert refused.value.fields == ["acceptance_opinion"]
    signed = lifecycle.fire(case, "accept", {"acceptance_opinion": "合格"},
                            person("acceptance_team"), now).case
    with pytest.raises(RoleNotAllowed, match="the next sign-off needs community"):
        lifecycle.fire(signed, "accept", {}, person("regulator"), now)
    assert signed.data["acceptance_opinion"] == "合格"
    with pytest.raises(MissingFields) as refused:
        lifecycle.fire(signed, "accept", {}, person("community"), now)
    assert refused.value.fields == ["acceptance_opinion"]
    cosigned = lifecycle.fire(signed, "accept", {"acceptance_opinion": "同意，社区已复核"},
                              person("community"), now).case
    assert cosigned.signatures[-1] == Signature(
        "accept", "community", "community", now, "community",
        {"acceptance_opinion": "同意，社区已复核"}, step=1)


def test_event_data_cannot_regrade_a_hazard_to_meet_a_condition(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    case = hazard_at("reported", grade="major")
    with pytest.raises(ConditionFailed):
        hazard.fire(case, "fix_now", {**RECTIFIED, "grade": "general"}, PRINCIPAL, NOW)
    waiting = hazard_at("awaiting_acceptance", grade="major", case_id="h2")
    with pytest.raises(FieldsNotSettable) as refused:
        hazard.fire(waiting, "accept", {"grade": "general"}, SIGNERS["acceptance_team"], NOW)
    assert refused.value.refused == ["grade"]
    assert "grade is set by 'regrade'" in str(refused.value)


def test_a_deadline_beyond_the_published_calendar_is_armed_provisionally(
    hazard: Lifecycle, hazard_at: HazardAt
) -> None:
    """No dead end: a 整改期限 in a year nobody covers is taken as entered, its clock counted by
    the weekend rule and marked provisional (it was refused before)."""
    case = hazard_at("reported")
    outcome = hazard.fire(case, "plan", {**PLAN, "deadline": "2031-03-01"}, PRINCIPAL, NOW)
    assert outcome.case.data["deadline"] == "2031-03-01"  # stored as entered
    (armed,) = [e for e in outcome.effects if isinstance(e, ArmClock)]
    # 2031-03-01 is a Saturday: by the weekend rule the deadline rolls to Monday 03-03; the
    # earliest day looked at is the -7d reminder's, Monday 02-24
    assert (armed.due_date, armed.provisional, armed.base) == (
        dt.date(2031, 3, 3), dt.date(2031, 2, 24), dt.date(2031, 3, 1))
    # every timer inside the known years (its 30-day escalation is declared on the first
    # working day after 2026-12-20): exact; a deadline of 2026-12-30 is not, as its escalation
    # is declared on the first working day after 2027-01-29, a day of 2027
    inside = hazard.fire(case, "plan", {**PLAN, "deadline": "2026-11-20"}, PRINCIPAL, NOW)
    (exact,) = [e for e in inside.effects if isinstance(e, ArmClock)]
    assert (exact.due_date, exact.provisional) == (dt.date(2026, 11, 20), None)
    late = hazard.fire(case, "plan", {**PLAN, "deadline": "2026-12-30"}, PRINCIPAL, NOW)
    (guessed,) = [e for e in late.effects if isinstance(e, ArmClock)]
    assert (guessed.due_date, guessed.provisional) == (dt.date(2026, 12, 30),
                                                       dt.date(2027, 1, 30))


# -- what a trigger's form holds for one person (Lifecycle.form, the screens' forms) -----

def test_the_plan_form_holds_the_six_parts_required_and_what_it_may_set(
        hazard: Lifecycle) -> None:
    opened = hazard.open("h1", {**REGISTRATION, "grade": "major"}, PRINCIPAL, NOW).case
    form = hazard.form(opened, "plan", PRINCIPAL)
    assert form is not None
    assert form.transition.id == "plan" and form.role == "principal" and form.step is None
    names = [f.name for f in form.fields]
    assert names[:len(form.transition.requires)] == list(form.transition.requires)
    assert form.required == set(form.transition.requires)
    assert set(names) == set(form.transition.requires) | set(form.transition.sets)
    assert "grade" not in names  # a plan never re-grades its hazard


def test_who_may_not_fire_gets_no_form(hazard: Lifecycle) -> None:
    opened = hazard.open("h1", {**REGISTRATION, "grade": "major"}, PRINCIPAL, NOW).case
    assert hazard.form(opened, "plan", LOCALITY) is None
    assert hazard.form(opened, "fix_now", PRINCIPAL) is None  # general hazards only
    assert hazard.form(opened, "accept", SIGNERS["acceptance_team"]) is None  # wrong state


def test_a_signoff_form_is_the_next_steps_with_the_signers_own_fields(
        hazard: Lifecycle) -> None:
    case = hazard.open("h1", {**REGISTRATION, "grade": "major"}, PRINCIPAL, NOW).case
    case = hazard.fire(case, "plan", PLAN, PRINCIPAL, NOW).case
    case = hazard.fire(case, "submit", RECTIFIED, PRINCIPAL, LATER).case
    first = hazard.form(case, "accept", SIGNERS["acceptance_team"])
    assert first is not None and (first.role, first.step) == ("acceptance_team", 0)
    assert hazard.form(case, "accept", SIGNERS["locality"]) is None  # not their turn yet
    case = hazard.fire(case, "accept", {"acceptance_opinion": "同意"},
                       SIGNERS["acceptance_team"], LATER).case
    second = hazard.form(case, "accept", SIGNERS["locality"])
    assert second is not None and (second.role, second.step) == ("locality", 1)
    # the one who signed may not sign again in the same chain
    assert hazard.form(case, "accept", SIGNERS["acceptance_team"]) is None
