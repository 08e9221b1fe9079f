"""The screens' part of the app: their routes, their static files, and how a page answers a
person without a session (the sign-in form) or a form without its CSRF token (403)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from paicha.files import installed_dir
from web.pages import PAGES
from web.render import render
from web.session import CsrfRefused, SignedIn, SignInNeeded, sign_in_url

# Paths the request guard lets through without a token: the pages check their own session.
PREFIXES = ("/ui", "/static/")
ROOT = frozenset({"/"})

# web/static: file name -> media type; served as they are, from the package
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml",
                ".png": "image/png", ".txt": "text/plain"}

static = APIRouter(include_in_schema=False)


def static_dir() -> Path:
    return installed_dir("web") / "static"


@static.get("/static/{name}")
def static_file(name: str) -> Response:
    path = static_dir() / name
    media = STATIC_TYPES.get(path.suffix)
    # one flat folder: no '/', '..' or hidden file reaches the disk
    if media is None or "/" in name or "\\" in name or name.startswith(".") or not path.is_file():
        return Response(status_code=404)
    return FileResponse(path, media_type=media,
                        headers={"Cache-Control": "public, max-age=86400",
                                 "X-Content-Type-Options": "nosniff"})


@static.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=303)


unknown = APIRouter(include_in_schema=False)


@unknown.get("/ui/{rest:path}")
async def no_such_page(request: Request, session: SignedIn) -> Response:
    """A page that does not exist, said as a page (the API's 404 is JSON)."""
    return render(request, "error.html", status=404, title_key="web.error.not_found.title",
                  detail_key="web.error.not_found.detail")


def install(app: FastAPI) -> None:
    app.include_router(static)
    for router in PAGES:
        app.include_router(router, include_in_schema=False)
    app.include_router(unknown, include_in_schema=False)  # last: after every page

    async def to_sign_in(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInNeeded)
        target = sign_in_url(error.back_to)
        if request.headers.get("hx-request"):  # htmx follows this instead of a 303
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def csrf_refused(request: Request, error: Exception) -> Response:
        return render(request, "error.html", status=403, title_key="web.error.csrf.title",
                      detail_key="web.error.csrf.detail")

    app.add_exception_handler(SignInNeeded, to_sign_in)
    app.add_exception_handler(CsrfRefused, csrf_refused)
