"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import (
    calendar,
    campaigns,
    cases,
    deadlines,
    imports,
    obligations,
    orgs,
    system,
    units,
)
from api.services import Clock, Services, Settings, system_clock

DESCRIPTION = """\
The REST API of paicha, the workflow engine for work-safety governance campaigns
(安全生产专项行动): campaigns, orgs and units, cases (隐患) and their lifecycle events,
obligations (规定动作) and the audit log.

Every route but `/health` and the docs needs `Authorization: Bearer <token>`; tokens are made with
`paicha token create` and hold roles within one org's subtree or one unit. Errors are
`application/problem+json` with a stable `code`.
"""

# imports before orgs and units, so that /orgs/import is not read as the org 'import'
ROUTERS = (cases.router, system.router, campaigns.router, imports.router, orgs.router, units.router,
           obligations.router, deadlines.router, calendar.router)


def create_app(settings: Settings | None = None, *, clock: Clock = system_clock,
               services: Services | None = None) -> FastAPI:
    """An app over the settings' database; the schema must be migrated (`paicha db upgrade`)."""
    built = services or Services.build(settings or Settings(), clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if services is None:  # services passed in belong to the caller, who closes them
            built.close()

    app = FastAPI(title="paicha", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.services = built
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


def freeze_startup_heap() -> None:
    """Keep what a serving process built before its first request (the app, campaign models,
    validators, SQLAlchemy's metadata) out of the garbage collector's full passes: it lives as
    long as the process, and walking it again and again under load cost the event route ~5% of
    its CPU (bench/README.md). Call it once, just before serving."""
    gc.collect()
    gc.freeze()
