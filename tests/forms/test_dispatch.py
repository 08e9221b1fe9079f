"""The 调度表 exports follow the paper form: title, org and date, sections merged down their
items, pairs of items per line, rows of several figures, notes, A4 fitted to the width."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from engine.model import Campaign
from engine.reports import FilledForm, fill, slots
from paicha.files import loader_for
from paicha.forms import text
from paicha.forms.dispatch import (
    CHILDREN_SHEET,
    CSV_COLUMNS,
    ChildReport,
    dispatch_csv,
    dispatch_dict,
    dispatch_xlsx,
)
from paicha.forms.sheet import FONT_NAME

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2023, 5, 31)


def campaign(name: str) -> Campaign:
    path = ROOT / "campaigns" / f"{name}.yaml"
    return loader_for([path]).load(path.read_text(encoding="utf-8"), path.name).campaign


@pytest.fixture(scope="module")
def special() -> Campaign:
    return campaign("special-action-2023")


def values_for(c: Campaign, report: str = "dispatch") -> dict[str, Any]:
    """Every figure a distinct value: counts by position, the manual figures typed."""
    values: dict[str, Any] = {s.key: i + 1 for i, s in enumerate(slots(c.reports[report]))}
    values.update({"penalties.1": 3, "penalties.2": 12.5, "media_column": True,
                   "typical_cases.1": 4, "typical_cases.2": None})
    return values


def filled(c: Campaign, layout: str = "list", org_name: str = "林荫街道") -> FilledForm:
    report = dataclasses.replace(c.reports["dispatch"], layout=layout)
    return fill(c, report, values_for(c), org_id="linyin", org_name=org_name, as_of=AS_OF)


def open_xlsx(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


def lines(ws: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def merged(ws: Any) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def test_list_layout_follows_the_form(special: Campaign) -> None:
    form = filled(special)
    ws = open_xlsx(dispatch_xlsx(form)).worksheets[0]
    rows = lines(ws)
    assert rows[0][0] == "重大事故隐患专项排查整治2023行动进展情况调度表"
    assert ws["A1"].font.b and ws["A1"].font.sz > ws["A4"].font.sz
    assert "A1:D1" in merged(ws)
    assert rows[1][0] == "填报单位：林荫街道"
    assert rows[1][2] == "截至 2023年5月31日（2023年5月）"
    assert rows[2] == ("部分", "序号", "项目", "数值")
    items = [r for r in rows[3:] if isinstance(r[1], int)]
    expected = [(row.number, text.row_label(row)) for s in form.sections for row in s.rows]
    assert [(r[1], r[2]) for r in items] == expected
    # each section's name on its first line, merged down its items
    start = 4
    for section in form.sections:
        end = start + len(section.rows) - 1
        assert ws.cell(start, 1).value == section.name
        assert f"A{start}:A{end}" in merged(ws)
        start = end + 1
    assert [s.name for s in form.sections] == [
        "总体情况", "对企业自查自改进行抽查检查情况", "部门精准严格执法情况",
        "党委政府组织领导情况"]


def test_pairs_layout_prints_two_items_per_line(special: Campaign) -> None:
    form = filled(special, layout="pairs")
    ws = open_xlsx(dispatch_xlsx(form)).worksheets[0]
    rows = lines(ws)
    assert rows[2] == ("部分", "序号", "项目", "数值", "序号", "项目", "数值")
    assert rows[3] == ("总体情况", 1, "企业自查发现的重大事故隐患（个）", 1,
                       2, "企业自查发现重大事故隐患中已完成整改的（个）", 2)
    assert rows[4][0] is None and rows[4][1] == 3 and rows[4][4] == 4
    assert "A4:A6" in merged(ws)  # 总体情况: six items on three lines
    assert "A7:A10" in merged(ws)  # eight spot-check items on four lines
    assert "A1:G1" in merged(ws)
    numbers = [n for r in rows[3:] for n in (r[1], r[4]) if isinstance(n, int)]
    assert numbers == [row.number for s in form.sections for row in s.rows]


def test_an_odd_section_leaves_the_second_item_blank(special: Campaign) -> None:
    form = filled(special, layout="pairs")
    first = form.sections[0]
    odd = dataclasses.replace(form, sections=(
        dataclasses.replace(first, rows=first.rows[:3]),))
    ws = open_xlsx(dispatch_xlsx(odd)).worksheets[0]
    assert lines(ws)[4][1:] == (3, "部门检查发现的重大事故隐患（个）", 3, None, None, None)
    assert ws["G5"].border.left.style == "thin"


def test_rows_of_several_figures_show_each_figure(special: Campaign) -> None:
    form = filled(special)
    by_label = {r[2]: r[3] for r in lines(open_xlsx(dispatch_xlsx(form)).worksheets[0])}
    assert by_label["行政处罚（次，万元）"] == "3次，12.5万元"
    assert by_label["公布典型执法案例（个），其中危险作业罪案例（个）"] == (
        "典型执法案例（个）：4，其中危险作业罪案例（个）：")
    study = "区、乡镇党委政府分别组织专题学习安全生产十五条硬措施等（次）"
    keys = [s.key for s in slots(special.reports["dispatch"])]
    assert by_label[study] == (f"区：{keys.index('study_sessions.1') + 1}，"
                               f"乡镇：{keys.index('study_sessions.2') + 1}")
    assert by_label["是否在主流媒体播放安全生产专题栏目"] == "是"


def test_unit_goes_into_the_label_unless_already_there() -> None:
    c = campaign("three-year-plan-2024-2026")
    form = fill(c, c.reports["dispatch"], {"major_found": 7}, org_id="x", org_name="街道",
                as_of=dt.date(2024, 6, 30))
    rows = lines(open_xlsx(dispatch_xlsx(form)).worksheets[0])
    by_label = {r[2]: r[3] for r in rows}
    assert by_label["累计排查发现重大事故隐患（个）"] == 7
    assert "主要负责人带队检查（已完成）（次）" in by_label
    assert by_label["重大事故隐患整改资金（万元）"] is None  # empty figure, empty cell
    assert text.label("部门抽查检查的企业总数（家）", "家") == "部门抽查检查的企业总数（家）"


def test_notes_are_under_the_table(special: Campaign) -> None:
    form = filled(special)
    ws = open_xlsx(dispatch_xlsx(form)).worksheets[0]
    rows = lines(ws)
    assert [r[0] for r in rows[-2:]] == [f"注：1.{form.notes[0]}", f"　　2.{form.notes[1]}"]
    last = ws.max_row
    assert {f"A{last - 1}:D{last - 1}", f"A{last}:D{last}"} <= merged(ws)


def test_print_setup_fonts_widths_and_borders(special: Campaign) -> None:
    ws = open_xlsx(dispatch_xlsx(filled(special, layout="pairs"))).worksheets[0]
    assert ws.page_setup.paperSize == 9  # A4
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.orientation == "portrait"
    assert all(ws.column_dimensions[c].width > 4 for c in "ABCDEFG")
    assert ws.column_dimensions["C"].width > ws.column_dimensions["B"].width
    written = [cell for row in ws.iter_rows() for cell in row if cell.value is not None]
    assert written and {cell.font.name for cell in written} == {FONT_NAME}
    assert ws["C4"].border.top.style == "thin"
    assert ws["A1"].border.top is None or ws["A1"].border.top.style is None


def test_formula_like_text_is_written_as_text(special: Campaign) -> None:
    form = filled(special)
    row = form.sections[0].rows[0]
    hostile = dataclasses.replace(
        form, title='=HYPERLINK("x")',
        sections=(dataclasses.replace(form.sections[0], rows=(
            dataclasses.replace(row, values=('=HYPERLINK("x")',)),)),))
    ws = open_xlsx(dispatch_xlsx(hostile)).worksheets[0]
    assert ws["A1"].value == '\'=HYPERLINK("x")' and ws["A1"].data_type == "s"
    assert ws["D4"].value == '\'=HYPERLINK("x")'
    out = dispatch_csv(hostile).decode("utf-8-sig")
    assert '\'=HYPERLINK(""x"")' in out


def test_csv_has_a_bom_and_a_line_per_figure(special: Campaign) -> None:
    form = filled(special)
    data = dispatch_csv(form)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) - 1 == len(slots(special.reports["dispatch"]))
    assert rows[1] == ["1", "总体情况", "企业自查发现的重大事故隐患（个）", "个", "1"]
    penalties = [r for r in rows if r[2].startswith("行政处罚")]
    assert [(r[3], r[4]) for r in penalties] == [("次", "3"), ("万元", "12.5")]
    media = next(r for r in rows if r[2] == "是否在主流媒体播放安全生产专题栏目")
    assert media[4] == "是"


def test_dict_is_json_able_with_keys_and_values(special: Campaign) -> None:
    form = filled(special)
    found = json.loads(json.dumps(dispatch_dict(form)))
    assert found["title"] == form.title and found["as_of"] == "2023-05-31"
    assert found["period"]["label"] == "2023-05"
    assert [s["name"] for s in found["sections"]] == [s.name for s in form.sections]
    penalties = next(r for s in found["sections"] for r in s["rows"] if r["id"] == "penalties")
    assert [(f["key"], f["value"], f["unit"]) for f in penalties["figures"]] == [
        ("penalties.1", 3, "次"), ("penalties.2", 12.5, "万元")]
    assert penalties["text"] == "3次，12.5万元"
    assert found["notes"] == list(form.notes)


def test_children_sheet_has_a_column_per_figure_and_a_total(special: Campaign) -> None:
    form = filled(special)
    children = [ChildReport("东社区", "已报送", {"self_found": 2, "penalties.2": 1.5,
                                                "media_column": False}),
                ChildReport("西社区", "未报送", {"self_found": 3, "media_column": True})]
    wb = open_xlsx(dispatch_xlsx(form, children))
    assert wb.sheetnames[1] == CHILDREN_SHEET
    rows = lines(wb[CHILDREN_SHEET])
    header = rows[2]
    keys = [k for s in form.sections for r in s.rows for k in r.keys]
    assert header[:3] == ("序号", "单位", "报送情况") and len(header) == 3 + len(keys)
    assert header[3 + keys.index("penalties.2")] == "行政处罚（次，万元）：万元"
    assert rows[3][:4] == (1, "东社区", "已报送", 2) and rows[4][:4] == (2, "西社区", "未报送", 3)
    total = rows[5]
    assert total[0] == "合计" and total[3] == 5
    assert total[3 + keys.index("penalties.2")] == 1.5
    assert total[3 + keys.index("media_column")] == "是"
    assert total[3 + keys.index("self_fixed")] is None
    assert "A6:C6" in merged(wb[CHILDREN_SHEET])
