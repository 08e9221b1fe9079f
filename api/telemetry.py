"""What every request carries for the operator: a request id, and its count and latency.

The outermost ASGI layer of the app. It gives each request an id — the caller's `X-Request-ID`
when that is a sane token (letters, digits and `._:-`, at most 64), else a new one — puts it in
the context (paicha.logs: every line logged while serving the request carries it, and every
problem body, api.errors), and returns it in the `X-Request-ID` response header. It also puts
the language the caller reads (`Accept-Language`, Chinese by default: engine.texts) in the
context, for the problem titles and other texts of the answer. When the
request is done it counts it by method, route *template* (`/cases/{case_id}`, never the raw
path: one series per route, not per case) and status, and observes its latency
(storage.metrics). A request no route matched counts under `unmatched`.

A request that fails with an error of the server's own is answered here with the app's 500
problem (api.errors.unexpected), so that its log line and its body carry the id too; the error
then goes on to the server, as it would have.
"""

from __future__ import annotations

import re
import time
import uuid

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import event_lane
from api.deps import INTERNAL
from api.errors import unexpected
from api.operations import operations
from engine import texts
from paicha.logs import request_id
from storage import metrics

HEADER = b"x-request-id"
LANGUAGE = b"accept-language"
# what a request id from outside may be: it goes into log lines and headers as it is
_SANE = re.compile(rb"[A-Za-z0-9._:\-]{1,64}")
EVENT_ROUTE = "/cases/{case_id}/events"
UNMATCHED = "unmatched"


def accepted(value: bytes | None) -> str:
    """The caller's request id if it is sane, else a new one (32 hex digits)."""
    if value is not None and _SANE.fullmatch(value):
        return value.decode("ascii")
    return uuid.uuid4().hex


def route_of(scope: Scope) -> str:
    """The route template a request was served by (for the metrics' `route` label)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if event_lane.case_of(scope) is not None:  # served in front of the router
        return EVENT_ROUTE
    # answered before routing (401, 413, a door refusal): the document's operation, if any
    found = operations(scope["app"]).at(scope["path"]).get(scope["method"])
    return found.path if found is not None else UNMATCHED


class Telemetry:
    """The ASGI middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or INTERNAL in scope:  # a screen's call: its page is counted
            await self.app(scope, receive, send)
            return
        given = wanted = None
        for name, value in scope["headers"]:
            if name == HEADER:
                given = value
            elif name == LANGUAGE:
                wanted = value.decode("latin-1")
        rid = accepted(given)
        token = request_id.set(rid)
        # what people read in the answer (problem titles …): Accept-Language, Chinese by default
        spoken = texts.language.set(texts.negotiate(wanted))
        started = time.perf_counter()
        status = 500
        begun = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, begun
            if message["type"] == "http.response.start":
                begun = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()),
                                      (HEADER, rid.encode("ascii"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            if not begun:
                await unexpected(Request(scope, receive), error)(scope, receive, send_with_id)
            raise
        finally:
            metrics.request(scope["method"], route_of(scope), status,
                            time.perf_counter() - started)
            request_id.reset(token)
            texts.language.reset(spoken)
