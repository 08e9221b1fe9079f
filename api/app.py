"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.event_lane import EventLane
from api.guard import Limits, RequestGuard
from api.operations import of_routers
from api.routes import (
    calendar,
    campaigns,
    cases,
    deadlines,
    docs,
    imports,
    ledgers,
    obligations,
    orgs,
    reports,
    system,
    tokens,
    units,
)
from api.services import Clock, Services, Settings, system_clock
from api.telemetry import Telemetry
from engine import document, texts
from paicha import sheets
from web import app as web

DESCRIPTION = """\
The REST API of paicha, the workflow engine for work-safety governance campaigns
(安全生产专项行动): campaigns, orgs and units, cases (隐患) and their lifecycle events,
obligations (规定动作) and the audit log.

Every route but `/health`, `/ready`, `/metrics`, `/schema/campaign.json` and the docs needs
`Authorization: Bearer <token>`; tokens are made with
`paicha token create` and hold roles within one org's subtree or one unit. Errors are
`application/problem+json` with a stable `code` and the `request_id` of the request (sent
back in the `X-Request-ID` header, and in every log line about it).
"""

# imports before orgs and units, so that /orgs/import is not read as the org 'import'
ROUTERS = (cases.router, system.router, reports.router, ledgers.router, campaigns.router,
           imports.router, orgs.router, units.router, obligations.router, deadlines.router,
           tokens.router, calendar.router)


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock,
               services: Services | None = None) -> FastAPI:
    """An app over the settings' database; the schema must be migrated (`paicha db upgrade`)."""
    built = services or Services.build(settings or Settings(), clock)
    if built.settings.language:
        texts.set_default(built.settings.language)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if services is None:  # services passed in belong to the caller, who closes them
            built.close()

    # the docs pages are paicha's own (api.routes.docs): FastAPI's load their scripts from a CDN
    app = FastAPI(title="paicha", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.services = built
    errors.install(app)
    app.state.operations = of_routers(ROUTERS)
    app.add_middleware(EventLane)  # innermost: the guard's checks come first
    for router in ROUTERS:
        # any route may meet the request guard's body cap and time budget (api.guard)
        app.include_router(router, responses=errors.problem_responses(413, 503))
    app.include_router(docs.router)
    web.install(app)  # the screens: pages over these routes (web/)
    default, routes = route_limits(built.settings)
    app.add_middleware(RequestGuard, services=built, default=default, routes=routes,
                       public=errors.PUBLIC_PATHS | docs.PUBLIC | web.ROOT,
                       public_prefixes=web.PREFIXES)
    app.add_middleware(Telemetry)  # outermost: the guard's answers carry the request id too
    return app


JSON_BODY_BYTES = 1024 * 1024


def route_limits(settings: Settings) -> tuple[Limits, dict[tuple[str, str], Limits]]:
    """The body cap and time budget of every route (docs/api.md, "Limits"): JSON bodies, a
    campaign's YAML and an import file each have their own cap."""
    seconds = settings.request_seconds
    campaign = Limits(document.MAX_BYTES, "body_too_large", "a campaign", seconds)
    upload = Limits(sheets.MAX_BYTES + imports.ENVELOPE, "import_too_large", "an import file",
                    settings.import_seconds)
    # the screens' check of a campaign file: the same YAML in a multipart form, whose envelope
    # (boundaries, part headers, the CSRF field) the page's own cap must leave room for, so a
    # file just past the campaign's cap reaches the page and is refused there, in its language
    campaign_form = Limits(document.MAX_BYTES + imports.ENVELOPE, "body_too_large",
                           "a campaign", seconds)
    return (Limits(JSON_BODY_BYTES, "body_too_large", "a JSON body", seconds),
            {("POST", "/campaigns"): campaign, ("POST", "/campaigns/validate"): campaign,
             ("POST", "/ui/campaigns/validate"): campaign_form,
             ("POST", "/orgs/import"): upload, ("POST", "/units/import"): upload,
             # the screens' import forms carry the same file (web/pages/orgs.py)
             ("POST", "/ui/orgs/import"): upload, ("POST", "/ui/units/import"): upload})


def freeze_startup_heap() -> None:
    """Keep what a serving process built before its first request (the app, campaign models,
    validators, SQLAlchemy's metadata) out of the garbage collector's full passes: it lives as
    long as the process, and walking it again and again under load cost the event route ~5% of
    its CPU (bench/README.md). Call it once, just before serving."""
    gc.collect()
    gc.freeze()
