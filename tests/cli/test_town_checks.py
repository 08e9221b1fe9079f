"""A town plan's checks through `paicha timeline` and `paicha simulate`: a duty of several
roles (各社区和各有关部门), a weekly 周统计 due on Mondays, and a drill done once in a phase
(高危 units every half year). Dates worked out by hand from the 2024 calendar."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from paicha.cli import main

# what these tests read is the Chinese a person gets by default
pytestmark = pytest.mark.usefixtures("chinese")

DATA = Path(__file__).resolve().parents[1] / "data"
PLAN, ORGS, UNITS = (str(DATA / n) for n in ("town-2024.yaml", "town-orgs.csv",
                                             "town-units.csv"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_the_plan_validates_without_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", PLAN]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "0 个警告" in captured.err


def test_timeline_shows_each_community_and_department_every_monday(
        capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(run(
        capsys, "timeline", PLAN, "--units", UNITS, "--orgs", ORGS, "--csv"))))
    weekly = [(r["due"], r["weekday"], r["subject_id"], r["period"], r["role_name"])
              for r in rows if r["item"] == "weekly_statistics"]
    both = "社区安委会、街道行业领域部门"
    assert weekly == [
        (day, "周一", org, week, both)
        for day, week in (("2024-05-13", "2024-W19"), ("2024-05-20", "2024-W20"),
                          ("2024-05-27", "2024-W21"), ("2024-06-03", "2024-W22"))
        for org in ("c1", "d1")]  # the street (s1) is neither a community nor a department


def test_timeline_shows_one_drill_in_the_phase_and_half_yearly_ones_for_high_risk(
        capsys: pytest.CaptureFixture[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(run(
        capsys, "timeline", PLAN, "--units", UNITS, "--orgs", ORGS, "--csv"))))
    drills = [(r["subject_id"], r["period"], r["period_first"], r["period_last"], r["due"],
               r["variant"]) for r in rows if r["item"] == "evacuation_drill"]
    assert drills == [
        # 2024-06-30 is a Sunday: H1's drill rolls to Monday 07-01
        ("u-chem", "2024H1", "2024-01-01", "2024-06-30", "2024-07-01", "stricter: high_risk"),
        # once in 排查整治: from the day after 动员部署 (03-31) to the phase end
        ("u-shop", "once", "2024-04-01", "2024-09-30", "2024-09-30", ""),
        ("u-chem", "2024H2", "2024-07-01", "2024-12-31", "2024-12-31", "stricter: high_risk"),
    ]


def test_simulate_reminds_both_roles_the_working_day_before_each_monday(
        capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "simulate", PLAN, "--units", UNITS, "--orgs", ORGS,
              "--from", "2024-05-01", "--to", "2024-05-31")
    reminders = [line.split("  ")[0] for line in out.splitlines()
                 if "check_reminder" in line and " c1 " in f" {line} "]
    # -1d before Monday is Sunday, a rest day: the reminder goes out the working day before;
    # 2024-05-11 is a Saturday worked in exchange for 劳动节
    assert reminders == ["2024-05-11 周六 09:00", "2024-05-17 周五 09:00",
                         "2024-05-24 周五 09:00", "2024-05-31 周五 09:00"]
    assert all(line.endswith("→ 社区安委会、街道行业领域部门") for line in out.splitlines()
               if "check_reminder" in line)


def test_simulate_closes_each_major_hazard_after_the_signatures_its_unit_needs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    units = tmp_path / "units.csv"
    units.write_text("id,name,org,industry,tags\n"
                     "u-city,市直管化工厂,c1,危险化学品,市直部门直管企业\n"
                     "u-chem,化工厂,c1,hazardous_chemicals,\n", encoding="utf-8")

    def hazard(case: str, unit: str, signers: tuple[str, ...]) -> list[str]:
        lines = [f"  - {{at: 2024-05-06 10:00, case: {case}, open: hazard, as: principal, "
                 f"unit: {unit}, data: {{grade: major, description: 报警失效, "
                 "found_on: 2024-05-06}}",
                 f"  - {{at: 2024-05-07, case: {case}, fire: start, as: principal}}",
                 f"  - {{at: 2024-05-20, case: {case}, fire: submit, as: principal, "
                 "data: {rectified_on: 2024-05-20}}"]
        return lines + [f"  - {{at: 2024-05-21 1{hour}:00, case: {case}, fire: accept, "
                        f"as: {role}, data: {{opinion: 同意}}}}"
                        for hour, role in enumerate(signers)]

    script = tmp_path / "events.yaml"
    script.write_text("\n".join([
        "events:",
        *hazard("city", "u-city", ("acceptance_team", "locality", "city_regulator")),
        *hazard("county", "u-chem", ("acceptance_team", "locality", "district_regulator",
                                     "district_government", "city_regulator")),
    ]) + "\n", encoding="utf-8")
    out = run(capsys, "simulate", PLAN, "--units", str(units), "--orgs", ORGS,
              "--events", str(script), "--from", "2024-05-06", "--to", "2024-05-31",
              "--no-reports").splitlines()
    assert not [line for line in out if "refused" in line], out
    closed = [line.split()[:5] for line in out if " fired " in line and "验收销号：" in line]
    # the city-managed plant's sheet needs no district box: closed at the third signature
    assert closed == [["2024-05-21", "周二", "12:00", "fired", "city"],
                      ["2024-05-21", "周二", "14:00", "fired", "county"]], out
    # 此表隐患销号后3日内报区安委会办公室: due 05-24, reminded that day
    assert sum("整改台账销号后3日内报区安委会办公室" in line and "开始计时" in line
               for line in out) == 2
