"""`paicha timeline`: table and CSV output, date filters, and errors in the units/orgs files."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from paicha.cli import main

# what these tests read is the Chinese a person gets by default
pytestmark = pytest.mark.usefixtures("chinese")

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CHONGMING = str(ROOT / "campaigns" / "special-action-2023-chongming.yaml")
THREE_YEAR = str(ROOT / "campaigns" / "three-year-plan-2024-2026.yaml")
UNITS = str(DATA / "units.csv")
ORGS = str(DATA / "orgs.csv")

Run = Callable[..., tuple[int, str, str]]
Write = Callable[[str, str], str]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["timeline", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def english(chinese: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command in English (PAICHA_LANG), for the tests that read the rows' problems as the
    English catalogue words them (after the module's Chinese)."""
    monkeypatch.setenv("PAICHA_LANG", "en")


@pytest.fixture
def write(tmp_path: Path) -> Write:
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def csv_rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def test_csv_lists_phases_and_obligations_sorted_by_date_then_subject(run: Run) -> None:
    code, out, err = run(CHONGMING, "--units", UNITS, "--orgs", ORGS, "--csv")
    assert code == 0, err
    rows = csv_rows(out)
    assert out.splitlines()[0].startswith("due,weekday,kind,subject_kind,subject_id,subject,")
    keys = [(r["due"], r["kind"] != "phase", r["subject_kind"] != "org", r["subject_id"])
            for r in rows]  # fmt: skip
    assert keys == sorted(keys)
    first = rows[0]
    assert (first["due"], first["weekday"], first["kind"], first["item_name"]) == (
        "2023-05-22", "周一", "phase", "动员部署")  # fmt: skip
    assert first["note"] == "阶段截止；由2023-05-20顺延（休息日）"
    # the town's 调度表 for October: 10-28 is a Saturday
    october = next(r for r in rows if r["item"] == "dispatch_report" and r["period"] == "2023-10")
    assert (october["due"], october["subject"], october["nominal_due"]) == (
        "2023-10-30", "城桥镇", "2023-10-28")  # fmt: skip
    assert october["note"] == "由2023-10-28顺延（休息日）"
    # the chemicals plant inspects monthly; the mall and the shop quarterly
    inspections = [r for r in rows if r["item"] == "principal_inspection"]
    by_unit = {u: [r for r in inspections if r["subject_id"] == u]
               for u in ("u-chem", "u-mall", "u-shop")}  # fmt: skip
    assert [len(v) for v in by_unit.values()] == [8, 3, 3]
    assert {r["variant"] for r in by_unit["u-chem"]} == {"stricter: high_risk"}
    september = next(r for r in by_unit["u-chem"] if r["period"] == "2023-09")
    assert (september["due"], september["weekday"]) == ("2023-10-07", "周六")  # make-up day
    assert "4个阶段" in err


def test_table_is_aligned_with_chinese_weekdays(run: Run) -> None:
    code, out, _ = run(CHONGMING, "--units", UNITS, "--orgs", ORGS)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["期限", "星期", "对象", "角色", "检查任务", "周期", "备注"]
    assert lines[1].startswith("2023-05-22  周一  —")
    row = next(line for line in lines if "2023-10" in line and "城桥镇" in line)
    assert "由2023-10-28顺延（休息日）" in row
    assert any("stricter: high_risk" in line for line in lines)


@pytest.mark.parametrize("how", ["--lang", "PAICHA_LANG"])
def test_the_notes_and_weekdays_read_in_english_on_request(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "PAICHA_LANG":
        monkeypatch.setenv("PAICHA_LANG", "en_US.UTF-8")
    lang = ["--lang", "en"] if how == "--lang" else []
    assert main([*lang, "timeline", CHONGMING, "--units", UNITS, "--orgs", ORGS, "--csv"]) == 0
    rows = csv_rows(capsys.readouterr().out)
    assert (rows[0]["weekday"], rows[0]["note"]) == (
        "Mon", "phase ends; rolled from 2023-05-20 (rest day)")
    # the campaign's own names stay as the campaign wrote them
    assert rows[0]["item_name"] == "动员部署"
    monkeypatch.delenv("PAICHA_LANG", raising=False)
    # and the next command, told nothing, is Chinese again
    assert main(["timeline", CHONGMING, "--units", UNITS, "--orgs", ORGS, "--csv"]) == 0
    assert csv_rows(capsys.readouterr().out)[0]["weekday"] == "周一"


def test_from_and_to_bound_the_due_dates(run: Run) -> None:
    code, out, _ = run(CHONGMING, "--units", UNITS, "--orgs", ORGS, "--csv",
                       "--from", "2023-10-01", "--to", "2023-10-31")  # fmt: skip
    assert code == 0
    rows = csv_rows(out)
    assert rows and all("2023-10-01" <= r["due"] <= "2023-10-31" for r in rows)
    assert {(r["item"], r["period"]) for r in rows} >= {
        ("principal_inspection", "2023Q3"), ("dispatch_report", "2023-10")}  # fmt: skip


def test_without_orgs_only_units_and_phases(run: Run) -> None:
    code, out, _ = run(CHONGMING, "--units", UNITS, "--csv")
    assert code == 0
    assert {r["subject_kind"] for r in csv_rows(out)} == {"", "unit"}


def test_three_year_plan_with_its_street_files(run: Run) -> None:
    code, out, err = run(THREE_YEAR, "--units", str(DATA / "three-year-units.csv"),
                         "--orgs", str(DATA / "three-year-orgs.csv"), "--csv")  # fmt: skip
    assert code == 0, err
    summaries = [r for r in csv_rows(out) if r["item"] == "community_half_year_summary"]
    assert [r["due"] for r in summaries][:2] == ["2024-06-11", "2024-12-10"]  # 06-10 端午
    # industries may be written by their Chinese name (危险化学品)
    chem = [r for r in csv_rows(out) if r["subject_id"] == "u-chem"]
    assert {r["variant"] for r in chem if r["item"] == "principal_inspection"} == {
        "stricter: high_risk"}  # fmt: skip


def test_bad_rows_are_reported_with_file_line_column_and_hint(run: Run, write: Write) -> None:
    """The column is the field's number, as a spreadsheet counts them (4 = D), the same as
    `paicha import` and the API import report."""
    units = write("units.csv", "id,name,org,industry,tags\n"
                  "u1,化工厂,cm-community,hazardous_chemical,\n"
                  "u2,商场,nowhere,other,mall;hotle\n"
                  "u1,重复,cm-community,,\n"
                  ",无编号,cm-community,,\n")  # fmt: skip
    code, out, err = run(CHONGMING, "--units", units, "--orgs", ORGS)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0].endswith(
        "units.csv:2:4  industry  未知行业'hazardous_chemical'  (是否应为'hazardous_chemicals'？)"
    )
    assert any("units.csv:3:3  org  未知的组织机构 'nowhere'" in line for line in lines)
    assert any(
        "units.csv:3:5  tags  未知标签'hotle'  (是否应为'hotel'？)" in line
        for line in lines
    )
    assert any("units.csv:4:1  id  id 'u1'重复（首次出现在第2行）" in line for line in lines)
    assert any("units.csv:5:1  id  id为空" in line for line in lines)


def test_bad_org_level_and_parent(run: Run, write: Write) -> None:
    orgs = write("orgs.csv", "id,name,level,parent\n"
                 "d,区,county,\n"
                 "t,镇,towm,d\n"
                 "c,社区,community,x\n")  # fmt: skip
    code, _, err = run(CHONGMING, "--units", UNITS, "--orgs", orgs)
    assert code == 1
    assert "orgs.csv:3:3  level  未知层级'towm'  (是否应为'town'？)" in err
    assert "orgs.csv:4:4  parent  未知的上级组织机构 'x'" in err


@pytest.mark.usefixtures("english")
def test_missing_columns_and_empty_files(run: Run, write: Write) -> None:
    units = write("units.csv", "id,name,org,industy\nu1,厂,cm-community,other\n")
    code, _, err = run(CHONGMING, "--units", units)
    assert code == 1
    # industry and tags may be left out (stored units keep theirs), a misspelt column not
    assert "units.csv:1:4  industry  unknown column 'industy'  (did you mean 'industry'?)" in err
    units = write("units.csv", "id,name,industry\nu1,厂,other\n")
    code, _, err = run(CHONGMING, "--units", units)
    assert code == 1
    assert "units.csv:1:1  org  missing column 'org'  (name a column 'org' or '所属组织'" in err
    empty = write("empty.csv", "\n")
    code, _, err = run(CHONGMING, "--units", empty)
    assert code == 1
    assert "empty.csv:1:1  $  empty file  (the first line must be id,name,org,industry,tags)" in err


@pytest.mark.usefixtures("english")
def test_short_rows_and_files_that_are_not_utf8(run: Run, write: Write, tmp_path: Path) -> None:
    units = write("units.csv", "id,name,org\nu1,厂,cm-community,化工,\n")
    code, _, err = run(CHONGMING, "--units", units)
    assert code == 1 and "units.csv:2:1  $  5 fields, but the header has 3" in err
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("id,name,org,industry,tags\nu1,化工厂,c,,\n".encode("gbk"))
    code, _, err = run(CHONGMING, "--units", str(gbk))
    assert code == 1 and "gbk.csv:2:1  $  the file is GBK/GB18030 text" in err
    code, _, err = run(CHONGMING, "--units", str(tmp_path / "missing.csv"))
    assert code == 1 and "no such file" in err


def test_a_bom_and_chinese_names_are_accepted(run: Run, write: Write) -> None:
    units = write("units.csv", "\ufeffid,name,org,industry,tags\nu1,厂,c,危险化学品,宾馆；商场\n")
    code, out, err = run(CHONGMING, "--units", units, "--csv")
    assert code == 0, err
    rows = [r for r in csv_rows(out) if r["item"] == "emergency_drill"]
    assert {r["variant"] for r in rows} == {"stricter: high_risk"}


def test_an_invalid_campaign_is_reported(run: Run, write: Write) -> None:
    campaign = write("broken.yaml", "paicha: 1\nid: broken\n")
    code, out, err = run(campaign, "--units", UNITS)
    assert code == 1 and out == "" and "broken.yaml" in err


def test_bad_dates_are_usage_errors(run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["timeline", CHONGMING, "--units", UNITS, "--from", "2023-13-01"])
    assert exit_info.value.code == 2
    assert "'2023-13-01' 不是日期" in capsys.readouterr().err
    code, _, err = run(CHONGMING, "--units", UNITS, "--from", "2023-12-01", "--to", "2023-11-01")
    assert code == 2 and "早于 --from" in err
