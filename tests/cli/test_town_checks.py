"""A town plan's checks through `paicha timeline` and `paicha simulate`: a duty of several
roles (各社区和各有关部门), a weekly 周统计 due on Mondays, and a drill done once in a phase
(高危 units every half year). Dates worked out by hand from the 2024 calendar."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from paicha.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"
PLAN, ORGS, UNITS = (str(DATA / n) for n in ("town-2024.yaml", "town-orgs.csv",
                                             "town-units.csv"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_the_plan_validates_without_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", PLAN]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "0 warning(s)" in captured.err


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
