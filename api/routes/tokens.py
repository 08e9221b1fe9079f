"""Tokens: list them and revoke one (admin). Tokens are made from the shell (`paicha token
create`), where the database is at hand: a stolen admin token cannot mint more that would
outlive its own revocation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import Admin, ServicesDep
from api.errors import problem_responses
from api.schemas import Page, TokenPublic
from storage import tokens

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("", response_model=Page[TokenPublic], responses=problem_responses(401, 403, 422),
            summary="List tokens by id (never their secrets)")
def list_tokens(services: ServicesDep, principal: Admin,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                cursor: Annotated[int | None, Query(ge=0, le=2**63 - 1, description=(
                    "the `next_cursor` of the page before"))] = None) -> Any:
    with services.db.read() as conn:
        rows = tokens.list_tokens(conn, now=services.now(), after=cursor, limit=limit + 1)
    page = rows[:limit]
    return {"data": page, "next_cursor": str(page[-1]["id"]) if len(rows) > limit else None}


@router.delete("/{token_id}", response_model=TokenPublic,
               responses=problem_responses(401, 403, 404),
               summary="Revoke a token",
               description="The token stops working at once on this API process; other "
                           "processes (replicas) stop accepting it within "
                           "PAICHA_TOKEN_CACHE_SECONDS (10 s by default).")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2**63 - 1)], services: ServicesDep,
                 principal: Admin) -> Any:
    with services.db.write() as conn:
        revoked = tokens.revoke(conn, token_id, now=services.now(), by=principal.actor)
    # after the commit: a request resolving the token meanwhile sees it revoked, and one that
    # read it before does not store its answer (TokenCache.forget)
    services.tokens.forget()
    return revoked
