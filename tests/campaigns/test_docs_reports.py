"""Every YAML example of the reference's sections on reports and targets validates as written,
laid over the bundled campaign it is taken from (a report's over the 2023 special action, a
target's over the three-year plan), and builds what the text says it does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.loader import Loaded
from paicha.files import loader_for

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs/campaign-language.md").read_text(encoding="utf-8")
_PART = REFERENCE[REFERENCE.index("\n## 11. Reports"):REFERENCE.index("\n## 13. Extends")]
EXAMPLES = re.findall(r"^```yaml\n(.*?)^```", _PART, re.MULTILINE | re.DOTALL)


def heading_of(example: str) -> str:
    before = _PART[:_PART.index(example)]
    return re.findall(r"^##+ (.*)$", before, re.MULTILINE)[-1]


def laid_over_its_parent(example: str) -> Loaded:
    """The example as a child of the bundled campaign its ids come from (the three-year plan
    has the targets and the half-yearly 工作总结; the 2023 special action the rest)."""
    three_year = "targets:" in example or "work_summary:" in example
    parent = "three-year-plan-2024-2026" if three_year else "special-action-2023"
    text = f"paicha: 1\nid: docs-example\ntitle: 示例\nextends: {parent}\n{example}"
    return loader_for([]).load(text, "docs-example.yaml")


def test_the_new_forms_have_examples() -> None:
    headings = {heading_of(e) for e in EXAMPLES}
    for section in ("11.2", "11.3", "11.4", "11.5", "11.6", "12.1", "12.2", "12.3"):
        assert any(h.startswith(section) for h in headings), section


@pytest.mark.parametrize("example", EXAMPLES, ids=heading_of)
def test_every_example_validates_over_its_campaign(example: str) -> None:
    loaded = laid_over_its_parent(example)
    assert [str(w) for w in loaded.warnings] == []


def example_under(section: str, index: int = 0) -> Loaded:
    found = [e for e in EXAMPLES if heading_of(e).startswith(section)]
    return laid_over_its_parent(found[index])


def test_the_figures_example_counts_and_sums_penalties() -> None:
    dispatch = example_under("11.2").campaign.reports["dispatch"]
    penalties = next(r for r in dispatch.rows if r.id == "penalties")
    assert [(f.name, f.measure and f.measure.kind) for f in penalties.values] == [
        ("次", "count"), ("万元", "sum")]
    typical = next(r for r in dispatch.rows if r.id == "typical_cases")
    assert [f.manual for f in typical.values] == ["integer", "integer"]


def test_the_attribute_and_within_examples() -> None:
    found = next(r for r in example_under("11.3").campaign.reports["dispatch"].rows
                 if r.id == "dept_found")
    assert found.measure and found.measure.attribute == "finder"
    rows = {r.id: r for r in example_under("11.4").campaign.reports["dispatch"].rows}
    assert {rows[k].measure.within for k in ("found_this_month", "missed_this_month")
            if rows[k].measure} == {"period"}


def test_the_period_layout_and_variant_examples() -> None:
    reports = example_under("11.5").campaign.reports
    assert (reports["work_summary"].period, reports["dispatch"].layout) == ("half_year", "pairs")
    dispatch = example_under("11.6").campaign.reports["dispatch"]
    form = dispatch.form_for("department")
    assert form.name.endswith("（部门填报）")
    assert [s.name for s in form.sections] == ["总体情况", "其它情况"]
    assert dispatch.form_for("community").sections == dispatch.sections


def test_the_target_examples() -> None:
    rate = next(t for t in example_under("12.1").campaign.targets if t.id == "grading_rate")
    assert (rate.per is not None, rate.goal_min) == (True, 95)
    down = next(t for t in example_under("12.2").campaign.targets if t.id == "increment_down")
    assert down.compare_op == "lt" and down.compare is not None
    cleared = next(t for t in example_under("12.3").campaign.targets if t.id == "stock_cleared")
    assert cleared.warn_days == 90
