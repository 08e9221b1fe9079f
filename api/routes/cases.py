"""Cases: open (idempotent), list with filters, read, fire events, allowed triggers, history."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import Connection

from api.deps import BEARER, Caller, ServicesDep, json_body, principal_of, services_of
from api.errors import PROBLEM, problem_responses
from api.event_writes import EventRequest
from api.idempotency import IdempotentCreate
from api.schemas import (
    CaseCreate,
    CasePublic,
    Cursor,
    EventIn,
    EventResult,
    HistoryEntry,
    IsoDate,
    Page,
    TriggersPublic,
)
from api.services import Services
from engine.clocks import ArmClock, StopClock
from engine.dates import local_date
from engine.errors import InputInvalid
from engine.lifecycle import Outcome
from engine.texts import t
from storage.campaigns import campaign_days
from storage.cases import CaseQuery, CaseSort, StoredCase
from storage.subjects import org_row, unit_names

router = APIRouter(prefix="/cases", tags=["cases"])

# The shape of a case field's name in a campaign (campaign.schema.json, $defs.id).
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FIELD_FILTER = r"^[a-z][a-z0-9_]{0,63}:"  # as documented: checked in the route (`bad_filter`)



def case_public(services: Services, conn: Any, stored: StoredCase,
                names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A case as the API shows it; `names`, the units' names when the caller read them for a
    whole page (one query), else the case's unit's is read."""
    published = services.registry.get(conn, stored.campaign_version_id)
    if names is None:
        names = unit_names(conn, [stored.unit_id])
    case_type = published.loaded.campaign.cases[stored.type]
    today = local_date(services.now(), published.loaded.campaign.timezone)
    return {
        "id": stored.id, "campaign": stored.campaign_id,
        "campaign_version": published.row.number, "type": stored.type, "unit": stored.unit_id,
        "unit_name": names.get(stored.unit_id),
        "state": stored.state, "state_name": case_type.states[stored.state].name,
        "final": stored.final, "data": dict(stored.data),
        "signatures": [{"transition": s.transition, "role": s.role, "actor": s.actor,
                        "actor_name": s.name, "at": s.at, "data": dict(s.data),
                        "completed": s.completed, "step": s.step}
                       for s in stored.signatures],
        "clocks": {name: clock_public(state) for name, state in stored.clocks.items()},
        "provisional": any(state.get("due") and state.get("provisional")
                           for state in stored.clocks.values()),
        "next_due": stored.next_due,
        "overdue": stored.next_due is not None and stored.next_due < today,
        "version": stored.version, "unit_terms": stored.unit_terms,
        "opened_by": stored.opened_by,
        "opened_at": stored.opened_at, "updated_at": stored.updated_at,
    }


def clock_public(state: Mapping[str, Any]) -> dict[str, Any]:
    """A clock as the API shows it: its deadline, generation, and whether the deadline rests
    on a year nobody covers yet (then the year that would make it exact)."""
    shown: dict[str, Any] = {"due": state.get("due"), "gen": state.get("gen"),
                             "provisional": bool(state.get("due") and state.get("provisional"))}
    if shown["provisional"]:
        shown["needs_year"] = int(str(state["provisional"])[:4])
    return shown


# The hot path first: routes are matched in order.
# The body is read by the route, after the caller (401 before 422), and documented here.
_EVENT_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": EventIn.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


@router.post("/{case_id}/events", response_model=EventResult,
             responses=problem_responses(401, 403, 404, 409, 422),
             openapi_extra={**BEARER, **_EVENT_BODY},
             summary="Fire a lifecycle event (trigger) on a case")
async def fire_event(case_id: str, request: Request) -> Any:
    # The hot path of integrators, kept lean: no dependencies to solve (the caller is read
    # here), the event decided and written in batches (api.event_writes), and the answer
    # rendered once instead of validated against its model.
    principal = await principal_of(request)
    body = await json_body(request, EventIn)
    services = services_of(request)
    answer = await services.events.fire(EventRequest(
        principal, case_id, body.trigger, body.data, body.version,
        partial(_answer, services)))
    return Response(orjson.dumps(answer), media_type="application/json")


def _answer(services: Services, conn: Connection, stored: StoredCase, outcome: Outcome
            ) -> dict[str, Any]:
    published = services.registry.get(conn, stored.campaign_version_id)
    states = published.loaded.campaign.cases[stored.type].states
    return {
        "case_id": stored.id, "trigger": outcome.trigger, "from_state": outcome.source,
        "state": stored.state, "state_name": states[stored.state].name,
        "completed": outcome.completed, "version": stored.version, "role": outcome.role,
        "clocks_started": [e.clock_id for e in outcome.effects if isinstance(e, ArmClock)],
        "clocks_stopped": [e.clock_id for e in outcome.effects if isinstance(e, StopClock)],
        "deadlines": [{"clock": e.clock_id, "due": e.due_date.isoformat(),
                       "provisional": e.provisional is not None}
                      for e in outcome.effects if isinstance(e, ArmClock)],
    }


_OPEN_RESPONSES = problem_responses(401, 403, 404, 409, 422)
_OPEN_RESPONSES[409] = {**_OPEN_RESPONSES[409], "description": (
    "`campaign_ended`: the campaign ended and the case was not found inside its period "
    "(give `found_on` to record one found then); `conflict`: an idempotency key reused")}
_OPEN_RESPONSES[409]["content"] = {PROBLEM: {**_OPEN_RESPONSES[409]["content"][PROBLEM],
    "example": {"type": "https://paicha.dev/problems/campaign_ended", "title": "Conflict",
                "status": 409, "code": "campaign_ended", "campaign": "special-action-2023",
                "ended": "2023-12-31", "found_on": None,
                "detail": "campaign special-action-2023 ended on 2023-12-31: a case is opened "
                          "under a campaign that runs; to record late one found during the "
                          "campaign, give `found_on` (a day of the campaign's period)"}}}


@router.post("", status_code=201, response_model=CasePublic,
             responses=_OPEN_RESPONSES,
             summary="Open a case (a hazard …) for a unit")
def open_case(
    body: CaseCreate, request: Request, response: Response, services: ServicesDep,
    principal: Caller,
    idempotency_key: Annotated[str | None, Header(
        max_length=200, description="retrying with the same key returns the first response "
                                    "instead of opening a second case")] = None,
) -> Any:
    now = services.now()
    with services.db.write() as conn:
        guard = IdempotentCreate(conn, principal, idempotency_key, body.model_dump(mode="json"))
        replay = guard.replay(response)
        if replay is not None:
            return replay
        stored, _ = services.cases.open(conn, principal, campaign_id=body.campaign,
                                        case_type=body.type, unit_id=body.unit,
                                        data=body.data, now=now, found_on=body.found_on)
        result = CasePublic.model_validate(case_public(services, conn, stored))
        guard.remember(201, result.model_dump(mode="json"), now)
    response.headers["Location"] = f"/cases/{stored.id}"
    return result


@router.get("", response_model=Page[CasePublic],
            responses=problem_responses(401, 403, 404, 422),
            summary="List the cases you reach, newest first or in another order")
def list_cases(
    services: ServicesDep, principal: Caller, request: Request,
    campaign: str | None = None, type: str | None = None, state: str | None = None,
    unit: str | None = None,
    org: Annotated[str | None, Query(description="cases of units in this org's subtree")] = None,
    overdue: Annotated[bool | None, Query(description="a running clock is past its due date"
                                          )] = None,
    open: Annotated[bool | None, Query(description="true: not in a final state")] = None,
    due_from: Annotated[IsoDate | None, Query(description="earliest running deadline ≥")] = None,
    due_to: Annotated[IsoDate | None, Query(description="earliest running deadline ≤")] = None,
    field: Annotated[list[str] | None, Query(
        description="field values, `name:value`, e.g. `grade:major`; repeat for more",
        json_schema_extra={"items": {"type": "string", "pattern": FIELD_FILTER}})] = None,
    sort: Annotated[CaseSort, Query(description=(
        "newest (the default): newest registered first; oldest: oldest first; due: the "
        "soonest running deadline first, cases with none last. A cursor is read in the "
        "order it was given in"))] = "newest",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Cursor = None,
) -> Any:
    fields: list[tuple[str, str]] = []
    for item in field or []:
        name, sep, value = item.partition(":")
        if not sep or not name:
            raise InputInvalid(t("api.cases.filter_form", item=item), code="bad_filter")
        if not FIELD_NAME.match(name):
            # the name becomes a JSON path in the query: only a campaign field's shape may
            raise InputInvalid(t("api.cases.filter_name", item=item, name=name),
                               code="bad_filter")
        fields.append((name, value))
    with services.db.read() as conn:
        today = campaign_days(conn, services.registry, services.now())
        org_path = org_row(conn, org).path if org else None
        query = CaseQuery(campaign=campaign, type=type, state=state, unit=unit,
                          org_path=org_path, overdue=overdue, open=open, due_from=due_from,
                          due_to=due_to, fields=tuple(fields), limit=limit, cursor=cursor,
                          sort=sort)
        page, next_cursor = services.cases.list(conn, principal, query, today=today)
        names = unit_names(conn, {c.unit_id for c in page})
        data = [case_public(services, conn, c, names) for c in page]
    return {"data": data, "next_cursor": next_cursor}


@router.get("/{case_id}", response_model=CasePublic, responses=problem_responses(401, 403, 404),
            summary="Read a case")
def read_case(case_id: str, services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        return case_public(services, conn, services.cases.get(conn, principal, case_id))


@router.get("/{case_id}/triggers", response_model=TriggersPublic,
            responses=problem_responses(401, 403, 404),
            summary="The triggers you may fire on the case now")
def allowed_triggers(case_id: str, services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        stored = services.cases.get(conn, principal, case_id)
        triggers = services.cases.allowed(conn, principal, stored)
    return {"case_id": case_id, "state": stored.state, "version": stored.version,
            "triggers": triggers}


@router.get("/{case_id}/history", response_model=list[HistoryEntry],
            responses=problem_responses(401, 403, 404),
            summary="Every event of the case, oldest first, with its audit hash")
def case_history(case_id: str, services: ServicesDep, principal: Caller) -> Any:
    with services.db.read() as conn:
        return services.cases.history(conn, principal, case_id)
