"""Health, readiness and metrics; the campaign schema; the audit chain."""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.security.utils import get_authorization_scheme_param
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4

from api.deps import Admin, ServicesDep
from api.errors import problem, problem_responses
from api.schemas import AuditVerdict, Health, Readiness
from api.services import run_db
from engine.texts import listed, t
from paicha.files import campaign_schema_text
from storage import audit_verify, metrics, readiness

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health,
            summary="Is the process up: it answers (no token needed; asks no database)",
            description="For a liveness probe: answers as long as the process serves "
                        "requests, whatever the database does. `/ready` says whether it "
                        "can do its work.")
def health(services: ServicesDep) -> Any:
    from paicha.cli import installed_version  # the command line builds on the API

    return {"status": "ok", "version": installed_version(), "database": services.db.dialect}


@router.get(
    "/ready", response_model=Readiness, responses=problem_responses(503),
    summary="May the service take work: database, migrations, scheduler (no token needed)",
    description="For a readiness probe (and a load balancer): 200 when the database answers, "
                "its schema is at this paicha's newest migration, and a sweeper finished a "
                "sweep within `PAICHA_READY_SWEEP_SECONDS` (default 300; 0 leaves the "
                "scheduler out); else 503 `not_ready` with each check and why it failed.")
async def ready(services: ServicesDep) -> Any:
    checks = await run_db(lambda: readiness.ready(
        services.db, now=services.now(),
        sweep_seconds=services.settings.ready_sweep_seconds))
    shown = [c.as_dict() for c in checks]
    failed = [c.name for c in checks if not c.ok]
    if failed:
        return problem(503, "not_ready",
                       t("api.system.not_ready", failed=listed(failed)),
                       checks=shown)
    return {"status": "ready", "checks": shown}


@router.get(
    "/metrics", response_class=Response, responses=problem_responses(401),
    summary="Prometheus metrics (no token needed unless PAICHA_METRICS_TOKEN is set)",
    description="The series docs/operations.md lists, in Prometheus' text format: requests "
                "by route and status with their latency, events fired, timers claimed, "
                "deliveries by channel and outcome (this process's counts), and sweep lag, "
                "outbox depth by status and dead letters (read from the database now). With "
                "`PAICHA_METRICS_TOKEN` set, the scraper sends "
                "`Authorization: Bearer <that token>`.",
    openapi_extra={"responses": {"200": {"description": "The metrics", "content": {
        "text/plain": {"schema": {"type": "string"}, "example":
                       "paicha_outbox_depth{status=\"pending\"} 0.0\n"}}}}})
async def read_metrics(
    services: ServicesDep,
    authorization: Annotated[str | None, Header(
        description="`Bearer <PAICHA_METRICS_TOKEN>`, when that is set")] = None,
) -> Response:
    wanted = services.settings.metrics_token
    # the scheme is case-insensitive (RFC 9110 §11.1: `bearer …` is as good); the token not
    scheme, given = get_authorization_scheme_param(authorization)
    if wanted is not None and not (scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), wanted.encode())):
        return problem(401, "unauthenticated", t("api.system.metrics_token"))
    body = await run_db(metrics.exposition, services.db, services.now)
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)


SCHEMA_MEDIA = "application/schema+json"
SCHEMA_EXAMPLE = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": "https://paicha.dev/schema/campaign.schema.json",
                  "title": "paicha campaign", "type": "object",
                  "required": ["paicha", "id", "title"], "properties": {"…": {}}}


@cache
def _schema_document() -> tuple[bytes, str]:
    """The schema as shipped and its strong ETag (it changes only with paicha itself)."""
    body = campaign_schema_text().encode("utf-8")
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@router.get(
    "/schema/campaign.json", response_class=Response,
    summary="The JSON Schema of campaign files, for editors (no token needed)",
    description="The schema `paicha schema` prints. Name it in a campaign file's first line, "
                "`# yaml-language-server: $schema=https://<this server>/schema/campaign.json`, "
                "and an editor completes and checks the file as you type. Cacheable: an "
                "`ETag`, and `304` when `If-None-Match` names it.",
    responses={200: {"description": "The JSON Schema (draft 2020-12)",
                     "content": {SCHEMA_MEDIA: {"schema": {"type": "object"},
                                                "example": SCHEMA_EXAMPLE}}},
               304: {"description": "Not modified: the ETag sent is the current one"}})
def read_campaign_schema(
    if_none_match: Annotated[str | None, Header(
        description="the ETag of a copy already held")] = None,
) -> Response:
    body, etag = _schema_document()
    # public: no token, nothing private; a browser-based editor on another origin may fetch it
    headers = {"ETag": etag, "Cache-Control": "public, max-age=3600",
               "Access-Control-Allow-Origin": "*"}
    held = {tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",")}
    if etag in held or "*" in held:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=SCHEMA_MEDIA, headers=headers)


@router.get("/audit/verify", response_model=AuditVerdict, responses=problem_responses(401, 403),
            summary="Check every hash and signature of the audit log, and every case row "
                    "against its stream; report breaks")
def verify_audit(services: ServicesDep, principal: Admin) -> Any:
    with services.db.read() as conn:
        verdict = audit_verify.verify(conn)
    return {"ok": verdict.ok, "entries": verdict.entries, "streams": verdict.streams,
            "unsigned": verdict.unsigned, "keyed": verdict.keyed, "sealed": verdict.sealed,
            "breaks": [b.as_dict() for b in verdict.breaks]}
