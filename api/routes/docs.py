"""The API's documentation pages, Swagger UI (`/docs`) and ReDoc (`/redoc`), with their scripts
and styles served by paicha itself from the package (api/assets): FastAPI's own pages load
them from a CDN, which a government intranet cannot reach. Nothing is fetched at run time; the
wheel carries the files (tests/install)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse
from starlette.requests import Request

from paicha.files import installed_dir

router = APIRouter(include_in_schema=False)

OAUTH2_REDIRECT = "/docs/oauth2-redirect"
# URL path -> (file under api/assets, media type); every one is public, like the pages
ASSETS = {
    "/docs/swagger-ui-bundle.js": ("swagger-ui/swagger-ui-bundle.js", "text/javascript"),
    "/docs/swagger-ui.css": ("swagger-ui/swagger-ui.css", "text/css"),
    "/docs/favicon.png": ("swagger-ui/favicon-32x32.png", "image/png"),
    "/redoc/redoc.standalone.js": ("redoc/redoc.standalone.js", "text/javascript"),
}
PUBLIC = frozenset(ASSETS)
# no call to validator.swagger.io (Swagger UI's default): nothing leaves the intranet
SWAGGER_PARAMETERS = {"validatorUrl": None}


def assets_dir() -> Path:
    return installed_dir("api") / "assets"


def _prefix(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = _prefix(request)
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json", title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}/docs/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/docs/swagger-ui.css",
        swagger_favicon_url=f"{root}/docs/favicon.png",
        oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT}",
        swagger_ui_parameters=SWAGGER_PARAMETERS)


@router.get(OAUTH2_REDIRECT)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    root = _prefix(request)
    return get_redoc_html(openapi_url=f"{root}/openapi.json",
                          title=f"{request.app.title} - ReDoc",
                          redoc_js_url=f"{root}/redoc/redoc.standalone.js",
                          redoc_favicon_url=f"{root}/docs/favicon.png", with_google_fonts=False)


def _asset_route(path: str, name: str, media_type: str) -> None:
    def asset() -> FileResponse:
        # they change only with paicha: a day's caching, revalidated by ETag after that
        return FileResponse(assets_dir() / name, media_type=media_type,
                            headers={"Cache-Control": "public, max-age=86400"})

    router.add_api_route(path, asset, methods=["GET"], name=f"asset {name}")


for _path, (_name, _media) in ASSETS.items():
    _asset_route(_path, _name, _media)
