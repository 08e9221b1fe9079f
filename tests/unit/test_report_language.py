"""The campaign language for reports and targets: rows of several figures, per-level forms,
条/块 attribution, period-only counts, percentage and comparison targets, and the warning
window; each accepted and built into the model, each misuse refused with its path and fix."""

from __future__ import annotations

import datetime as dt
from textwrap import dedent, indent

import pytest

from engine.errors import Problem
from engine.loader import CampaignLoader
from engine.model import Campaign, Figure, Measure
from paicha.files import campaign_schema

BASE = dedent("""\
    paicha: 1
    id: language
    title: 报表语言
    period: {start: 2024-01-01, end: 2025-12-31}
    org_levels:
      town: {name: 乡镇}
      community: {name: 社区/村}
      department: {name: 部门}
    roles:
      principal: {name: 企业主要负责人, scope: unit}
      regulator: {name: 行业主管部门, scope: org}
    checks:
      - {id: inspect, name: 带队检查, who: principal, for: units, every: month}
    cases:
      hazard:
        name: 隐患
        fields:
          grade: {title: 等级, enum: [general, major]}
          found_on: {title: 发现日期, type: date}
          funds: {title: 整改资金, type: number}
        initial: reported
        states:
          reported: {name: 已登记}
          closed: {name: 已销号, final: true}
        transitions:
          - {trigger: accept, from: reported, to: closed, who: regulator}
      enforcement:
        name: 执法检查
        fields:
          fine_amount: {title: 罚款（万元）, type: number}
          penalized: {title: 行政处罚, type: boolean}
          dangerous_work: {title: 危险作业罪, type: boolean}
          typical: {title: 典型案例, type: boolean}
        initial: open
        states:
          open: {name: 办理中}
          closed: {name: 办结, final: true}
        transitions:
          - {trigger: close, from: open, to: closed, who: regulator}
    """)

LOADER = CampaignLoader(campaign_schema())


def text(extra: str) -> str:
    return BASE + dedent(extra)


def report(sections: str, **keys: str) -> str:
    """A campaign with one report `dispatch` of the given sections (and report keys)."""
    head = "".join(f"    {k}: {v}\n" for k, v in keys.items())
    return text("reports:\n  dispatch:\n    name: 调度表\n" + head + "    sections:\n"
                + indent(dedent(sections), "      "))


def targets(body: str) -> str:
    return text("targets:\n" + indent(dedent(body), "  "))


def errors(source: str) -> list[Problem]:
    return [p for p in LOADER.check(source, "x.yaml") if p.severity == "error"]


def load(source: str) -> Campaign:
    return LOADER.load(source, "x.yaml").campaign


def refused(source: str, path: str) -> Problem:
    """The one error of `source`, which must stand at `path`."""
    found = errors(source)
    assert [p.path for p in found] == [path], [str(p) for p in found]
    return found[0]


PENALTIES = """\
    - id: enforcement
      name: 部门精准严格执法情况
      rows:
        - id: penalties
          name: 行政处罚（次，万元）
          figures:
            - {name: 次, unit: 次, count: enforcement, where: {penalized: true}}
            - {name: 万元, unit: 万元, sum: {case: enforcement, field: fine_amount}}
        - id: typical_cases
          name: 公布典型执法案例（个），其中危险作业罪案例（个）
          figures:
            - {name: 典型执法案例, unit: 个, manual: integer}
            - {name: 其中危险作业罪案例, unit: 个, manual: integer}
        - {id: dept_found, name: 部门检查发现的隐患（个）, unit: 个, count: hazard,
           attribute: finder}
        - {id: found_this_month, name: 本月发现的隐患（个）, count: hazard, within: period}
        - {id: inspections, name: 本月带队检查（次）, within: period,
           count_checks: {check: inspect, status: done}}
        - {id: rewards, name: 举报奖励, manual: number, parts: [举报奖励（万元）, 其中匿名（万元）]}
    """


# -- accepted and built ---------------------------------------------------------------------


def test_a_row_of_figures_builds_each_figure_with_its_measure() -> None:
    dispatch = load(report(PENALTIES)).reports["dispatch"]
    rows = {r.id: r for r in dispatch.rows}
    penalties = rows["penalties"]
    assert penalties.measure is None and penalties.manual is None
    assert penalties.figures == (
        Figure("次", Measure("count", case="enforcement", where={"penalized": True}), unit="次"),
        Figure("万元", Measure("sum", case="enforcement", field="fine_amount"), unit="万元"),
    )
    assert penalties.values == penalties.figures
    assert rows["typical_cases"].figures == (
        Figure("典型执法案例", manual="integer", unit="个"),
        Figure("其中危险作业罪案例", manual="integer", unit="个"))
    assert [f.name for f in rows["rewards"].values] == ["举报奖励（万元）", "其中匿名（万元）"]


def test_attribute_and_within_reach_the_measure() -> None:
    rows = {r.id: r for r in load(report(PENALTIES)).reports["dispatch"].rows}
    assert rows["dept_found"].measure == Measure("count", case="hazard", attribute="finder")
    assert rows["found_this_month"].measure == Measure("count", case="hazard", within="period")
    inspections = rows["inspections"].measure
    assert inspections is not None
    assert (inspections.kind, inspections.status, inspections.within) == (
        "count_checks", "done", "period")
    assert rows["penalties"].figures[0].measure == Measure(
        "count", case="enforcement", where={"penalized": True}, attribute="unit",
        within="campaign")


def test_a_report_defaults_to_a_monthly_list() -> None:
    dispatch = load(report(PENALTIES)).reports["dispatch"]
    assert (dispatch.period, dispatch.layout, dispatch.variants) == ("month", "list", ())


def test_period_layout_and_variants_build() -> None:
    variants = """\
        - levels: [department]
          name: 部门调度表
          notes: [部门填报本部门检查发现的情况。]
          sections:
            - id: overall
              name: 总体情况
              rows:
                - {id: found, name: 部门检查发现的隐患（个）, count: hazard, attribute: finder}
    """
    source = report(PENALTIES, period="quarter", layout="pairs",
                    variants="\n" + indent(dedent(variants), "      "))
    dispatch = load(source).reports["dispatch"]
    assert (dispatch.period, dispatch.layout) == ("quarter", "pairs")
    (variant,) = dispatch.variants
    assert variant.levels == ("department",) and variant.name == "部门调度表"
    assert variant.notes == ("部门填报本部门检查发现的情况。",)
    assert variant.sections[0].rows[0].measure == Measure("count", case="hazard",
                                                          attribute="finder")
    form = dispatch.form_for("department")
    assert form.name == "部门调度表" and [r.id for r in form.rows] == ["found"]
    assert dispatch.form_for("community") is dispatch


FOUND_2025 = "{count: hazard, where: {grade: major, found_on: {gte: 2025-01-01}}}"
FOUND_2024 = ("{count: hazard, where: {grade: major, all: [{found_on: {gte: 2024-01-01}}, "
              "{found_on: {lt: 2025-01-01}}]}}")


def test_percentage_comparison_and_warn_targets_build() -> None:
    campaign = load(targets(f"""\
        - id: closed_rate
          name: 重大事故隐患整改率 ≥ 95%
          by: 2025-12-31
          measure: {{count: hazard, where: {{grade: major, state: closed}}}}
          per: {{count: hazard, where: {{grade: major}}}}
          goal: {{min: 95}}
          warn: 60d
        - id: increment_down
          name: 2025年发现的重大事故隐患少于2024年
          by: 2025-12-31
          measure: {FOUND_2025}
          goal: {{lt: {FOUND_2024}}}
        - id: bounded
          name: 无超期
          by: 2025-12-31
          measure: {{count: hazard}}
          goal: {{max: 0}}
        """))
    rate, down, bounded = campaign.targets
    assert rate.per == Measure("count", case="hazard", where={"grade": "major"})
    assert (rate.goal_min, rate.goal_max, rate.compare, rate.warn_days) == (95, None, None, 60)
    assert down.compare_op == "lt" and down.per is None
    assert down.compare is not None and down.compare.where == {
        "grade": "major",
        "all": [{"found_on": {"gte": "2024-01-01"}}, {"found_on": {"lt": "2025-01-01"}}]}
    assert (down.goal_min, down.goal_max) == (None, None)
    assert down.by == dt.date(2025, 12, 31)
    assert (bounded.warn_days, bounded.compare_op, bounded.goal_max) == (30, None, 0)


@pytest.mark.parametrize("op", ["lt", "lte", "gt", "gte"])
def test_every_comparison_op_is_accepted(op: str) -> None:
    campaign = load(targets(f"""\
        - {{id: compared, name: 比较, by: 2025-12-31, measure: {FOUND_2025},
           goal: {{{op}: {FOUND_2024}}}}}
        """))
    assert campaign.targets[0].compare_op == op


# -- refused, with the path and the fix -----------------------------------------------------


def test_a_row_of_figures_with_a_measure_of_its_own_is_refused() -> None:
    problem = refused(report("""\
        - id: s
          rows:
            - id: penalties
              name: 行政处罚（次，万元）
              manual: number
              figures: [{name: 次, manual: integer}, {name: 万元, manual: number}]
        """), "$.reports.dispatch.sections[0].rows[0]")
    assert "needs exactly one of count, sum, count_units, count_checks, manual, figures" in (
        problem.message)
    assert "has manual, figures" in problem.message
    assert "`figures:`" in problem.hint


def test_a_figure_needs_exactly_one_measure() -> None:
    problem = refused(report("""\
        - id: s
          rows:
            - id: penalties
              name: 行政处罚（次，万元）
              figures:
                - {name: 次, manual: integer}
                - {name: 万元, manual: number, sum: {case: enforcement, field: fine_amount}}
        """), "$.reports.dispatch.sections[0].rows[0].figures[1]")
    assert "figure '万元' of row 'penalties' needs exactly one of" in problem.message
    assert "has sum, manual" in problem.message
    empty = refused(report("""\
        - id: s
          rows:
            - {id: p, name: 行政处罚, figures: [{name: 次}]}
        """), "$.reports.dispatch.sections[0].rows[0].figures[0]")
    assert "(has none)" in empty.message and "manual: integer" in empty.hint


def test_a_figure_is_checked_like_a_row() -> None:
    problem = refused(report("""\
        - id: s
          rows:
            - id: p
              name: 行政处罚
              figures:
                - {name: 次, count: enforcment}
        """), "$.reports.dispatch.sections[0].rows[0].figures[0].count")
    assert problem.message == "unknown case type 'enforcment'"
    assert problem.hint == "did you mean 'enforcement'?"


@pytest.mark.parametrize("key, value", [("where", "{penalized: true}"),
                                        ("attribute", "finder"), ("within", "period")])
def test_filters_on_a_row_of_figures_belong_to_its_figures(key: str, value: str) -> None:
    problem = refused(report(f"""\
        - id: s
          rows:
            - id: p
              name: 行政处罚
              {key}: {value}
              figures: [{{name: 次, count: enforcement}}, {{name: 万元, manual: number}}]
        """), f"$.reports.dispatch.sections[0].rows[0].{key}")
    assert problem.message == f"`{key}` on a row of figures applies to none of them"
    assert problem.hint == f"write `{key}` in each figure it is for"


def test_parts_stay_with_manual_rows() -> None:
    problem = refused(report("""\
        - id: s
          rows:
            - {id: p, name: 行政处罚, parts: [次, 万元],
               figures: [{name: 次, manual: integer}, {name: 万元, manual: number}]}
        """), "$.reports.dispatch.sections[0].rows[0].parts")
    assert problem.message == "`parts` applies only to manual rows"


def test_attribute_is_refused_on_count_checks() -> None:
    problem = refused(report("""\
        - id: s
          rows:
            - {id: i, name: 检查, attribute: finder, count_checks: {check: inspect}}
        """), "$.reports.dispatch.sections[0].rows[0].attribute")
    assert "applies to case measures (count, sum, count_units), not to count_checks" in (
        problem.message)
    assert problem.hint.startswith("remove `attribute`")


@pytest.mark.parametrize("key, value", [("attribute", "finder"), ("within", "period")])
def test_attribute_and_within_are_refused_on_manual_figures(key: str, value: str) -> None:
    problem = refused(report(f"""\
        - id: s
          rows:
            - id: p
              name: 行政处罚
              figures: [{{name: 次, manual: integer, {key}: {value}}}]
        """), f"$.reports.dispatch.sections[0].rows[0].figures[0].{key}")
    assert problem.message.endswith("a manual figure is what the org enters")
    assert problem.hint == f"remove `{key}`, or count the figure from the record"


@pytest.mark.parametrize("key, value, expected", [
    ("attribute", "finders", "did you mean 'finder'?"),
    ("within", "month", "known: campaign, period"),
])
def test_attribute_and_within_take_their_words_only(key: str, value: str,
                                                    expected: str) -> None:
    problem = refused(report(f"""\
        - id: s
          rows:
            - {{id: f, name: 发现, count: hazard, {key}: {value}}}
        """), f"$.reports.dispatch.sections[0].rows[0].{key}")
    assert problem.message == f"{value!r} is not allowed here"
    assert problem.hint == expected


def test_period_and_layout_take_their_words_only() -> None:
    problem = refused(report(PENALTIES, period="week"), "$.reports.dispatch.period")
    assert problem.message == "'week' is not allowed here"
    problem = refused(report(PENALTIES, layout="pair"), "$.reports.dispatch.layout")
    assert problem.hint == "did you mean 'pairs'?"


VARIANT = """
      - levels: {levels}
        name: 部门调度表
        sections:
          - id: overall
            rows:
              - {{id: found, name: 发现, count: hazard, attribute: finder}}
"""


def test_a_variant_names_declared_org_levels() -> None:
    source = report(PENALTIES, variants=VARIANT.format(levels="[departmnt]"))
    problem = refused(source, "$.reports.dispatch.variants[0].levels[0]")
    assert problem.message == "unknown org level 'departmnt'"
    assert problem.hint == "did you mean 'department'?"


def test_a_variant_needs_declared_org_levels_at_all() -> None:
    source = report(PENALTIES, variants=VARIANT.format(levels="[department]")).replace(
        "org_levels:\n  town: {name: 乡镇}\n  community: {name: 社区/村}\n"
        "  department: {name: 部门}\n", "")
    problem = refused(source, "$.reports.dispatch.variants[0].levels[0]")
    assert "the campaign declares none" in problem.message
    assert "org_levels:" in problem.hint


def test_a_level_files_one_variant_only() -> None:
    twice = VARIANT.format(levels="[department, community]") + VARIANT.format(
        levels="[department]")
    problem = refused(report(PENALTIES, variants=twice),
                      "$.reports.dispatch.variants[1].levels[0]")
    assert problem.message == (
        "org level 'department' already files variant $.reports.dispatch.variants[0]")
    assert "one variant" in problem.hint


def test_a_variant_is_checked_like_the_report() -> None:
    source = report(PENALTIES, variants="""
      - levels: [department]
        name: 部门调度表
        sections:
          - id: overall
            rows:
              - {id: found, name: 发现, count: hazard}
              - {id: found, name: 又发现, count: hazrd}
""")
    found = errors(source)
    assert [(p.path, p.message) for p in found] == [
        ("$.reports.dispatch.variants[0].sections[0].rows[1].id", "duplicate row id 'found'"),
        ("$.reports.dispatch.variants[0].sections[0].rows[1].count",
         "unknown case type 'hazrd'")]


def test_a_variant_may_reuse_the_reports_row_ids() -> None:
    source = report(PENALTIES, variants=VARIANT.format(levels="[department]").replace(
        "id: found", "id: penalties"))
    assert errors(source) == []


def test_a_variant_needs_levels_name_and_sections() -> None:
    source = report(PENALTIES, variants="\n      - {levels: [department]}\n")
    assert sorted(p.message for p in errors(source)) == [
        "missing required key 'name'", "missing required key 'sections'"]


def test_a_comparison_goal_takes_no_per() -> None:
    problem = refused(targets(f"""\
        - {{id: t, name: 比较, by: 2025-12-31, measure: {FOUND_2025},
           per: {{count: hazard}}, goal: {{lt: {FOUND_2024}}}}}
        """), "$.targets[0].per")
    assert "`per` makes the target a percentage" in problem.message
    assert problem.hint == "remove `per`, or bound the percentage: `goal: {min: 95}`"


def test_a_goal_compares_with_one_measure() -> None:
    problem = refused(targets(f"""\
        - {{id: t, name: 比较, by: 2025-12-31, measure: {FOUND_2025},
           goal: {{lt: {FOUND_2024}, gte: {{count: hazard}}}}}}
        """), "$.targets[0].goal.gte")
    assert problem.message == "a goal compares with one measure; this one has lt, gte"
    assert "write two targets" in problem.hint


def test_a_goal_is_a_bound_or_a_comparison() -> None:
    problem = refused(targets(f"""\
        - {{id: t, name: 比较, by: 2025-12-31, measure: {FOUND_2025},
           goal: {{max: 3, lt: {FOUND_2024}}}}}
        """), "$.targets[0].goal.lt")
    assert problem.message == "the goal mixes a bound (max) with a comparison (lt)"


def test_an_empty_goal_is_refused() -> None:
    problem = refused(targets("""\
        - {id: t, name: 空, by: 2025-12-31, measure: {count: hazard}, goal: {}}
        """), "$.targets[0].goal")
    assert problem.message == "target 't' has an empty goal"
    assert "{max: 0}" in problem.hint and "{lt:" in problem.hint


def test_the_compared_measure_is_checked() -> None:
    problem = refused(targets("""\
        - {id: t, name: 比较, by: 2025-12-31, measure: {count: hazard},
           goal: {lt: {count: hazard, where: {grade: majr}}}}
        """), "$.targets[0].goal.lt.where.grade")
    assert problem.message == "'majr' is not a value of field 'grade'"


def test_per_is_checked_as_a_measure() -> None:
    problem = refused(targets("""\
        - {id: t, name: 率, by: 2025-12-31, measure: {count: hazard}, per: {count: hazards},
           goal: {min: 95}}
        """), "$.targets[0].per.count")
    assert problem.hint == "did you mean 'hazard'?"


def test_a_target_counts_up_to_its_date_not_in_a_period() -> None:
    problem = refused(targets("""\
        - {id: t, name: 率, by: 2025-12-31, measure: {count: hazard, within: period},
           goal: {max: 0}}
        """), "$.targets[0].measure.within")
    assert "`within: period` applies to report rows" in problem.message
    assert "where" in problem.hint


@pytest.mark.parametrize("warn", ["30", "3wd", "thirty days", "-5d"])
def test_warn_is_a_number_of_calendar_days(warn: str) -> None:
    problem = refused(targets(f"""\
        - {{id: t, name: 无, by: 2025-12-31, measure: {{count: hazard}}, goal: {{max: 0}},
           warn: '{warn}'}}
        """), "$.targets[0].warn")
    assert problem.message == f"{warn!r} is not a number of days"
    assert problem.hint == "write calendar days like 30d"


# -- a child campaign's rows -----------------------------------------------------------------


class OneParent:
    """The campaign `language` as the only parent there is."""

    def __init__(self, text: str) -> None:
        self.text = text

    def find(self, campaign_id: str) -> tuple[str, str] | None:
        return (self.text, "parent.yaml") if campaign_id == "language" else None

    def ids(self) -> tuple[str, ...]:
        return ("language",)


def child(rows: str) -> str:
    return dedent("""\
        paicha: 1
        id: child
        title: 下级方案
        extends: language
        reports:
          dispatch:
            sections:
              - id: enforcement
                rows:
        """) + indent(dedent(rows), "          ")


def test_a_childs_row_that_says_what_it_counts_replaces_the_parents() -> None:
    loader = CampaignLoader(campaign_schema(), OneParent(report(PENALTIES)))
    source = child("""\
        - id: rewards
          figures: [{name: 举报奖励, unit: 万元, manual: number},
                    {name: 其中匿名, unit: 万元, manual: number}]
        - {id: dept_found, manual: integer}
        - {id: found_this_month, where: {grade: major}}
        - {id: inspections, count_checks: {check: inspect, status: missed}}
        """)
    rows = {r.id: r for r in loader.load(source, "child.yaml").campaign.reports["dispatch"].rows}
    assert (rows["rewards"].manual, rows["rewards"].parts) == (None, ())
    assert [f.name for f in rows["rewards"].values] == ["举报奖励", "其中匿名"]
    assert rows["rewards"].name == "举报奖励"
    assert (rows["dept_found"].measure, rows["dept_found"].manual) == (None, "integer")
    assert rows["found_this_month"].measure == Measure(
        "count", case="hazard", where={"grade": "major"}, within="period")
    inspections = rows["inspections"].measure
    assert inspections is not None and (inspections.status, inspections.within) == (
        "missed", "period")
