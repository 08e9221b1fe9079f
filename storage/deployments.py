"""Deployments: a campaign runs in an org's subtree (its units may open cases under it, and
its units and orgs get the campaign's obligations)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select

from engine.access import Principal
from engine.errors import Conflict
from storage import audit, obligations, timers
from storage.campaigns import Published, deployment_t
from storage.subjects import org_row


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
        raise Conflict(f"campaign {campaign_id} is deployed to {org_id} already",
                       code="already_exists")
    conn.execute(insert(deployment_t).values(campaign_id=campaign_id, org_id=org_id,
                                             org_path=org.path, created_at=now))
    obligations.materialize(conn, published, obligations.subtree_subjects(conn, org.path),
                            now=now)
    timers.insert_new(conn, timers.phase_timer_rows(published, org_id, org.path, now=now))
    # in the org's stream, not the campaign's: deployments to two orgs at once do not contend
    audit.append(conn, stream=f"org:{org_id}", at=now, actor=principal.name, role=None,
                 action="deploy", data={"campaign": campaign_id,
                                        "version": published.row.number})
    return {"campaign": campaign_id, "org": org_id, "org_path": org.path, "created_at": now}
