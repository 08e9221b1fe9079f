"""Dependencies the routes declare: the services, the caller, and common guards."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ValidationError

from api.errors import Unauthenticated, is_json
from api.services import Services, run_db
from engine import authority
from engine.access import Principal
from engine.errors import Forbidden, InputInvalid
from engine.texts import listed, t

_bearer = HTTPBearer(auto_error=False, description="A token made by `paicha token create`.")


# The dependencies are `async def`: a plain `def` would cost every request a hop through the
# thread pool for what is an attribute read and (mostly) a cache hit.
def services_of(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


async def services(request: Request) -> Services:
    return services_of(request)


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The principal of the request's bearer token; 401 without a live one. (`credentials`
    is declared for the OpenAPI security scheme; `principal_of` reads the header.)"""
    return await principal_of(request)


# The scope key where the request guard (api.guard) leaves the principal it resolved before
# the body was read; the routes take it from there instead of resolving the token again.
PRINCIPAL = "paicha.principal"
# Marks a request the screens make in-process as their person (web.client), with the principal
# of the person's session already in PRINCIPAL: the telemetry and the request guard, which the
# page's own request has passed, let it straight through. Only the server sets scope keys.
INTERNAL = "paicha.internal"


async def principal_of(request: Request) -> Principal:
    """What `caller` gives, for a route that reads its own headers (the hot path does, to
    spare the dependency machinery; it declares `BEARER` for the docs)."""
    found: Principal | None = request.scope.get(PRINCIPAL)
    if found is not None:
        return found
    return await resolve_token(services_of(request), request.headers.get("authorization"))


async def resolve_token(services: Services, authorization: str | None) -> Principal:
    """The principal of an `Authorization` header's bearer token; Unauthenticated without a
    live one."""
    scheme, secret = get_authorization_scheme_param(authorization)
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated(t("auth.no_token"))
    tokens = services.tokens
    principal = tokens.cached(secret)
    if principal is None:
        verdict = await run_db(tokens.resolve, secret)
        if verdict.principal is None:
            raise Unauthenticated(verdict.said())
        principal = verdict.principal
    return principal


ModelT = TypeVar("ModelT", bound=BaseModel)


async def json_body(request: Request, model: type[ModelT]) -> ModelT:
    """The request's JSON body as `model`, for a route that reads it itself; invalid input is
    the same 422 as FastAPI's own (`request_invalid`, locations under `body`), and so is a
    body sent as another media type or none (FastAPI reads only JSON media types as JSON)."""
    raw = await request.body()
    if not raw:
        request.state.body_model = model
        raise RequestValidationError([{"type": "missing", "loc": ("body",),
                                       "msg": "Field required", "input": None}])
    if not is_json(request.headers.get("content-type")):
        request.state.body_model = model
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",),
                                       "msg": "not JSON", "input": None}])
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        request.state.body_model = model  # for the error's "did you mean"
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors()], body=raw) from error


async def yaml_body(request: Request, *, what: str, max_bytes: int | None = None) -> str:
    """A YAML body (a campaign, a calendar year) as text: an empty body is the same 422 as any
    malformed body; text that is not UTF-8, or longer than `max_bytes` (when the request
    guard's cap for the route is larger), says so. `what` names the body in the caller's
    language (an `api.what.*` text)."""
    raw = await request.body()
    if not raw.strip():
        message = t("api.yaml.empty", what=what)
        where = t("api.at", path="body") + message
        raise InputInvalid(t("problem.request_invalid.detail", where=where),
                           code="request_invalid",
                           problems=[{"location": "body", "message": message}])
    if max_bytes is not None and len(raw) > max_bytes:
        raise InputInvalid(t("api.yaml.too_large", what=what, kib=max_bytes // 1024),
                           code="too_large")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputInvalid(t("api.yaml.not_utf8", what=what), code="not_utf8") from exc


# What `caller` adds to a route's OpenAPI entry, for routes that call `principal_of` directly.
BEARER: dict[str, Any] = {"security": [{_bearer.scheme_name: []}]}


async def admin(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    if not principal.admin:
        raise Forbidden(t("api.action.this_route"), t("api.needs.admin_token"))
    return principal


async def org_manager(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """Admins, and org tokens within their subtree, manage orgs and units."""
    if principal.scope_kind == "unit":
        raise Forbidden(t("api.action.manage_subjects"), t("api.needs.org_or_admin_token"))
    return principal


async def campaign_office(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """Admins and safety offices publish, deploy and undeploy campaigns (engine.authority)."""
    authority.require_campaign_office(principal, t("api.action.campaign_office"))
    return principal


async def subject_manager(principal: Annotated[Principal, Depends(caller)]) -> Principal:
    """Admins, safety offices and localities create and change orgs and units (also by
    import) within their subtree (engine.authority)."""
    authority.require_subject_manager(principal, t("api.action.change_subjects"))
    return principal


# Who may send a subtree's reminders to a new destination (a webhook, a robot, a mailbox): the
# offices that run the campaign there, not every official who may read it.
CHANNEL_ROLES = frozenset({"safety_office", "locality"})


async def channel_manager(principal: Annotated[Principal, Depends(org_manager)]) -> Principal:
    if not (principal.admin or principal.roles & CHANNEL_ROLES):
        raise Forbidden(t("api.action.manage_subscriptions"), t(
            "api.needs.channel_roles", roles=listed(sorted(CHANNEL_ROLES))))
    return principal


ServicesDep = Annotated[Services, Depends(services)]
Caller = Annotated[Principal, Depends(caller)]
Admin = Annotated[Principal, Depends(admin)]
OrgManager = Annotated[Principal, Depends(org_manager)]
ChannelManager = Annotated[Principal, Depends(channel_manager)]
CampaignOffice = Annotated[Principal, Depends(campaign_office)]
SubjectManager = Annotated[Principal, Depends(subject_manager)]
