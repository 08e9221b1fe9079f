"""Campaigns: list, read (raw and resolved), validate, publish, deploy, timeline, diagram."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from api.deps import Caller, CampaignOffice, ServicesDep, yaml_body
from api.errors import problem_responses
from api.offload import Checkpoint, offload
from api.schemas import (
    CampaignSummary,
    DeploymentIn,
    DeploymentPublic,
    IsoDate,
    PublishResult,
    UndeploymentPublic,
    ValidationResult,
    example,
)
from api.services import Services
from engine import authority, versions
from engine.access import Principal
from engine.checks import Expander
from engine.diagram import mermaid
from engine.document import plain
from engine.errors import Forbidden, InputInvalid, NotFound
from engine.orgs import Org, Unit
from engine.texts import listed, t
from paicha.cells import neutral
from storage import campaigns as store
from storage import deployments, obligations
from storage.query import prefix_condition
from storage.subjects import org_row, org_t, unit_t

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

_YAML_EXAMPLE = ("paicha: 1\nid: my-town-2023\nextends: special-action-2023\n"
                 "title: 某镇重大事故隐患专项排查整治2023行动实施方案\n"
                 "phases:\n  - {id: mobilize, due: \"2023-05-12\"}\n")
_YAML_BODY = {"requestBody": {"required": True, "content": {"application/yaml": {
    "schema": {"type": "string"}, "example": _YAML_EXAMPLE}}}}


@router.get("", response_model=list[CampaignSummary], responses=problem_responses(401),
            summary="The newest version of every published campaign")
def list_campaigns(services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        return [row.summary() for row in store.newest_versions(conn)]


@router.post("/validate", response_model=ValidationResult, responses=problem_responses(401),
             summary="Check a campaign YAML body and report every problem",
             openapi_extra=_YAML_BODY)
async def validate_campaign(request: Request, services: ServicesDep, principal: Caller) -> Any:
    text = await yaml_body(request, what=t("api.what.the_campaign"))
    # parsing and validating a large campaign takes a while: off the event loop
    return await offload(request, _validate, services, text)


def _validate(services: Services, text: str, *, checkpoint: Checkpoint) -> dict[str, Any]:
    with services.db.read() as conn:
        problems = services.registry.check(conn, text, "request")
    return {"valid": not any(p.severity == "error" for p in problems),
            "problems": [p.as_dict() for p in problems]}


@router.post("", status_code=201, response_model=PublishResult,
             responses=problem_responses(401, 403, 422),
             summary="Publish a campaign YAML as its next immutable version",
             description="An admin, or a safety_office token. A new campaign id belongs to "
                         "the publishing office's org (`owner_org`); its next versions may be "
                         "published only by the safety office of that org or of an org above "
                         "it, or by an admin (`not_campaign_owner` otherwise). Campaigns an "
                         "admin or the bundled folder published belong to no office: only an "
                         "admin publishes their next versions. To adapt another org's "
                         "campaign, publish a new id that `extends` it.",
             openapi_extra=_YAML_BODY)
async def publish_campaign(request: Request, response: Response, services: ServicesDep,
                           principal: CampaignOffice) -> Any:
    text = await yaml_body(request, what=t("api.what.the_campaign"))
    # validating, and waiting for the write lock, off the event loop
    created, result = await offload(request, _publish, services, principal, text)
    if not created:
        response.status_code = 200
    return result


def _publish(services: Services, principal: Principal, text: str, *,
             checkpoint: Checkpoint) -> tuple[bool, dict[str, Any]]:
    with services.db.write() as conn:
        row, created = services.registry.publish(
            conn, text, store.API_SOURCE, by=principal.actor, now=services.now(),
            owner_org=authority.owner_of_new_campaign(principal),
            authorize=lambda campaign_id, current: _may_publish(conn, principal, campaign_id,
                                                                current))
        warnings = services.registry.get(conn, row.id).loaded.warnings
        if created:  # a check the previous version lacked reaches the units where it runs
            obligations.after_publishing(conn, services.registry, row, now=services.now())
    return created, {"created": created, "version": row.summary(),
                     "warnings": [w.as_dict() for w in warnings]}


def _may_publish(conn: Any, principal: Principal, campaign_id: str,
                 current: store.VersionRow | None) -> None:
    """A new id is any safety office's to publish; a next version is its owner's (or an office
    above it), and only where every deployment of it lies inside the publisher's subtree: a
    street must not rewrite the plan its district or a neighbour runs."""
    if principal.admin or current is None:
        return
    owner = current.owner_org_id
    owner_path = None if owner is None else org_row(conn, owner).path
    authority.require_next_version(principal, campaign_id, owner, owner_path)
    outside = [d["org"] for d in store.deployments(conn, campaign_id)
               if not principal.reaches_org(d["org_path"])]
    if outside:
        raise Forbidden(t("api.action.publish_version", campaign=campaign_id),
                        t("api.needs.whole_subtree", orgs=listed(outside)))


def _sees_deployment(principal: Principal, path: str) -> bool:
    """A deployment shows to tokens inside it (it applies to them) and above it."""
    if principal.admin:
        return True
    if principal.scope_kind == "unit":
        return (principal.unit_org_path or "").startswith(path)
    mine = principal.scope_path or "\0"
    return path.startswith(mine) or mine.startswith(path)


@router.get("/{campaign_id}", response_model=CampaignSummary,
            responses=problem_responses(401, 404), summary="A campaign's newest (or given) version")
def read_campaign(campaign_id: str, services: ServicesDep, principal: Caller,
                  version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Any:
    with services.db.read() as conn:
        return store.by_number(conn, campaign_id, version).summary()


@router.get("/{campaign_id}/versions", response_model=list[CampaignSummary],
            responses=problem_responses(401, 404), summary="Every published version")
def campaign_versions(campaign_id: str, services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        rows = store.versions_of(conn, campaign_id)
    if not rows:
        raise NotFound("campaign", campaign_id)
    return [r.summary() for r in rows]


class VersionDiff(BaseModel):
    """What changed from one version of a campaign to another (engine.versions)."""

    model_config = example(
        campaign="special-action-2023-linyin", **{"from": 1}, to=2, period=None,
        phases={"added": [], "removed": [], "redated": [
            {"id": "mobilize", "name": "动员部署", "from": {"due": "2023-05-12", "start": None},
             "to": {"due": "2023-05-19", "start": None}}]},
        checks={"added": [{"id": "night_patrol", "name": "夜间巡查"}], "removed": [],
                "changed": []},
        cases={}, reports={"added": [], "removed": [], "changed": []})
    campaign: str
    from_: int = Field(alias="from")
    to: int
    period: dict[str, Any] | None = Field(description="the period or time zone, if changed")
    phases: dict[str, Any] = Field(description="added, removed, redated (from and to dates)")
    checks: dict[str, Any] = Field(description=(
        "added, removed, changed (with what of each changed: who, audience, every, times, "
        "deadlines, period_due, stricter, start, end, phase, evidence; phase_redated: a "
        "deadline counted from a re-dated phase)"))
    cases: dict[str, Any] = Field(description=(
        "per case type that changed: states and fields added or removed, transitions added, "
        "removed or changed, sign-off chains changed (from and to roles), clocks"))
    reports: dict[str, Any]


@router.get("/{campaign_id}/versions/diff", response_model=VersionDiff,
            response_model_by_alias=True, responses=problem_responses(401, 404, 422),
            summary="What changed between two versions of a campaign")
def version_diff(campaign_id: str, services: ServicesDep, principal: Caller,
                 from_: Annotated[int, Query(alias="from", ge=1, le=2**31 - 1,
                                             description="the older version's number")],
                 to: Annotated[int | None, Query(ge=1, le=2**31 - 1, description=(
                     "the newer version's number; default the newest"))] = None) -> Any:
    with services.db.read() as conn:
        old = store.by_number(conn, campaign_id, from_)
        new = store.by_number(conn, campaign_id, to)
        before = services.registry.get(conn, old.id).loaded.campaign
        after = services.registry.get(conn, new.id).loaded.campaign
    return {"campaign": campaign_id, "from": old.number, "to": new.number,
            **versions.diff(before, after)}


@router.get("/{campaign_id}/raw", response_class=PlainTextResponse,
            responses={200: {"content": {"application/yaml": {"example": "paicha: 1\n…"}}},
                       **problem_responses(401, 404)},
            summary="The YAML text as published")
def raw_campaign(campaign_id: str, services: ServicesDep, principal: Caller,
                 version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Any:
    with services.db.read() as conn:
        row = store.by_number(conn, campaign_id, version)
    return PlainTextResponse(row.text, media_type="application/yaml")


@router.get("/{campaign_id}/resolved", responses={
    200: {"content": {"application/json": {"example": {"id": "special-action-2023-linyin",
                                                        "phases": []}}}},
    **problem_responses(401, 404)}, summary="The campaign with its parents merged in, as JSON")
def resolved_campaign(campaign_id: str, services: ServicesDep, principal: Caller,
                      version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Any:
    with services.db.read() as conn:
        published = services.registry.get(conn, store.by_number(conn, campaign_id, version).id)
    return plain(published.loaded.document)


@router.get("/{campaign_id}/diagram", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {
                "example": "stateDiagram-v2\n    [*] --> reported\n"}}},
                **problem_responses(401, 404, 422)},
            summary="A Mermaid diagram of a case type's lifecycle")
def campaign_diagram(campaign_id: str, services: ServicesDep, principal: Caller,
                     case: str = "hazard") -> Any:
    with services.db.read() as conn:
        published = services.registry.newest(conn, campaign_id)
    campaign = published.loaded.campaign
    if case not in campaign.cases:
        raise InputInvalid(t("api.campaign.unknown_case_type", campaign=campaign_id, case=case,
                             types=listed(campaign.cases)),
                           code="unknown_case_type")
    return PlainTextResponse(mermaid(campaign, campaign.cases[case]))


@router.get("/{campaign_id}/timeline",
            responses={200: {"content": {"application/json": {"example": [{
                "due": "2023-06-30", "check": "study_and_deploy", "role": "principal",
                "subject": "u-chem-01", "period": None, "name": "学习研究重大事故隐患判定标准",
                "provisional": False}]},
                "text/csv": {"example": "due,check,role,subject,period,times,name,provisional\n"}}},
                **problem_responses(401, 404, 422)},
            summary="Every deadline of the campaign for units (and orgs) under an org")
def campaign_timeline(
    campaign_id: str, services: ServicesDep, principal: Caller,
    org: Annotated[str | None, Query(description="units and orgs of this subtree")] = None,
    unit: str | None = None,
    start: IsoDate | None = None, end: IsoDate | None = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> Any:
    with services.db.read() as conn:
        published = services.registry.newest(conn, campaign_id)
        subjects = _subjects(conn, principal, org, unit)
    campaign = published.loaded.campaign
    expander = Expander(campaign, published.deadlines, start=start, end=end)
    rows = []
    for obligation in expander.by_date(subjects):
        rows.append({"due": obligation.due.isoformat(), "check": obligation.check,
                     "role": obligation.role, "subject": obligation.subject,
                     "period": obligation.period, "times": obligation.times,
                     "name": obligation.name,
                     # rolled over a year nobody covers yet (GET /calendar)
                     "provisional": obligation.provisional is not None})
        if len(rows) >= limit:
            break
    if format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["due", "check", "role", "subject", "period",
                                                 "times", "name", "provisional"])
        writer.writeheader()
        # names come from campaigns and ids from imports: no cell may run as a formula
        writer.writerows({key: neutral(value) for key, value in row.items()} for row in rows)
        return PlainTextResponse(out.getvalue(), media_type="text/csv")
    return rows


def _subjects(conn: Any, principal: Any, org: str | None, unit: str | None
              ) -> list[Unit | Org]:
    if unit is not None:
        row = conn.execute(unit_t.select().where(unit_t.c.id == unit)).one_or_none()
        if row is None:
            raise NotFound("unit", unit)
        principal.require_unit(unit, row.org_path)
        return [Unit(row.id, row.name, row.org_id, row.industry, frozenset(row.tags))]
    if org is None:
        raise InputInvalid(t("api.campaign.timeline_whose"), code="bad_filter")
    path = org_row(conn, org).path
    principal.require_org(org, path)
    found: list[Unit | Org] = [
        Org(r.id, r.name, r.level, r.parent_id)
        for r in conn.execute(org_t.select().where(prefix_condition(org_t.c.path, path)))]
    found.extend(Unit(r.id, r.name, r.org_id, r.industry, frozenset(r.tags))
                 for r in conn.execute(unit_t.select().where(
                     prefix_condition(unit_t.c.org_path, path)).limit(5000)))
    return found


@router.get("/{campaign_id}/deployments", response_model=list[DeploymentPublic],
            responses=problem_responses(401, 404), summary="Where the campaign runs")
def list_deployments(campaign_id: str, services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        store.by_number(conn, campaign_id, None)
        return [d for d in store.deployments(conn, campaign_id)
                if _sees_deployment(principal, d["org_path"])]


@router.post("/{campaign_id}/deployments", status_code=201, response_model=DeploymentPublic,
             responses=problem_responses(401, 403, 404, 409),
             summary="Run the campaign in an org's subtree",
             description="An admin, or a safety_office token whose subtree holds the org. A "
                         "campaign an office owns runs only inside its owner's subtree, unless "
                         "an office at or above the owner deploys it (`not_campaign_owner`).")
def deploy_campaign(campaign_id: str, body: DeploymentIn, services: ServicesDep,
                    principal: CampaignOffice) -> Any:
    now = services.now()
    with services.db.write() as conn:
        published = services.registry.newest(conn, campaign_id)
        owner = published.row.owner_org_id
        authority.require_deploy(principal, campaign_id, owner,
                                 None if owner is None else org_row(conn, owner).path,
                                 org_row(conn, body.org).path)
        return deployments.deploy(conn, principal, published, body.org, now=now)


@router.delete("/{campaign_id}/deployments/{org_id}", response_model=UndeploymentPublic,
               responses=problem_responses(401, 403, 404),
               summary="Stop running the campaign in an org's subtree",
               description="An admin, or a safety_office token whose subtree holds the org. "
                           "Ends what the deployment armed: its phase reminders, and the "
                           "obligations still open in the subtree with their reminders. "
                           "Completed (and partly completed) obligations, missed ones and "
                           "their evidence stay. No new case may be opened under the campaign "
                           "there; open cases go on to their end, with their clocks.")
def undeploy_campaign(campaign_id: str, org_id: str, services: ServicesDep,
                      principal: CampaignOffice) -> Any:
    now = services.now()
    with services.db.write() as conn:
        return deployments.undeploy(conn, principal, services.registry, campaign_id, org_id,
                                    now=now)
