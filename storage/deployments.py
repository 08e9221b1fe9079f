"""Deployments: a campaign runs in an org's subtree (its units may open cases under it, and
its units and orgs get the campaign's obligations), until it is undeployed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, not_, or_, select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from engine import texts
from engine.access import Principal
from engine.dates import local_date
from engine.errors import Conflict, NotFound
from storage import audit, obligations, timers
from storage.campaigns import CampaignRegistry, Published, deployment_t
from storage.query import prefix_condition
from storage.subjects import org_row

obligation_t = obligations.obligation_t
timer_t = timers.timer_t

# Obligations are read a page at a time (a province's subtree holds millions), and their
# reminders found by key ranges, a few hundred to a statement (SQLite's expression depth).
PAGE = 200


def deploy(conn: Connection, principal: Principal, published: Published, org_id: str, *,
           now: dt.datetime) -> dict[str, Any]:
    """Deploy the campaign to `org_id`'s subtree and store its units' and orgs' obligations.

    The whole campaign period is expanded, also what fell due before the deployment: those
    duties were the subjects' all along, and show as missed until someone records them.
    """
    org = org_row(conn, org_id)
    principal.require_org(org_id, org.path)
    campaign_id = published.row.campaign_id
    taken = conn.execute(select(deployment_t.c.id).where(
        deployment_t.c.campaign_id == campaign_id, deployment_t.c.org_id == org_id)).first()
    if taken is not None:
        raise Conflict(texts.t("errors.exists.deployment", campaign=campaign_id, org=org_id),
                       code="already_exists")
    conn.execute(insert(deployment_t).values(campaign_id=campaign_id, org_id=org_id,
                                             org_path=org.path, created_at=now))
    obligations.materialize(conn, published, obligations.subtree_subjects(conn, org.path),
                            now=now)
    timers.insert_new(conn, timers.phase_timer_rows(published, org_id, org.path, now=now))
    timers.insert_new(conn, timers.target_timer_rows(published, org_id, org.path, now=now))
    # in the org's stream, not the campaign's: deployments to two orgs at once do not contend
    audit.append(conn, stream=f"org:{org_id}", at=now, actor=principal.actor, role=None,
                 action="deploy", data={"campaign": campaign_id,
                                        "version": published.row.number})
    return {"campaign": campaign_id, "org": org_id, "org_path": org.path, "created_at": now}


def undeploy(conn: Connection, principal: Principal, registry: CampaignRegistry,
             campaign_id: str, org_id: str, *, now: dt.datetime) -> dict[str, Any]:
    """Stop running the campaign in `org_id`'s subtree: end what its deployment armed.

    Gone: the deployment (no new case opens under the campaign there, no unit added later
    gets its duties), its pending phase reminders, and the subtree's open obligations that
    nobody has completed even once, with their pending reminders. Kept: what happened —
    completed and missed obligations, those partly completed (their evidence; their reminders
    stop), and the open cases, which go on to their end. Where the campaign is deployed above
    too, the subtree's duties are that deployment's and stay; where it is deployed below too,
    those subtrees keep theirs.
    """
    org = org_row(conn, org_id)
    principal.require_org(org_id, org.path)
    found = conn.execute(select(deployment_t).where(
        deployment_t.c.campaign_id == campaign_id, deployment_t.c.org_id == org_id)
    ).one_or_none()
    if found is None:
        raise NotFound("deployment", texts.t("errors.deployment_key", campaign=campaign_id,
                                             org=org_id),
                       texts.t("errors.hint.deployments", campaign=campaign_id))
    path = found.org_path
    conn.execute(delete(deployment_t).where(deployment_t.c.id == found.id))
    others = conn.execute(select(deployment_t.c.org_id, deployment_t.c.org_path).where(
        deployment_t.c.campaign_id == campaign_id)).all()
    above = sorted(o.org_id for o in others if path.startswith(o.org_path))
    below = [o.org_path for o in others if o.org_path.startswith(path)]
    cancelled = _drop_phase_timers(conn, campaign_id, path)
    removed = kept = 0
    if not above:
        timezone = registry.newest(conn, campaign_id).loaded.campaign.timezone
        removed, kept, dropped = _end_open_obligations(
            conn, campaign_id, path, below, today=local_date(now, timezone))
        cancelled += dropped
    summary = {"obligations_removed": removed, "obligations_kept": kept,
               "timers_cancelled": cancelled, "still_covered_by": above}
    audit.append(conn, stream=f"org:{org_id}", at=now, actor=principal.actor, role=None,
                 action="undeploy", data={"campaign": campaign_id, **summary})
    return {"campaign": campaign_id, "org": org_id, "org_path": path, "undeployed_at": now,
            **summary}


def _drop_phase_timers(conn: Connection, campaign_id: str, path: str) -> int:
    # phase timers' keys are `phase:<campaign>/<phase>/<org>/<due>` (timers.phase_timer_rows):
    # a range of the key index, narrowed to the deployment's org. Removed rather than
    # cancelled, so that deploying again arms them again (arming leaves stored keys alone).
    # Target notices (`target:<campaign>/…`, timers.target_timer_rows) go the same way.
    removed = 0
    for prefix in (f"phase:{campaign_id}/", f"{timers.TARGET_PREFIX}{campaign_id}/"):
        result = conn.execute(delete(timer_t).where(
            timer_t.c.key >= prefix, timer_t.c.key < prefix[:-1] + "0",
            timer_t.c.campaign_id == campaign_id, timer_t.c.org_path == path,
            timer_t.c.status == timers.PENDING))
        removed += int(result.rowcount)
    return removed


def _end_open_obligations(conn: Connection, campaign_id: str, path: str, below: list[str], *,
                          today: dt.date) -> tuple[int, int, int]:
    """Remove the subtree's open obligations of the campaign with no completion, and the
    pending reminders of every one not yet due; (removed, kept, reminders removed)."""
    c = obligation_t.c
    conditions: list[ColumnElement[bool]] = [
        prefix_condition(c.org_path, path), c.campaign_id == campaign_id, c.due >= today]
    conditions.extend(not_(prefix_condition(c.org_path, inner)) for inner in below)
    removed = kept = dropped = 0
    after: tuple[str, dt.date, int] | None = None
    while True:
        # keyset pages in the order of the (org_path, due) index: each page starts where the
        # last ended instead of scanning the subtree again
        query = select(c.id, c.done, c.times, c.org_path, c.due).where(*conditions)
        if after is not None:
            query = query.where(tuple_(c.org_path, c.due, c.id) > tuple_(*after))
        rows = conn.execute(query.order_by(c.org_path, c.due, c.id).limit(PAGE)).all()
        if not rows:
            return removed, kept, dropped
        after = (rows[-1].org_path, rows[-1].due, rows[-1].id)
        dropped += _drop_obligation_timers(conn, [r.id for r in rows])
        unstarted = [r.id for r in rows if r.done == 0]
        if unstarted:
            conn.execute(delete(obligation_t).where(c.id.in_(unstarted)))
        removed += len(unstarted)
        kept += sum(1 for r in rows if 0 < r.done < r.times)


def _drop_obligation_timers(conn: Connection, ids: list[int]) -> int:
    # an obligation's timers' keys start `obligation:<id>/` (timers.obligation_timer_rows)
    ranges = [and_(timer_t.c.key >= f"obligation:{i}/", timer_t.c.key < f"obligation:{i}0")
              for i in ids]
    result = conn.execute(delete(timer_t).where(or_(*ranges),
                                                timer_t.c.status == timers.PENDING))
    return int(result.rowcount)
