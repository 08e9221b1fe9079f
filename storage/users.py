"""People who sign in to the screens: accounts, passwords, lock-out and sessions.

An account holds what a token holds — roles within one org's subtree or one unit, or setup
rights — checked by the same rules (storage.tokens.create), so a person reaches exactly what a
token of the same roles and scope reaches, and acts as `user:<id>` in the audit log and in
sign-off chains. Passwords are kept as Argon2id hashes (argon2-cffi, OWASP's parameters); a
session is a random secret in an HttpOnly cookie, kept here as its SHA-256 with the CSRF token
its forms carry. Time is passed in.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, func, insert, select, update

from engine.access import Principal, ScopeKind
from engine.errors import InputInvalid, NotFound
from engine.texts import t
from engine.vocabulary import Vocabulary
from storage import audit, tokens
from storage.tables import Org, Unit, UserAccount, WebSession

user_t = UserAccount.__table__  # type: ignore[attr-defined]
session_t = WebSession.__table__  # type: ignore[attr-defined]
org_t = Org.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]

# Failed sign-ins in a row that lock an account, and for how long: long enough to make
# guessing hopeless (5 tries per quarter hour), short enough that a forgetful person waits
# instead of calling the office.
MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)
# A session lasts a working day, then its person signs in again.
SESSION_FOR = dt.timedelta(hours=12)
MIN_PASSWORD = 8
MAX_PASSWORD = 256  # Argon2 takes any length; a bound keeps a hostile form from costing more
LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

_hasher = PasswordHasher()  # Argon2id with the library's (RFC 9106 low-memory) parameters
# checked against when the login is unknown, so that both refusals take the same time
_DUMMY = _hasher.hash("paicha: no such account")


def check_password(password: str, login: str) -> None:
    """InputInvalid (`password_weak`) for a password too short, too long or the login."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InputInvalid(t("users.password.length", min=MIN_PASSWORD, max=MAX_PASSWORD),
                           code="password_weak")
    if password.strip().lower() == login.lower():
        raise InputInvalid(t("users.password.is_login"), code="password_weak")


def _check_login(login: str) -> None:
    if not LOGIN.match(login):
        raise InputInvalid(t("users.login.shape", login=login), code="login_invalid")


def create(conn: Connection, *, login: str, name: str, password: str, roles: Sequence[str],
           scope_kind: ScopeKind, scope_id: str | None, now: dt.datetime, by: str,
           vocabulary: Vocabulary | None = None) -> dict[str, Any]:
    """A new account; its scope and roles are checked as a token's are (storage.tokens)."""
    _check_login(login)
    check_password(password, login)
    if conn.execute(select(user_t.c.id).where(func.lower(user_t.c.login) == login.lower())
                    ).first() is not None:
        raise InputInvalid(t("users.login.taken", login=login), code="login_taken")
    scope_id, role_ids = tokens.checked_scope(conn, roles=roles, scope_kind=scope_kind,
                                              scope_id=scope_id, vocabulary=vocabulary,
                                              holder="account")
    user_id = conn.execute(insert(user_t).values(
        login=login, name=name or login, password_hash=_hasher.hash(password),
        roles=role_ids, scope_kind=scope_kind, scope_id=scope_id, created_at=now,
        failed_logins=0, password_changed_at=now).returning(user_t.c.id)).scalar_one()
    audit.append(conn, stream=f"user:{user_id}", at=now, actor=by, role=None, action="create",
                 data={"login": login, "name": name or login, "roles": role_ids,
                       "scope": scope_kind, "scope_id": scope_id})
    return public(_row(conn, user_id), now)


def _row(conn: Connection, user_id: int) -> Any:
    return conn.execute(select(user_t).where(user_t.c.id == user_id)).one()


def by_login(conn: Connection, login: str) -> Any:
    """The account of a login (any case); NotFound otherwise."""
    row = conn.execute(select(user_t).where(func.lower(user_t.c.login) == login.lower())
                       ).one_or_none()
    if row is None:
        raise NotFound("user", login, t("users.hint.list"))
    return row


def state_of(row: Any, now: dt.datetime) -> str:
    if row.disabled_at is not None:
        return "disabled"
    if row.locked_until is not None and row.locked_until > now:
        return "locked"
    return "active"


def public(row: Any, now: dt.datetime) -> dict[str, Any]:
    """An account as it may be shown (never its hash)."""
    return {"id": row.id, "login": row.login, "name": row.name, "roles": list(row.roles),
            "scope": row.scope_kind, "scope_id": row.scope_id, "created_at": row.created_at,
            "disabled_at": row.disabled_at, "locked_until": row.locked_until,
            "state": state_of(row, now)}


def list_users(conn: Connection, *, now: dt.datetime, after: int | None = None,
               limit: int = 1000) -> list[dict[str, Any]]:
    query = select(user_t).order_by(user_t.c.id).limit(limit)
    if after is not None:
        query = query.where(user_t.c.id > after)
    return [public(r, now) for r in conn.execute(query)]


def disable(conn: Connection, login: str, *, now: dt.datetime, by: str) -> dict[str, Any]:
    """Disable an account for good and end its sessions."""
    row = by_login(conn, login)
    if row.disabled_at is None:
        conn.execute(update(user_t).where(user_t.c.id == row.id).values(disabled_at=now))
        _end_all(conn, row.id, now)
        audit.append(conn, stream=f"user:{row.id}", at=now, actor=by, role=None,
                     action="disable")
    return public(_row(conn, row.id), now)


def reset_password(conn: Connection, login: str, password: str, *, now: dt.datetime,
                   by: str) -> dict[str, Any]:
    """A new password; the lock is lifted and every session of the account ends."""
    row = by_login(conn, login)
    check_password(password, row.login)
    conn.execute(update(user_t).where(user_t.c.id == row.id).values(
        password_hash=_hasher.hash(password), failed_logins=0, locked_until=None,
        password_changed_at=now))
    _end_all(conn, row.id, now)
    audit.append(conn, stream=f"user:{row.id}", at=now, actor=by, role=None,
                 action="reset_password")
    return public(_row(conn, row.id), now)


def _end_all(conn: Connection, user_id: int, now: dt.datetime) -> None:
    conn.execute(update(session_t).where(session_t.c.user_id == user_id,
                                         session_t.c.ended_at.is_(None))
                 .values(ended_at=now))


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt is worth: a session (its cookie secret and CSRF token) or why
    not (`refusal`, a catalogue id, with `values`)."""

    secret: str | None = None
    csrf: str | None = None
    refusal: str = ""
    values: tuple[tuple[str, str], ...] = ()

    def said(self) -> str:
        return t(self.refusal, **dict(self.values))


def sign_in(conn: Connection, login: str, password: str, *, now: dt.datetime) -> SignIn:
    """Check a login and password; a new session, or the refusal. An unknown login and a
    wrong password are refused alike (after the same work), so the form does not tell which
    logins exist; the fifth wrong password in a row locks the account for LOCK_FOR."""
    row = conn.execute(select(user_t).where(func.lower(user_t.c.login) == login.lower())
                       ).one_or_none() if len(password) <= MAX_PASSWORD else None
    if row is None:
        _verify(_DUMMY, password[:MAX_PASSWORD])
        return SignIn(refusal="users.sign_in.wrong")
    if row.locked_until is not None and row.locked_until > now:
        return SignIn(refusal="users.sign_in.locked",
                      values=(("until", _shown(row.locked_until)),))
    if not _verify(row.password_hash, password):
        failures = row.failed_logins + 1
        locked = now + LOCK_FOR if failures >= MAX_FAILURES else None
        conn.execute(update(user_t).where(user_t.c.id == row.id).values(
            failed_logins=0 if locked else failures, locked_until=locked))
        audit.append(conn, stream=f"user:{row.id}", at=now, actor=f"user:{row.id}",
                     role=None, action="lock" if locked else "sign_in_failed",
                     data={"failures": failures})
        if locked is not None:
            return SignIn(refusal="users.sign_in.locked",
                          values=(("until", _shown(locked)),))
        return SignIn(refusal="users.sign_in.wrong")
    if row.disabled_at is not None:  # said only to who knows the password
        return SignIn(refusal="users.sign_in.disabled")
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    changes: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
    if _hasher.check_needs_rehash(row.password_hash):
        changes["password_hash"] = _hasher.hash(password)
    conn.execute(update(user_t).where(user_t.c.id == row.id).values(**changes))
    conn.execute(insert(session_t).values(hash=tokens.digest(secret), user_id=row.id,
                                          csrf=csrf, created_at=now,
                                          expires_at=now + SESSION_FOR))
    audit.append(conn, stream=f"user:{row.id}", at=now, actor=f"user:{row.id}", role=None,
                 action="sign_in")
    return SignIn(secret=secret, csrf=csrf)


# the time a locked person may try again, as they read it: Beijing time, where they work
_SHOWN_ZONE = ZoneInfo("Asia/Shanghai")


def _shown(moment: dt.datetime) -> str:
    return f"{moment.astimezone(_SHOWN_ZONE):%H:%M}"


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Session:
    """A live session: who it is and the CSRF token its forms must carry."""

    principal: Principal
    csrf: str
    login: str
    expires_at: dt.datetime


def session(conn: Connection, secret: str, *, now: dt.datetime) -> Session | None:
    """The live session of a cookie's secret: not ended, not expired, its account enabled and
    its scope still there; None otherwise."""
    found = conn.execute(
        select(session_t.c.csrf, session_t.c.expires_at, user_t)
        .join(user_t, user_t.c.id == session_t.c.user_id)
        .where(session_t.c.hash == tokens.digest(secret), session_t.c.ended_at.is_(None))
    ).one_or_none()
    if found is None or found.expires_at <= now or found.disabled_at is not None:
        return None
    scope_path = unit_path = None
    if found.scope_kind == "org":
        scope_path = conn.execute(select(org_t.c.path).where(org_t.c.id == found.scope_id)
                                  ).scalar()
        if scope_path is None:
            return None
    elif found.scope_kind == "unit":
        unit_path = conn.execute(select(unit_t.c.org_path).where(unit_t.c.id == found.scope_id)
                                 ).scalar()
        if unit_path is None:
            return None
    principal = Principal(0, found.name, frozenset(found.roles), found.scope_kind,
                          found.scope_id, scope_path, unit_path, user_id=found.id)
    return Session(principal, found.csrf, found.login, found.expires_at)


def sign_out(conn: Connection, secret: str, *, now: dt.datetime) -> None:
    """End the session of a cookie's secret (nothing when it is not live)."""
    row = conn.execute(select(session_t.c.id, session_t.c.user_id).where(
        session_t.c.hash == tokens.digest(secret), session_t.c.ended_at.is_(None))
    ).one_or_none()
    if row is None:
        return
    conn.execute(update(session_t).where(session_t.c.id == row.id).values(ended_at=now))
    audit.append(conn, stream=f"user:{row.user_id}", at=now, actor=f"user:{row.user_id}",
                 role=None, action="sign_out")
