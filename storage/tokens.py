"""Bearer tokens: made once and shown once, stored as a SHA-256 hash, resolved to a Principal."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from engine.access import Principal, ScopeKind
from engine.errors import InputInvalid, NotFound, kind_name
from engine.texts import listed, t
from engine.vocabulary import Vocabulary
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
    expires_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "token": self.secret, "name": self.name, "roles": list(self.roles),
                "scope": self.scope_kind, "scope_id": self.scope_id,
                "expires_at": None if self.expires_at is None else self.expires_at.isoformat()}


def create(
    conn: Connection, *, name: str, roles: Sequence[str], scope_kind: ScopeKind,
    scope_id: str | None, now: dt.datetime, by: str = "cli",
    vocabulary: Vocabulary | None = None, expires_at: dt.datetime | None = None,
) -> IssuedToken:
    """A new token; the org or unit it is scoped to must exist, and its roles (ids or the
    Chinese names the campaigns declare) must be ones the published campaigns declare for that
    kind of scope (`vocabulary`, when given). With `expires_at`, it stops working at that
    instant."""
    if expires_at is not None and expires_at <= now:
        raise InputInvalid(t("errors.token.expiry_past", at=f"{expires_at:%Y-%m-%d %H:%M}"),
                           code="expiry_invalid")
    scope_id, roles = checked_scope(conn, roles=roles, scope_kind=scope_kind,
                                    scope_id=scope_id, vocabulary=vocabulary)
    secret = PREFIX + secrets.token_urlsafe(32)
    token_id = conn.execute(insert(token_t).values(
        hash=digest(secret), name=name, roles=sorted(set(roles)), scope_kind=scope_kind,
        scope_id=scope_id, created_at=now, expires_at=expires_at).returning(token_t.c.id)
    ).scalar_one()
    audit.append(conn, stream=f"token:{token_id}", at=now, actor=by, role=None, action="create",
                 data={"name": name, "roles": sorted(set(roles)), "scope": scope_kind,
                       "scope_id": scope_id,
                       "expires_at": None if expires_at is None else expires_at.isoformat()})
    return IssuedToken(token_id, secret, name, tuple(sorted(set(roles))), scope_kind, scope_id,
                       expires_at)


def checked_scope(conn: Connection, *, roles: Sequence[str], scope_kind: ScopeKind,
                  scope_id: str | None, vocabulary: Vocabulary | None,
                  holder: str = "token") -> tuple[str | None, list[str]]:
    """The scope id and the roles' ids of a token or a person's account (storage.users): the
    org or unit must exist, and the roles (ids or the Chinese names the campaigns declare) must
    be ones the published campaigns declare for that kind of scope (`vocabulary`, when
    given). `holder` (token, account) words the refusals for what is being made."""
    if scope_kind == "admin":
        scope_id = None
    elif not scope_id:
        raise InputInvalid(t(f"errors.{holder}.needs_scope_id", kind=kind_name(scope_kind)))
    elif scope_kind == "org":
        if conn.execute(select(org_t.c.id).where(org_t.c.id == scope_id)).first() is None:
            raise NotFound("org", scope_id, t("errors.hint.create_org_first"))
    elif conn.execute(select(unit_t.c.id).where(unit_t.c.id == scope_id)).first() is None:
        raise NotFound("unit", scope_id, t("errors.hint.create_unit_first"))
    if scope_kind != "admin" and not roles:
        raise InputInvalid(t(f"errors.{holder}.needs_role"))
    if vocabulary is not None and vocabulary.declares("role"):
        roles = _check_roles(roles, scope_kind, vocabulary, holder)
    return scope_id, sorted(set(roles))


def _check_roles(roles: Sequence[str], scope_kind: ScopeKind,
                 vocabulary: Vocabulary, holder: str = "token") -> list[str]:
    """The roles' ids; InputInvalid (role_invalid) naming each unknown role, with a hint, and
    each role held for another kind of scope."""
    problems = []
    ids: list[str] = []
    for role in roles:
        found = vocabulary.lookup("role", role)
        if found.id is None:
            problems.append(t("errors.token.undeclared_role", message=found.message)
                            + (t("errors.aside", text=found.hint) if found.hint else ""))
            continue
        ids.append(found.id)
        scopes = vocabulary.scopes(found.id)
        if scope_kind in ("org", "unit") and scope_kind not in scopes:
            where = "--unit UNIT" if "unit" in scopes else "--org ORG"
            held = "/".join(kind_name(s) for s in sorted(scopes))
            problems.append(t("errors.token.role_scope", role=found.id, scopes=held, where=where)
                            if holder == "token" else
                            t("errors.account.role_scope", role=found.id, scopes=held))
    if problems:
        raise InputInvalid(listed(problems, "list.semicolon"), code="role_invalid")
    return ids


def revoke(conn: Connection, token_id: int, *, now: dt.datetime, by: str) -> dict[str, Any]:
    """Revoke a token for good; the token as it is now."""
    changed = conn.execute(update(token_t).where(token_t.c.id == token_id,
                                                 token_t.c.revoked_at.is_(None))
                           .values(revoked_at=now))
    if changed.rowcount != 1:
        row = conn.execute(select(token_t).where(token_t.c.id == token_id)).one_or_none()
        raise NotFound("active token", token_id,
                       t("errors.hint.token_revoked") if row is not None else
                       t("errors.hint.tokens"))
    audit.append(conn, stream=f"token:{token_id}", at=now, actor=by, role=None, action="revoke")
    return _public(conn.execute(select(token_t).where(token_t.c.id == token_id)).one(), now)


@dataclass(frozen=True)
class Verdict:
    """What a presented secret is worth: its principal, or why it is refused (`refusal`, the
    catalogue's id of the sentence for the caller, with its `values`: a cache keeps the verdict
    for callers who read different languages); `expires_at` bounds how long a cache may keep
    the answer."""

    principal: Principal | None
    refusal: str = ""
    values: tuple[tuple[str, str], ...] = ()
    expires_at: dt.datetime | None = None

    def said(self) -> str:
        """Why the token is refused, in the caller's language (engine.texts)."""
        return t(self.refusal, **dict(self.values))


UNKNOWN = "auth.unknown"


def check(conn: Connection, secret: str, *, now: dt.datetime | None) -> Verdict:
    """The principal of a live token at `now`, or why the token does not work (with `now`
    None, expiry is not judged: for callers that hold a token's principal, not a request)."""
    row = conn.execute(select(token_t).where(token_t.c.hash == digest(secret))).one_or_none()
    if row is None:
        return Verdict(None, UNKNOWN)
    if row.revoked_at is not None:
        return Verdict(None, "auth.revoked",
                       (("token", row.id), ("at", f"{row.revoked_at:%Y-%m-%d %H:%M}")))
    if row.expires_at is not None and now is not None and row.expires_at <= now:
        return Verdict(None, "auth.expired",
                       (("token", row.id), ("at", f"{row.expires_at:%Y-%m-%d %H:%M}")))
    scope_path = unit_path = None
    if row.scope_kind == "org":
        scope_path = conn.execute(select(org_t.c.path).where(org_t.c.id == row.scope_id)
                                  ).scalar()
        if scope_path is None:
            return Verdict(None, "auth.no_such_org",
                           (("token", row.id), ("org", str(row.scope_id))))
    elif row.scope_kind == "unit":
        unit_path = conn.execute(select(unit_t.c.org_path).where(unit_t.c.id == row.scope_id)
                                 ).scalar()
        if unit_path is None:
            return Verdict(None, "auth.no_such_unit",
                           (("token", row.id), ("unit", str(row.scope_id))))
    principal = Principal(row.id, row.name, frozenset(row.roles), row.scope_kind,
                          row.scope_id, scope_path, unit_path)
    return Verdict(principal, expires_at=row.expires_at)


def resolve(conn: Connection, secret: str, *, now: dt.datetime | None = None
            ) -> Principal | None:
    """The principal of a live token, or None for an unknown, revoked or (at `now`, when
    given) expired one."""
    return check(conn, secret, now=now).principal


def state_of(row: Any, now: dt.datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"


def _public(row: Any, now: dt.datetime) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "roles": row.roles, "scope": row.scope_kind,
            "scope_id": row.scope_id, "created_at": row.created_at,
            "expires_at": row.expires_at, "revoked_at": row.revoked_at,
            "state": state_of(row, now)}


def list_tokens(conn: Connection, *, now: dt.datetime, after: int | None = None,
                limit: int = 1000) -> list[dict[str, Any]]:
    """A page of tokens by id (never a secret or its hash), each with its state at `now`."""
    query = select(token_t).order_by(token_t.c.id).limit(limit)
    if after is not None:
        query = query.where(token_t.c.id > after)
    return [_public(r, now) for r in conn.execute(query)]
