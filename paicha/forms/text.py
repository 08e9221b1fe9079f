"""The words and numbers of a filled form, as every format (XLSX, CSV, dict) shows them.

- A row's label carries its unit the way the paper form prints it: `累计排查发现重大事故隐患`
  with unit 个 reads `累计排查发现重大事故隐患（个）`; a label that already ends with its unit
  in brackets (`部门抽查检查的企业总数（家）`, `行政处罚（次，万元）`) is kept as it is.
- A row of several figures is one text: a figure named after a unit in the row's brackets is
  written value-then-unit (`行政处罚（次，万元）` → `3次，12.5万元`), any other figure
  name-then-value (`区：2，乡镇：5`, `典型执法案例（个）：3，其中危险作业罪案例（个）：1`);
  an empty figure keeps its name or unit with no number. This is how the offices fill such a
  cell by hand, and it keeps the paper form's one value cell per item.
- True/false are 是/否, an empty figure is an empty cell, whole floats drop their `.0`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from engine.dates import Period
from engine.model import Figure
from engine.reports import FilledRow, Value

# the units forms put in brackets after an item (`（个）`, `（家次）`, `（万元）`)
MEASURE_WORDS = frozenset({
    "个", "家", "次", "人", "名", "处", "套", "件", "起", "条", "项", "台", "辆", "座", "户",
    "天", "元", "万元", "个次", "家次", "人次", "场次", "%"})
_TRAILING_BRACKETS = re.compile(r"[（(]([^（()）]*)[)）]\s*$")
_UNIT_SEPARATORS = re.compile(r"[，,、/]")


def date_cn(day: dt.date | None) -> str:
    """A date as the forms write it: 2023年5月31日 (no leading zeros); empty for None."""
    if day is None:
        return ""
    return f"{day.year}年{day.month}月{day.day}日"


def period_cn(period: Period) -> str:
    """A reporting period in words: 2023年5月, 2024年第2季度, 2024年上半年, 2024年."""
    label = period.label
    year = label[:4]
    if label[4:5] == "Q":
        return f"{year}年第{label[5:]}季度"
    if label[4:] == "H1":
        return f"{year}年上半年"
    if label[4:] == "H2":
        return f"{year}年下半年"
    if len(label) == 7:
        return f"{year}年{int(label[5:])}月"
    return f"{year}年"


def bracket_units(name: str) -> tuple[str, ...]:
    """The units a label ends with in brackets: `行政处罚（次，万元）` → (次, 万元)."""
    found = _TRAILING_BRACKETS.search(name)
    if found is None:
        return ()
    return tuple(part.strip() for part in _UNIT_SEPARATORS.split(found.group(1)) if part.strip())


def label(name: str, unit: str | None) -> str:
    """A row's or figure's label with its unit, unless the name already ends with it."""
    if not unit or unit in bracket_units(name):
        return name
    return f"{name}（{unit}）"


def row_label(row: FilledRow) -> str:
    """The item's text on the form."""
    return label(row.name, row.unit)


def figure_unit(row: FilledRow, figure: Figure) -> str | None:
    """The unit one figure is counted in: its own, the row's, its name when the name is one of
    the row's bracketed units (the parts 次 and 万元 of `行政处罚（次，万元）`), or the one
    measure word a one-figure row's name ends with (`（家）`; not `（已完成）`)."""
    if figure.unit:
        return figure.unit
    units = bracket_units(row.name)
    if len(row.figures) > 1:
        return figure.name if figure.name in units else None
    if row.unit:
        return row.unit
    return units[0] if len(units) == 1 and units[0] in MEASURE_WORDS else None


def figure_label(row: FilledRow, figure: Figure) -> str:
    """One figure's own label: the row's for a row of one figure, else `row：figure`."""
    if len(row.figures) == 1:
        return row_label(row)
    return f"{row_label(row)}：{figure.name}"


def number_text(value: int | float) -> str:
    """A number without a float's `.0` (12.0 → 12, 12.5 → 12.5)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def value_text(value: Value) -> str:
    """A figure as text: 是/否 for true/false, '' for empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return number_text(value)
    return value


def cell_value(value: Value) -> int | float | str | None:
    """A one-figure row's cell: numbers stay numbers, 是/否, None stays empty."""
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def row_value(row: FilledRow) -> int | float | str | None:
    """The item's value cell: its one figure, or its figures in one text (module docstring);
    None when every figure is empty."""
    if len(row.values) == 1:
        return cell_value(row.values[0])
    if all(v is None for v in row.values):
        return None
    units = bracket_units(row.name)
    return "，".join(_part(f, v, units) for f, v in zip(row.figures, row.values, strict=True))


def row_text(row: FilledRow) -> str:
    """The item's value cell as text ('' when empty)."""
    value = row_value(row)
    return value if isinstance(value, str) else value_text(value)


def _part(figure: Figure, value: Value, units: Sequence[str]) -> str:
    if figure.name in units:
        return f"{value_text(value)}{figure.name}"
    return f"{figure.name}：{value_text(value)}"
