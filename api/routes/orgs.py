"""Orgs: the administrative tree; create, read, update and list within the token's scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Caller, ServicesDep, SubjectManager
from api.errors import problem_responses
from api.schemas import Cursor, OrgCreate, OrgPublic, OrgUpdate, Page
from engine.subject_rows import MAX_TERM
from storage import subjects
from storage.campaigns import vocabulary
from storage.query import after_key, encode_cursor

router = APIRouter(prefix="/orgs", tags=["orgs and units"])


@router.post("", status_code=201, response_model=OrgPublic,
             responses=problem_responses(401, 403, 404, 409, 422), summary="Create an org")
def create_org(body: OrgCreate, services: ServicesDep, principal: SubjectManager) -> Any:
    with services.db.write() as conn:
        return subjects.create_org(conn, principal, id=body.id, name=body.name,
                                   level=body.level, parent=body.parent, now=services.now(),
                                   registry=services.registry)


@router.get("", response_model=Page[OrgPublic], responses=problem_responses(401, 404, 422),
            summary="List the orgs you see, by id")
def list_orgs(
    services: ServicesDep, principal: Caller, parent: str | None = None,
    level: Annotated[str | None, Query(max_length=MAX_TERM,
                                       description="an id or a declared name")] = None,
    under: Annotated[str | None, Query(description="only this org's subtree")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100, cursor: Cursor = None,
) -> Any:
    with services.db.read() as conn:
        page, after = subjects.list_orgs(conn, principal, parent=parent, level=level,
                                         under=under, after=after_key(cursor), limit=limit,
                                         vocabulary=vocabulary(services.registry, conn))
    return {"data": page, "next_cursor": encode_cursor([after]) if after else None}


@router.get("/{org_id}", response_model=OrgPublic, responses=problem_responses(401, 403, 404),
            summary="Read an org")
def read_org(org_id: str, services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        return subjects.get_org(conn, principal, org_id)


@router.patch("/{org_id}", response_model=OrgPublic,
              responses=problem_responses(401, 403, 404, 409, 422),
              summary="Rename an org, change its level, or move it (with its subtree)")
def update_org(org_id: str, body: OrgUpdate, services: ServicesDep,
               principal: SubjectManager) -> Any:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    with services.db.write() as conn:
        return subjects.update_org(conn, principal, org_id, changes,
                                   expected_version=body.version, now=services.now(),
                                   vocabulary=vocabulary(services.registry, conn),
                                   registry=services.registry)
