"""`paicha simulate` and `paicha diagram` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from paicha.cli import main

# what these tests read is the Chinese a person gets by default
pytestmark = pytest.mark.usefixtures("chinese")

ROOT = Path(__file__).resolve().parents[2]
CHONGMING = str(ROOT / "campaigns/special-action-2023-chongming.yaml")
EVENTS = """\
events:
  - {at: 2023-06-01 10:00, case: h1, open: hazard, as: principal,
     data: {source: self_inspection, grade: major, industry: hazardous_chemicals,
            found_on: 2023-05-30, description: 报警失效}}
  - {at: 2023-06-02, case: h1, fire: plan, as: principal,
     data: {goals_and_tasks: a, measures: b, funds_and_materials: c, responsible: d,
            deadline: 2023-06-20, safety_measures: e}}
  - {at: 2023-06-03, case: h1, fire: accept, as: regulator}
"""


def test_simulate_prints_reminders_escalation_and_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(EVENTS, encoding="utf-8")
    code = main(["simulate", CHONGMING, "--events", str(events),
                 "--units", str(ROOT / "tests/data/units.csv"),
                 "--orgs", str(ROOT / "tests/data/orgs.csv"),
                 "--from", "2023-06-01", "--to", "2023-06-30"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert any(line.startswith("2023-06-13 周二 09:00  remind") for line in out)
    assert any("auto_fired" in line and "挂牌督办" in line for line in out)
    refused = next(line for line in out if "refused" in line)
    assert refused.startswith("2023-06-03 周六 09:00")
    # the transitions and states by their names: one language a line
    assert ("整改中状态下不能办理验收销号；当前可办理：挂牌督办、整改完成申请验收、调整隐患等级"
            in refused)
    assert any("fired" in line and "制定治理方案：已登记 → 整改中" in line for line in out)
    assert any("auto_fired" in line and "自动挂牌督办：整改中 → 挂牌督办" in line for line in out)
    assert not any(word in line for line in out for word in ("reported", "rectifying", "left "))
    assert any("2023-06-28 周三 09:00  check_due" in line and "调度表" in line for line in out)


def test_simulate_speaks_english_on_request_with_the_campaigns_own_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(EVENTS, encoding="utf-8")
    code = main(["--lang", "en", "simulate", CHONGMING, "--events", str(events),
                 "--from", "2023-06-01", "--to", "2023-06-22"])
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert code == 0
    assert "2023-06-02 Fri 09:00  fired           h1  制定治理方案: 已登记 → 整改中" in out[
        next(i for i, line in enumerate(out) if " fired " in line)]
    assert any("clock_started" in line and "整改期限 started, due 2023-06-20" in line
               for line in out)
    assert any("验收销号 is not allowed in state 整改中; allowed now: 挂牌督办, " in line
               for line in out)
    assert any("automatic 挂牌督办: 整改中 → 挂牌督办" in line for line in out)
    assert "happening(s) from 2023-06-01 to 2023-06-22" in captured.err


@pytest.mark.parametrize(("lang", "expected"), [
    ("zh", ["2023-06-10 周六 09:00  refused         h1  整改完成申请验收须填写：整改完成日期、",
            "2023-06-11 周日 09:00  fired           h1  整改完成申请验收：整改中 → 待验收",
            "2023-06-11 周日 09:00  clock_stopped   h1  整改期限停止计时（离开整改中）"]),
    ("en", ["2023-06-10 Sat 09:00  refused         h1  整改完成申请验收 requires 整改完成日期, ",
            "2023-06-11 Sun 09:00  fired           h1  整改完成申请验收: 整改中 → 待验收",
            "2023-06-11 Sun 09:00  clock_stopped   h1  整改期限 stopped (left 整改中)"]),
])
def test_a_missing_field_and_a_stopped_clock_are_said_by_their_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str, expected: list[str]
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(EVENTS + """\
  - {at: 2023-06-10, case: h1, fire: submit, as: principal}
  - {at: 2023-06-11, case: h1, fire: submit, as: principal,
     data: {rectified_on: 2023-06-11, rectification_result: 已更换报警器}}
""", encoding="utf-8")
    assert main(["--lang", lang, "simulate", CHONGMING, "--events", str(events),
                 "--from", "2023-06-01", "--to", "2023-06-11"]) == 0
    out = capsys.readouterr().out.splitlines()
    for start in expected:
        assert any(line.startswith(start) for line in out), (start, out)


def test_simulate_names_the_line_of_a_bad_event(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text("events:\n  - {at: 2023-06-01, case: h1, open: hazrd, as: principal}\n",
                      encoding="utf-8")
    assert main(["simulate", CHONGMING, "--events", str(events)]) == 1
    err = capsys.readouterr().err
    assert "events.yaml:2:" in err and "未知的案件类型 'hazrd'" in err


def test_diagram_prints_a_mermaid_lifecycle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", CHONGMING, "--case", "hazard"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("stateDiagram-v2\n")
    assert "[*] --> reported" in out and "closed --> [*]" in out
    assert "验收组 → " in out  # the ordered sign-off chain


def test_diagram_suggests_a_known_case_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", CHONGMING, "--case", "hazrd"]) == 2
    assert "是否应为 'hazard'？" in capsys.readouterr().err


def test_simulate_prints_each_report_due_filled_from_the_simulated_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(EVENTS, encoding="utf-8")
    args = ["simulate", CHONGMING, "--events", str(events),
            "--orgs", str(ROOT / "tests/data/orgs.csv"), "--from", "2023-06-01",
            "--to", "2023-06-30"]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    due = [i for i, line in enumerate(out) if "report_due" in line]
    assert len(due) == 1 and out[due[0]].startswith("2023-06-28 周三 23:59")
    form = out[due[0] + 1:]
    assert form[0].strip().endswith("调度表") and "截至：2023-06-28" in form[1]
    # h1 (major, self-found, opened 06-01) is counted; put under supervision by the clock on
    # 06-21 without a 督办文书, it is not counted as 挂牌督办 by the row's rule
    assert any("企业自查发现的重大事故隐患（个）：1" in line for line in form)
    assert any("政府挂牌督办的重大事故隐患（个）：0" in line for line in form)
    assert main([*args, "--no-reports"]) == 0
    quiet = capsys.readouterr().out.splitlines()
    assert any("report_due" in line for line in quiet)
    assert not any("企业自查发现的重大事故隐患" in line for line in quiet)


def test_an_unknown_key_in_the_events_file_is_an_error_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text("events:\n"
                      "  - {at: 2023-06-01, case: h1, open: hazard, as: principal,\n"
                      "     uint: u-chem, foo: 1}\n"
                      "evnets: []\n", encoding="utf-8")
    assert main(["simulate", CHONGMING, "--events", str(events),
                 "--units", str(ROOT / "tests/data/units.csv")]) == 1
    err = capsys.readouterr().err
    assert "events.yaml:3:" in err and "事件中有未知的键 'uint'" in err
    assert "是否应为 'unit'？" in err
    assert "事件中有未知的键 'foo'" in err and "可用：at, case" in err
    assert "events.yaml:4:" in err and "未知的键 'evnets'" in err


def test_the_unit_of_a_case_must_be_one_of_the_units_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(EVENTS.replace("case: h1, open: hazard,",
                                     "case: h1, unit: u-chem-9, open: hazard,"),
                      encoding="utf-8")
    assert main(["simulate", CHONGMING, "--events", str(events),
                 "--units", str(ROOT / "tests/data/units.csv")]) == 1
    err = capsys.readouterr().err
    assert "events.yaml:2:" in err and "未知的单位 'u-chem-9'" in err
    assert main(["simulate", CHONGMING, "--events", str(events)]) == 1
    assert "请用 --units CSV 提供单位" in capsys.readouterr().err
    events.write_text(EVENTS.replace("case: h1, fire: accept,", "case: h1, unit: u-chem, "
                                     "fire: accept,"), encoding="utf-8")
    assert main(["simulate", CHONGMING, "--events", str(events),
                 "--units", str(ROOT / "tests/data/units.csv")]) == 1
    err = capsys.readouterr().err
    assert "events.yaml:8:" in err and "`unit:` 应写在登记案件的事件中" in err


def test_a_case_names_its_unit_and_counts_for_it_in_the_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.yaml"
    unit = next(line.split(",")[0] for line in
                (ROOT / "tests/data/units.csv").read_text(encoding="utf-8").splitlines()[1:])
    events.write_text(EVENTS.replace("case: h1, open: hazard,",
                                     f"case: h1, unit: {unit}, open: hazard,"),
                      encoding="utf-8")
    assert main(["simulate", CHONGMING, "--events", str(events),
                 "--units", str(ROOT / "tests/data/units.csv"),
                 "--orgs", str(ROOT / "tests/data/orgs.csv"),
                 "--from", "2023-06-01", "--to", "2023-06-30"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any("企业自查发现的重大事故隐患（个）：1" in line for line in out)


def test_a_case_opened_after_the_campaign_ended_is_refused_unless_found_in_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.yaml"
    late = EVENTS.split("  - {at: 2023-06-02")[0]
    events.write_text(
        late.replace("2023-06-01 10:00, case: h1", "2024-01-05 10:00, case: h1")
        .replace("found_on: 2023-05-30", "found_on: 2024-01-04")
        + late.replace("2023-06-01 10:00, case: h1", "2024-01-05 11:00, case: h2")
        .replace("events:\n", "")
        + "  - {at: 2024-01-05 12:00, case: h3, open: hazard, as: principal, "
          "found_on: 2023-12-20,\n"
          "     data: {source: self_inspection, grade: major, industry: hazardous_chemicals,\n"
          "            description: 年底发现、年初补录}}\n", encoding="utf-8")
    assert main(["simulate", CHONGMING, "--events", str(events),
                 "--from", "2024-01-05", "--to", "2024-01-05"]) == 0
    out = capsys.readouterr().out.splitlines()
    h1 = next(line for line in out if " h1 " in line)
    assert "refused" in h1 and "已于2023-12-31结束" in h1
    assert any(" h2 " in line and "opened" in line for line in out)  # found 2023-05-30
    assert any(" h3 " in line and "opened" in line for line in out)  # found_on: 2023-12-20
