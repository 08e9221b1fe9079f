"""The calendar on the command line: a year-end 销号 whose clock runs into a year nobody
covers is simulated provisionally (it was refused), `--calendar FILE` makes it exact, and
`paicha calendar check` names every problem of a calendar file with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from paicha.cli import main

# what these tests read is the Chinese a person gets by default
pytestmark = pytest.mark.usefixtures("chinese")

ROOT = Path(__file__).resolve().parents[2]
PLAN_2024 = str(ROOT / "campaigns/three-year-plan-2024-2026.yaml")
CALENDARS = ROOT / "tests/data/calendars"
HAZARD = ("{source: self_inspection, grade: major, industry: hazardous_chemicals, "
          "found_on: 2026-11-02, description: 储罐区报警失效}")
PLAN = ("{plan_goal: a, plan_measures: b, plan_funds: c, plan_organization: d, "
        "deadline: 2026-12-20, plan_emergency: e}")
DONE = "{rectified_on: 2026-12-18, rectification_report: 已更换}"
# 销号 on Wednesday 2026-12-30: the last of the four signatures (each signer gives an opinion)
# closes the hazard, and the
# 3-day closure clock lands on Saturday 2027-01-02
EVENTS = f"""\
events:
  - {{at: 2026-11-02 10:00, case: h1, open: hazard, as: principal, data: {HAZARD}}}
  - {{at: 2026-11-03, case: h1, fire: plan, as: principal, data: {PLAN}}}
  - {{at: 2026-12-18, case: h1, fire: submit, as: principal, data: {DONE}}}
  - {{at: 2026-12-29, case: h1, fire: accept, as: acceptance_team,
     data: {{acceptance_opinion: 合格}}}}
  - {{at: 2026-12-29 11:00, case: h1, fire: accept, as: community,
     data: {{acceptance_opinion: 合格}}}}
  - {{at: 2026-12-30 09:30, case: h1, fire: accept, as: regulator,
     data: {{acceptance_opinion: 合格}}}}
  - {{at: 2026-12-30 10:00, case: h1, fire: accept, as: government,
     data: {{acceptance_opinion: 同意销号}}}}
"""


Capsys = pytest.CaptureFixture[str]


def _simulate(tmp_path: Path, capsys: Capsys, *extra: str) -> tuple[int, list[str], str]:
    events = tmp_path / "events.yaml"
    events.write_text(EVENTS, encoding="utf-8")
    code = main(["simulate", PLAN_2024, "--events", str(events), "--from", "2026-11-01",
                 "--to", "2026-12-31", *extra])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_the_year_end_closure_clock_is_simulated_provisionally(tmp_path: Path,
                                                               capsys: Capsys) -> None:
    code, out, err = _simulate(tmp_path, capsys)
    assert code == 0, err
    started = [line for line in out if "clock_started" in line and "销号后3日内" in line]
    assert len(started) == 1, out
    # by the weekend rule Saturday 2027-01-02 rolls to Monday 2027-01-04, marked 暂定
    assert started[0].startswith("2026-12-30 周三 10:00")
    assert "期限2027-01-04（暂定：2027年法定节假日安排尚未录入" in started[0]


def test_with_the_year_s_calendar_file_the_closure_clock_is_exact(tmp_path: Path,
                                                                  capsys: Capsys) -> None:
    code, out, err = _simulate(tmp_path, capsys, "--calendar", str(CALENDARS / "2027-test.yaml"))
    assert code == 0, err
    started = next(line for line in out if "clock_started" in line and "销号后3日内" in line)
    assert "期限2027-01-04" in started and "暂定" not in started


def test_calendar_check_names_every_problem_with_its_line(capsys: Capsys) -> None:
    broken = CALENDARS / "2027-broken.yaml"
    assert main(["calendar", "check", str(broken)]) == 1
    err = capsys.readouterr().err
    found = [(line.split("  ")[0].rsplit(":", 2)[1], line.split("  ")[1])
             for line in err.splitlines() if line.strip()]
    assert found == [
        ("3", "$.source.date"),
        ("6", "$.holidays[1].to"),
        ("7", "$.holidays[2].to"),
        ("8", "$.holidays[3]"),
        ("9", "$.holidays[4].name"),
        ("9", "$.holidays[4].days"),
        ("10", "$.workdays[0]"),
        ("10", "$.workdays[1]"),
        ("10", "$.workdays[3]"),
        ("10", "$.workdays[4]"),
        ("10", "$.workdays[5]"),
    ]
    assert "2027-01-02既是工作日，又属于元旦" in err
    assert "2027-02-15是周一" in err


def test_calendar_check_accepts_a_well_formed_file(capsys: Capsys) -> None:
    assert main(["calendar", "check", str(CALENDARS / "2027-test.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2027：7 个节假日，放假 32 天，调休上班 6 天")
