"""Signing in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import services_of
from api.services import Services, run_db
from engine.texts import t
from storage import users
from web.render import render
from web.session import (
    COOKIE,
    Checked,
    current,
    login_token,
    login_token_ok,
    safe_next,
    set_login_cookie,
    set_session_cookie,
)

router = APIRouter(prefix="/ui")


@router.get("/login")
async def sign_in_form(request: Request, next: str = "") -> Response:
    if await current(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next)


def _form(request: Request, next: str, *, error: str = "", login: str = "",
          status: int = 200) -> Response:
    token, new = login_token(request)
    page = render(request, "login.html", status=status, next=safe_next(next), error=error,
                  login=login, login_csrf=token)
    if new:
        set_login_cookie(page, request, token)
    return page


@router.post("/login")
async def sign_in(request: Request, token_ok: Annotated[bool, Depends(login_token_ok)],
                  login: Annotated[str, Form(max_length=64)] = "",
                  password: Annotated[str, Form(max_length=users.MAX_PASSWORD + 1)] = "",
                  next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    if not token_ok:
        return _form(request, next, error=t("web.login.expired"), login=login, status=403)
    if not login or not password:
        return _form(request, next, error=t("web.login.missing"), login=login, status=422)
    services = services_of(request)
    verdict = await run_db(_sign_in, services, login.strip(), password)
    if verdict.secret is None:
        return _form(request, next, error=verdict.said(), login=login, status=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, request, verdict.secret)
    return response


def _sign_in(services: Services, login: str, password: str) -> users.SignIn:
    with services.db.write() as conn:
        return users.sign_in(conn, login, password, now=services.now())


@router.post("/logout")
async def sign_out(request: Request, session: Checked) -> Response:
    services = services_of(request)
    secret = request.cookies.get(COOKIE, "")
    await run_db(_sign_out, services, secret)
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _sign_out(services: Services, secret: str) -> None:
    with services.db.write() as conn:
        users.sign_out(conn, secret, now=services.now())
