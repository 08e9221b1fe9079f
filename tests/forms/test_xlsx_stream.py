"""The streamed XLSX: what it writes opens in openpyxl as written — values of each kind, styles,
merged ranges, print titles, sheet names that need quoting, text XML cannot hold."""

from __future__ import annotations

import io

import openpyxl

from paicha.forms.xlsx import StreamBook
from paicha.sheets import column_letter


def test_a_streamed_workbook_reads_back_as_written() -> None:
    out = io.BytesIO()
    book = StreamBook(out)
    first = book.create_sheet("O'Brien 台账", [10.0, 30.0], repeat_rows="2:3")
    first.row([("标题", "title"), (None, "title")], 30)
    first.merge(1, 1, 1, 2)
    first.row([(3, "td"), (12.5, "td")], 20)
    first.row([(True, "center"), ("a\x00b\x1fc\ud800 & <d>", "box")], 20)
    second = book.create_sheet("第二", [8.0], landscape=True)  # closes the first
    second.row([("=1+1", "note")], 15)
    book.close()
    workbook = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert workbook.sheetnames == ["O'Brien 台账", "第二"]
    ws = workbook["O'Brien 台账"]
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["标题", None], [3, 12.5], [True, "abc & <d>"]]
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:B1"]
    assert ws["A1"].font.b and ws["A1"].font.sz == 16 and ws["A1"].font.name == "宋体"
    assert ws["B3"].alignment.wrap_text and ws["B3"].border.left.style == "thin"
    assert ws.column_dimensions["B"].width == 30
    assert ws.row_dimensions[1].height == 30
    assert ws.print_title_rows == "$2:$3"
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.orientation == "portrait"
    assert workbook["第二"].page_setup.orientation == "landscape"
    # the writer writes what it is given: neutralising formulas is the forms' job (sheet.py)
    assert workbook["第二"]["A1"].data_type == "s"


def test_column_letters() -> None:
    assert [column_letter(i) for i in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
