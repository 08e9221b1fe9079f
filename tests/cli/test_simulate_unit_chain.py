"""`paicha simulate` of a district plan whose 整改台账 chain depends on the unit: the events
file names each case's unit, the units file carries its tags, and the dry run closes a
市直部门直管企业's hazard after three signatures, a county-managed plant's after five."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from paicha.cli import main

# what these tests read is the Chinese a person gets by default
pytestmark = pytest.mark.usefixtures("chinese")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "tests/campaigns/docs_example/city-managed-example.yaml")
UNITS = """\
id,name,org,industry,tags
u-city,市直管化工有限公司,cm-community,hazardous_chemicals,city_managed
u-county,县管化工有限公司,cm-community,hazardous_chemicals,
"""
REGISTRATION = ("data: {source: self_inspection, grade: major, industry: hazardous_chemicals, "
                "found_on: 2023-05-30, description: 报警失效}")
PLAN = ("data: {goals_and_tasks: a, measures: b, funds_and_materials: c, responsible: d, "
        "deadline: 2023-06-20, safety_measures: e}")


def events(case: str, unit: str, signers: tuple[str, ...]) -> list[str]:
    lines = [f"  - {{at: 2023-06-01 10:00, case: {case}, open: hazard, as: principal, "
             f"unit: {unit}, {REGISTRATION}}}",
             f"  - {{at: 2023-06-02, case: {case}, fire: plan, as: principal, {PLAN}}}",
             f"  - {{at: 2023-06-05, case: {case}, fire: submit, as: principal, "
             "data: {rectified_on: 2023-06-05, rectification_result: 已整改}}"]
    lines += [f"  - {{at: 2023-06-06 1{hour}:00, case: {case}, fire: accept, as: {role}, "
              f"data: {{opinion: {role}同意}}}}" for hour, role in enumerate(signers)]
    return lines


def test_the_dry_run_closes_each_hazard_after_the_signatures_its_unit_needs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    units = tmp_path / "units.csv"
    units.write_text(UNITS, encoding="utf-8")
    script = tmp_path / "events.yaml"
    script.write_text("\n".join([
        "events:",
        *events("city", "u-city", ("acceptance_team", "locality", "city_regulator")),
        *events("county", "u-county", ("acceptance_team", "locality", "regulator",
                                       "government", "city_regulator")),
    ]) + "\n", encoding="utf-8")
    code = main(["simulate", EXAMPLE, "--units", str(units), "--events", str(script),
                 "--from", "2023-06-01", "--to", "2023-06-12", "--no-reports"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    closed = [line.split()[:5] for line in out if " fired " in line and "验收销号：" in line]
    assert closed == [["2023-06-06", "周二", "12:00", "fired", "city"],
                      ["2023-06-06", "周二", "14:00", "fired", "county"]], out
    signed = Counter(line.split()[4] for line in out if " signed " in line)
    assert signed == {"city": 2, "county": 4}
    assert not [line for line in out if "refused" in line]
    # the ledger is due 3 days after 销号 for the major hazards
    assert sum("整改台账销号后3日内报区安委办开始计时" in line for line in out) == 2
