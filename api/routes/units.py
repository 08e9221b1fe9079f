"""Units: enterprises and venues; create, read, update and list within the token's scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import Caller, ServicesDep, SubjectManager
from api.errors import problem_responses
from api.schemas import Cursor, Page, UnitCreate, UnitPublic, UnitUpdate
from engine.subject_rows import MAX_TERM
from storage import subjects
from storage.campaigns import vocabulary
from storage.query import after_key, encode_cursor

router = APIRouter(prefix="/units", tags=["orgs and units"])


@router.post("", status_code=201, response_model=UnitPublic,
             responses=problem_responses(401, 403, 404, 409, 422), summary="Create a unit")
def create_unit(body: UnitCreate, services: ServicesDep, principal: SubjectManager) -> Any:
    with services.db.write() as conn:
        return subjects.create_unit(conn, principal, id=body.id, name=body.name, org=body.org,
                                    industry=body.industry, tags=body.tags,
                                    now=services.now(), registry=services.registry)


@router.get("", response_model=Page[UnitPublic], responses=problem_responses(401, 404, 422),
            summary="List the units you reach, by id")
def list_units(
    services: ServicesDep, principal: Caller,
    org: Annotated[str | None, Query(description="units in this org's subtree")] = None,
    industry: Annotated[str | None, Query(max_length=MAX_TERM,
                                          description="an id or a declared name")] = None,
    tag: Annotated[str | None, Query(max_length=MAX_TERM,
                                     description="an id or a declared name")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100, cursor: Cursor = None,
) -> Any:
    with services.db.read() as conn:
        page, after = subjects.list_units(conn, principal, org=org, industry=industry, tag=tag,
                                          after=after_key(cursor), limit=limit,
                                          vocabulary=vocabulary(services.registry, conn))
    return {"data": page, "next_cursor": encode_cursor([after]) if after else None}


@router.get("/{unit_id}", response_model=UnitPublic, responses=problem_responses(401, 403, 404),
            summary="Read a unit")
def read_unit(unit_id: str, services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        return subjects.get_unit(conn, principal, unit_id)


@router.patch("/{unit_id}", response_model=UnitPublic,
              responses=problem_responses(401, 403, 404, 409, 422),
              summary="Change a unit's name, org, industry or tags")
def update_unit(unit_id: str, body: UnitUpdate, services: ServicesDep,
                principal: SubjectManager) -> Any:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    with services.db.write() as conn:
        return subjects.update_unit(conn, principal, unit_id, changes,
                                    expected_version=body.version, now=services.now(),
                                    vocabulary=vocabulary(services.registry, conn),
                                    registry=services.registry)
