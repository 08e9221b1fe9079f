"""Bulk import of orgs and units from a CSV or XLSX file: idempotent by id, all or nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from python_multipart.multipart import parse_options_header
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.deps import ServicesDep, SubjectManager
from api.errors import PROBLEM, problem, problem_responses
from api.offload import Checkpoint, offload
from api.services import Services
from engine.access import Principal
from engine.errors import InputInvalid
from engine.texts import t
from paicha import sheets
from storage import bulk

router = APIRouter(tags=["orgs and units"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
MULTIPART = "multipart/form-data"
# the multipart envelope around a file of MAX_BYTES: part headers, boundaries, a form field
ENVELOPE = 64 * 1024


class ImportResult(BaseModel):
    """What an import did (or, with `dry_run`, would do)."""

    created: int = Field(description="ids not stored before")
    updated: int = Field(description="stored ids whose row differs; their version goes up")
    unchanged: int = Field(description="stored ids whose row is the same: left untouched")
    dry_run: bool = Field(description="true when nothing was written")

    model_config = {"json_schema_extra": {"examples": [
        {"created": 120, "updated": 3, "unchanged": 881, "dry_run": False}]}}


_EXAMPLES = {
    "orgs": {
        "english": {"summary": "English headers; a child before its parent is fine",
                    "value": "id,name,level,parent\n"
                             "linyin-c3-g1,第三社区第一网格,社区/村,linyin-c3\n"
                             "linyin-c3,林荫街道第三社区,community,linyin\n"},
        "chinese": {"summary": "Chinese headers",
                    "value": "组织编号,名称,层级,上级\n"
                             "linyin-c4,林荫街道第四社区,community,linyin\n"},
    },
    "units": {
        "english": {"summary": "English headers; words by id or Chinese name; tags separated "
                               "by ; or ；",
                    "value": "id,name,org,industry,tags\n"
                             "u-gas-01,示例加油站,linyin-c1,危险化学品,major_hazard_source;重点企业\n"},
        "chinese": {"summary": "Chinese headers, as on a 台账 (other columns are ignored)",
                    "value": "序号,统一社会信用代码,单位名称,所属社区,行业领域,标签\n"
                             "1,91150602MA0N000001,示例餐厅,linyin-c2,catering,人员密集场所\n"},
    },
}

_INVALID = {"type": "https://paicha.dev/problems/import_invalid",
            "title": "Unprocessable Content", "status": 422, "code": "import_invalid",
            "detail": "2 problem(s) in units.csv", "problems": [
                {"line": 3, "column": 1, "field": "id", "header": "单位编号",
                 "message": "duplicate id 'u-gas-01' (first on line 2)",
                 "hint": "keep one row per id"},
                {"line": 4, "column": 3, "field": "org", "header": "所属社区",
                 "message": "org 'jiaotong-c1' is outside your token's scope (org linyin)",
                 "hint": "leave the row out, or use a token of that org"}]}
_TOO_LARGE = {"type": "https://paicha.dev/problems/import_too_large",
              "title": "Content Too Large", "status": 413, "code": "import_too_large",
              "detail": "units.csv has more than 100,000 rows; an import takes at most that "
                        "many: split the file"}
RESPONSES = {**problem_responses(401, 403, 413, 422),
             413: {"description": "the file is past the limits",
                   "content": {PROBLEM: {"example": _TOO_LARGE}}},
             422: {"description": "every bad row of the file (nothing was written), or a body "
                                  "that is not a CSV or XLSX file",
                   "content": {PROBLEM: {"example": _INVALID}}}}


def _request_body(kind: sheets.Kind) -> dict[str, Any]:
    columns = ", ".join(sheets.HEADERS[kind])
    return {"requestBody": {
        "required": True,
        "description": (
            f"A table of {kind}, columns {columns} (English ids or the Chinese headers listed in "
            "docs/import.md), as CSV (UTF-8, with or without BOM; `charset=gbk` in the "
            "Content-Type for a GBK file), as XLSX (the first sheet, or `?sheet=`), or as "
            "multipart/form-data with the file in a `file` field. At most "
            f"{sheets.MAX_ROWS:,} rows and {sheets.MAX_BYTES // (1024 * 1024)} MB."),
        "content": {
            CSV: {"schema": {"type": "string"}, "examples": _EXAMPLES[kind]},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
            MULTIPART: {"schema": {"type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "a .csv or .xlsx file"}}}},
        }}}


DryRun = Annotated[bool, Query(description="check the file and count what would change, "
                                           "writing nothing")]
SheetName = Annotated[str | None, Query(max_length=200,
                                        description="the XLSX sheet to read (default: the "
                                                    "first)")]


@router.post("/orgs/import", response_model=ImportResult,
             responses=RESPONSES,
             summary="Create or update orgs from a CSV or XLSX file",
             description="Rows are matched by `id`: new ids are created, changed rows updated "
                         "(an org given another parent moves with its subtree), the same rows "
                         "left untouched. Parents may come after their children. A level is an "
                         "id or the Chinese name the published campaigns declare, stored as the "
                         "id. Every bad row is reported at once (422) and then nothing is "
                         "written.",
             openapi_extra=_request_body("orgs"))
async def import_orgs(request: Request, services: ServicesDep, principal: SubjectManager,
                      dry_run: DryRun = False, sheet: SheetName = None) -> Any:
    return await _import(request, services, principal, "orgs", bulk.import_orgs,
                         dry_run=dry_run, sheet=sheet)


@router.post("/units/import", response_model=ImportResult,
             responses=RESPONSES,
             summary="Create or update units from a CSV or XLSX file",
             description="Rows are matched by `id`: new ids are created, changed rows updated "
                         "(a unit given another org takes its cases and obligations along), the "
                         "same rows left untouched; a column the file lacks (industry, tags) is "
                         "left as stored. Industries and tags are ids or the Chinese names the "
                         "published campaigns declare, stored as ids (docs/import.md). Every "
                         "bad row is reported at once (422) and then nothing is written.",
             openapi_extra=_request_body("units"))
async def import_units(request: Request, services: ServicesDep, principal: SubjectManager,
                       dry_run: DryRun = False, sheet: SheetName = None) -> Any:
    return await _import(request, services, principal, "units", bulk.import_units,
                         dry_run=dry_run, sheet=sheet)


Importer = Callable[..., bulk.Outcome]


async def _import(request: Request, services: Services, principal: Principal,
                  kind: sheets.Kind, importer: Importer, *, dry_run: bool,
                  sheet: str | None) -> Any:
    media, options = parse_options_header(request.headers.get("content-type", ""))
    media_type = media.decode("latin-1").lower()
    if media_type not in (CSV, XLSX, MULTIPART):
        raise InputInvalid(t("api.import.media_type", csv=CSV, xlsx=XLSX, multipart=MULTIPART,
                             sent=media_type or t("api.import.no_content_type")),
                           code="unsupported_media_type")
    # at most sheets.MAX_BYTES + ENVELOPE: the request guard refused a longer body unread
    body = await request.body()
    upload = Upload(body, f"the {kind} file", _charset(options),
                    request.headers if media_type == MULTIPART else None)
    try:
        # unpacking, reading and checking 100,000 rows takes seconds: off the event loop, and
        # stopped (api.offload) when the client leaves or the server stops
        return await offload(request, _run, services, principal, kind, importer, upload,
                             sheet, dry_run)
    except sheets.TableTooLarge as exc:
        # 413, not the 422 of InputInvalid: the file is fine, only too big for one request
        return problem(413, exc.code, str(exc))


@dataclass(frozen=True)
class Upload:
    """The request's body: the file itself, or (`form` headers given) a multipart form."""

    body: bytes
    source: str  # a name for the file in messages
    charset: str | None  # the charset the file was declared with
    form: Headers | None = None


def _run(services: Services, principal: Principal, kind: sheets.Kind, importer: Importer,
         upload: Upload, sheet: str | None, dry_run: bool, *,
         checkpoint: Checkpoint) -> dict[str, Any]:
    if upload.form is not None:
        upload = asyncio.run(_form_file(upload))
    table = sheets.read_table(upload.body, kind, source=upload.source, charset=upload.charset,
                              sheet=sheet, checkpoint=checkpoint)
    checkpoint()
    # a dry run only reads, so it takes no write lock
    transaction = services.db.read() if dry_run else services.db.write()
    with transaction as conn:
        outcome = importer(conn, principal, table, services.now(), dry_run=dry_run,
                           registry=services.registry, checkpoint=checkpoint)
    return {**outcome.counts, "dry_run": dry_run}


async def _form_file(upload: Upload) -> Upload:
    """The file in the multipart form's `file` field. (Starlette's parser is async only; it
    runs here on the import's worker thread, in an event loop of its own.)"""
    assert upload.form is not None
    body = upload.body

    async def chunks() -> AsyncGenerator[bytes, None]:
        yield body

    try:
        form = await MultiPartParser(upload.form, chunks(), max_files=1, max_fields=20).parse()
    except MultiPartException as exc:
        raise InputInvalid(t("api.import.multipart_unreadable", reason=exc.message),
                           code="multipart_invalid") from exc
    file = form.get("file")
    if not isinstance(file, UploadFile):
        await form.close()  # a file sent under another name is spooled too: let it go
        raise InputInvalid(t("api.import.multipart_no_file"), code="multipart_invalid")
    try:
        data = await file.read()
        part_charset = _charset(parse_options_header(file.content_type or "")[1])
    finally:
        await form.close()
    if len(data) > sheets.MAX_BYTES:
        raise sheets.TableTooLarge(t("api.import.file_too_large",
                                     name=file.filename or t("api.import.the_file"),
                                     mb=sheets.MAX_BYTES // (1024 * 1024)))
    # the file's own part says its charset; the envelope's Content-Type is about the envelope
    return Upload(data, file.filename or upload.source, part_charset)


def _charset(options: dict[bytes, bytes]) -> str | None:
    value = options.get(b"charset")
    return value.decode("latin-1") if value else None
