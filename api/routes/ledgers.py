"""Ledgers (台账, 清单) from the record: a case's 整改台账, and a campaign's ledgers for an org's
subtree and a date range, as XLSX in the paper forms' layout, CSV or JSON."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO, Literal

from fastapi import APIRouter, Path, Query, Response

from api.deps import Caller, ServicesDep
from api.errors import problem_responses
from api.exports import CSV, XLSX, attachment, ledger_file
from api.routes.reports import CampaignId, OrgQuery, org_of
from api.schemas import IsoDate
from engine.dates import local_date
from engine.errors import InputInvalid
from engine.model import Campaign
from engine.texts import t
from paicha.forms.ledgers import (
    LedgerCase,
    LedgerHeading,
    labels_of,
    write_hazard_list,
    write_work_ledger,
)
from paicha.forms.records import ledger_case, ledger_csv, ledger_rows
from paicha.forms.rectification import write_rectification_ledger
from storage import ledgers, report_views

router = APIRouter(tags=["reports"])
_BINARY = {"schema": {"type": "string", "format": "binary"},
           "example": "(the XLSX workbook: the paper form's layout)"}
_CSV = {"schema": {"type": "string"}, "example": "\ufeffid,检查企业（单位）名称,检查人员,…\n"
        "5f0c…,示例化工有限公司,区应急局,…\n"}
_LINES = {"ledger": "inspection_list", "title": "重大事故隐患专项排查清单", "rows": [
    {"id": "5f0c3a…", "企业名称": "示例化工有限公司", "隐患主要内容": "配电室线路老化",
     "交办时间": "2023年6月1日"}]}
FILE_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"description": "the ledger", "content": {
        "application/json": {"example": _LINES}, XLSX: _BINARY, "text/csv": _CSV}}}
CASE_FILE: dict[int | str, dict[str, Any]] = {
    200: {"description": "the case's 整改台账", "content": {XLSX: _BINARY}}}
JSON_ROWS_MAX = 5000

LedgerId = Annotated[ledgers.LedgerId, Path(
    description="rectification_ledger (重大事故隐患整改台账, a sheet per major hazard), "
                "work_ledger (问题隐患排查整治工作台账) or inspection_list "
                "(重大事故隐患专项排查清单)")]


def _labels(campaign: Campaign) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for case_type in campaign.cases.values():
        found.update(labels_of(case_type))
    return found


def _write(ledger: str, cases: Iterator[LedgerCase], out: BinaryIO, heading: LedgerHeading,
           labels: dict[str, dict[str, str]]) -> None:
    if ledger == "rectification_ledger":
        write_rectification_ledger(cases, out, heading, labels=labels)
    elif ledger == "work_ledger":
        write_work_ledger(cases, out, heading, labels=labels)
    else:
        write_hazard_list(cases, out, heading, labels=labels)


@router.get("/campaigns/{campaign_id}/ledgers/{ledger}",
            responses={**problem_responses(401, 403, 404, 422), **FILE_CONTENT},
            summary="A ledger of an org's subtree: the cases opened in a date range")
def read_ledger(
    campaign_id: CampaignId, ledger: LedgerId, services: ServicesDep, principal: Caller,
    org: OrgQuery = None,
    from_: Annotated[IsoDate | None, Query(alias="from", description="opened on or after")] = None,
    to: Annotated[IsoDate | None, Query(description="opened on or before")] = None,
    format: Annotated[Literal["xlsx", "csv", "json"], Query(
        description="xlsx (default, the paper form), csv, or json (at most 5000 lines)")] = "xlsx",
) -> Any:
    now = services.now()
    with services.db.read() as conn:
        if principal.scope_kind == "unit" and org is None:
            path = principal.unit_org_path or "\0"
            org_name = ""
        else:
            row = report_views.org_row(conn, principal, org_of(principal, org))
            path, org_name = row.path, row.name
        campaign = services.registry.newest(conn, campaign_id).loaded.campaign
        title = ledgers.ledger_title(ledger)
        rows = ledgers.cases_of(conn, principal, campaign, ledger, org_path=path,
                                first=from_, last=to)
        cases = (ledger_case(campaign, r, r.unit_name, r.industry) for r in rows)
        labels = _labels(campaign)
        name = f"{title}-{org_name or 'unit'}-{local_date(now, campaign.timezone)}"
        if format == "json":
            found: list[dict[str, str]] = []
            for line in ledger_rows(cases, ledger, labels):
                if len(found) == JSON_ROWS_MAX:
                    raise InputInvalid(t("api.ledger.too_many_lines", max=JSON_ROWS_MAX),
                                       code="too_many_lines")
                found.append(line)
            return {"ledger": ledger, "title": title, "rows": found}
        if format == "csv":
            text = io.StringIO()
            ledger_csv(cases, ledger, text, labels)
            return attachment(text.getvalue().encode(), CSV, f"{name}.csv")
        heading = LedgerHeading(org_name, local_date(now, campaign.timezone))
        return ledger_file(lambda out: _write(ledger, cases, out, heading, labels), XLSX,
                           f"{name}.xlsx")


@router.get("/cases/{case_id}/ledger",
            responses={**problem_responses(401, 403, 404, 422), **CASE_FILE},
            summary="A case's 重大事故隐患整改台账 (XLSX, the paper form)")
def read_case_ledger(
    case_id: Annotated[str, Path(max_length=64, pattern=r"^[^\x00/]+$")],
    services: ServicesDep, principal: Caller,
    format: Annotated[Literal["xlsx"], Query(description="xlsx")] = "xlsx",
) -> Response:
    now = services.now()
    with services.db.read() as conn:
        row, unit = ledgers.one_case(conn, principal, case_id)
        campaign = services.registry.get(conn, row.campaign_version_id).loaded.campaign
        case = ledger_case(campaign, row, unit.name if unit else None,
                           unit.industry if unit else None)
        org = report_views.org_of_path(conn, row.org_path)
    out = io.BytesIO()
    write_rectification_ledger([case], out, LedgerHeading(org, local_date(now, campaign.timezone)),
                               labels=_labels(campaign))
    return attachment(out.getvalue(), XLSX, f"重大事故隐患整改台账-{case_id}.xlsx")

