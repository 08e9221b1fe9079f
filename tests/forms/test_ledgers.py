"""The ledgers of stored cases: the 整改台账's blocks, parts and sign-off boxes, the row-per-case
ledgers' columns, header and foot, neutralised text, and a 10 000-case ledger streamed."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from openpyxl import load_workbook

from paicha.forms.ledgers import (
    HAZARD_LIST_COLUMNS,
    WORK_LEDGER_COLUMNS,
    LedgerCase,
    LedgerHeading,
    LedgerUnit,
    Signature,
    write_hazard_list,
    write_work_ledger,
)
from paicha.forms.rectification import (
    FOOT_NOTE,
    PLAN,
    SIGNOFF_BOXES,
    SignoffBox,
    write_rectification_ledger,
)

UNIT = LedgerUnit("东胜化工有限公司", "林荫路8号", "危险化学品", "区应急管理局", "张建国",
                  "0477-1234567")
HEADING = LedgerHeading("林荫街道", dt.date(2023, 7, 3), filler="王芳", reviewer="李强",
                        signer="刘洋", note="注：主要行政负责人对清单的真实性负责。")
PARTS = {"goals_and_tasks": "消除储罐区防火间距不足", "measures": "拆除违建库房",
         "funds_and_materials": "企业自筹20万元", "responsible": "设备部 赵工",
         "deadline": "2023-06-30", "safety_measures": "划定警戒区，编制专项预案"}


def case(number: int = 1, **data: Any) -> LedgerCase:
    return LedgerCase(
        id=f"hz-{number}", type="hazard", unit=UNIT, grade="重大事故隐患", state="已销号",
        opened=dt.date(2023, 5, 10),
        data={"description": "储罐区与厂房防火间距不足", "location": "储罐区",
              "found_by": "区应急局 周检", "source": "self_inspection", **PARTS, **data},
        signatures=(
            Signature("acceptance_team", "验收组", "陈一", dt.datetime(2023, 6, 28, 9)),
            Signature("acceptance_team", "验收组", "陈二", dt.datetime(2023, 6, 28, 10),
                      "整改到位，同意销号"),
            Signature("locality", "属地乡镇街道", "孙街", dt.datetime(2023, 6, 29), "同意"),
            Signature("regulator", "行业主管部门", "钱局", dt.datetime(2023, 6, 30), "同意"),
            Signature("government", "人民政府", "吴副", dt.datetime(2023, 7, 1)),
            Signature("government", "人民政府", "郑正", dt.datetime(2023, 7, 2), "同意销号"),
        ))


def workbook(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


def lines(ws: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def test_rectification_sheet_holds_the_blocks_and_the_six_parts() -> None:
    out = io.BytesIO()
    assert write_rectification_ledger(iter([case(1), case(2)]), out, HEADING) == 2
    wb = workbook(out.getvalue())
    assert wb.sheetnames == ["hz-1", "hz-2"]
    ws = wb["hz-1"]
    rows = lines(ws)
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert rows[0][0] == "重大事故隐患整改台账" and "A1:D1" in merged
    assert rows[1] == ("填报单位（盖章）:林荫街道", None, "填报日期：2023年7月3日", None)
    assert rows[2] == ("企业名称", "东胜化工有限公司", "联系地址", "林荫路8号")
    assert rows[3] == ("法定代表人", "张建国", "联系电话", "0477-1234567")
    assert rows[4] == ("所属行业", "危险化学品", "主管部门", "区应急管理局")
    assert rows[5] == ("隐患名称", "储罐区", "隐患等级", "重大事故隐患")
    assert rows[7][:3] == ("隐患概况", "隐患现状及产生原因", "储罐区与厂房防火间距不足")
    assert rows[8][:2] == (None, "隐患危害程度整改难易程度分析")
    assert {"A8:A9", "C8:D8", "A10:A15"} <= merged
    plan = rows[9:15]
    assert [r[1] for r in plan] == list(PLAN[1])
    assert [r[2] for r in plan] == ["消除储罐区防火间距不足", "拆除违建库房", "企业自筹20万元",
                                    "设备部 赵工", "2023年6月30日", "划定警戒区，编制专项预案"]
    assert plan[0][0] == "隐患的治理方案"
    assert rows[-1][0] == FOOT_NOTE


def test_signatures_land_in_their_boxes_in_order() -> None:
    out = io.BytesIO()
    write_rectification_ledger([case()], out, HEADING)
    rows = lines(workbook(out.getvalue())["hz-1"])
    boxes = {r[0]: r[1] for r in rows[15:20]}
    assert [r[0] for r in rows[15:20]] == [b.label for b in SIGNOFF_BOXES]
    assert boxes["验收组成员签字"] == "整改到位，同意销号\n签字：陈一、陈二\n2023年6月28日"
    assert boxes["乡镇（街道）意见"] == "同意\n（盖章）\n主要负责人签字：孙街\n2023年6月29日"
    assert boxes["县市区行业主管部门意见"].endswith("主要负责人签字：钱局\n2023年6月30日")
    assert boxes["县市区政府意见"] == ("同意销号\n（盖章）\n分管区处级领导签字：吴副\n"
                                   "主要负责人签字：郑正\n2023年7月2日")
    assert boxes["省辖市主管部门意见"] == "\n（盖章）\n主要负责人签字：\n年　　月　　日"


def test_the_caller_maps_fields_and_boxes() -> None:
    out = io.BytesIO()
    plan_case = case(plan_goal="三年计划的目标", goals_and_tasks=None)
    write_rectification_ledger(
        [plan_case], out, HEADING,
        fields={"治理目标主要任务": ("plan_goal",), "隐患性质": ("source",)},
        boxes=(SignoffBox("乡镇（街道）意见", ("government",)),),
        labels={"source": {"self_inspection": "企业自查"}})
    rows = lines(workbook(out.getvalue())["hz-1"])
    assert rows[6][3] == "企业自查"
    assert rows[9][2] == "三年计划的目标"
    assert rows[2][1] is None  # not mapped: empty
    assert rows[15] == ("乡镇（街道）意见",
                        "同意销号\n（盖章）\n主要负责人签字：郑正\n2023年7月2日", None, None)


def test_work_ledger_has_the_forms_columns_header_and_foot() -> None:
    out = io.BytesIO()
    assert write_work_ledger(iter([case(1), case(2, description="消防通道堵塞")]), out,
                             HEADING) == 2
    ws = workbook(out.getvalue()).worksheets[0]
    rows = lines(ws)
    assert rows[0][0] == "问题隐患排查整治工作台账"
    assert rows[1][0] == "单位：林荫街道" and "2023年7月3日" in rows[1]
    assert rows[2] == WORK_LEDGER_COLUMNS
    assert rows[3] == ("东胜化工有限公司", "区应急局 周检", "2023年5月10日",
                       "储罐区与厂房防火间距不足", "拆除违建库房", "设备部 赵工", "2023年6月30日",
                       None, "重大事故隐患")
    assert rows[4][3] == "消防通道堵塞"
    assert rows[5][0] == "审核人：李强" and "填报人：王芳" in rows[5]
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$3:$3"


def test_hazard_list_numbers_its_lines() -> None:
    out = io.BytesIO()
    write_hazard_list([case(1, supervision_document="东安委督〔2023〕3号"), case(2)], out,
                      HEADING)
    ws = workbook(out.getvalue()).worksheets[0]
    rows = lines(ws)
    assert rows[0][0] == "重大事故隐患专项排查清单"
    assert rows[1][0] == "报送单位（公章）：林荫街道" and "填表时间：2023年7月3日" in rows[1]
    assert rows[2] == HAZARD_LIST_COLUMNS
    assert rows[3] == (1, "东胜化工有限公司", "张建国", "储罐区与厂房防火间距不足",
                       "2023年5月10日", "拆除违建库房", "东安委督〔2023〕3号", "已销号")
    assert rows[4][0] == 2 and rows[4][6] is None
    assert rows[5][0] == HEADING.note
    assert rows[6][0] == "社区或镇政府有关部门主要行政负责人签字：刘洋"
    assert "填表人：王芳" in rows[6]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.fitToWidth == 1


def test_formula_like_case_text_is_written_neutralised() -> None:
    hostile = case(description='=HYPERLINK("x")')
    for write, where in ((write_work_ledger, (4, 4)), (write_hazard_list, (4, 4))):
        out = io.BytesIO()
        write([hostile], out, HEADING)
        cell = workbook(out.getvalue()).worksheets[0].cell(*where)
        assert cell.value == '\'=HYPERLINK("x")' and cell.data_type == "s"
    out = io.BytesIO()
    write_rectification_ledger([hostile], out, HEADING)
    assert workbook(out.getvalue())["hz-1"]["C8"].value == '\'=HYPERLINK("x")'


def test_a_ledger_of_ten_thousand_cases_streams_from_an_iterator() -> None:
    read = 0

    def cases() -> Iterator[LedgerCase]:
        nonlocal read
        for number in range(10_000):
            read += 1
            yield case(number, description=f"隐患{number}")

    out = io.BytesIO()
    assert write_work_ledger(cases(), out, HEADING) == 10_000
    assert read == 10_000
    wb = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    ws = wb.worksheets[0]
    last = None
    count = 0
    for row in ws.iter_rows(min_row=4, values_only=True):
        if row[3] and str(row[3]).startswith("隐患"):
            count += 1
            last = row[3]
    wb.close()
    assert count == 10_000 and last == "隐患9999"
