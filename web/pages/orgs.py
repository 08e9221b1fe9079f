"""单位与组织: the org tree of what I reach, an org's page, a unit's page, and import of orgs
or units from a spreadsheet (checked first, then imported).

The tree is never loaded whole: a district keeps thousands of units under a few hundred orgs.
Each org's page lists one page of its children and one page of its units (GET /orgs?parent=,
GET /units?org=, by cursor), and each child in the tree opens its own children with one htmx
request (a fragment); without scripts, the child's link opens its page instead.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.deps import services_of
from api.services import Services, run_db
from engine.authority import SUBJECT_ROLES
from engine.texts import t
from engine.vocabulary import Kind, Vocabulary
from storage.campaigns import vocabulary
from web.client import Api
from web.render import refusal, render
from web.session import Checked, SignedIn

router = APIRouter(prefix="/ui")

PAGE = 50  # rows of a list on a page
ROOT_SCAN = 5  # pages of GET /orgs an admin's tree reads to find the roots (1,000 orgs each)
# A checked file rides along in the confirming form when it is this small (base64 adds a third;
# a form field holds at most 1 MiB); a larger one is chosen again.
CARRIED_BYTES = 512 * 1024
KINDS = ("orgs", "units")


async def words(request: Request) -> Vocabulary:
    """The campaigns' words, for showing levels, industries and tags by name."""
    services = services_of(request)
    return await run_db(_words, services)


def _words(services: Services) -> Vocabulary:
    with services.db.read() as conn:
        return vocabulary(services.registry, conn)


def named(vocab: Vocabulary, kind: Kind, key: str | None) -> str:
    return vocab.name(kind, key) if key else ""


def may_import(session: Any) -> bool:
    """Whether to offer the import (the API decides: api.deps.subject_manager)."""
    principal = session.principal
    return bool(principal.admin or (principal.scope_kind == "org"
                                    and principal.roles & SUBJECT_ROLES))


async def listed(api: Api, path: str, params: dict[str, Any]) -> tuple[list[Any], str | None]:
    answer = await api.get(path, params)
    if not answer.ok:
        return [], None
    body = answer.json()
    return body["data"], body.get("next_cursor")


# -- the tree ------------------------------------------------------------------------------

@router.get("/orgs")
async def tree(request: Request, session: SignedIn, go: str = "") -> Response:
    principal = session.principal
    if go.strip():  # the form "go to an org by its id"
        return RedirectResponse(f"/ui/orgs/{quote(go.strip(), safe='')}", 303)
    if principal.scope_kind == "unit":
        return RedirectResponse(f"/ui/units/{quote(principal.scope_id or '')}", 303)
    api = Api(request, principal)
    vocab = await words(request)
    if principal.admin:
        roots, more = await _roots(api)
    else:
        answer = await api.get(f"/orgs/{quote(principal.scope_id or '')}")
        if not answer.ok:
            return refusal(request, answer)
        roots, more = [answer.json()], False
    branches = []
    for org in roots:
        children, after = await listed(api, "/orgs", {"parent": org["id"], "limit": PAGE})
        branches.append({"org": org, "children": children, "after": after})
    return render(request, "orgs/tree.html", branches=branches, more_roots=more,
                  vocab=vocab, named=named, may_import=may_import(session))


async def _roots(api: Api) -> tuple[list[dict[str, Any]], bool]:
    """The orgs without a parent, from at most ROOT_SCAN pages (an install holds one district
    or a few); True when there were more pages: the person goes to an org by its id."""
    roots: list[dict[str, Any]] = []
    cursor = None
    for _ in range(ROOT_SCAN):
        answer = await api.get("/orgs", {"limit": 1000, "cursor": cursor})
        if not answer.ok:
            return roots, False
        body = answer.json()
        roots += [org for org in body["data"] if org["parent"] is None]
        cursor = body.get("next_cursor")
        if cursor is None:
            return roots, False
    return roots, True


@router.get("/orgs/{org_id}/children")
async def children(request: Request, session: SignedIn, org_id: str,
                   cursor: str | None = None) -> Response:
    """The fragment of one org's children in the tree (htmx), a page at a time."""
    api = Api(request, session.principal)
    answer = await api.get("/orgs", {"parent": org_id, "limit": PAGE, "cursor": cursor})
    if not answer.ok:
        return refusal(request, answer)
    body = answer.json()
    return render(request, "orgs/children.html", parent=org_id, children=body["data"],
                  after=body.get("next_cursor"), vocab=await words(request), named=named)


# -- import --------------------------------------------------------------------------------

@router.get("/orgs/import")
async def import_orgs_form(request: Request, session: SignedIn) -> Response:
    return render(request, "orgs/import.html", kind="orgs", result=None, problem=None,
                  carried=None)


@router.get("/units/import")
async def import_units_form(request: Request, session: SignedIn) -> Response:
    return render(request, "orgs/import.html", kind="units", result=None, problem=None,
                  carried=None)


@router.post("/orgs/import")
async def import_orgs(request: Request, session: Checked) -> Response:
    return await _import(request, session, "orgs")


@router.post("/units/import")
async def import_units(request: Request, session: Checked) -> Response:
    return await _import(request, session, "units")


async def _import(request: Request, session: Any, kind: str) -> Response:
    """Check the file (a dry run) or import it, through POST /{kind}/import."""
    form = await request.form()
    try:
        dry_run = form.get("mode") != "import"
        file = await _file(form)
    finally:
        await form.close()  # the upload's spooled file: its bytes are read
    if file is None:
        return render(request, "orgs/import.html", status=422, kind=kind, result=None,
                      carried=None, problem={"detail": t("web.orgs.import.no_file")})
    name, data, media = file
    boundary = secrets.token_hex(16)
    api = Api(request, session.principal)
    answer = await api.call("POST", f"/{kind}/import", {"dry_run": dry_run},
                            _multipart(boundary, name, data, media),
                            f"multipart/form-data; boundary={boundary}")
    if not answer.ok:
        return render(request, "orgs/import.html", status=answer.status, kind=kind,
                      result=None, carried=None, problem=answer.problem)
    result = answer.json()
    carried = None
    if dry_run and len(data) <= CARRIED_BYTES:
        carried = {"name": name, "media": media,
                   "content": base64.b64encode(data).decode("ascii")}
    return render(request, "orgs/import.html", kind=kind, result=result, problem=None,
                  carried=carried, file_name=name)


async def _file(form: Any) -> tuple[str, bytes, str] | None:
    """The file of the form: chosen (`file`), or carried over from the check (`content`)."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        return upload.filename, data, upload.content_type or "application/octet-stream"
    content = form.get("content")
    if isinstance(content, str) and content:
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            return None
        name, media = form.get("file_name"), form.get("media")
        return (name if isinstance(name, str) and name else "upload", data,
                _header_value(media) if isinstance(media, str) else "application/octet-stream")
    return None


def _header_value(text: str) -> str:
    """A part header's value from a form field: one line, or the generic type."""
    value = "".join(c for c in text if " " <= c < "\x7f")
    return value or "application/octet-stream"


def _multipart(boundary: str, name: str, data: bytes, media: str) -> bytes:
    """The file as the API's `file` field, in a form of its own (the page's own form carries
    the CSRF token and the buttons, which are no business of the API's)."""
    safe = name.replace("\\", "_").replace('"', "_").replace("\r", "").replace("\n", "")
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{safe}"\r\nContent-Type: {media}\r\n\r\n')
    return head.encode("utf-8") + data + f"\r\n--{boundary}--\r\n".encode("ascii")


# -- an org, a unit ------------------------------------------------------------------------

@router.get("/orgs/{org_id}")
async def org_page(request: Request, session: SignedIn, org_id: str,
                   children_cursor: str | None = None,
                   units_cursor: str | None = None) -> Response:
    api = Api(request, session.principal)
    answer = await api.get(f"/orgs/{quote(org_id, safe='')}")
    if not answer.ok:
        return refusal(request, answer)
    org = answer.json()
    parent = None
    if org["parent"]:
        above = await api.get(f"/orgs/{quote(org['parent'], safe='')}")
        parent = above.json() if above.ok else None
    kids, kids_after = await listed(api, "/orgs", {"parent": org_id, "limit": PAGE,
                                                   "cursor": children_cursor})
    units, units_after = await listed(api, "/units", {"org": org_id, "limit": PAGE,
                                                      "cursor": units_cursor})
    return render(request, "orgs/org.html", org=org, parent=parent, children=kids,
                  children_after=kids_after, children_cursor=children_cursor,
                  units=units, units_after=units_after, units_cursor=units_cursor,
                  deployments=await _deployments(api, org_id), vocab=await words(request),
                  named=named, may_import=may_import(session))


async def _deployments(api: Api, org_id: str) -> list[dict[str, Any]]:
    """The campaigns deployed at this org (not those deployed above it)."""
    campaigns = await api.get("/campaigns")
    found = []
    for campaign in campaigns.json() if campaigns.ok else []:
        answer = await api.get(f"/campaigns/{quote(campaign['campaign'], safe='')}/deployments")
        for place in answer.json() if answer.ok else []:
            if place["org"] == org_id:
                found.append({**place, "title": campaign["title"]})
    return found


@router.get("/units/{unit_id}")
async def unit_page(request: Request, session: SignedIn, unit_id: str,
                    cases_cursor: str | None = None,
                    duties_cursor: str | None = None) -> Response:
    api = Api(request, session.principal)
    answer = await api.get(f"/units/{quote(unit_id, safe='')}")
    if not answer.ok:
        return refusal(request, answer)
    unit = answer.json()
    above = await api.get(f"/orgs/{quote(unit['org'], safe='')}")
    hazards, hazards_after = await listed(api, "/cases", {
        "unit": unit_id, "open": "true", "limit": PAGE, "cursor": cases_cursor})
    duties, duties_after = await listed(api, "/obligations", {
        "unit": unit_id, "limit": PAGE, "cursor": duties_cursor})
    return render(request, "orgs/unit.html", unit=unit, org=above.json() if above.ok else None,
                  hazards=hazards, hazards_after=hazards_after, cases_cursor=cases_cursor,
                  duties=duties, duties_after=duties_after, duties_cursor=duties_cursor,
                  vocab=await words(request), named=named)


