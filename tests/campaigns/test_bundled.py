"""Every bundled campaign loads, and says what its seed document says."""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import jsonschema
import pytest

from engine.loader import CampaignLoader, Loaded
from paicha.cli import main
from paicha.files import campaign_schema, loader_for

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "campaigns").glob("*.yaml"))
D = dt.date


def load(name: str) -> Loaded:
    path = ROOT / "campaigns" / f"{name}.yaml"
    return loader_for([path]).load(path.read_text(encoding="utf-8"), path.name)


def test_the_four_campaigns_are_bundled() -> None:
    assert {p.stem for p in BUNDLED} >= {
        "special-action-2023", "special-action-2023-linyin", "special-action-2023-chongming",
        "three-year-plan-2024-2026"}


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_campaign_has_no_errors(path: Path) -> None:
    problems = loader_for([path]).check(path.read_text(encoding="utf-8"), path.name)
    assert [str(p) for p in problems if p.severity == "error"] == []


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_campaign_declares_the_schema_for_editors(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schema/campaign.schema.json"


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(campaign_schema())


def test_cli_validates_all_bundled_campaigns() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["validate", "--format", "json", *map(str, BUNDLED)])
    assert code == 0
    report = json.loads(out.getvalue())
    assert report["errors"] == 0 and all(f["valid"] for f in report["files"])


def test_local_plans_warn_only_where_their_deadlines_are_later() -> None:
    linyin = load("special-action-2023-linyin")
    assert [(w.path, w.severity) for w in linyin.warnings] == [
        ("$.phases[0].due", "warning"), ("$.phases[1].due", "warning")]


def test_chongming_follows_its_plan() -> None:
    campaign = load("special-action-2023-chongming").campaign
    assert campaign.extends == "special-action-2023"
    assert [p.due for p in campaign.phases] == [D(2023, 5, 20), D(2023, 6, 30), D(2023, 11, 30),
                                                 D(2023, 12, 31)]
    dispatch = next(c for c in campaign.checks if c.id == "dispatch_report")
    assert (dispatch.every, dispatch.period_due and dispatch.period_due.day) == ("month", 28)
    assert dispatch.start == D(2023, 5, 1)
    one_off = {d.date for c in campaign.checks for d in c.deadlines if d.date}
    assert {D(2023, 5, 31), D(2023, 8, 5), D(2023, 12, 20)} <= one_off
    drill = next(c for c in campaign.checks if c.id == "emergency_drill")
    assert [s.selectors for s in drill.stricter] == [("high_risk",)]  # no crowded-venue variant


def test_linyin_follows_its_plan() -> None:
    campaign = load("special-action-2023-linyin").campaign
    assert [p.due for p in campaign.phases] == [D(2023, 5, 25), D(2023, 7, 31), D(2023, 10, 31),
                                                 D(2023, 12, 31)]


def test_dispatch_form_has_every_row_of_the_seed_in_order() -> None:
    report = load("special-action-2023-chongming").campaign.reports["dispatch"]
    assert [(s.name, len(s.rows)) for s in report.sections] == [
        ("总体情况", 6), ("对企业自查自改进行抽查检查情况", 8), ("部门精准严格执法情况", 10),
        ("党委政府组织领导情况", 8)]
    names = [r.name for r in report.rows]
    assert names[0] == "企业自查发现的重大事故隐患（个）"
    assert names[5] == "挂牌督办重大事故隐患中已完成整改的（个）"
    assert names[13] == "未按规定开展应急演练、员工不熟悉逃生出口（家）"
    assert names[-1] == "组织开展考核巡查督导检查（次）"
    assert report.cumulative
    derived = {r.id: r.measure for r in report.rows if r.measure}
    assert len(derived) >= 14  # blocks 1 and 2 are derived from cases, not typed in


def test_national_plan_principal_duties() -> None:
    campaign = load("special-action-2023").campaign
    by_id = {c.id: c for c in campaign.checks}
    inspection = by_id["principal_inspection"]
    assert (inspection.every, inspection.times) == ("quarter", 1)
    assert [(s.selectors, s.every) for s in inspection.stricter] == [(("high_risk",), "month")]
    drill = by_id["emergency_drill"]
    assert drill.every == "year"
    assert {s.every for s in drill.stricter} == {"half_year"}
    assert set(campaign.selectors["high_risk"].industries) >= {
        "hazardous_chemicals", "fireworks", "construction"}


def test_hazard_lifecycle_carries_the_six_part_plan_and_signoffs() -> None:
    hazard = load("special-action-2023").campaign.cases["hazard"]
    plan = next(t for t in hazard.transitions if t.id == "plan")
    assert len(plan.requires) == 6 and "deadline" in plan.requires
    accept = next(t for t in hazard.transitions if t.signoffs)
    assert accept.target == "closed" and len(accept.signoffs) >= 3
    assert hazard.finals == {"closed"}
    clocks = {c.id: c for c in hazard.clocks}
    assert clocks["closure_report"].due.after is not None
    assert clocks["closure_report"].due.after.days == 3
    assert clocks["rectification"].due.field == "deadline"
    assert {"self_inspection", "department_inspection", "supervised"} <= set(
        hazard.fields["source"].enum)


def test_three_year_plan_year_targets() -> None:
    campaign = load("three-year-plan-2024-2026").campaign
    assert (campaign.period_start, campaign.period_end) == (D(2024, 1, 1), D(2026, 12, 31))
    bys = {t.by for t in campaign.targets}
    assert {D(2024, 12, 31), D(2025, 12, 31), D(2026, 12, 31)} <= bys
    summary = [c for c in campaign.checks if c.every == "half_year" and c.period_due
               and c.period_due.day == 10]
    assert summary, "工作总结 每年6月10日、12月10日前"


def test_show_prints_a_standalone_campaign_that_loads_the_same() -> None:
    path = ROOT / "campaigns" / "special-action-2023-chongming.yaml"
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["show", str(path)]) == 0
    text = out.getvalue().replace("extends: special-action-2023\n", "")
    alone = CampaignLoader(campaign_schema()).load(text, "shown.yaml").campaign
    original = load("special-action-2023-chongming").campaign
    assert alone.phases == original.phases
    assert alone.checks == original.checks
    assert alone.reports == original.reports


def test_the_worked_example_in_the_reference_validates_as_written() -> None:
    example = ROOT / "tests/campaigns/docs_example/town-example.yaml"
    text = example.read_text(encoding="utf-8")
    reference = (ROOT / "docs/campaign-language.md").read_text(encoding="utf-8")
    assert text.strip() in reference, "the example file and the one in the reference differ"
    loaded = loader_for([example]).load(text, example.name)
    campaign = loaded.campaign
    accept = next(t for t in campaign.cases["hazard"].transitions if t.signoffs)
    assert len(accept.signoffs) == 5
    inspection = next(c for c in campaign.checks if c.id == "principal_inspection")
    assert any(s.times == 2 and s.every == "month" for s in inspection.stricter)
    assert loaded.warnings == []


def test_the_2023_dispatch_form_pairs_its_items_and_counts_penalties_in_two_kinds() -> None:
    for name in ("special-action-2023", "special-action-2023-chongming"):
        report = load(name).campaign.reports["dispatch"]
        assert (report.layout, report.period) == ("pairs", "month")
        penalties = next(r for r in report.rows if r.id == "penalties")
        assert [(f.name, f.unit, f.manual) for f in penalties.values] == [
            ("次", "次", "integer"), ("万元", "万元", "number")]


def test_three_year_plan_compares_the_2025_increment_with_2024() -> None:
    campaign = load("three-year-plan-2024-2026").campaign
    down = next(t for t in campaign.targets if t.id == "increment_down")
    assert (down.by, down.compare_op, down.goal_max, down.goal_min) == (
        D(2025, 12, 31), "lt", None, None)
    assert down.measure.where and down.compare and down.compare.where
    assert down.measure.where["all"][0] == {"found_on": {"gte": "2025-01-01"}}
    assert down.compare.where["all"][0] == {"found_on": {"gte": "2024-01-01"}}
