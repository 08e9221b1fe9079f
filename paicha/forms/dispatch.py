"""A filled 调度表 (`engine.reports.FilledForm`) as XLSX in the paper form's layout, as CSV
and as a JSON-able dict, and the 下级报送情况 sheet of the orgs below.

The XLSX sheet, top to bottom:

- the title, merged across the width, bold and larger;
- `填报单位：<org>` on the left, `截至 <2023年5月31日>（<2023年5月>）` on the right;
- a header line (部分 · 序号 · 项目 · 数值; twice 序号 · 项目 · 数值 for `pairs`);
- per section its items, the section's name merged down the section's lines; an item is its
  number (`FilledRow.number`), its label with unit and its value cell. `layout: pairs` prints
  two items per line as the paper form does, `list` one. A row of several figures fills its
  one value cell with all of them (`3次，12.5万元`; see `paicha.forms.text`);
- the notes, `注：1.…` then `2.…`, each merged across the width.

A4, fitted to the page width (as many pages down as it takes), portrait unless the columns
are wider than `paicha.forms.sheet.WIDE`; one Chinese font on every cell; thin borders on the
table. The CSV has a line per figure (序号, 部分, 项目, 单位, 数值) and starts with a UTF-8 BOM
so that Excel reads it as UTF-8.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.reports import FilledForm, FilledRow, Value, add_values
from paicha.cells import neutral_row
from paicha.forms import text
from paicha.forms.sheet import Sheet, Spec, new_workbook, safe_title, save

CSV_COLUMNS = ("序号", "部分", "项目", "单位", "数值")
CHILDREN_SHEET = "下级报送情况"

_LIST_WIDTHS = (12.0, 6.0, 46.0, 16.0)
_PAIRS_WIDTHS = (10.0, 5.0, 30.0, 13.0, 5.0, 30.0, 13.0)


@dataclass(frozen=True)
class ChildReport:
    """One org below, on the 下级报送情况 sheet: its name, its filing's status in words
    (`已报送`, `未报送`, `逾期`…) and its figures by key (`FilledRow.keys`)."""

    org_name: str
    status: str
    values: Mapping[str, Value] = field(default_factory=dict, hash=False)


# -- XLSX ------------------------------------------------------------------------------------


def dispatch_xlsx(form: FilledForm, children: Iterable[ChildReport] | None = None) -> bytes:
    """The filled form as an XLSX file; with `children`, a second sheet 下级报送情况."""
    out = io.BytesIO()
    workbook = new_workbook(out)
    _form_sheet(workbook, form)
    if children is not None:
        _children_sheet(workbook, form, children)
    save(workbook)
    return out.getvalue()


def _form_sheet(workbook: Any, form: FilledForm) -> None:
    pairs = form.layout == "pairs"
    sheet = Sheet(workbook, safe_title(form.title, set()),
                  _PAIRS_WIDTHS if pairs else _LIST_WIDTHS)
    width = sheet.width
    sheet.line([(form.title, "title", width)], height=36)
    left = width // 2
    sheet.line([(f"填报单位：{form.org_name}", "head", left),
                (f"截至 {text.date_cn(form.as_of)}（{text.period_cn(form.period)}）",
                 "head_right", width - left)])
    item_head: list[Spec] = [("序号", "th"), ("项目", "th"), ("数值", "th")]
    sheet.line([("部分", "th"), *item_head, *(item_head if pairs else [])])
    for section in form.sections:
        rows = list(section.rows)
        lines = [rows[i:i + 2] for i in range(0, len(rows), 2)] if pairs else [[r] for r in rows]
        first = sheet.rows + 1
        for index, items in enumerate(lines):
            cells: list[Spec] = [(section.name if index == 0 else None, "center")]
            for row in items:
                cells += _item(row)
            if pairs and len(items) == 1:
                cells += [(None, "td")] * 3
            sheet.line(cells)
        if lines:
            sheet.merge(first, 1, sheet.rows, 1)
    for index, note in enumerate(form.notes):
        numbered = f"{index + 1}.{note}" if len(form.notes) > 1 else note
        sheet.line([(("注：" if index == 0 else "　　") + numbered, "note", width)])


def _item(row: FilledRow) -> list[Spec]:
    return [(row.number, "center"), (text.row_label(row), "td"), (text.row_value(row), "center")]


def _children_sheet(workbook: Any, form: FilledForm,
                    children: Iterable[ChildReport]) -> None:
    figures = [(key, text.figure_label(row, figure))
               for section in form.sections for row in section.rows
               for key, figure in zip(row.keys, row.figures, strict=True)]
    sheet = Sheet(workbook, CHILDREN_SHEET, [6.0, 24.0, 12.0] + [14.0] * len(figures),
                  repeat_rows="3:3")
    width = sheet.width
    sheet.line([(f"{form.title}（{CHILDREN_SHEET}）", "title", width)], height=36)
    left = min(3, width)
    sheet.line([(f"填报单位：{form.org_name}", "head", left),
                (f"截至 {text.date_cn(form.as_of)}（{text.period_cn(form.period)}）",
                 "head_right", width - left)])
    sheet.line([("序号", "th"), ("单位", "th"), ("报送情况", "th"),
                *((name, "th") for _key, name in figures)])
    totals: dict[str, Value] = {key: None for key, _name in figures}
    for number, child in enumerate(children, 1):
        values = [child.values.get(key) for key, _name in figures]
        for (key, _name), value in zip(figures, values, strict=True):
            totals[key] = add_values(totals[key], value)
        sheet.line([(number, "center"), (child.org_name, "td"), (child.status, "center"),
                    *((text.cell_value(v), "center") for v in values)])
    sheet.line([("合计", "th", 3), *((text.cell_value(totals[key]), "center")
                                    for key, _name in figures)])


# -- CSV and dict ----------------------------------------------------------------------------


def dispatch_csv(form: FilledForm) -> bytes:
    """The filled form as CSV, a line per figure, UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for section in form.sections:
        for row in section.rows:
            for figure, value in zip(row.figures, row.values, strict=True):
                writer.writerow(neutral_row([
                    row.number, section.name, text.figure_label(row, figure),
                    text.figure_unit(row, figure) or "", text.value_text(value)]))
    return out.getvalue().encode("utf-8-sig")


def dispatch_dict(form: FilledForm) -> dict[str, Any]:
    """The filled form as plain dicts and lists (JSON-able): its sections, rows, and per
    figure its key, name, unit and value (numbers, true/false, text or null as entered)."""
    return {
        "campaign_id": form.campaign_id,
        "campaign_title": form.campaign_title,
        "report_id": form.report_id,
        "title": form.title,
        "org_id": form.org_id,
        "org_name": form.org_name,
        "as_of": form.as_of.isoformat(),
        "period": {"label": form.period.label, "start": form.period.first.isoformat(),
                   "end": form.period.last.isoformat()},
        "layout": form.layout,
        "sections": [
            {"id": section.id, "name": section.name,
             "rows": [_row_dict(row) for row in section.rows]}
            for section in form.sections],
        "notes": list(form.notes),
    }


def _row_dict(row: FilledRow) -> dict[str, Any]:
    return {
        "id": row.id, "number": row.number, "name": row.name, "unit": row.unit,
        "label": text.row_label(row), "text": text.row_text(row),
        "figures": [
            {"key": key, "name": figure.name, "unit": text.figure_unit(row, figure),
             "value": value}
            for key, figure, value in zip(row.keys, row.figures, row.values, strict=True)],
    }
