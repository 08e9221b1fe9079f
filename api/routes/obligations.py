"""Obligations (规定动作): list with filters, read, complete with evidence, list completions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response

from api.deps import Caller, ServicesDep
from api.errors import problem_responses
from api.idempotency import IdempotentCreate
from api.obligation_schemas import (
    CompletionIn,
    CompletionPublic,
    CompletionResult,
    ObligationDetail,
    ObligationPublic,
)
from api.schemas import Cursor, IsoDate, Page
from storage import obligations
from storage.campaigns import campaign_days

router = APIRouter(prefix="/obligations", tags=["obligations"])

# Ids are 32-bit on PostgreSQL; a larger number names no obligation and must not reach the driver.
ObligationId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the obligation's id")]
# PostgreSQL cannot compare text holding U+0000: refuse it here rather than fail in the driver.
_NO_NUL = r"^[^\x00]*$"


def _id_filter(description: str) -> Any:
    return Query(max_length=200, pattern=_NO_NUL, description=description)


@router.get("", response_model=Page[ObligationPublic],
            responses=problem_responses(401, 404, 422),
            summary="List the obligations you reach, by due date")
def list_obligations(
    services: ServicesDep, principal: Caller,
    unit: Annotated[str | None, _id_filter("obligations of this unit")] = None,
    org: Annotated[str | None, _id_filter(
        "obligations of this org's subtree: its own, its sub-orgs' and its units'")] = None,
    status: Annotated[obligations.Status | None, Query(
        description="open, done, or missed (not done and past its due date)")] = None,
    due_from: Annotated[IsoDate | None, Query(description="due on or after")] = None,
    due_to: Annotated[IsoDate | None, Query(description="due on or before")] = None,
    check: Annotated[str | None, _id_filter("a check id of the campaign")] = None,
    campaign: Annotated[str | None, _id_filter("a campaign id")] = None,
    role: Annotated[str | None, _id_filter("the role that must complete it")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Cursor = None,
) -> Any:
    with services.db.read() as conn:
        today = campaign_days(conn, services.registry, services.now())
        page, next_cursor = obligations.list_obligations(
            conn, principal, unit=unit, org=org, status=status, due_from=due_from,
            due_to=due_to, check=check, campaign=campaign, role=role, limit=limit,
            cursor=cursor, today=today)
    return {"data": page, "next_cursor": next_cursor}


@router.get("/{obligation_id}", response_model=ObligationDetail,
            responses=problem_responses(401, 403, 404),
            summary="Read an obligation, with the evidence schema of its check")
def read_obligation(obligation_id: ObligationId, services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        today = campaign_days(conn, services.registry, services.now())
        return obligations.get_obligation(conn, principal, obligation_id,
                                          registry=services.registry, today=today)


@router.post("/{obligation_id}/completions", status_code=201, response_model=CompletionResult,
             responses=problem_responses(401, 403, 404, 409, 422),
             summary="Complete an obligation (once of its `times`) with evidence")
def complete_obligation(
    obligation_id: ObligationId, body: CompletionIn, response: Response, services: ServicesDep,
    principal: Caller,
    idempotency_key: Annotated[str | None, Header(
        max_length=200, description="retrying with the same key returns the first response "
                                    "instead of recording a second completion")] = None,
) -> Any:
    now = services.now()
    with services.db.write() as conn:
        guard = IdempotentCreate(conn, principal, idempotency_key,
                                 {"obligation": obligation_id, **body.model_dump(mode="json")})
        replay = guard.replay(response)
        if replay is not None:
            return replay
        found = obligations.complete(conn, principal, obligation_id, evidence=body.evidence,
                                     registry=services.registry, now=now)
        result = CompletionResult.model_validate(found)
        guard.remember(201, result.model_dump(mode="json"), now)
    return result


@router.get("/{obligation_id}/completions", response_model=list[CompletionPublic],
            responses=problem_responses(401, 403, 404),
            summary="Every completion of an obligation, oldest first")
def list_completions(obligation_id: ObligationId, services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        return obligations.list_completions(conn, principal, obligation_id,
                                            registry=services.registry)
