"""Reports (调度表): an org's report at a date with its children's, submissions, targets, and
the same report as CSV or XLSX in the paper form's layout."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Response

from api.deps import Caller, ServicesDep
from api.errors import problem_responses
from api.exports import XLSX, download
from api.idempotency import IdempotentCreate
from api.report_schemas import ReportOut, SubmissionIn, SubmissionPublic, TargetOut
from api.schemas import IsoDate
from engine.access import Principal
from engine.errors import InputInvalid
from engine.texts import t
from storage import report_views, submissions, targets

router = APIRouter(prefix="/campaigns", tags=["reports"])

_ID = r"^[^\x00/]+$"
CampaignId = Annotated[str, Path(max_length=64, pattern=_ID, description="the campaign's id")]
ReportId = Annotated[str, Path(max_length=64, pattern=_ID,
                               description="the report's id in the campaign (e.g. dispatch)")]
OrgQuery = Annotated[str | None, Query(
    max_length=64, pattern=r"^[^\x00]+$",
    description="the org whose report this is; default: your token's org")]
AsOf = Annotated[IsoDate | None, Query(
    description="the figures as they were at the end of this day (local time); default today")]
Format = Literal["json", "csv", "xlsx"]


def org_of(principal: Principal, org: str | None) -> str:
    """The org asked for, or the caller's own."""
    if org is not None:
        return org
    if principal.scope_kind == "org" and principal.scope_id is not None:
        return principal.scope_id
    raise InputInvalid(t("api.report.org_required"), code="org_required")


@router.get("/{campaign_id}/reports/{report_id}", response_model=ReportOut,
            responses={**problem_responses(401, 403, 404, 422), 200: {"content": {
                "text/csv": {"schema": {"type": "string"}, "example": (
                    "\ufeff序号,部分,项目,单位,数值\n1,总体情况,企业自查发现的重大事故隐患（个）,个,2\n")},
                XLSX: {"schema": {"type": "string", "format": "binary"},
                       "example": "(the XLSX workbook: the paper form's layout)"}}}},
            summary="An org's report at a date, with each child's figures and submission")
def read_report(
    campaign_id: CampaignId, report_id: ReportId, services: ServicesDep, principal: Caller,
    org: OrgQuery = None, as_of: AsOf = None,
    format: Annotated[Format, Query(description="json (default), csv, or xlsx: the paper "
                                                 "form's layout")] = "json",
) -> Any:
    now = services.now()
    with services.db.read() as conn:
        shown = report_views.view(
            conn, services.registry, principal, campaign_id=campaign_id, report_id=report_id,
            org_id=org_of(principal, org), as_of=as_of, now=now)
        found = targets.targets_at(conn, shown.campaign, shown.org, shown.as_of)
    if format != "json":
        return download(shown, format)
    return report_views.report_json(shown, found)


@router.post("/{campaign_id}/reports/{report_id}/submissions", status_code=201,
             response_model=SubmissionPublic,
             responses=problem_responses(401, 403, 404, 409, 422),
             summary="Submit an org's report for a period (completes its reporting duty)")
def submit_report(
    campaign_id: CampaignId, report_id: ReportId, body: SubmissionIn, response: Response,
    services: ServicesDep, principal: Caller, org: OrgQuery = None,
    idempotency_key: Annotated[str | None, Header(
        max_length=200, description="retrying with the same key returns the first response "
                                    "instead of submitting again")] = None,
) -> Any:
    now = services.now()
    with services.db.write() as conn:
        guard = IdempotentCreate(conn, principal, idempotency_key, {
            "campaign": campaign_id, "report": report_id, "org": org,
            **body.model_dump(mode="json")})
        replay = guard.replay(response)
        if replay is not None:
            return replay
        stored = submissions.submit(
            conn, services.registry, principal, campaign_id=campaign_id, report_id=report_id,
            org_id=org_of(principal, org), period=body.period, manual=body.figures, now=now)
        result = SubmissionPublic.model_validate(stored)
        guard.remember(201, result.model_dump(mode="json"), now)
    return result


@router.get("/{campaign_id}/reports/{report_id}/submissions",
            response_model=list[SubmissionPublic],
            responses=problem_responses(401, 403, 404, 422),
            summary="Submissions in your reach, newest first (at most 500)")
def list_submissions(
    campaign_id: CampaignId, report_id: ReportId, services: ServicesDep, principal: Caller,
    org: OrgQuery = None,
    period: Annotated[str | None, Query(max_length=16, pattern=r"^[0-9A-Za-z-]+$",
                                        description="2023-06, 2024Q2, 2024H1, 2024")] = None,
) -> Any:
    with services.db.read() as conn:
        return submissions.list_submissions(conn, principal, campaign_id=campaign_id,
                                            report_id=report_id, org_id=org, period=period)


@router.get("/{campaign_id}/targets", response_model=list[TargetOut],
            responses=problem_responses(401, 403, 404, 422),
            summary="The campaign's targets for an org's subtree at a date, with their status")
def read_targets(campaign_id: CampaignId, services: ServicesDep, principal: Caller,
                 org: OrgQuery = None, as_of: AsOf = None) -> Any:
    with services.db.read() as conn:
        row = report_views.org_row(conn, principal, org_of(principal, org))
        campaign = services.registry.newest(conn, campaign_id).loaded.campaign
        day = report_views.report_day(campaign, as_of, services.now())
        return targets.targets_at(conn, campaign, row, day)
