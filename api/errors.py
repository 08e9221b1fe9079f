"""The one place where errors become HTTP: status, a stable `code`, and problem+json bodies
(RFC 9457) carrying what the caller needs to fix the request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from api.operations import METHODS, operations
from engine.errors import (
    CalendarInvalid,
    CampaignEnded,
    CampaignInvalid,
    CaseNotFound,
    ConditionFailed,
    Conflict,
    FieldsNotSettable,
    Forbidden,
    InputInvalid,
    InvalidData,
    MissingFields,
    NotFound,
    OutOfScope,
    PaichaError,
    Refused,
    RoleNotAllowed,
    SameSigner,
    StaleVersion,
    TransitionNotAllowed,
)
from engine.schema import did_you_mean
from engine.texts import listed, t
from paicha.logs import request_id

log = logging.getLogger("paicha.api")

PROBLEM = "application/problem+json"


class Unauthenticated(PaichaError):
    """No token, or one that is unknown or revoked."""

    code = "unauthenticated"


# Most specific first: the first class an error is an instance of decides its status.
STATUS: tuple[tuple[type[PaichaError], int], ...] = (
    (Unauthenticated, 401),
    (RoleNotAllowed, 403),
    (SameSigner, 403),
    (OutOfScope, 403),
    (Forbidden, 403),
    (CaseNotFound, 404),
    (NotFound, 404),
    (StaleVersion, 409),
    (TransitionNotAllowed, 409),
    (CampaignEnded, 409),
    (Conflict, 409),
    (MissingFields, 422),
    (FieldsNotSettable, 422),
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
          500: "Internal Server Error", 413: "Content Too Large", 503: "Service Unavailable"}


def status_of(error: PaichaError) -> int:
    return next(status for cls, status in STATUS if isinstance(error, cls))


def _extras(error: PaichaError) -> dict[str, Any]:
    """The machine-readable details of each error kind."""
    if isinstance(error, TransitionNotAllowed):
        return {"state": error.state, "trigger": error.trigger, "allowed": error.allowed}
    if isinstance(error, RoleNotAllowed):
        return {"trigger": error.trigger, "required_roles": error.required,
                "held_roles": error.held}
    if isinstance(error, SameSigner):
        return {"trigger": error.trigger, "role": error.role, "signed_as": error.signed_as,
                "signer": error.signer}
    if isinstance(error, FieldsNotSettable):
        return {"trigger": error.trigger, "refused_fields": error.refused,
                "settable_fields": error.settable}
    if isinstance(error, MissingFields):
        return {"trigger": error.trigger, "missing_fields": error.fields}
    if isinstance(error, ConditionFailed):
        return {"trigger": error.trigger, "conditions": error.conditions}
    if isinstance(error, InvalidData):
        return {"problems": error.problems}
    if isinstance(error, CampaignEnded):
        return {"campaign": error.campaign, "ended": str(error.ended),
                "found_on": str(error.found_on) if error.found_on else None}
    if isinstance(error, StaleVersion):
        return {"expected_version": error.expected, "current_version": error.current}
    if isinstance(error, (CampaignInvalid, CalendarInvalid)):
        return {"problems": [p.as_dict() for p in error.problems]}
    if isinstance(error, Forbidden) and error.required_roles:
        return {"required_roles": error.required_roles, "held_roles": error.held_roles}
    if isinstance(error, InputInvalid) and error.problems:
        return {"problems": [p.as_dict() if hasattr(p, "as_dict") else p
                             for p in error.problems]}
    return {}


def title(code: str) -> str:
    """What a person reads for a code, in the request's language (engine.texts): the code
    stays English and stable for machines."""
    return t(f"problem.{code}.title")


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": f"https://paicha.dev/problems/{code}", "title": title(code),
            "status": status, "code": code, "detail": detail, **extra}
    rid = request_id.get()  # api.telemetry set it: the caller quotes it, the logs carry it
    if rid is not None:
        body["request_id"] = rid
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


# -- malformed requests ------------------------------------------------------------------------
# Every malformed body, whatever is wrong with it (not JSON, not UTF-8, sent as another media
# type, empty, unknown keys, wrong types), is the same answer: 422 `request_invalid`, with one
# problem per fault located as `body…` — and only once the caller is known: a request without
# a valid token is a 401 before anything about its body is said.

# The routes that need no token (the request guard lets them through unauthenticated).
PUBLIC_PATHS = frozenset({"/health", "/ready", "/metrics", "/schema/campaign.json",
                          "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
UNREADABLE_BODY = "There was an error parsing the body"  # FastAPI's HTTPException(400)
JSON_TYPES = ("application/json",)


def invalid(problems: list[dict[str, str]]) -> JSONResponse:
    where = listed((t("api.at", path=p["location"]) + p["message"] for p in problems[:5]),
                   "list.semicolon")
    return problem(422, "request_invalid", t("problem.request_invalid.detail", where=where),
                   problems=problems)


async def unauthenticated(request: Request) -> JSONResponse | None:
    """The 401 of a request to a route that needs a token and came without a valid one."""
    if request.url.path in PUBLIC_PATHS:
        return None
    from api.deps import principal_of  # api.deps builds on this module

    try:
        await principal_of(request)
    except Unauthenticated as error:
        return problem(401, error.code, str(error))
    return None


def is_json(content_type: str | None) -> bool:
    """A JSON media type (application/json, application/…+json), as FastAPI reads it."""
    if content_type == "application/json":  # nearly every request: spare the parsing
        return True
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def request_problems(request: Request, errors: Sequence[Any]) -> list[dict[str, str]]:
    """FastAPI's and pydantic's validation errors as problems, each body fault said one way."""
    problems: list[dict[str, str]] = []
    unreadable: str | None = None  # what makes the whole body unreadable, if anything does
    for error in errors:
        loc = tuple(error.get("loc", ()))
        message = validation_message(error)
        if loc[:1] == ("body",):
            unreadable = unreadable or _unreadable(request, error)
            if error.get("type") == "extra_forbidden":
                known = body_keys(request)
                hint = did_you_mean(loc[-1], known) if known else ""
                message = (t("api.body.unknown_key.hint", hint=hint) if hint
                           else t("api.body.unknown_key"))
        problems.append({"location": ".".join(str(p) for p in loc), "message": message})
    if unreadable is not None:
        problems = [p for p in problems if not p["location"].startswith("body")]
        problems.append({"location": "body", "message": unreadable})
    return problems


def _unreadable(request: Request, error: Any) -> str | None:
    content_type = request.headers.get("content-type")
    if error.get("type") == "missing" and tuple(error.get("loc", ())) == ("body",):
        return t("api.body.empty_json")
    if not is_json(content_type):
        if content_type:
            return t("api.body.wrong_type", content_type=content_type)
        return t("api.body.no_type")
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", error.get("msg"))
        return t("api.body.json_invalid", reason=json_reason(str(reason)))
    return None


# Why a body is not JSON, as its parser says it: pydantic's (the routes that read their own body,
# with where) and Python's (FastAPI's), each an id whose English is the parser's words.
_JSON_REASONS = {
    "EOF while parsing a value": "eof_value", "EOF while parsing an object": "eof_object",
    "EOF while parsing a list": "eof_list", "EOF while parsing a string": "eof_string",
    "trailing comma": "trailing_comma", "expected `:`": "expected_colon",
    "key must be a string": "key_not_string", "trailing characters": "trailing_characters",
    "expected ident": "expected_ident", "invalid escape": "invalid_escape",
    "expected value": "expected_value", "invalid number": "invalid_number",
    "control character (\\u0000-\\u001F) found while parsing a string": "control_character",
    "expected `,` or `]`": "expected_list_comma", "expected `,` or `}`": "expected_object_comma",
    "Expecting value": "py_expecting_value",
    "Expecting property name enclosed in double quotes": "py_property_name",
    "Expecting ',' delimiter": "py_comma", "Expecting ':' delimiter": "py_colon",
    "Extra data": "py_extra_data", "Invalid control character at": "py_control_character",
    "Unterminated string starting at": "py_unterminated_string",
    "Invalid \\escape": "py_invalid_escape"}
_AT_LINE = re.compile(r"(.+) at line (\d+) column (\d+)")


def json_reason(reason: str) -> str:
    """Why a body is not JSON, in the caller's language when the catalogue knows the
    parser's words; as the parser says it otherwise."""
    where = _AT_LINE.fullmatch(reason)
    head = where.group(1) if where else reason
    key = _JSON_REASONS.get(head)
    if key is None:
        return reason
    said = t(f"api.json_error.{key}", brace="}")  # "}" is a placeholder's end in a text
    if where is None:
        return said
    return t("api.json_error.at", reason=said, line=where.group(2), column=where.group(3))


# -- pydantic's messages, in the caller's language --------------------------------------------
# The validation errors people meet most, said from the catalogue (area `api`, ids
# `api.pydantic.<type>`) with their values: the English text of each is pydantic's own
# message, word for word. A message the catalogue's English does not reproduce (a type not
# listed, another pydantic's wording) is left as pydantic says it.

VALIDATION_TYPES = frozenset({
    "missing", "extra_forbidden", "string_type", "string_unicode", "int_type", "int_parsing",
    "int_parsing_size", "int_from_float", "float_type", "float_parsing", "finite_number",
    "bool_type", "bool_parsing", "list_type", "tuple_type", "set_type", "dict_type",
    "model_type", "model_attributes_type", "none_required", "string_too_long",
    "string_too_short", "too_long", "too_short", "greater_than", "greater_than_equal",
    "less_than", "less_than_equal", "multiple_of", "enum", "literal_error",
    "string_pattern_mismatch", "date_type", "date_parsing", "date_from_datetime_parsing",
    "date_from_datetime_inexact", "datetime_type", "datetime_parsing",
    "datetime_from_date_parsing", "json_invalid", "json_type"})
# the count whose "character(s)"/"item(s)" pydantic puts in the plural
_COUNTED = {"string_too_long": "max_length", "string_too_short": "min_length",
            "too_long": "max_length", "too_short": "min_length"}
# why pydantic could not read a date or a time
_REASONS = {
    "input is too short": "too_short", "input is too long": "too_long",
    "month value is outside expected range of 1-12": "month_range",
    "day value is outside expected range": "day_range",
    "invalid date separator, expected `-`": "date_separator",
    "invalid datetime separator, expected `T`, `t`, `_` or space": "datetime_separator",
    "unexpected extra characters at the end of the input": "extra_characters",
    "invalid character in year": "year_char", "invalid character in month": "month_char",
    "invalid character in day": "day_char"}


def validation_message(error: Any) -> str:
    """What a validation error says, in the caller's language: a model's own ValueError as
    it was raised (api.schemas says it from the catalogue; pydantic's "Value error, " prefix
    adds nothing), pydantic's common messages from the catalogue, any other as pydantic
    says it."""
    message = str(error.get("msg", "invalid"))
    kind = error.get("type")
    if kind == "value_error" or message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    if kind not in VALIDATION_TYPES:
        return message
    context = dict(error.get("ctx") or {})
    key = f"api.pydantic.{kind}"
    counted = _COUNTED.get(kind)
    if counted is not None and context.get(counted) == 1:
        key += ".one"
    try:
        english = t(key, "en", **_localized(context, "en"))
    except (KeyError, IndexError, ValueError):  # a context other than the text's
        return message
    if english != message:
        return message
    return t(key, **_localized(context, None))


def _localized(context: dict[str, Any], lang: str | None) -> dict[str, Any]:
    """A validation error's context values as the language says them: the kind of a
    too-long value, the "or" of the values expected, the reason a date could not be read."""
    said = dict(context)
    kind = said.get("field_type")
    if isinstance(kind, str) and t(f"api.pydantic.kind.{kind}", "en") == kind:
        said["field_type"] = t(f"api.pydantic.kind.{kind}", lang)
    expected = said.get("expected")
    if isinstance(expected, str):
        head, sep, last = expected.rpartition(" or ")
        if sep:
            said["expected"] = (t("list.separator", lang).join(head.split(", "))
                                + t("api.pydantic.or", lang) + last)
    reason = said.get("error")
    if isinstance(reason, str) and reason in _REASONS:
        said["error"] = t(f"api.pydantic.reason.{_REASONS[reason]}", lang)
    return said


def body_keys(request: Request) -> list[str]:
    """The keys of the body model of the request's route (for 'did you mean')."""
    model = getattr(request.state, "body_model", None)
    if model is None:
        field = getattr(request.scope.get("route"), "body_field", None)
        model = getattr(getattr(field, "field_info", None), "annotation", None)
    fields = getattr(model, "model_fields", None)
    return list(fields) if isinstance(fields, dict) else []


def allowed_methods(request: Request) -> list[str]:
    """Every method the request's path takes (for `Allow`): the operations of the document
    path it matches, or the methods of the docs' own routes. (Starlette would name only the
    methods of the first route whose path matched: GET of GET and POST.)"""
    methods = set(operations(request.app).at(request.scope["path"]))
    for route in request.app.router.routes:
        if (isinstance(route, Route) and not isinstance(route, APIRoute) and route.methods
                and route.path_regex.match(
                    request.scope["path"])):
            methods |= route.methods
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json, and document them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_problems(build())  # FastAPI keeps what it built, changed in place
        return build()

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(PaichaError)
    async def _domain(request: Request, error: PaichaError) -> JSONResponse:
        return domain_problem(error)

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, error: RequestValidationError) -> JSONResponse:
        return await request_invalid(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 405:
            # Starlette names only the methods of the first route whose path matched
            allow = ", ".join(allowed_methods(request))
            response = problem(405, "method_not_allowed",
                               t("problem.method_not_allowed.detail", method=request.method,
                                 path=request.url.path, allow=allow))
            response.headers["Allow"] = allow
            return response
        if error.status_code == 400 and error.detail == UNREADABLE_BODY:
            # FastAPI's answer to a JSON body that is not UTF-8: malformed like any other
            refused = await unauthenticated(request)
            return refused or invalid([{"location": "body", "message": t("api.body.not_utf8")}])
        detail = error.detail if isinstance(error.detail, str) else "error"
        if error.status_code == 404 and detail == "Not Found":  # the router's own words
            detail = t("api.http.not_found")
        return problem(error.status_code,
                       "no_such_route" if error.status_code == 404 else "http_error", detail)

    @app.exception_handler(DataError)
    async def _data(request: Request, error: DataError) -> JSONResponse:
        # The database refused a value the request carried (a number out of range, a NUL
        # character): the request's fault, not the server's.
        return problem(422, "request_invalid", t("problem.data_error.detail"))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, error: IntegrityError) -> JSONResponse:
        # Two requests created the same thing at once (PostgreSQL lets both pass the check
        # before the insert): the loser is told to look again, as for a stale version.
        return problem(409, "concurrent_write", t("problem.concurrent_write.detail"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        return unexpected(request, error)


# The answers of the handlers above, also for a route served in front of the framework
# (api.event_lane): the same problem for the same error, whichever way the request came.

def domain_problem(error: PaichaError) -> JSONResponse:
    """The problem of a domain error: its status, code, message and details."""
    # the error's text is in the request's language: it was raised within the request
    return problem(status_of(error), error.code, str(error), **_extras(error))


async def request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
    """A malformed request's 422, or the 401 of a caller without a valid token."""
    refused = await unauthenticated(request)
    if refused is not None:
        return refused
    return invalid(request_problems(request, error.errors()))


def unexpected(request: Request, error: Exception) -> JSONResponse:
    """A failure of the server's own: logged, and a 500 that tells nothing of its insides."""
    log.exception("unhandled error on %s %s", request.method, request.url.path,
                  exc_info=error)
    return problem(500, "internal_error", t("problem.internal_error.detail"))


class Problem(BaseModel):
    """An error (RFC 9457 problem details): what is wrong, a stable `code` to act on, and
    the details of its kind (`problems`, `allowed`, `expected_version` …)."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str = Field(description="what went wrong, for people, in the request's language "
                                   "(Accept-Language: zh by default, en)")
    status: int
    code: str = Field(description="what went wrong, for machines: stable and English "
                                  "(docs/api.md lists the codes)")
    detail: str
    request_id: str | None = Field(
        default=None, description="the request's id (its `X-Request-ID`): quote it when "
                                  "reporting a problem; the server's log lines carry it too")


_PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


_EXAMPLES: dict[int, dict[str, Any]] = {
    401: {"code": "unauthenticated", "detail": "the bearer token is unknown or revoked"},
    403: {"code": "out_of_scope", "detail": "case 3f2a… is outside your token's scope "
                                            "(org linyin)"},
    404: {"code": "not_found", "detail": "no org 'linyin-c9'"},
    409: {"code": "stale_version",
          "detail": "case 3f2a… is at version 4, not 3: someone changed it since you read it; "
                    "read it again and retry", "expected_version": 3, "current_version": 4},
    422: {"code": "request_invalid",
          "detail": "the request is not valid: body.id: unknown key: this body has no such "
                    "key; leave it out (did you mean 'ids'?)",
          "problems": [{"location": "body.id", "message": "unknown key: this body has no such "
                                                          "key; leave it out (did you mean "
                                                          "'ids'?)"}]},
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problem statuses a route can answer."""
    found: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        example = _EXAMPLES.get(status, {"code": "http_error", "detail": "…"})
        found[status] = {"description": TITLES.get(status, "Error"), "content": {PROBLEM: {
            "schema": _PROBLEM_SCHEMA,
            "example": {"type": f"https://paicha.dev/problems/{example['code']}",
                        "title": title(example["code"]), "status": status, **example,
                        "request_id": "8f14e45fceea167a5a36dedd4bea2543"}}}}
    return found


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the problems every operation can answer: FastAPI's own
    422 (an `application/json` HTTPValidationError this API never sends) becomes the
    problem+json it is, and an operation that takes a token, parameters or a body documents
    its 401 and 422 even where its route did not list them."""
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if PROBLEM not in responses.get("422", {}).get("content", {PROBLEM: None}):
                del responses["422"]
            wanted = [401] if operation.get("security") else []
            if operation.get("parameters") or operation.get("requestBody"):
                wanted.append(422)
            for status, response in problem_responses(*wanted).items():
                responses.setdefault(str(status), response)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = Problem.model_json_schema()
    return document
