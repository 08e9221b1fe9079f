"""Health and the audit chain."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import Admin, ServicesDep
from api.errors import problem_responses
from api.schemas import AuditVerdict, Health
from storage import audit_verify
from storage.campaigns import list_ids

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, summary="Is the service up (no token needed)")
def health(services: ServicesDep) -> Any:
    with services.db.read() as conn:
        conn.execute(text("SELECT 1"))
        count = len(list_ids(conn))
    return {"status": "ok", "database": services.db.dialect, "campaigns": count}


@router.get("/audit/verify", response_model=AuditVerdict, responses=problem_responses(401, 403),
            summary="Check every hash and signature of the audit log, and every case row "
                    "against its stream; report breaks")
def verify_audit(services: ServicesDep, principal: Admin) -> Any:
    with services.db.read() as conn:
        verdict = audit_verify.verify(conn)
    return {"ok": verdict.ok, "entries": verdict.entries, "streams": verdict.streams,
            "unsigned": verdict.unsigned, "keyed": verdict.keyed, "sealed": verdict.sealed,
            "breaks": [b.as_dict() for b in verdict.breaks]}
