"""`paicha report` on a database as an office runs it: the table, JSON, CSV and the paper form,
the figures as the record stood at the date, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from paicha.cli import main
from tests.storage.test_reports import story
from tests.support.world import LINYIN, World


def run(world: World, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["report", LINYIN, "dispatch", "--org", "linyin",
                 "--database", world.services.settings.database_url, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_report_as_a_table_json_csv_and_the_paper_form(
        world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    story(world)
    code, out, _ = run(world, capsys, "--as-of", "2023-06-30")
    assert code == 0
    assert "填报单位：林荫街道    截至：2023-06-30" in out
    assert "1. 企业自查发现的重大事故隐患（个）：2" in out
    assert "林荫街道第一社区：" in out
    code, out, _ = run(world, capsys, "--as-of", "2023-07-31", "--format", "json")
    assert code == 0 and json.loads(out)["figures"]["self_found"] == 1  # re-graded in July
    code, out, _ = run(world, capsys, "--as-of", "2023-06-30", "--format", "csv")
    assert code == 0 and out.startswith("序号,部分,项目,单位,数值")  # no BOM on a terminal
    target = tmp_path / "调度表.xlsx"
    code, _, err = run(world, capsys, "--as-of", "2023-06-30", "--format", "xlsx",
                       "-o", str(target))
    assert code == 0 and str(target) in err
    sheet = openpyxl.load_workbook(target).worksheets[0]
    assert sheet["A1"].value == "东胜区林荫街道重大事故隐患专项排查整治行动进展情况调度表"
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "企业自查发现的重大事故隐患（个）" in values


def test_refusals_say_what_to_do(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(world, capsys, "--format", "xlsx")
    assert code == 1 and "give -o FILE.xlsx" in err
    code = main(["report", LINYIN, "dispatch", "--org", "nowhere",
                 "--database", world.services.settings.database_url])
    assert code == 1 and "org" in capsys.readouterr().err
    code = main(["report", LINYIN, "nonesuch", "--org", "linyin",
                 "--database", world.services.settings.database_url])
    assert code == 1 and "dispatch" in capsys.readouterr().err  # the reports it has
    with pytest.raises(SystemExit):
        main(["report", LINYIN, "dispatch", "--org", "linyin", "--as-of", "30/06/2023"])
    assert "YYYY-MM-DD" in capsys.readouterr().err
