"""重大事故隐患整改台账: one sheet per major hazard, in the layout the offices file upward
(docs/forms.md).

Four columns (label, value, label, value):

- the title, then `填报单位（盖章）:<org>` … `填报日期：<date>`;
- five lines of label/value pairs: 企业名称 · 联系地址, 法定代表人 · 联系电话, 所属行业 ·
  主管部门, 隐患名称 · 隐患等级, 隐患类型 · 隐患性质;
- 隐患概况, merged down two lines: 隐患现状及产生原因, 隐患危害程度整改难易程度分析;
- 隐患的治理方案, merged down six lines: 治理目标主要任务 · 治理方法治理措施 · 经费物资保障 ·
  负责治理的机构和人员 · 治理时限和要求 · 安全措施应急预案;
- the sign-off boxes in order (`SIGNOFF_BOXES`), each its label and a box spanning the rest of
  the line with the opinion, （盖章）, the signers and the date;
- the foot note.

Which case field feeds which cell is `fields` (sources as in `paicha.forms.ledgers`); which
sign-offs fill which box is `boxes`: a box takes the case's signatures whose role is one of its
roles. A `members` box (验收组) lists every signer; a `principal` box signs
`主要负责人签字：<name>`; a `two_leaders` box (县市区政府) signs `分管区处级领导签字：` with
the earlier signers and `主要负责人签字：` with the last. The date is the last signature's,
`年　月　日` left blank when the box has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Literal

from paicha.forms import text
from paicha.forms.ledgers import (
    Labels,
    LedgerCase,
    LedgerHeading,
    Signature,
    Sources,
    cell_text,
)
from paicha.forms.sheet import Sheet, new_workbook, safe_title, save

TITLE = "重大事故隐患整改台账"
FOOT_NOTE = ("注：市直部门直管企业的重大隐患，县市区行业主管部门意见、县市区政府意见栏不需要"
             "签字。此表隐患销号后3日内报区安委会办公室。")
PAIRS = (("企业名称", "联系地址"), ("法定代表人", "联系电话"), ("所属行业", "主管部门"),
         ("隐患名称", "隐患等级"), ("隐患类型", "隐患性质"))
OVERVIEW = ("隐患概况", ("隐患现状及产生原因", "隐患危害程度整改难易程度分析"))
PLAN = ("隐患的治理方案", ("治理目标主要任务", "治理方法治理措施", "经费物资保障",
                     "负责治理的机构和人员", "治理时限和要求", "安全措施应急预案"))

# The default cells of the bundled hazard cases (special-action-2023 and the three-year plan
# name the plan's parts differently; the first field a case has wins). 隐患名称 is where the
# hazard is (`location`) unless a case has `hazard_name`; 隐患类型 the clause of the standard
# it was judged by (`criterion`); 隐患性质 and the analysis have no bundled field.
RECTIFICATION_FIELDS: Sources = {
    "企业名称": ("@unit.name",),
    "联系地址": ("@unit.address",),
    "法定代表人": ("@unit.legal_representative",),
    "联系电话": ("@unit.phone",),
    "所属行业": ("@unit.industry", "industry"),
    "主管部门": ("@unit.regulator",),
    "隐患名称": ("hazard_name", "location"),
    "隐患等级": ("@grade",),
    "隐患类型": ("hazard_type", "criterion"),
    "隐患性质": ("hazard_nature",),
    "隐患现状及产生原因": ("description",),
    "隐患危害程度整改难易程度分析": ("hazard_analysis",),
    "治理目标主要任务": ("goals_and_tasks", "plan_goal"),
    "治理方法治理措施": ("measures", "plan_measures"),
    "经费物资保障": ("funds_and_materials", "plan_funds"),
    "负责治理的机构和人员": ("responsible", "plan_organization"),
    "治理时限和要求": ("deadline",),
    "安全措施应急预案": ("safety_measures", "plan_emergency"),
}

BoxKind = Literal["members", "principal", "two_leaders"]


@dataclass(frozen=True)
class SignoffBox:
    """A sign-off box of the sheet: its label, the roles whose signatures fill it, how it
    signs (module docstring)."""

    label: str
    roles: tuple[str, ...]
    kind: BoxKind = "principal"


# The bundled hazard cases' `accept` sign-offs (acceptance_team, locality or community,
# regulator, government). The three-year plan's `government` is the 街道 and its `community`
# the 社区: a caller filing that plan's sheets may map them to other boxes.
SIGNOFF_BOXES: tuple[SignoffBox, ...] = (
    SignoffBox("验收组成员签字", ("acceptance_team",), "members"),
    SignoffBox("乡镇（街道）意见", ("locality", "community")),
    SignoffBox("县市区行业主管部门意见", ("regulator",)),
    SignoffBox("县市区政府意见", ("government",), "two_leaders"),
    SignoffBox("省辖市主管部门意见", ("city_regulator",)),
)

_WIDTHS = (14.0, 24.0, 14.0, 36.0)
_NO_DATE = "年　　月　　日"


def write_rectification_ledger(cases: Iterable[LedgerCase], out: BinaryIO,
                               heading: LedgerHeading, *,
                               fields: Sources = RECTIFICATION_FIELDS,
                               boxes: Sequence[SignoffBox] = SIGNOFF_BOXES,
                               labels: Labels | None = None) -> int:
    """Stream a 整改台账 sheet per case (named by the case id) into `out`; the number of
    cases. Each sheet is finished before the next case is read."""
    workbook = new_workbook(out)
    taken: set[str] = set()
    count = 0
    for case in cases:
        count += 1
        sheet = Sheet(workbook, safe_title(case.id, taken), _WIDTHS)
        _case_sheet(sheet, case, heading, fields, boxes, labels)
        sheet.close()
    if count == 0:  # a workbook needs a sheet
        sheet = Sheet(workbook, TITLE, _WIDTHS)
        sheet.line([(TITLE, "title", 4)], height=36)
    save(workbook)
    return count


def _case_sheet(sheet: Sheet, case: LedgerCase, heading: LedgerHeading, fields: Sources,
                boxes: Sequence[SignoffBox], labels: Labels | None) -> None:
    def value(name: str) -> str:
        return cell_text(case, fields.get(name, ()), labels)

    sheet.line([(TITLE, "title", 4)], height=36)
    sheet.line([(f"填报单位（盖章）:{heading.org_name}", "head", 2),
                (f"填报日期：{text.date_cn(heading.on)}", "head_right", 2)])
    for left, right in PAIRS:
        sheet.line([(left, "center"), (value(left), "td"), (right, "center"),
                    (value(right), "td")])
    for block, parts in (OVERVIEW, PLAN):
        first = sheet.rows + 1
        for index, part in enumerate(parts):
            sheet.line([(block if index == 0 else None, "center"), (part, "center"),
                        (value(part), "td", 2)])
        sheet.merge(first, 1, sheet.rows, 1)
    for box in boxes:
        signed = sorted((s for s in case.signatures if s.role in box.roles), key=lambda s: s.at)
        sheet.line([(box.label, "center"), (box_text(box, signed), "box", 3)])
    sheet.line([(FOOT_NOTE, "note", 4)])


def box_text(box: SignoffBox, signed: Sequence[Signature]) -> str:
    """A sign-off box's text: the opinions, （盖章）, the signers, the date."""
    opinions = list(dict.fromkeys(s.opinion for s in signed if s.opinion))
    lines = ["；".join(opinions)] if opinions else [""]
    names = [s.actor_name for s in signed]
    if box.kind == "members":
        lines.append(f"签字：{'、'.join(names)}")
    else:
        lines.append("（盖章）")
        if box.kind == "two_leaders":
            lines.append(f"分管区处级领导签字：{'、'.join(names[:-1])}")
        lines.append(f"主要负责人签字：{names[-1] if names else ''}")
    lines.append(text.date_cn(signed[-1].at.date()) if signed else _NO_DATE)
    return "\n".join(lines)
