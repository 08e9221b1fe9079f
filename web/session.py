"""Who is at the screen: the session cookie, sign-in and sign-out, and the CSRF check.

The cookie holds a random secret (storage.users keeps its hash); it is HttpOnly (no script
reads it), SameSite=Lax (another site's form posts arrive without it) and Secure when the
request came over HTTPS (directly, or through a proxy uvicorn trusts). Every form that
changes something carries the session's CSRF token, checked here before the page acts; the
sign-in form, which has no session yet, carries one bound to a cookie of its own (double
submit), so another site cannot sign a browser in as someone else.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from starlette.responses import Response

from api.deps import services_of
from api.services import Services, run_db
from storage import users
from storage.users import Session

COOKIE = "paicha_session"
LOGIN_COOKIE = "paicha_login"  # the sign-in form's own CSRF token
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"  # htmx sends it (base.html's hx-headers)


class SignInNeeded(Exception):
    """No live session: the page sends its person to the sign-in form (web.app)."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class CsrfRefused(Exception):
    """A form came without its session's CSRF token (web.app answers 403)."""


async def current(request: Request) -> Session | None:
    secret = request.cookies.get(COOKIE)
    if not secret or len(secret) > 100:
        return None
    services = services_of(request)
    return await run_db(_session, services, secret)


def _session(services: Services, secret: str) -> Session | None:
    with services.db.read() as conn:
        return users.session(conn, secret, now=services.now())


async def signed_in(request: Request) -> Session:
    """The page's session; SignInNeeded (to the sign-in form, then back) without one."""
    found = await current(request)
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target)
    request.state.session = found
    return found


async def checked(request: Request, session: Annotated[Session, Depends(signed_in)]
                  ) -> Session:
    """The session of a request that changes something: its CSRF token must match."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf):
        await request.close()  # the refused form's files, unread, are let go now
        raise CsrfRefused()
    return session


SignedIn = Annotated[Session, Depends(signed_in)]
Checked = Annotated[Session, Depends(checked)]


def sign_in_url(back_to: str) -> str:
    return "/ui/login" + (f"?next={quote(back_to, safe='/')}" if back_to else "")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of the screens only (never another site, `//x`
    or `/\\x`, which browsers read as another host)."""
    if (not target or not target.startswith("/ui") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return "/ui/"
    return target


def secure(request: Request) -> bool:
    """Whether cookies carry Secure: the request came over HTTPS, or the deployment says all
    do (PAICHA_SECURE_COOKIES, behind a proxy that does not forward the scheme)."""
    return request.url.scheme == "https" or services_of(request).settings.secure_cookies


def set_session_cookie(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(COOKIE, secret, max_age=int(users.SESSION_FOR.total_seconds()),
                        httponly=True, samesite="lax", secure=secure(request), path="/")


def login_token(request: Request) -> tuple[str, bool]:
    """The sign-in form's CSRF token: the one its cookie holds, or a new one (then True: the
    form's answer sets it with `set_login_cookie`)."""
    token = request.cookies.get(LOGIN_COOKIE)
    if token and len(token) <= 100:
        return token, False
    return secrets.token_urlsafe(24), True


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="lax",
                        secure=secure(request), path="/ui/login")


def login_token_ok(request: Request, sent: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE) or ""
    return bool(cookie) and hmac.compare_digest(cookie, sent)
