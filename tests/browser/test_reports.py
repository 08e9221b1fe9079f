"""The 调度表 page in the browser shows the API's figures, and its XLSX download holds them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.browser import live

# one worker runs them all (with `--dist loadgroup`): a browser a module, one server
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PLAN = "three-year-plan-2024-2026"
REPORT = f"/ui/reports?campaign={PLAN}&report=dispatch&org=linyin"


def shown(value: Any) -> set[str]:
    """How a figure may be written: 3, 28.5, 28.50; nothing as a dash."""
    if value is None:
        return {"", "—"}
    if isinstance(value, bool):
        return {"是", "否", str(value)}
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return {str(int(value)), f"{value:.1f}", f"{value:.2f}"}
    return {str(value), f"{value:.2f}"}


def test_the_dispatch_report_page_shows_the_apis_figures_and_downloads_them(
        as_person: Any, server: live.LiveServer) -> None:
    figures = server.api(f"/campaigns/{PLAN}/reports/dispatch?org=linyin", "safety_office")
    numbers = [row for row in figures["rows"] if row["figures"]]
    assert any(figure["value"] for row in numbers for figure in row["figures"]), \
        "the demo's activity gives the street figures"
    page = as_person("safety_office")
    page.goto(server.url + REPORT)
    expect(page.get_by_role("heading", level=1)).to_have_text(figures["title"])
    for row in numbers:
        for figure in row["figures"]:
            # each figure's cell carries its key; its line is headed by the row's name
            cell = page.locator(f'td[data-key="{figure["key"]}"]')
            expect(cell).to_have_count(1)
            assert cell.inner_text().strip() in shown(figure["value"]), (row["name"], figure)
            line = page.get_by_role("row").filter(has=cell)
            expect(line).to_contain_text(row["name"])

    with page.expect_download() as started:
        page.get_by_role("link", name="下载调度表（Excel）").click()
    download = started.value
    assert download.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    lines = [["" if cell is None else str(cell).strip() for cell in line]
             for sheet in book.worksheets for line in sheet.iter_rows(values_only=True)]
    assert any(figures["title"] in cell for line in lines for cell in line)
    for row in numbers:
        found = [line for line in lines if any(row["name"] in cell for cell in line)]
        assert found, row["name"]
        for figure in row["figures"]:
            assert any(shown(figure["value"]) & set(line) for line in found), \
                (row["name"], figure, found)

