"""Submissions: an org files its report for a period. The computed figures are frozen with the
manual ones it enters, with who and when; the period's reporting obligation (the check with
`report:`) is completed by it, late when after its due date. A resubmission is a new row that
names the one it replaces: nothing submitted is overwritten, and every submission is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from engine import reports as core
from engine import texts
from engine.access import Principal
from engine.dates import local_date
from engine.errors import Forbidden, InputInvalid
from engine.model import roles_of
from engine.texts import listed
from storage import audit
from storage.campaigns import CampaignRegistry
from storage.query import prefix_condition
from storage.report_views import (
    form_of,
    latest_submissions,
    org_row,
    submission_dict,
    submission_t,
    view,
)
from storage.tables import Completion, Obligation

obligation_t = Obligation.__table__  # type: ignore[attr-defined]
completion_t = Completion.__table__  # type: ignore[attr-defined]

MAX_SUBMISSIONS_LISTED = 500


def submit(conn: Connection, registry: CampaignRegistry, principal: Principal, *,
           campaign_id: str, report_id: str, org_id: str, period: str,
           manual: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """File the org's report for `period`; the stored submission as a dict."""
    if principal.scope_kind == "unit":
        raise Forbidden(texts.t("errors.action.submit_report", report=report_id),
                        texts.t("errors.needs.org_token"))
    org = org_row(conn, principal, org_id)
    campaign, version_id, form = form_of(registry, conn, campaign_id, report_id, org)
    found = core.parse_period(form.period, period)
    today = local_date(now, campaign.timezone)
    if found.first > today:
        raise InputInvalid(texts.t("errors.period_not_begun", period=period, first=found.first),
                           code="period_not_begun")
    entered = core.manual_values(form, manual)
    o = obligation_t.c
    duty = conn.execute(select(obligation_t).where(
        o.campaign_id == campaign_id, o.report == report_id, o.subject_id == org.id,
        o.period == found.label)).first()
    duty_roles = roles_of(duty.role) if duty is not None else ()
    if duty is not None and not principal.admin and not set(duty_roles) & principal.roles:
        held = listed(sorted(principal.roles)) or texts.t("problem.no_role")
        raise Forbidden(texts.t("errors.action.submit_report_for", report=report_id, org=org.id),
                        texts.t("errors.needs.role", roles=listed(map(repr, duty_roles),
                                                                  "errors.list.or"), held=held),
                        required_roles=list(duty_roles), held_roles=sorted(principal.roles))
    as_of = min(found.last, today)
    shown = view(conn, registry, principal, campaign_id=campaign_id, report_id=report_id,
                 org_id=org.id, as_of=as_of, now=now, children=False)
    figures = {**shown.figures, **entered}
    previous = latest_submissions(conn, campaign_id, report_id, found.label, [org.id]).get(org.id)
    late = duty is not None and today > duty.due
    submission_id = conn.execute(insert(submission_t).values(
        campaign_id=campaign_id, campaign_version_id=version_id, report_id=report_id,
        org_id=org.id, org_path=org.path, period=found.label, as_of=as_of,
        figures=figures, manual=entered, submitted_by=principal.actor,
        submitted_at=now, late=late, obligation_id=duty.id if duty is not None else None,
        replaces=previous.id if previous is not None else None,
    ).returning(submission_t.c.id)).scalar_one()
    if duty is not None and duty.done < duty.times:
        # the guard keeps two concurrent first submissions from completing it twice
        conn.execute(update(obligation_t).where(o.id == duty.id, o.done < o.times)
                     .values(done=duty.times, completed_at=now))
        conn.execute(insert(completion_t).values(
            obligation_id=duty.id, actor=principal.actor,
            role=next((r for r in duty_roles if r in principal.roles), duty_roles[0]), at=now,
            evidence={"submission": submission_id}))
    audit.append(conn, stream=f"org:{org.id}", at=now, actor=principal.actor,
                 role=duty.role if duty is not None else None, action="report_submit",
                 data={"campaign": campaign_id, "report": report_id, "period": found.label,
                       "submission": submission_id, "figures": figures,
                       "replaces": previous.id if previous is not None else None,
                       "late": late})
    row = conn.execute(select(submission_t).where(submission_t.c.id == submission_id)).one()
    return submission_dict(row)


def list_submissions(
    conn: Connection, principal: Principal, *, campaign_id: str, report_id: str,
    org_id: str | None, period: str | None,
) -> list[dict[str, Any]]:
    """Submissions in the caller's reach (an org's subtree), newest first; `org_id` narrows to
    one org's subtree, `period` to one period."""
    s = submission_t.c
    query = select(submission_t).where(s.campaign_id == campaign_id, s.report_id == report_id)
    if org_id is not None:
        org = org_row(conn, principal, org_id)
        query = query.where(prefix_condition(s.org_path, org.path))
    elif principal.scope_kind == "unit":
        return []
    elif not principal.admin:
        query = query.where(prefix_condition(s.org_path, principal.scope_path or "\0"))
    if period is not None:
        query = query.where(s.period == period)
    rows = conn.execute(query.order_by(s.id.desc()).limit(MAX_SUBMISSIONS_LISTED))
    return [submission_dict(r) for r in rows]
