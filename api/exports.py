"""Reports and ledgers as files: the bytes of paicha.forms with their media type and a file
name a browser keeps (Chinese names in `filename*`, RFC 6266/5987)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import BinaryIO, Literal, cast
from urllib.parse import quote

from fastapi import Response
from fastapi.responses import StreamingResponse

from paicha.forms.dispatch import ChildReport, dispatch_csv, dispatch_xlsx
from storage.report_views import STATUS_CN, ReportView

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def disposition(name: str) -> dict[str, str]:
    """The header naming a download `name` (an ASCII fallback for old clients)."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    return {"Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                                   f"filename*=UTF-8''{quote(name)}"}


def attachment(content: bytes, media_type: str, name: str) -> Response:
    """`content` as a download called `name`."""
    return Response(content, media_type=media_type, headers=disposition(name))


def download(shown: ReportView, format: Literal["json", "csv", "xlsx"]) -> Response:
    """A report view as the paper form (XLSX, with the children's sheet) or CSV."""
    name = f"{shown.form.name}-{shown.org.name}-{shown.as_of.isoformat()}"
    if format == "csv":
        return attachment(dispatch_csv(shown.filled), CSV, f"{name}.csv")
    children = [ChildReport(c.org.name, STATUS_CN[c.status], c.live) for c in shown.children]
    return attachment(dispatch_xlsx(shown.filled, children or None), XLSX, f"{name}.xlsx")


def ledger_file(write: Callable[[BinaryIO], object], media_type: str, name: str) -> Response:
    """A ledger written by `write` into a spooled file (in memory while small, on disk past
    8 MB), streamed back: a large ledger is never held whole in memory."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        write(cast(BinaryIO, spool))
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := spool.read(64 * 1024):
                yield chunk
        finally:
            spool.close()

    return StreamingResponse(chunks(), media_type=media_type, headers=disposition(name))
