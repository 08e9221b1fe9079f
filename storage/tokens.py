"""Bearer tokens: made once and shown once, stored as a SHA-256 hash, resolved to a Principal."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from engine.access import Principal, ScopeKind
from engine.errors import InputInvalid, NotFound
from storage import audit
from storage.tables import Org, Token, Unit

token_t = Token.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]

PREFIX = "pch_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str  # shown once; only its hash is kept
    name: str
    roles: tuple[str, ...]
    scope_kind: ScopeKind
    scope_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "token": self.secret, "name": self.name, "roles": list(self.roles),
                "scope": self.scope_kind, "scope_id": self.scope_id}


def create(
    conn: Connection, *, name: str, roles: Sequence[str], scope_kind: ScopeKind,
    scope_id: str | None, now: dt.datetime, by: str = "cli",
    known_roles: Mapping[str, set[str]] | None = None,
) -> IssuedToken:
    """A new token; the org or unit it is scoped to must exist, and its roles must be ones the
    published campaigns declare for that kind of scope (`known_roles`, when given)."""
    if scope_kind == "admin":
        scope_id = None
    elif not scope_id:
        raise InputInvalid(f"a {scope_kind} token needs the {scope_kind} id it is scoped to")
    elif scope_kind == "org":
        if conn.execute(select(org_t.c.id).where(org_t.c.id == scope_id)).first() is None:
            raise NotFound("org", scope_id, "create the org first (POST /orgs or --demo)")
    elif conn.execute(select(unit_t.c.id).where(unit_t.c.id == scope_id)).first() is None:
        raise NotFound("unit", scope_id, "create the unit first (POST /units or --demo)")
    if scope_kind != "admin" and not roles:
        raise InputInvalid("a token needs at least one role (--role)")
    if known_roles:
        _check_roles(roles, scope_kind, known_roles)
    secret = PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(insert(token_t).values(
        hash=digest(secret), name=name, roles=sorted(set(roles)), scope_kind=scope_kind,
        scope_id=scope_id, created_at=now).returning(token_t.c.id)).scalar_one()
    audit.append(conn, stream=f"token:{token_id}", at=now, actor=by, role=None, action="create",
                 data={"name": name, "roles": sorted(set(roles)), "scope": scope_kind,
                       "scope_id": scope_id})
    return IssuedToken(token_id, secret, name, tuple(sorted(set(roles))), scope_kind, scope_id)


def _check_roles(roles: Sequence[str], scope_kind: ScopeKind,
                 known: Mapping[str, set[str]]) -> None:
    problems = []
    for role in roles:
        scopes = known.get(role)
        if scopes is None:
            problems.append(f"{role!r} is a role of no published campaign (roles: "
                            f"{', '.join(sorted(known))})")
        elif scope_kind in ("org", "unit") and scope_kind not in scopes:
            where = "--unit UNIT" if "unit" in scopes else "--org ORG"
            problems.append(f"{role!r} is held for a {'/'.join(sorted(scopes))}: use {where}")
    if problems:
        raise InputInvalid("; ".join(problems), code="role_invalid")


def revoke(conn: Connection, token_id: int, *, now: dt.datetime, by: str) -> None:
    changed = conn.execute(update(token_t).where(token_t.c.id == token_id,
                                                 token_t.c.revoked_at.is_(None))
                           .values(revoked_at=now))
    if changed.rowcount != 1:
        raise NotFound("active token", token_id)
    audit.append(conn, stream=f"token:{token_id}", at=now, actor=by, role=None, action="revoke")


def resolve(conn: Connection, secret: str) -> Principal | None:
    """The principal of a live token, or None for an unknown or revoked one."""
    row = conn.execute(select(token_t).where(token_t.c.hash == digest(secret))).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    scope_path = unit_path = None
    if row.scope_kind == "org":
        scope_path = conn.execute(select(org_t.c.path).where(org_t.c.id == row.scope_id)
                                  ).scalar()
        if scope_path is None:
            return None
    elif row.scope_kind == "unit":
        unit_path = conn.execute(select(unit_t.c.org_path).where(unit_t.c.id == row.scope_id)
                                 ).scalar()
        if unit_path is None:
            return None
    return Principal(row.id, row.name, frozenset(row.roles), row.scope_kind, row.scope_id,
                     scope_path, unit_path)


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(token_t).order_by(token_t.c.id))
    return [{"id": r.id, "name": r.name, "roles": r.roles, "scope": r.scope_kind,
             "scope_id": r.scope_id, "created_at": r.created_at, "revoked_at": r.revoked_at}
            for r in rows]
