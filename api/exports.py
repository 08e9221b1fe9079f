"""Reports and ledgers as files: the bytes of paicha.forms with their media type and a file
name a browser keeps (Chinese names in `filename*`, RFC 6266/5987)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import Response

from paicha.forms.dispatch import ChildReport, dispatch_csv, dispatch_xlsx
from storage.report_views import STATUS_CN, ReportView

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def attachment(content: bytes, media_type: str, name: str) -> Response:
    """`content` as a download called `name` (an ASCII fallback for old clients)."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; "
                               f"filename*=UTF-8''{quote(name)}"})


def download(shown: ReportView, format: Literal["json", "csv", "xlsx"]) -> Response:
    """A report view as the paper form (XLSX, with the children's sheet) or CSV."""
    name = f"{shown.form.name}-{shown.org.name}-{shown.as_of.isoformat()}"
    if format == "csv":
        return attachment(dispatch_csv(shown.filled), CSV, f"{name}.csv")
    children = [ChildReport(c.org.name, STATUS_CN[c.status], c.live) for c in shown.children]
    return attachment(dispatch_xlsx(shown.filled, children or None), XLSX, f"{name}.xlsx")
