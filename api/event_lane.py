"""POST /cases/{id}/events served in front of the framework: the hot path of integrators.

The event route is what integrators call all day, and FastAPI's own layers around a route —
its exception, telemetry and body-limit middlewares, matching the path against every route,
solving the path parameter, running the endpoint — cost about as much CPU as deciding the
event itself (bench/README.md). This ASGI layer, inside the request guard (which has checked
the token, the api.door checks, the body cap and the time budget), hands the event route
straight to its handler, `api.routes.cases.fire_event`, and answers its errors with the app's
own handlers (api.errors), as the framework would. Every other request goes on to FastAPI,
and so does the route's documentation: it stays declared there, with its schemas.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/cases/"
SUFFIX = "/events"


def case_of(scope: Scope) -> str | None:
    """The case id of a POST /cases/{id}/events request, or None for any other request."""
    if scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    case_id = path[len(PREFIX):-len(SUFFIX)]
    return case_id if case_id and "/" not in case_id else None


class EventLane:
    """The ASGI layer (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        case_id = case_of(scope) if scope["type"] == "http" else None
        if case_id is None:
            await self.app(scope, receive, send)
            return
        from api.routes.cases import fire_event  # the routes build on the app's layers

        request = Request(scope, receive)
        response: Response
        try:
            response = await fire_event(case_id, request)
        except Exception as error:
            handler = _handler(scope, error)
            if handler is None:  # the server's error middleware answers (500, logged)
                raise
            response = await handler(request, error)
        await response(scope, receive, send)


Handler = Callable[[Request, Any], Awaitable[Response]]


def _handler(scope: Scope, error: Exception) -> Handler | None:
    """The app's own handler of `error` (api.errors registers one per kind: domain errors,
    malformed requests, database refusals), found as the framework finds it: by the error's
    class, most specific first. `Exception`'s is left to the server's error middleware."""
    handlers = scope["app"].exception_handlers
    for cls in type(error).__mro__:
        if cls is Exception:
            return None
        found: Handler | None = handlers.get(cls)
        if found is not None:
            return found
    return None
