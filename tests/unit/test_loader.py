"""Loading, extends and validation through the public loader."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from engine.errors import CampaignInvalid, Problem
from engine.loader import CampaignLoader
from engine.schedules import read_schedule
from engine.workdays import StatutoryCalendar

SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "campaigns/schema/campaign.schema.json").read_text()
)

PARENT = dedent("""\
    paicha: 1
    id: parent
    title: 母方案
    period: {start: 2023-05-01, end: 2023-12-31}
    roles:
      principal: {name: 企业主要负责人, scope: unit}
      office: {name: 安委办, scope: org}
      town: {name: 乡镇, scope: org}
    selectors:
      high_risk: {industry: [chemicals]}
    phases:
      - {id: mobilize, name: 动员部署, due: 2023-05-15}
      - {id: self_check, name: 自查自改, due: 2023-06-30}
    checks:
      - {id: inspect, name: 带队检查, who: principal, for: units, every: quarter,
         stricter: [{for: high_risk, every: month}]}
      - {id: drill, name: 应急演练, who: principal, for: units, every: year}
      - {id: education, name: 警示教育, who: principal, for: units, due: {phase: self_check}}
    cases:
      hazard:
        name: 隐患
        fields:
          grade: {title: 等级, enum: [general, major]}
          deadline: {title: 整改期限, type: date}
        initial: reported
        states:
          reported: {name: 已登记}
          rectifying: {name: 整改中}
          closed: {name: 已销号, final: true}
        transitions:
          - {trigger: plan, from: reported, to: rectifying, who: principal, requires: [deadline]}
          - {trigger: accept, from: rectifying, to: closed, signoffs: [office, town]}
        clocks:
          - {id: rectification, name: 整改期限, runs_in: [rectifying], due: {field: deadline},
             remind: [-1d, 0d]}
    """)


class Campaigns:
    """An in-memory source of parent campaigns."""

    def __init__(self, **texts: str) -> None:
        self.texts = {k.replace("_", "-"): v for k, v in texts.items()}

    def find(self, campaign_id: str) -> tuple[str, str] | None:
        text = self.texts.get(campaign_id)
        return None if text is None else (text, f"{campaign_id}.yaml")

    def ids(self) -> Sequence[str]:
        return list(self.texts)


def loader(**texts: str) -> CampaignLoader:
    return CampaignLoader(SCHEMA, Campaigns(parent=PARENT, **texts))


def errors(text: str, **texts: str) -> list[Problem]:
    return [p for p in loader(**texts).check(text, "child.yaml") if p.severity == "error"]


def child(body: str) -> str:
    return "paicha: 1\nid: child\ntitle: 子方案\nextends: parent\n" + dedent(body)


def test_parent_loads_into_the_model() -> None:
    campaign = loader().load(PARENT, "parent.yaml").campaign
    assert [p.id for p in campaign.phases] == ["mobilize", "self_check"]
    inspect = campaign.checks[0]
    assert inspect.every == "quarter" and inspect.stricter[0].every == "month"
    hazard = campaign.cases["hazard"]
    assert hazard.finals == {"closed"}
    assert hazard.fields["deadline"].schema == {
        "title": "整改期限",
        "type": "string",
        "format": "date",
    }
    assert hazard.transitions[1].signoffs == ("office", "town")


def test_child_overrides_by_id_and_keeps_the_rest() -> None:
    loaded = loader().load(
        child("""\
        phases:
          - {id: mobilize, due: 2023-05-10}
        checks:
          - {id: inspect, stricter: [{for: high_risk, every: month, times: 2}]}
          - {id: summary, name: 工作总结, who: town, for: orgs, due: 2023-12-20}
        """),
        "child.yaml",
    )
    campaign = loaded.campaign
    assert campaign.phases[0].due.isoformat() == "2023-05-10"
    assert campaign.phases[0].name == "动员部署"
    assert [c.id for c in campaign.checks] == ["inspect", "drill", "education", "summary"]
    assert campaign.checks[0].stricter[0].times == 2
    assert campaign.checks[0].every == "quarter"
    assert loaded.sources == ["child.yaml", "parent.yaml"]
    assert loaded.warnings == []


def test_a_grandchild_keeps_its_own_parent() -> None:
    # a street's plan extending its district's, which extends the national one: the campaign
    # names its own parent (the district's), which storage pins its version by
    loaded = loader(child=child("phases:\n  - {id: mobilize, due: 2023-05-10}\n")).load(
        "paicha: 1\nid: street\ntitle: 街道方案\nextends: child\n", "street.yaml")
    assert loaded.campaign.extends == "child"
    assert loaded.sources == ["street.yaml", "child.yaml", "parent.yaml"]


def test_child_removes_only_with_the_marker() -> None:
    campaign = (
        loader()
        .load(
            child("""\
        checks:
          - {id: drill, remove: true}
        roles:
          town: {remove: true}
        cases:
          hazard:
            transitions:
              - {id: accept, signoffs: [office]}
        """),
            "child.yaml",
        )
        .campaign
    )
    assert [c.id for c in campaign.checks] == ["inspect", "education"]
    assert "town" not in campaign.roles
    assert campaign.cases["hazard"].transitions[1].signoffs == ("office",)


def test_a_misspelt_override_suggests_the_parent_id() -> None:
    found = errors(child("checks:\n  - {id: inspection, times: 2}\n"))
    assert any(p.path == "$.checks[0]" and p.hint == "did you mean 'inspect'?" for p in found)


def test_removing_what_the_parent_lacks_is_an_error() -> None:
    found = errors(child("checks:\n  - {id: dril, remove: true}\n"))
    assert [(p.line, p.path) for p in found] == [(6, "$.checks[0]")]
    assert "'dril'" in found[0].message


def test_removing_a_role_the_parent_still_uses_is_blamed_on_the_removal() -> None:
    found = errors(child("roles:\n  town: {remove: true}\n"))
    assert [(p.source, p.line, p.path) for p in found] == [("child.yaml", 6, "$.roles.town")]
    assert "parent.yaml:" in found[0].message
    assert "$.cases.hazard.transitions[1].signoffs[1]" in found[0].message


def test_later_deadline_than_parent_is_a_warning_not_an_error() -> None:
    loaded = loader().load(child("phases:\n  - {id: self_check, due: 2023-07-31}\n"), "child.yaml")
    [warning] = loaded.warnings
    # The path is numbered as in the child's own file, where self_check is its first phase.
    assert (warning.source, warning.line, warning.path) == ("child.yaml", 6, "$.phases[0].due")
    assert "later than the parent's 2023-06-30" in warning.message


def test_unknown_parent_suggests_the_closest() -> None:
    text = "paicha: 1\nid: child\ntitle: t\nextends: parnt\n"
    [problem] = errors(text)
    assert (problem.line, problem.path) == (4, "$.extends")
    assert problem.hint == "did you mean 'parent'?"


def test_extends_cycle_is_refused() -> None:
    a = "paicha: 1\nid: a\ntitle: t\nextends: b\n"
    b = "paicha: 1\nid: b\ntitle: t\nextends: a\n"
    found = errors(a, a=a, b=b)
    assert any("extends itself" in p.message for p in found)


def test_every_problem_is_reported_at_once_in_order() -> None:
    text = child("""\
        phases:
          - {id: mobilize, due: 2023-13-01}
        checks:
          - {id: inspect, who: principle}
          - {id: new_one, name: x, who: office, for: orgs}
        bogus: 1
        """)
    found = errors(text)
    assert [p.line for p in found] == sorted(p.line for p in found)
    messages = " | ".join(p.message for p in found)
    assert "not a real date" in messages
    assert "unknown role 'principle'" in messages
    assert "neither `due` nor `every`" in messages
    assert "unknown key 'bogus'" in messages


def test_load_raises_with_every_problem() -> None:
    with pytest.raises(CampaignInvalid) as caught:
        loader().load("paicha: 2\nid: X\n", "bad.yaml")
    paths = {p.path for p in caught.value.problems}
    assert {"$.paicha", "$.id", "$"} <= paths


def test_conditions_and_report_filters_are_checked_against_fields() -> None:
    text = child("""\
        cases:
          hazard:
            transitions:
              - {trigger: fix_now, from: reported, to: closed, who: principal,
                 when: {grade: {in: [general, minor]}}}
        reports:
          dispatch:
            name: 调度表
            sections:
              - id: overall
                name: 总体情况
                rows:
                  - {id: found, name: 发现, count: hazard, where: {grade: major, open: true}}
                  - {id: fixed, name: 整改, count: hazard, where: {state: clsoed}}
                  - {id: money, name: 资金, sum: {case: hazard, field: grade}}
        """)
    found = {p.path: p for p in errors(text)}
    assert (
        "'minor' is not a value of field 'grade'"
        in found["$.cases.hazard.transitions[0].when.grade.in[1]"].message
    )
    assert (
        found["$.reports.dispatch.sections[0].rows[1].where.state"].hint == "did you mean 'closed'?"
    )
    assert "not a number" in found["$.reports.dispatch.sections[0].rows[2].sum.field"].message


def test_a_period_reaching_a_year_nobody_covers_warns_and_names_the_fix() -> None:
    text = ("paicha: 1\nid: plan-2027\ntitle: 2027年方案\n"
            "period: {start: 2026-10-01,\n         end: 2027-06-30}\n")
    problems = loader().check(text, "plan-2027.yaml")
    assert [(p.severity, p.line, p.path) for p in problems] == [
        ("warning", 5, "$.period.end")]
    assert "2027" in problems[0].message and "provisional" in problems[0].message
    assert "paicha calendar add 2027.yaml" in problems[0].hint
    assert loader().load(text, "plan-2027.yaml").campaign.period_end.year == 2027
    # with the year added there is nothing to say
    year = read_schedule((Path(__file__).resolve().parents[1] / "data/calendars/2027-test.yaml"
                          ).read_text(encoding="utf-8"), "2027-test.yaml")
    covered = CampaignLoader(SCHEMA, Campaigns(), calendar=StatutoryCalendar([year]))
    assert covered.check(text, "plan-2027.yaml") == []
