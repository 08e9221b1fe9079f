"""Spreadsheet formulas ("CSV injection"): every import refuses a cell a spreadsheet would run
as a formula, with its row and column, and stores nothing; every export writes such text behind
an apostrophe; plain numbers stay numbers both ways."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select

from paicha.cells import formula_like, neutral
from paicha.cli import main
from storage.subjects import unit_t
from tests.support.world import LINYIN, World

ROOT = Path(__file__).resolve().parents[2]
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ATTACKS = ["=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1:A9)", "=HYPERLINK(\"http://x\")"]


@pytest.mark.parametrize("text", [*ATTACKS, "\t=1", "\r=1", "-", "=", "+86 139"])
def test_formula_like_text_is_neutralised(text: str) -> None:
    assert formula_like(text)
    assert neutral(text) == "'" + text


@pytest.mark.parametrize("value", ["-5", "+3.2", "-1e3", ".5", "2023-06-30", "示例=公司",
                                   " =1", "", -5, 2.5, None])
def test_numbers_and_plain_text_stay_as_they_are(value: Any) -> None:
    assert neutral(value) == value


def _units(world: World) -> int:
    with world.services.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(unit_t)).scalar_one())


def _import(client: TestClient, world: World, body: bytes, media: str) -> httpx.Response:
    return client.post("/units/import", content=body,
                       headers={**world.auth("admin"), "Content-Type": media})


def test_an_api_import_refuses_formula_cells_where_they_are(client: TestClient,
                                                            world: World) -> None:
    before = _units(world)
    rows = ["id,name,org,industry,tags", "u-ok-01,正常单位,linyin-c1,,"]
    rows += [f"u-f-{n:02},\"{text.replace(chr(34), chr(34) * 2)}\",linyin-c1,,"
             for n, text in enumerate(ATTACKS)]
    rows += ["u-tag-01,标签单位,linyin-c1,,重点;=1+1", "u-neg-01,-5,linyin-c1,,"]
    answer = _import(client, world, "\n".join(rows).encode(), CSV)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "import_invalid"
    found = [(p["line"], p["field"], p["column"]) for p in body["problems"]]
    assert found == [(3 + n, "name", 2) for n in range(len(ATTACKS))] + [(8, "tags", 5)]
    assert all("runs as a formula" in p["message"] for p in body["problems"])
    assert _units(world) == before  # nothing of the file is written
    # the same file without the formulas: the plain number is a name like any other
    clean = [rows[0], rows[1], rows[-1]]
    answer = _import(client, world, "\n".join(clean).encode(), CSV)
    assert answer.status_code == 200, answer.text
    assert client.get("/units/u-neg-01", headers=world.auth("admin")).json()["name"] == "-5"


def test_an_xlsx_text_cell_holding_a_formula_is_refused_with_its_address(
        client: TestClient, world: World) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["单位编号", "单位名称", "所属社区"])
    sheet.append(["u-x-01", "placeholder", "linyin-c1"])
    sheet["B2"].value = "=HYPERLINK(\"http://x\",\"点击\")"
    sheet["B2"].data_type = "s"  # text that starts with '=', as typed with a leading '
    out = io.BytesIO()
    book.save(out)
    answer = _import(client, world, out.getvalue(), XLSX)
    assert answer.status_code == 422, answer.text
    problem = answer.json()["problems"][0]
    assert (problem["cell"], problem["header"], problem["field"]) == ("B2", "单位名称", "name")


def test_the_cli_refuses_formula_cells_in_units_files(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    units = tmp_path / "units.csv"
    units.write_text("id,name,org,industry,tags\nu1,=1+2,cm-community,,\n", encoding="utf-8")
    code = main(["timeline", str(ROOT / "campaigns" / "special-action-2023-chongming.yaml"),
                 "--units", str(units)])
    err = capsys.readouterr().err
    assert code == 1
    assert "units.csv:2:2  name  '=1+2' starts with '=', which a spreadsheet runs as a formula" \
        in err


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_cli_timeline_csv_writes_a_formula_name_as_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = (ROOT / "campaigns" / "special-action-2023-chongming.yaml").read_text("utf-8")
    assert "name: 组织开展1次事故应急救援预案演练" in source
    campaign = tmp_path / "special-action-2023-chongming.yaml"
    campaign.write_text(source.replace("name: 组织开展1次事故应急救援预案演练",
                                       "name: \"=HYPERLINK(\\\"http://x\\\")\""), "utf-8")
    data = ROOT / "tests" / "data"
    code = main(["timeline", str(campaign), "--units", str(data / "units.csv"),
                 "--orgs", str(data / "orgs.csv"), "--csv"])
    out, err = capsys.readouterr()
    assert code == 0, err
    names = {r["item_name"] for r in _rows(out)}
    assert "'=HYPERLINK(\"http://x\")" in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_the_api_timeline_csv_writes_a_formula_name_as_text(client: TestClient,
                                                           world: World) -> None:
    source = (ROOT / "campaigns" / f"{LINYIN}.yaml").read_text("utf-8")
    assert "name: 成立专项行动工作专班，建立健全工作机制" in source
    admin = world.auth("admin")
    published = client.post("/campaigns", headers={**admin, "Content-Type": "application/yaml"},
                            content=source.replace("name: 成立专项行动工作专班，建立健全工作机制",
                                                   "name: \"=1+2\"").encode())
    assert published.status_code == 201, published.text
    answer = client.get(f"/campaigns/{LINYIN}/timeline", headers=admin,
                        params={"org": "linyin", "format": "csv"})
    assert answer.status_code == 200, answer.text
    rows = _rows(answer.text)
    assert "'=1+2" in {r["name"] for r in rows}
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    assert all(r["times"].isdigit() for r in rows)  # numbers stay numbers
