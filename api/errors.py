"""The one place where errors become HTTP: status, a stable `code`, and problem+json bodies
(RFC 9457) carrying what the caller needs to fix the request.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import (
    CalendarInvalid,
    CampaignInvalid,
    CaseNotFound,
    ConditionFailed,
    Conflict,
    Forbidden,
    InputInvalid,
    InvalidData,
    MissingFields,
    NotFound,
    OutOfScope,
    PaichaError,
    Refused,
    RoleNotAllowed,
    StaleVersion,
    TransitionNotAllowed,
)

log = logging.getLogger("paicha.api")

PROBLEM = "application/problem+json"


class Unauthenticated(PaichaError):
    """No token, or one that is unknown or revoked."""

    code = "unauthenticated"


# Most specific first: the first class an error is an instance of decides its status.
STATUS: tuple[tuple[type[PaichaError], int], ...] = (
    (Unauthenticated, 401),
    (RoleNotAllowed, 403),
    (OutOfScope, 403),
    (Forbidden, 403),
    (CaseNotFound, 404),
    (NotFound, 404),
    (StaleVersion, 409),
    (TransitionNotAllowed, 409),
    (Conflict, 409),
    (MissingFields, 422),
    (ConditionFailed, 422),
    (InvalidData, 422),
    (CampaignInvalid, 422),
    (CalendarInvalid, 422),
    (InputInvalid, 422),
    (Refused, 422),
    (PaichaError, 400),
)

TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
          422: "Unprocessable Content", 400: "Bad Request", 405: "Method Not Allowed",
          500: "Internal Server Error", 413: "Content Too Large"}


def status_of(error: PaichaError) -> int:
    return next(status for cls, status in STATUS if isinstance(error, cls))


def _extras(error: PaichaError) -> dict[str, Any]:
    """The machine-readable details of each error kind."""
    if isinstance(error, TransitionNotAllowed):
        return {"state": error.state, "trigger": error.trigger, "allowed": error.allowed}
    if isinstance(error, RoleNotAllowed):
        return {"trigger": error.trigger, "required_roles": error.required,
                "held_roles": error.held}
    if isinstance(error, MissingFields):
        return {"trigger": error.trigger, "missing_fields": error.fields}
    if isinstance(error, ConditionFailed):
        return {"trigger": error.trigger, "conditions": error.conditions}
    if isinstance(error, InvalidData):
        return {"problems": error.problems}
    if isinstance(error, StaleVersion):
        return {"expected_version": error.expected, "current_version": error.current}
    if isinstance(error, (CampaignInvalid, CalendarInvalid)):
        return {"problems": [p.as_dict() for p in error.problems]}
    if isinstance(error, InputInvalid) and error.problems:
        return {"problems": [p.as_dict() if hasattr(p, "as_dict") else p
                             for p in error.problems]}
    return {}


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": f"https://paicha.dev/problems/{code}", "title": TITLES.get(status, "Error"),
            "status": status, "code": code, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(PaichaError)
    async def _domain(request: Request, error: PaichaError) -> JSONResponse:
        return problem(status_of(error), error.code, str(error), **_extras(error))

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [{"location": ".".join(str(p) for p in e.get("loc", ())),
                     "message": e.get("msg", "invalid")} for e in error.errors()]
        where = "; ".join(f"{p['location']}: {p['message']}" for p in problems[:5])
        return problem(422, "request_invalid", f"the request is not valid: {where}",
                       problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        codes = {404: "no_such_route", 405: "method_not_allowed"}
        detail = error.detail if isinstance(error.detail, str) else "error"
        return problem(error.status_code, codes.get(error.status_code, "http_error"), detail)

    @app.exception_handler(DataError)
    async def _data(request: Request, error: DataError) -> JSONResponse:
        # The database refused a value the request carried (a number out of range, a NUL
        # character): the request's fault, not the server's.
        return problem(422, "request_invalid", "a value in the request cannot be used: a "
                       "number out of range or a character (NUL) the database refuses")

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, error: IntegrityError) -> JSONResponse:
        # Two requests created the same thing at once (PostgreSQL lets both pass the check
        # before the insert): the loser is told to look again, as for a stale version.
        return problem(409, "concurrent_write", "another request wrote the same record at the "
                       "same moment; read it again and retry if still needed")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "internal_error",
                       "the server failed on this request; it is logged, please report it")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses a route can answer."""
    example = {"type": "https://paicha.dev/problems/stale_version", "title": "Conflict",
               "status": 409, "code": "stale_version",
               "detail": "case 3f2a… is at version 4, not 3: someone changed it since you "
                         "read it; read it again and retry",
               "expected_version": 3, "current_version": 4}
    return {status: {"description": TITLES.get(status, "Error"),
                     "content": {PROBLEM: {"example": {**example, "status": status,
                                                       "title": TITLES.get(status, "Error")}}}}
            for status in statuses}
