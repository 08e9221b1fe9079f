"""The pure side of reports and targets: a form's figures and their keys, periods, manual
figures checked by type, the roll-up of manual figures, and a target's status at any date."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import reports as core
from engine import targets
from engine.errors import InputInvalid
from engine.model import Figure, Measure, Report, Row, Section, Target, Variant

COUNT = Measure("count", case="hazard", where={"grade": "major"})
FORM = Report("dispatch", "调度表", (
    Section("overall", "总体情况", (
        Row("found", "发现", measure=COUNT),
        Row("penalties", "行政处罚（次，万元）", figures=(
            Figure("次", manual="integer"), Figure("万元", manual="number"))),
    )),
    Section("other", "其它情况", (
        Row("media", "是否播放专题栏目", manual="boolean"),
        Row("study", "专题学习（次）", manual="integer", parts=("区", "乡镇")),
        Row("note", "说明", manual="text"),
    )),
), variants=(Variant(("department",), "部门调度表", (
    Section("overall", "总体情况", (Row("found", "部门发现", measure=COUNT),)),)),))


def test_slots_key_every_figure_of_the_form_in_order() -> None:
    assert [s.key for s in core.slots(FORM)] == [
        "found", "penalties.1", "penalties.2", "media", "study.1", "study.2", "note"]
    assert core.measured(FORM) == [("found", COUNT)]


def test_a_variant_is_chosen_by_the_org_level() -> None:
    assert FORM.form_for("department").name == "部门调度表"
    assert [s.key for s in core.slots(FORM.form_for("department"))] == ["found"]
    assert FORM.form_for("community") is FORM
    assert FORM.form_for(None) is FORM


def test_the_filled_form_numbers_items_per_section() -> None:
    from engine.model import Campaign
    campaign = Campaign("c", "行动", dt.date(2023, 1, 1), dt.date(2023, 12, 31),
                        reports={"dispatch": FORM})
    filled = core.fill(campaign, FORM, {"found": 3, "penalties.2": 1.5}, org_id="o",
                       org_name="街道", as_of=dt.date(2023, 6, 30))
    assert [[r.number for r in s.rows] for s in filled.sections] == [[1, 2], [1, 2, 3]]
    assert filled.sections[0].rows[1].values == (None, 1.5)
    assert filled.period.label == "2023-06"


@pytest.mark.parametrize(("kind", "label", "first", "last"), [
    ("month", "2023-05", "2023-05-01", "2023-05-31"),
    ("quarter", "2024Q2", "2024-04-01", "2024-06-30"),
    ("half_year", "2024H2", "2024-07-01", "2024-12-31"),
    ("year", "2024", "2024-01-01", "2024-12-31"),
])
def test_periods_are_the_obligations_periods(kind: str, label: str, first: str,
                                             last: str) -> None:
    found = core.parse_period(kind, label)  # type: ignore[arg-type]
    assert (found.first.isoformat(), found.last.isoformat()) == (first, last)
    assert core.period_of(kind, found.last).label == label  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "label"), [
    ("month", "2023-13"), ("month", "2023-5"), ("month", "2023Q2"), ("quarter", "2023Q5"),
    ("quarter", "2023-Q2"), ("half_year", "2023H3"), ("year", "23"), ("month", "x"),
    ("month", "9999-01")])
def test_a_period_not_written_as_given_out_is_refused(kind: str, label: str) -> None:
    with pytest.raises(InputInvalid) as refused:
        core.parse_period(kind, label)  # type: ignore[arg-type]
    assert refused.value.code == "bad_period"


def test_manual_figures_are_checked_by_type() -> None:
    ok = core.manual_values(FORM, {"penalties.1": 3, "penalties.2": 12.5, "media": True,
                                   "study.2": 0, "note": "按月报送"})
    assert ok["penalties.2"] == 12.5
    refusals = [({"penalties.1": 2.5}, "bad_figure"), ({"penalties.1": True}, "bad_figure"),
                ({"penalties.1": -1}, "bad_figure"), ({"penalties.2": float("nan")},
                                                      "bad_figure"),
                ({"media": 1}, "bad_figure"), ({"note": 5}, "bad_figure"),
                ({"note": "x" * 4001}, "bad_figure"), ({"found": 1}, "computed_figure"),
                ({"penalties": 1}, "unknown_figure")]
    for entered, code in refusals:
        with pytest.raises(InputInvalid) as refused:
            core.manual_values(FORM, entered)
        assert refused.value.code == code, entered


def test_manual_figures_add_up_the_tree() -> None:
    assert core.add_values(None, 2) == 2
    assert core.add_values(1.5, 2) == 3.5
    assert core.add_values(False, True) is True
    assert core.add_values("a", "b") is None  # text is the parent's own to write
    assert core.add_values(None, "a") is None


BY = dt.date(2024, 12, 31)
STOCK = Target("stock", "存量清零", BY, COUNT, goal_max=0)
RATE = Target("rate", "纳管率", BY, COUNT, goal_min=95, per=Measure("count_units", case="x"))
FEWER = Target("fewer", "2025年少于2024年", BY, COUNT, compare=COUNT, compare_op="lt")


def test_a_target_met_by_its_date_stays_met() -> None:
    zero, three = targets.Reading(0), targets.Reading(3)
    before = dt.date(2024, 10, 1)
    assert targets.status(STOCK, before, three, None)[0] == "on_track"  # 91 days left
    assert targets.status(STOCK, dt.date(2024, 12, 1), three, None)[0] == "at_risk"
    assert targets.status(STOCK, dt.date(2024, 12, 1), zero, None)[0] == "on_track"
    # on and after the date, the figure at the date decides, whatever came later
    assert targets.status(STOCK, BY, zero, zero)[0] == "met"
    assert targets.status(STOCK, dt.date(2025, 3, 1), three, zero)[0] == "met"
    assert targets.status(STOCK, BY, three, three)[0] == "missed"
    assert targets.status(STOCK, dt.date(2025, 3, 1), zero, three)[0] == "missed"


def test_a_percentage_target() -> None:
    assert targets.value(RATE, targets.Reading(19, per=20)) == 95.0
    assert targets.holds(RATE, targets.Reading(19, per=20))
    assert not targets.holds(RATE, targets.Reading(18, per=20))
    assert targets.value(RATE, targets.Reading(0, per=0)) is None  # nothing to divide by
    assert targets.status(RATE, BY, targets.Reading(0), targets.Reading(18, per=20)) == (
        "missed", "goal not held on 2024-12-31")
    assert targets.goal_text(RATE) == "≥ 95%"


def test_a_comparison_target() -> None:
    assert targets.holds(FEWER, targets.Reading(3, compared=5))
    assert not targets.holds(FEWER, targets.Reading(5, compared=5))
    assert not targets.holds(FEWER, targets.Reading(3))  # nothing to compare with
