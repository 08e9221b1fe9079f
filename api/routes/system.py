"""Health, the campaign schema and the audit chain."""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from sqlalchemy import text

from api.deps import Admin, ServicesDep
from api.errors import problem_responses
from api.schemas import AuditVerdict, Health
from paicha.files import campaign_schema_text
from storage import audit_verify
from storage.campaigns import list_ids

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, summary="Is the service up (no token needed)")
def health(services: ServicesDep) -> Any:
    with services.db.read() as conn:
        conn.execute(text("SELECT 1"))
        count = len(list_ids(conn))
    return {"status": "ok", "database": services.db.dialect, "campaigns": count}


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
