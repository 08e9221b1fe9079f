"""Chains and clocks that depend on the case and its unit: the 整改台账 of a 市直部门直管企业
skips the county's two signatures, every signer's 意见 stays with their signature, and a clock
limited by a condition follows the case's grade."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from engine.clocks import ArmClock, ClockUnarmed, StopClock
from engine.diagram import mermaid
from engine.errors import (
    ConditionFailed,
    FieldsNotSettable,
    InvalidData,
    MissingFields,
    RoleNotAllowed,
)
from engine.lifecycle import Actor, Case, Lifecycle, lifecycles
from engine.orgs import Unit
from engine.simulation import Simulation
from paicha.files import loader_for
from paicha.simulate import parse_events

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests/campaigns/docs_example/city-managed-example.yaml"
NOW = dt.datetime(2023, 6, 1, 2, tzinfo=dt.UTC)

CITY = Unit("u-city", "市直化工", "town", "hazardous_chemicals", frozenset({"city_managed"}))
COUNTY = Unit("u-county", "县管化工", "town", "hazardous_chemicals")
FULL = ("acceptance_team", "locality", "regulator", "government", "city_regulator")
SHORT = ("acceptance_team", "locality", "city_regulator")


def person(role: str) -> Actor:
    return Actor(f"token:{role}", frozenset({role}), name=f"{role}签字人")


PRINCIPAL = person("principal")


@pytest.fixture(scope="module")
def hazard() -> Lifecycle:
    loaded = loader_for([EXAMPLE]).load(EXAMPLE.read_text(encoding="utf-8"), EXAMPLE.name)
    assert loaded.warnings == []
    return lifecycles(loaded.campaign)["hazard"]


def awaiting(hazard: Lifecycle, unit: Unit | None, grade: str = "major") -> Case:
    case = hazard.open("h1", {"source": "self_inspection", "grade": grade,
                              "industry": "hazardous_chemicals", "description": "储罐区报警失效",
                              "found_on": "2023-05-30"}, PRINCIPAL, NOW, unit=unit).case
    case = hazard.fire(case, "plan", {
        "goals_and_tasks": "恢复报警", "measures": "更换探头", "funds_and_materials": "自筹",
        "responsible": "张三", "deadline": "2023-06-30", "safety_measures": "停用储罐"},
        PRINCIPAL, NOW, unit=unit).case
    return hazard.fire(case, "submit", {"rectified_on": "2023-06-20",
                                        "rectification_result": "已更换"},
                       PRINCIPAL, NOW, unit=unit).case


def sign(hazard: Lifecycle, case: Case, roles: tuple[str, ...], unit: Unit | None) -> Case:
    for role in roles:
        case = hazard.fire(case, "accept", {"opinion": f"{role}：同意销号"}, person(role), NOW,
                           unit=unit).case
    return case


def test_a_city_managed_enterprise_skips_the_two_county_signatures(hazard: Lifecycle) -> None:
    case = sign(hazard, awaiting(hazard, CITY), SHORT[:2], CITY)
    with pytest.raises(RoleNotAllowed, match="the next sign-off needs city_regulator"):
        hazard.fire(case, "accept", {"opinion": "同意"}, person("regulator"), NOW, unit=CITY)
    assert hazard.allowed_triggers(case, person("city_regulator"), unit=CITY) == [
        "accept", "reject"]
    assert hazard.allowed_triggers(case, person("regulator"), unit=CITY) == ["reject"]
    closed = sign(hazard, case, SHORT[2:], CITY)
    assert closed.state == "closed"
    assert [(s.role, s.step, s.completed) for s in closed.signatures] == [
        ("acceptance_team", 0, True), ("locality", 1, True), ("city_regulator", 4, True)]


def test_an_enterprise_the_county_manages_needs_all_five(hazard: Lifecycle) -> None:
    case = sign(hazard, awaiting(hazard, COUNTY), FULL[:2], COUNTY)
    with pytest.raises(RoleNotAllowed, match="the next sign-off needs regulator"):
        hazard.fire(case, "accept", {"opinion": "同意"}, person("city_regulator"), NOW,
                    unit=COUNTY)
    case = sign(hazard, case, FULL[2:4], COUNTY)
    assert case.state == "awaiting_acceptance"
    closed = sign(hazard, case, FULL[4:], COUNTY)
    assert [s.role for s in closed.signatures] == list(FULL)
    assert closed.state == "closed"


def test_an_unknown_unit_signs_every_step(hazard: Lifecycle) -> None:
    """`not: {unit: …}` holds when no unit is known: a missing unit never skips a signature."""
    closed = sign(hazard, awaiting(hazard, None), FULL, None)
    assert [s.role for s in closed.signatures] == list(FULL)


def test_a_unit_made_city_managed_mid_chain_keeps_what_was_signed(hazard: Lifecycle) -> None:
    case = sign(hazard, awaiting(hazard, COUNTY), FULL[:3], COUNTY)
    # the city took the enterprise over after the county department signed: the government's
    # step is skipped now, the signatures given stay
    closed = sign(hazard, case, ("city_regulator",), CITY)
    assert [(s.role, s.step) for s in closed.signatures] == [
        ("acceptance_team", 0), ("locality", 1), ("regulator", 2), ("city_regulator", 4)]


def test_each_signers_opinion_stays_with_their_signature(hazard: Lifecycle) -> None:
    closed = sign(hazard, awaiting(hazard, CITY), SHORT, CITY)
    assert [dict(s.data) for s in closed.signatures] == [
        {"opinion": f"{role}：同意销号"} for role in SHORT]
    assert "opinion" not in closed.data


def test_a_signer_gives_their_own_required_fields(hazard: Lifecycle) -> None:
    case = awaiting(hazard, CITY)
    with pytest.raises(MissingFields) as refused:
        hazard.fire(case, "accept", {}, person("acceptance_team"), NOW, unit=CITY)
    assert refused.value.fields == ["opinion"]
    with pytest.raises(InvalidData, match="opinion"):
        hazard.fire(case, "accept", {"opinion": 5}, person("acceptance_team"), NOW, unit=CITY)
    with pytest.raises(FieldsNotSettable) as extra:
        hazard.fire(case, "accept", {"opinion": "同意", "grade": "general"},
                    person("acceptance_team"), NOW, unit=CITY)
    assert "opinion" in extra.value.settable and extra.value.refused == ["grade"]
    # the case fields the chain `sets` still go into the case
    signed = hazard.fire(case, "accept", {"opinion": "同意", "acceptance_opinion": "合格"},
                         person("acceptance_team"), NOW, unit=CITY).case
    assert signed.data["acceptance_opinion"] == "合格" and "opinion" not in signed.data


def test_the_ledger_clock_runs_for_major_hazards_only(hazard: Lifecycle) -> None:
    closed = sign(hazard, awaiting(hazard, CITY), SHORT, CITY)
    assert {"closure_report", "ledger_report"} <= closed.running
    general = awaiting(hazard, CITY, grade="general")
    outcome = hazard.fire(general, "accept", {}, person("locality"), NOW, unit=CITY)
    started = {e.clock_id for e in outcome.effects if isinstance(e, ArmClock)}
    assert started == {"closure_report"}


# -- a clock limited by a condition, when the condition changes ------------------------------

SUPERVISED = dedent("""\
    paicha: 1
    id: clocks-by-grade
    title: 按等级计时
    period: {start: "2023-05-01", end: "2023-12-31"}
    tags: {city_managed: 市直部门直管企业}
    roles:
      principal: {name: 企业主要负责人, scope: unit}
      regulator: {name: 行业主管部门, scope: org}
    cases:
      hazard:
        name: 事故隐患
        fields:
          grade: {title: 隐患等级, enum: [general, major]}
          deadline: {title: 整改期限, type: date}
        required: [grade]
        initial: rectifying
        states:
          rectifying: {name: 整改中}
          closed: {name: 已销号, final: true}
        transitions:
          - {trigger: regrade, from: rectifying, who: regulator, requires: [grade]}
          - {trigger: set_deadline, from: rectifying, who: regulator, requires: [deadline]}
          - {id: close_city, trigger: close, from: rectifying, to: closed, who: regulator,
             when: {unit: {tags: city_managed}}}
          - {trigger: report, from: closed, who: regulator}
        clocks:
          - {id: major_deadline, name: 重大隐患整改期限, runs_in: [rectifying],
             when: {grade: major}, due: {after: 30d}, who: principal}
          - {id: major_report, name: 重大隐患销号报告, when: {grade: major},
             starts_on: {enter: closed}, stops_on: {trigger: report}, due: {after: 3d}}
    """)


@pytest.fixture(scope="module")
def graded() -> Lifecycle:
    loaded = loader_for().load(SUPERVISED, "clocks-by-grade.yaml")
    assert loaded.warnings == []
    return lifecycles(loaded.campaign)["hazard"]


def kinds(effects: Any) -> list[tuple[str, str]]:
    return [(type(e).__name__, e.clock_id) for e in effects]


def test_a_clock_limited_to_major_hazards_follows_a_regrade(graded: Lifecycle) -> None:
    regulator = person("regulator")
    general = graded.open("h1", {"grade": "general"}, PRINCIPAL, NOW)
    assert general.effects == () and general.case.running == frozenset()
    major = graded.fire(general.case, "regrade", {"grade": "major"}, regulator, NOW)
    assert kinds(major.effects) == [("ArmClock", "major_deadline")]
    assert major.case.running == {"major_deadline"}
    # a new deadline field does not touch it (it counts from its start), a regrade back stops it
    again = graded.fire(major.case, "regrade", {"grade": "general"}, regulator, NOW)
    assert again.effects == (StopClock("h1", "major_deadline", "lapsed"),)
    assert again.case.running == frozenset()
    still = graded.fire(again.case, "regrade", {"grade": "general"}, regulator, NOW)
    assert still.effects == ()


def test_an_event_bound_clock_starts_only_if_its_condition_holds(graded: Lifecycle) -> None:
    regulator = person("regulator")
    city = Unit("u1", "市直", "o", None, frozenset({"city_managed"}))
    major = graded.open("h1", {"grade": "major"}, PRINCIPAL, NOW, unit=city).case
    closed = graded.fire(major, "close", {}, regulator, NOW, unit=city)
    assert kinds(closed.effects) == [("StopClock", "major_deadline"), ("ArmClock", "major_report")]
    general = graded.open("h2", {"grade": "general"}, PRINCIPAL, NOW, unit=city).case
    assert kinds(graded.fire(general, "close", {}, regulator, NOW, unit=city).effects) == []
    assert not any(isinstance(e, ClockUnarmed) for e in closed.effects)


def test_a_transition_guarded_by_the_unit_is_refused_for_another(graded: Lifecycle) -> None:
    case = graded.open("h1", {"grade": "major"}, PRINCIPAL, NOW, unit=COUNTY).case
    with pytest.raises(ConditionFailed, match="unit matches"):
        graded.fire(case, "close", {}, person("regulator"), NOW, unit=COUNTY)
    with pytest.raises(ConditionFailed):
        graded.fire(case, "close", {}, person("regulator"), NOW)  # no unit known: not city's
    assert graded.allowed_triggers(case, person("regulator"), unit=COUNTY) == [
        "regrade", "set_deadline"]
    assert graded.needs_unit and graded.allowed_triggers(
        case, person("regulator"), unit=CITY) == ["regrade", "set_deadline", "close"]


# -- simulate: the events file names the case's unit ------------------------------------------

EVENTS = dedent("""\
    events:
      - {at: 2023-06-01 10:00, case: h1, open: hazard, as: principal, unit: u-city,
         data: {source: self_inspection, grade: major, industry: hazardous_chemicals,
                description: 储罐区报警失效, found_on: 2023-05-30}}
      - {at: 2023-06-02 10:00, case: h1, fire: plan, as: principal,
         data: {goals_and_tasks: 恢复报警, measures: 更换探头, funds_and_materials: 自筹,
                responsible: 张三, deadline: 2023-06-30, safety_measures: 停用储罐}}
      - {at: 2023-06-20 10:00, case: h1, fire: submit, as: principal,
         data: {rectified_on: 2023-06-20, rectification_result: 已更换}}
      - {at: 2023-06-21 10:00, case: h1, fire: accept, as: acceptance_team, data: {opinion: 合格}}
      - {at: 2023-06-21 11:00, case: h1, fire: accept, as: locality, data: {opinion: 同意}}
      - {at: 2023-06-21 12:00, case: h1, fire: accept, as: regulator, data: {opinion: 同意}}
      - {at: 2023-06-21 13:00, case: h1, fire: accept, as: city_regulator, data: {opinion: 同意}}
      - {at: 2023-06-21 14:00, case: h2, open: hazard, as: principal, unit: u-nowhere,
         data: {source: self_inspection, grade: major, industry: hazardous_chemicals,
                description: 另一隐患, found_on: 2023-05-30}}
    """)


@pytest.mark.usefixtures("chinese")  # the Chinese a person reads by default
def test_simulate_decides_the_chain_by_the_unit_the_events_file_names(
        hazard: Lifecycle) -> None:
    campaign = hazard.campaign
    # the events file's check refuses a unit not given (tests/cli); the engine refuses it too
    events = [*parse_events(EVENTS.replace("u-nowhere", "u-city"), "events.yaml", campaign,
                            units=[CITY])]
    events[-1] = replace(events[-1], unit="u-nowhere")
    assert events[0].unit == "u-city"
    simulation = Simulation(campaign, dt.date(2023, 6, 1), dt.date(2023, 6, 30))
    happenings = [h for h in simulation.run([CITY], events) if h.kind in (
        "signed", "fired", "refused") and h.at.day == 21]
    assert [(h.kind, h.subject, h.roles) for h in happenings] == [
        ("signed", "h1", ("acceptance_team",)), ("signed", "h1", ("locality",)),
        ("refused", "h1", ("regulator",)), ("fired", "h1", ("city_regulator",)),
        ("refused", "h2", ("principal",))]
    assert "省辖市主管部门" in happenings[2].text  # the role city_regulator, by its name
    assert happenings[4].text == "未知的单位：u-nowhere"
    closed = simulation.cases["h1"]
    assert closed.state == "closed" and [s.role for s in closed.signatures] == list(SHORT)


def test_campaigns_without_unit_conditions_read_no_unit() -> None:
    """The unit is read on the event path only where a condition looks at it."""
    for path in sorted((ROOT / "campaigns").glob("*.yaml")):
        campaign = loader_for([path]).load(path.read_text(encoding="utf-8"), path.name).campaign
        assert not any(lifecycle.needs_unit for lifecycle in lifecycles(campaign).values())


def test_a_chain_whose_every_step_is_skipped_is_refused_with_its_conditions() -> None:
    text = SUPERVISED.replace(
        "      - {trigger: report, from: closed, who: regulator}",
        "      - {trigger: report, from: closed, who: regulator}\n"
        "      - {id: sign_city, trigger: sign, from: rectifying, to: closed,\n"
        "         signoffs: [{role: regulator, when: {unit: city_managed}}]}")
    text = text.replace("tags: {city_managed: 市直部门直管企业}\n",
                        "tags: {city_managed: 市直部门直管企业}\n"
                        "selectors: {city_managed: {tags: city_managed}}\n")
    assert "sign_city" in text and "selectors:" in text
    loaded = loader_for().load(text, "clocks-by-grade.yaml")
    assert [p.message for p in loaded.warnings] == [
        "every step of 'sign' has a `when`: a case for which none holds can never be signed"]
    lifecycle = lifecycles(loaded.campaign)["hazard"]
    case = lifecycle.open("h1", {"grade": "major"}, PRINCIPAL, NOW, unit=COUNTY).case
    with pytest.raises(ConditionFailed, match="unit matches 'city_managed'"):
        lifecycle.fire(case, "sign", {}, person("regulator"), NOW, unit=COUNTY)
    assert "sign" not in lifecycle.allowed_triggers(case, person("regulator"), unit=COUNTY)
    signed = lifecycle.fire(case, "sign", {}, person("regulator"), NOW, unit=CITY).case
    assert signed.state == "closed" and [s.step for s in signed.signatures] == [0]


def test_the_diagram_marks_the_steps_some_cases_skip(hazard: Lifecycle) -> None:
    text = mermaid(hazard.campaign, hazard.type)
    assert ("验收组 → 属地乡镇街道 → 负有安全监管职责的部门/行业主管部门（条件） → "
            "人民政府（条件） → 省辖市主管部门") in text
