"""用户管理: people's accounts for the screens, kept by setup (admin-scoped) people: the list,
a form to make one, and buttons to disable one or give it a new password.

Accounts are not part of the integrators' API (no REST route makes or lists them: machines use
tokens), so unlike the other pages this one calls storage.users itself, inside one write
transaction in the thread pool, with the signed-in admin as the actor (`user:<id>`) of what
the audit log records. The rules are storage.users' and storage.tokens' (a scope that exists,
roles the published campaigns declare for it, a password long enough), and their refusals,
already in the person's language, are shown next to the field they are about. A password set
here, or made here, is shown once on the answer and never again.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import services_of
from api.services import Services, run_db
from engine.access import ScopeKind
from engine.errors import InputInvalid, NotFound, PaichaError
from engine.texts import t
from storage import users
from storage.campaigns import vocabulary
from web.render import refused, render
from web.session import Checked, SignedIn

router = APIRouter(prefix="/ui")

PAGE_SIZE = 200
SCOPES: tuple[ScopeKind, ...] = ("org", "unit", "admin")
# the field a refusal of storage.users is about, by its code (others are the form's)
FIELD_OF = {"login_invalid": "login", "login_taken": "login", "password_weak": "password",
            "role_invalid": "roles"}
Text = Annotated[str, Form(max_length=200)]
Password = Annotated[str, Form(max_length=users.MAX_PASSWORD + 1)]
Flag = Annotated[str, Form(max_length=10)]


def _listing(services: Services, after: int | None) -> dict[str, Any]:
    """The accounts of a page and the roles a new one may hold (id, name, scopes)."""
    now = services.now()
    with services.db.read() as conn:
        rows = users.list_users(conn, now=now, after=after, limit=PAGE_SIZE + 1)
        words = vocabulary(services.registry, conn)
    roles = [{"id": role, "name": words.name("role", role),
              "scopes": sorted(words.scopes(role))} for role in words.ids("role")]
    return {"accounts": rows[:PAGE_SIZE],
            "next_after": rows[PAGE_SIZE - 1]["id"] if len(rows) > PAGE_SIZE else None,
            "roles": roles}


async def _page(request: Request, *, status: int = 200, after: int | None = None,
                **context: Any) -> Response:
    services = services_of(request)
    found = await run_db(_listing, services, after)
    kind_names = {kind: t(f"web.users.scope.{kind}") for kind in SCOPES}
    for role in found["roles"]:
        role["scope_names"] = "/".join(kind_names.get(s, s) for s in role["scopes"])
    form = {"login": "", "name": "", "scope_kind": "org", "scope_id": "", "roles": [],
            **context.pop("form", {})}
    values: dict[str, Any] = {"notice": "", "shown_password": "", "error": "",
                              "field": "", "target": "", "form": form, **context}
    return render(request, "users/list.html", status=status, **found, **values,
                  scope_kinds=SCOPES, kind_names=kind_names,
                  role_names={role["id"]: role["name"] for role in found["roles"]})


@router.get("/users")
async def list_accounts(request: Request, session: SignedIn, after: int | None = None
                        ) -> Response:
    if not session.principal.admin:
        return refused(request, "web.users.forbidden")
    return await _page(request, after=after)


def _refusal(error: PaichaError) -> tuple[int, str, str]:
    """The status, the field (or '') and the sentence of a refusal of storage.users."""
    if isinstance(error, NotFound):
        return 404, "scope_id", str(error)
    if isinstance(error, InputInvalid):
        return 422, FIELD_OF.get(error.code, ""), str(error)
    raise error


def _create(services: Services, by: str, form: dict[str, Any], password: str
            ) -> dict[str, Any]:
    with services.db.write() as conn:
        words = vocabulary(services.registry, conn)
        return users.create(conn, login=form["login"], name=form["name"], password=password,
                            roles=form["roles"], scope_kind=form["scope_kind"],
                            scope_id=form["scope_id"] or None, now=services.now(), by=by,
                            vocabulary=words)


@router.post("/users")
async def create_account(request: Request, session: Checked, login: Text = "",
                         name: Text = "", scope_kind: Text = "org", scope_id: Text = "",
                         roles: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI's)
                         password: Password = "", generate: Flag = "") -> Response:
    if not session.principal.admin:
        return refused(request, "web.users.forbidden")
    form = {"login": login.strip(), "name": name.strip(), "scope_kind": scope_kind,
            "scope_id": scope_id.strip(), "roles": [r for r in roles if r][:50]}
    if scope_kind not in SCOPES:
        return await _page(request, status=422, form=form, field="scope_kind",
                           error=t("web.users.scope.unknown"))
    chosen = secrets.token_urlsafe(12) if generate else password
    try:
        made = await run_db(_create, services_of(request), session.principal.actor, form,
                            chosen)
    except PaichaError as error:
        status, field, said = _refusal(error)
        return await _page(request, status=status, form=form, field=field, error=said)
    return await _page(request, status=201, notice=t("web.users.created", login=made["login"]),
                       shown_password=chosen if generate else "", target=made["login"])


def _disable(services: Services, by: str, login: str) -> dict[str, Any]:
    with services.db.write() as conn:
        return users.disable(conn, login, now=services.now(), by=by)


@router.post("/users/{login}/disable")
async def disable_account(request: Request, session: Checked, login: str) -> Response:
    if not session.principal.admin:
        return refused(request, "web.users.forbidden")
    if login.lower() == session.login.lower():  # the last admin must not lock everyone out
        return await _page(request, status=409, error=t("web.users.not_yourself"))
    try:
        done = await run_db(_disable, services_of(request), session.principal.actor, login)
    except PaichaError as error:
        status, _, said = _refusal(error)
        return await _page(request, status=status, error=said)
    return await _page(request, notice=t("web.users.disabled", login=done["login"]),
                       target=done["login"])


def _reset(services: Services, by: str, login: str, password: str) -> dict[str, Any]:
    with services.db.write() as conn:
        return users.reset_password(conn, login, password, now=services.now(), by=by)


@router.post("/users/{login}/password")
async def reset_password(request: Request, session: Checked, login: str,
                         password: Password = "", generate: Flag = "") -> Response:
    if not session.principal.admin:
        return refused(request, "web.users.forbidden")
    chosen = secrets.token_urlsafe(12) if generate else password
    try:
        done = await run_db(_reset, services_of(request), session.principal.actor, login,
                            chosen)
    except PaichaError as error:
        status, _, said = _refusal(error)
        return await _page(request, status=status, error=said, target=login,
                           field="reset")
    return await _page(request, notice=t("web.users.password_reset", login=done["login"]),
                       shown_password=chosen if generate else "", target=done["login"])
