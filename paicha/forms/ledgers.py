"""Ledgers (台账) of stored cases, as the paper forms lay them out: the input dataclasses the
caller maps its database rows to, where each cell's text comes from, and the two ledgers of a
line per case:

- 问题隐患排查整治工作台账: `单位：` … date; 检查企业（单位）名称 · 检查人员 · 检查时间 ·
  问题隐患 · 整改措施 · 整改责任人 · 整改时限 · 复查情况 · 备注; `审核人：` … `填报人：`;
- 重大事故隐患专项排查清单: `报送单位（公章）：` … `填表时间：`; 序号 · 企业名称 ·
  企业主要负责人姓名 · 隐患主要内容 · 交办时间 · 目前采取的管控措施（…） · 挂牌督办文件 ·
  备注; the caller's note on the leaders' responsibility, then
  `社区或镇政府有关部门主要行政负责人签字：` … `填表人：`.

Cases come as an iterator and the XLSX is streamed (write-only) into a binary file object, so
a ledger of 10 000 cases keeps memory flat. The one-sheet-per-case 整改台账 is in
`paicha.forms.rectification`.

Where a cell's text comes from is a mapping the caller passes: column → sources, the first
source with a value wins. A source is a field of the case's data (`description`) or one of
the case's own attributes: `@id`, `@type`, `@grade`, `@state`, `@opened`, `@unit.name`,
`@unit.address`, `@unit.industry`, `@unit.regulator`, `@unit.legal_representative`,
`@unit.phone`. The defaults name the fields of both bundled hazard cases (special-action-2023
writes `measures`, the three-year plan `plan_measures`). Dates (and ISO date strings, as JSON
keeps them) are written 2024年3月1日, true/false 是/否, an enum value by its label when the
caller passes the labels (`labels_of`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from engine.model import CaseType
from paicha.forms import text
from paicha.forms.sheet import Sheet, Spec, new_workbook, save

Sources = Mapping[str, Sequence[str]]
Labels = Mapping[str, Mapping[str, str]]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class LedgerUnit:
    """The unit (生产经营单位) a case is about, as the ledgers print it."""

    name: str
    address: str | None = None
    industry: str | None = None  # the industry's name (行业领域)
    regulator: str | None = None  # the regulator org's name (主管部门)
    legal_representative: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Signature:
    """One sign-off of a case: the role's id (matched to the 整改台账's boxes), its name, who
    signed, when (in the campaign's time zone: the box prints `at.date()`), and the opinion
    (意见) written with it."""

    role: str
    role_name: str
    actor_name: str
    at: dt.datetime
    opinion: str | None = None


@dataclass(frozen=True)
class LedgerCase:
    """A stored case as the ledgers need it. `grade` and `state` are labels (重大事故隐患,
    已销号), `data` the case's fields by name as stored."""

    id: str
    type: str
    unit: LedgerUnit
    grade: str | None
    state: str
    opened: dt.date
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)
    signatures: tuple[Signature, ...] = ()


@dataclass(frozen=True)
class LedgerHeading:
    """What the ledger's header and foot lines carry: the filing org, the date, and the names
    of those who fill, review or sign it (blank lines when empty); `note` is the 清单's note
    on the leaders' responsibility in the words of the caller's form."""

    org_name: str
    on: dt.date
    filler: str = ""
    reviewer: str = ""
    signer: str = ""
    note: str = ""


def labels_of(case_type: CaseType) -> dict[str, dict[str, str]]:
    """The enum labels of a case type's fields (`source: {self_inspection: 企业自查}`)."""
    return {name: dict(f.labels) for name, f in case_type.fields.items() if f.labels}


def source_value(case: LedgerCase, source: str) -> Any:
    """One source's raw value (module docstring), None when absent or blank."""
    if source.startswith("@unit."):
        value = getattr(case.unit, source[len("@unit."):], None)
    elif source.startswith("@"):
        value = getattr(case, source[1:], None)
    else:
        value = case.data.get(source)
    return None if value == "" or value == [] else value


def show(value: Any, source: str = "", labels: Labels | None = None) -> str:
    """A value as a ledger's cell text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return text.date_cn(value.date())
    if isinstance(value, dt.date):
        return text.date_cn(value)
    if isinstance(value, int | float):
        return text.number_text(value)
    if isinstance(value, str):
        if labels and value in labels.get(source, {}):
            return labels[source][value]
        if _ISO_DATE.fullmatch(value):
            try:
                return text.date_cn(dt.date.fromisoformat(value))
            except ValueError:
                return value
        return value
    if isinstance(value, list | tuple):
        return "、".join(show(v, source, labels) for v in value)
    return str(value)


def cell_text(case: LedgerCase, sources: Sequence[str], labels: Labels | None = None) -> str:
    """The text of a cell fed by `sources`: the first source with a value."""
    for source in sources:
        value = source_value(case, source)
        if value is not None:
            return show(value, source, labels)
    return ""


# -- 问题隐患排查整治工作台账 ---------------------------------------------------------------

WORK_LEDGER_TITLE = "问题隐患排查整治工作台账"
WORK_LEDGER_COLUMNS = ("检查企业（单位）名称", "检查人员", "检查时间", "问题隐患", "整改措施",
                       "整改责任人", "整改时限", "复查情况", "备注")
WORK_LEDGER_FIELDS: Sources = {
    "检查企业（单位）名称": ("@unit.name",),
    "检查人员": ("found_by", "inspector"),
    "检查时间": ("found_on", "@opened"),
    "问题隐患": ("description",),
    "整改措施": ("measures", "plan_measures"),
    "整改责任人": ("responsible", "plan_organization"),
    "整改时限": ("deadline",),
    "复查情况": ("acceptance_opinion", "rectification_result", "rectification_report"),
    "备注": ("@grade",),
}
_WORK_WIDTHS = (24.0, 10.0, 14.0, 32.0, 28.0, 12.0, 14.0, 22.0, 12.0)


def write_work_ledger(cases: Iterable[LedgerCase], out: BinaryIO, heading: LedgerHeading, *,
                      fields: Sources = WORK_LEDGER_FIELDS,
                      labels: Labels | None = None) -> int:
    """Stream the 问题隐患排查整治工作台账 of `cases` into `out`; the number of cases."""
    return _write_rows(
        cases, out, title=WORK_LEDGER_TITLE, columns=WORK_LEDGER_COLUMNS, widths=_WORK_WIDTHS,
        head=(f"单位：{heading.org_name}", text.date_cn(heading.on)),
        foot=[(f"审核人：{heading.reviewer}", f"填报人：{heading.filler}")],
        numbered=False, fields=fields, labels=labels)


# -- 重大事故隐患专项排查清单 -------------------------------------------------------------

HAZARD_LIST_TITLE = "重大事故隐患专项排查清单"
HAZARD_LIST_COLUMNS = ("序号", "企业名称", "企业主要负责人姓名", "隐患主要内容", "交办时间",
                       "目前采取的管控措施（限期整改、查封、停产等）", "挂牌督办文件", "备注")
HAZARD_LIST_FIELDS: Sources = {
    "企业名称": ("@unit.name",),
    "企业主要负责人姓名": ("principal_name", "@unit.legal_representative"),
    "隐患主要内容": ("description",),
    "交办时间": ("assigned_on", "found_on", "@opened"),
    "目前采取的管控措施（限期整改、查封、停产等）": (
        "control_measures", "enforcement_action", "measures", "plan_measures"),
    "挂牌督办文件": ("supervision_document",),
    "备注": ("@state",),
}
_LIST_WIDTHS = (6.0, 24.0, 12.0, 36.0, 14.0, 28.0, 18.0, 12.0)


def write_hazard_list(cases: Iterable[LedgerCase], out: BinaryIO, heading: LedgerHeading, *,
                      fields: Sources = HAZARD_LIST_FIELDS,
                      labels: Labels | None = None) -> int:
    """Stream the 重大事故隐患专项排查清单 of `cases` into `out`; the number of cases. The
    caller picks the cases (the major hazards it files with the 调度表)."""
    foot: list[tuple[str, str]] = [(heading.note, "")] if heading.note else []
    foot.append((f"社区或镇政府有关部门主要行政负责人签字：{heading.signer}",
                 f"填表人：{heading.filler}"))
    return _write_rows(
        cases, out, title=HAZARD_LIST_TITLE, columns=HAZARD_LIST_COLUMNS, widths=_LIST_WIDTHS,
        head=(f"报送单位（公章）：{heading.org_name}", f"填表时间：{text.date_cn(heading.on)}"),
        foot=foot, numbered=True, fields=fields, labels=labels)


def _write_rows(cases: Iterable[LedgerCase], out: BinaryIO, *, title: str,
                columns: Sequence[str], widths: Sequence[float], head: tuple[str, str],
                foot: Sequence[tuple[str, str]], numbered: bool, fields: Sources,
                labels: Labels | None) -> int:
    workbook = new_workbook(out)
    sheet = Sheet(workbook, title, widths, repeat_rows="3:3")
    width = sheet.width
    left = width // 2
    sheet.line([(title, "title", width)], height=36)
    sheet.line([(head[0], "head", left), (head[1], "head_right", width - left)])
    sheet.line([(name, "th") for name in columns])
    count = 0
    for case in cases:
        count += 1
        cells: list[Spec] = []
        for name in columns:
            if numbered and name == "序号":
                cells.append((count, "center"))
            else:
                cells.append((cell_text(case, fields.get(name, ()), labels), "td"))
        sheet.line(cells)
    for left_text, right_text in foot:
        if right_text:
            sheet.line([(left_text, "head", left), (right_text, "head_right", width - left)])
        else:
            sheet.line([(left_text, "note", width)])
    save(workbook)
    return count
