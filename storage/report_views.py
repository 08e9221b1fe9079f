"""A report as an office reads it: the org's form at a date with its computed figures and its
manual ones, each child's figures beside the status of the child's submission for the period,
and the submissions themselves (storage.submissions writes them).

Manual figures of an org are the ones its latest submission for the period entered; where it
entered none, the sum of its children's submitted ones (engine.reports.add_values).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, or_, select

from engine import reports as core
from engine import texts
from engine.access import Principal
from engine.dates import Period, local_date
from engine.errors import InputInvalid, NotFound, OutOfScope
from engine.limits import DateRange
from engine.model import Campaign, Report
from engine.texts import listed
from storage import reports
from storage.campaigns import CampaignRegistry
from storage.query import ancestor_paths, prefix_condition
from storage.tables import Deployment, Obligation, Org, ReportSubmission

org_t = Org.__table__  # type: ignore[attr-defined]
deployment_t = Deployment.__table__  # type: ignore[attr-defined]
obligation_t = Obligation.__table__  # type: ignore[attr-defined]
submission_t = ReportSubmission.__table__  # type: ignore[attr-defined]

Status = Literal["submitted", "late", "missing", "not_yet"]
STATUS_CN: dict[str, str] = {"submitted": "已报送", "late": "逾期报送", "missing": "逾期未报",
                             "not_yet": "未报送"}


@dataclass(frozen=True)
class OrgRow:
    id: str
    name: str
    level: str
    path: str


@dataclass
class ChildView:
    org: OrgRow
    status: Status
    due: dt.date | None
    live: dict[str, core.Value]
    submitted: dict[str, Any] | None = None


@dataclass
class ReportView:
    campaign: Campaign
    campaign_version_id: int
    form: Report
    org: OrgRow
    as_of: dt.date
    period: Period
    figures: dict[str, core.Value]
    filled: core.FilledForm
    own: dict[str, core.Value] = field(default_factory=dict)
    children: list[ChildView] = field(default_factory=list)
    # the children's latest submitted figures added up, beside the live `figures`
    children_submitted: dict[str, core.Value] = field(default_factory=dict)
    submission: dict[str, Any] | None = None


def org_row(conn: Connection, principal: Principal, org_id: str) -> OrgRow:
    """The org, if the caller reaches it (an org token its subtree; a unit token no org)."""
    found = conn.execute(select(org_t.c.id, org_t.c.name, org_t.c.level, org_t.c.path)
                         .where(org_t.c.id == org_id)).first()
    if found is None:
        raise NotFound("org", org_id, texts.t("errors.hint.orgs"))
    row = OrgRow(*found)
    if not principal.reaches_org(row.path):
        raise OutOfScope(texts.t("errors.what.org", id=org_id), principal.scope)
    return row


def org_of_path(conn: Connection, path: str) -> str:
    """The name of the org at `path` (empty if none)."""
    found = conn.execute(select(org_t.c.name).where(org_t.c.path == path)).scalar()
    return str(found or "")


def form_of(registry: CampaignRegistry, conn: Connection, campaign_id: str, report_id: str,
            org: OrgRow) -> tuple[Campaign, int, Report]:
    """The campaign's newest version and the report's form for the org's level."""
    published = registry.newest(conn, campaign_id)
    campaign = published.loaded.campaign
    report = campaign.reports.get(report_id)
    if report is None:
        raise NotFound("report", f"{campaign_id}/{report_id}",
                       texts.t("errors.hint.reports",
                               reports=listed(campaign.reports) or texts.t("errors.none")))
    deployed = conn.execute(select(deployment_t.c.id).where(
        deployment_t.c.campaign_id == campaign_id,
        or_(deployment_t.c.org_path.in_(ancestor_paths(org.path)),
            prefix_condition(deployment_t.c.org_path, org.path))).limit(1)).first()
    if deployed is None:
        raise InputInvalid(texts.t("errors.not_deployed.org", campaign=campaign_id, org=org.id),
                           code="campaign_not_deployed")
    assert published.row.id is not None
    return campaign, published.row.id, report.form_for(org.level)


def latest_submissions(conn: Connection, campaign_id: str, report_id: str, period: str,
                       org_ids: list[str]) -> dict[str, Any]:
    """Each org's latest submission for the period (rows by org id)."""
    if not org_ids:
        return {}
    s = submission_t.c
    found: dict[str, Any] = {}
    for row in conn.execute(select(submission_t).where(
            s.campaign_id == campaign_id, s.report_id == report_id, s.period == period,
            s.org_id.in_(org_ids)).order_by(s.id)):
        found[row.org_id] = row  # later ids replace earlier ones
    return found


def reporting_dues(conn: Connection, campaign_id: str, report_id: str, period: str,
                   org_ids: list[str]) -> dict[str, dt.date]:
    """The due date of each org's reporting obligation for the period, where it has one."""
    if not org_ids:
        return {}
    o = obligation_t.c
    return {r.subject_id: r.due for r in conn.execute(
        select(o.subject_id, o.due).where(o.campaign_id == campaign_id, o.report == report_id,
                                          o.period == period, o.subject_id.in_(org_ids)))}


def submission_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "org": row.org_id, "period": row.period, "as_of": row.as_of,
            "figures": dict(row.figures), "manual": dict(row.manual),
            "submitted_by": row.submitted_by, "submitted_at": row.submitted_at,
            "late": row.late, "replaces": row.replaces}


def status_of(submission: Any, due: dt.date | None, today: dt.date) -> Status:
    if submission is not None:
        return "late" if submission.late else "submitted"
    return "missing" if due is not None and today > due else "not_yet"


def report_day(campaign: Campaign, as_of: dt.date | None, now: dt.datetime) -> dt.date:
    """The day a report or a target is counted at: `as_of`, or today in the campaign's zone."""
    if as_of is None:
        return local_date(now, campaign.timezone)
    return recorded_day(campaign, as_of)


def recorded_day(campaign: Campaign, day: dt.date) -> dt.date:
    """`day`, if it lies within the dates the campaign records (engine.limits.DateRange); a
    day outside is refused — the ends of the calendar cannot even be counted to."""
    dates = DateRange.for_campaign(campaign)
    if not dates.first <= day <= dates.last:
        raise InputInvalid(texts.t("errors.bad_date", day=day, campaign=campaign.id,
                                   first=dates.first, last=dates.last),
                           code="bad_date")
    return day


def view(conn: Connection, registry: CampaignRegistry, principal: Principal, *,
         campaign_id: str, report_id: str, org_id: str, as_of: dt.date | None,
         now: dt.datetime, children: bool = True) -> ReportView:
    """The org's report at `as_of` (default today), with its children's when `children`."""
    org = org_row(conn, principal, org_id)
    campaign, version_id, form = form_of(registry, conn, campaign_id, report_id, org)
    day = report_day(campaign, as_of, now)
    period = core.period_of(form.period, day)
    scope = reports.Scope(campaign_id, org.path, day, campaign.timezone, period)
    counted = reports.compute(conn, scope, core.measured(form), children=children)
    kids = [OrgRow(*r) for r in conn.execute(
        select(org_t.c.id, org_t.c.name, org_t.c.level, org_t.c.path)
        .where(org_t.c.parent_id == org.id).order_by(org_t.c.id))]
    submitted = latest_submissions(conn, campaign_id, report_id, period.label,
                                   [org.id, *(k.id for k in kids)])
    own_submission = submitted.get(org.id)
    # the children's filed figures added up: beside the live ones, and the parent's manual
    # figures where it entered none itself
    children_submitted: dict[str, core.Value] = {}
    for slot in core.slots(form):
        summed: core.Value = None
        for kid in kids:
            if kid.id in submitted:
                summed = core.add_values(summed, dict(submitted[kid.id].figures).get(slot.key))
        children_submitted[slot.key] = summed
    entered = dict(own_submission.manual) if own_submission is not None else {}
    figures: dict[str, core.Value] = dict(counted.total)
    for slot in core.slots(form):
        if slot.figure.manual:
            figures[slot.key] = entered.get(slot.key, children_submitted[slot.key])
    result = ReportView(campaign, version_id, form, org, day, period, figures,
                        core.fill(campaign, form, figures, org_id=org.id, org_name=org.name,
                                  as_of=day))
    if own_submission is not None:
        result.submission = submission_dict(own_submission)
    if children:
        today = local_date(now, campaign.timezone)
        dues = reporting_dues(conn, campaign_id, report_id, period.label, [k.id for k in kids])
        keys = [k for k, _m in core.measured(form)]
        by_id = reports.children_of(counted, {k.path: k.id for k in kids}, org.path, keys)
        result.own = by_id[reports.OWN]
        for kid in kids:
            row = submitted.get(kid.id)
            result.children.append(ChildView(
                kid, status_of(row, dues.get(kid.id), today), dues.get(kid.id), by_id[kid.id],
                submission_dict(row) if row is not None else None))
        result.children_submitted = children_submitted
    return result


def org_ref(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "level": row.level}


def report_json(shown: ReportView, targets: list[dict[str, Any]]) -> dict[str, Any]:
    """A report view as JSON (dates as date objects; the API or the CLI serialises them)."""
    rows = []
    for section in shown.filled.sections:
        for row in section.rows:
            rows.append({
                "id": row.id, "section": section.id, "section_name": section.name,
                "number": row.number, "name": row.name, "unit": row.unit,
                "figures": [{"key": k, "name": f.name, "value": v, "manual": f.manual}
                            for k, f, v in zip(row.keys, row.figures, row.values, strict=True)]})
    return {
        "campaign": shown.campaign.id, "report": shown.form.id, "title": shown.form.name,
        "org": org_ref(shown.org), "as_of": shown.as_of, "period": shown.period.label,
        "layout": shown.form.layout, "rows": rows, "figures": shown.figures, "own": shown.own,
        "children_submitted": shown.children_submitted,
        "children": [{"org": org_ref(c.org), "status": c.status, "due": c.due,
                      "figures": c.live, "submitted": c.submitted} for c in shown.children],
        "submission": shown.submission, "notes": list(shown.form.notes), "targets": targets,
    }
