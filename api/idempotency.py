"""Idempotency keys on creates: a retry with the same key and body gets the first response."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from fastapi import Response
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from engine.access import Principal
from engine.errors import Conflict
from engine.texts import t
from storage.audit import canonical
from storage.tables import IdempotencyRecord

record_t = IdempotencyRecord.__table__  # type: ignore[attr-defined]

REPLAYED = "Idempotent-Replayed"


class IdempotentCreate:
    """Guards one create inside the caller's write transaction."""

    def __init__(self, conn: Connection, principal: Principal, key: str | None,
                 body: Any) -> None:
        self.conn = conn
        self.principal = principal
        self.key = key
        self.request_hash = hashlib.sha256(canonical(body).encode()).hexdigest()

    def replay(self, response: Response) -> dict[str, Any] | None:
        """The stored response of an earlier request with this key, or None to go ahead."""
        if self.key is None:
            return None
        found = self.conn.execute(select(record_t).where(
            record_t.c.token_id == self.principal.token_id, record_t.c.key == self.key)
        ).one_or_none()
        if found is None:
            return None
        if found.request_hash != self.request_hash:
            raise Conflict(t("api.idempotency.reused", key=self.key),
                           code="idempotency_key_reused")
        response.status_code = found.status
        response.headers[REPLAYED] = "true"
        body: dict[str, Any] = found.body
        return body

    def remember(self, status: int, body: dict[str, Any], now: dt.datetime) -> None:
        if self.key is None:
            return
        try:
            with self.conn.begin_nested():
                self.conn.execute(insert(record_t).values(
                    token_id=self.principal.token_id, key=self.key,
                    request_hash=self.request_hash, status=status, body=body, created_at=now))
        except IntegrityError as exc:
            raise Conflict(t("api.idempotency.in_progress", key=self.key),
                           code="idempotency_in_progress") from exc
