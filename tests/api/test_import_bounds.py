"""Imports refuse spreadsheet bombs before the work grows with them (issue 11, finding 6): zip
bombs, blank-row and shared-string bombs, over-wide rows, elements openpyxl would keep, DTDs;
CSV files of blank lines or endless fields; and the reading stops when told to."""

from __future__ import annotations

import asyncio
import io
import threading
import zipfile
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from starlette.requests import Request

from api.offload import Checkpoint, WorkStopped, offload
from paicha import archive, sheets
from tests.api.test_import import CSV, XLSX, send
from tests.support.world import World

SHEET = "xl/worksheets/sheet1.xml"


def workbook(rows: list[list[Any]]) -> bytes:
    """An XLSX as Excel writes it (shared strings and all), with `rows` from A1."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rezip(data: bytes, change: Callable[[str, bytes], bytes],
          added: dict[str, bytes] | None = None) -> bytes:
    """The XLSX with each part's bytes passed through `change(name, bytes)`, and parts
    `added`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            target.writestr(part.filename, change(part.filename, source.read(part)))
        for name, content in (added or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def in_sheet(extra: bytes, *, at: bytes = b"</sheetData>") -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        return data.replace(at, extra + at, 1) if name == SHEET else data
    return change


UNITS = [["id", "name", "org"], ["u-b-01", "炸弹测试", "linyin-c1"]]


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the workbooks openpyxl opens: a refused bomb is never opened."""
    calls: list[int] = []
    load = openpyxl.load_workbook

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return load(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", counted)
    return calls


def refused(client: TestClient, world: World, body: bytes, media: str = XLSX) -> str:
    answer = send(client, "units", body, world.auth("admin"), media=media)
    assert (answer.status_code, answer.json()["code"]) == (413, "import_too_large"), answer.text
    detail: str = answer.json()["detail"]
    return detail


def test_a_zip_bomb_is_refused_before_openpyxl_opens_it(client: TestClient, world: World,
                                                        opened: list[int]) -> None:
    # 64 MiB of blanks in the sheet pack into ~64 KB: a ratio no spreadsheet has
    bomb = rezip(workbook(UNITS), in_sheet(b" " * (64 * 1024 * 1024)))
    assert len(bomb) < 200 * 1024
    assert "compressed" in refused(client, world, bomb)
    assert opened == []
    # the same workbook without the blanks imports
    answer = send(client, "units", workbook(UNITS), world.auth("admin"), media=XLSX)
    assert answer.json()["created"] == 1, answer.text
    assert opened == [1]


def test_blank_rows_count_toward_the_line_limit(client: TestClient, world: World,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "MAX_LINES", 5_000)
    read: list[int] = []
    records = sheets._xlsx_records

    def counted(*args: Any) -> Iterator[tuple[int, list[str]]]:
        for record in records(*args):
            read.append(record[0])
            yield record

    monkeypatch.setattr(sheets, "_xlsx_records", counted)
    # one cell far down: openpyxl makes up every blank row above it (the finding's file had
    # rows numbered past a billion)
    far = rezip(workbook(UNITS), in_sheet(
        b'<row r="20000"><c r="A20000" t="inlineStr"><is><t>x</t></is></c></row>'))
    assert "past line 5,000" in refused(client, world, far)
    assert len(read) <= 5_001


def test_shared_strings_past_the_limit_are_refused_unread(client: TestClient, world: World,
                                                          opened: list[int]) -> None:
    strings = b"".join(b"<si><t>%d</t></si>" % i
                       for i in range(archive.MAX_SHARED_STRINGS + 1))
    table = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats'
             b'.org/spreadsheetml/2006/main">' + strings + b"</sst>")

    def declared(name: str, data: bytes) -> bytes:
        if name == "[Content_Types].xml":  # so that openpyxl would load it
            return data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" '
                                b'ContentType="application/vnd.openxmlformats-officedocument.'
                                b'spreadsheetml.sharedStrings+xml"/></Types>')
        return data

    bomb = rezip(workbook(UNITS), declared, {"xl/sharedStrings.xml": table})
    assert "shared strings" in refused(client, world, bomb)
    assert opened == []


def test_wide_rows_and_kept_elements_are_refused(client: TestClient, world: World,
                                                 opened: list[int],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    wide = b'<row r="3">' + b"<c/>" * (archive.MAX_CELLS_IN_ROW + 1) + b"</row>"
    detail = refused(client, world, rezip(workbook(UNITS), in_sheet(wide)))
    assert "more than 16,384 cells" in detail
    # elements that are neither rows nor cells stay in openpyxl's tree until it is done
    monkeypatch.setattr(archive, "MAX_ELEMENTS", 10_000)
    junk = rezip(workbook(UNITS), in_sheet(b"<x/>" * 10_001, at=b"<row "))
    assert "XML elements" in refused(client, world, junk)
    assert opened == []


def test_a_dtd_is_not_a_workbook(client: TestClient, world: World, opened: list[int]) -> None:
    def change(name: str, data: bytes) -> bytes:
        # openpyxl writes the sheet without an XML declaration: the DTD goes first
        return b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + data if name == SHEET else data

    answer = send(client, "units", rezip(workbook(UNITS), change), world.auth("admin"),
                  media=XLSX)
    assert answer.status_code == 422, answer.text
    assert "DTD" in answer.json()["problems"][0]["message"]
    assert opened == []


def test_csv_blank_lines_and_endless_fields_are_refused(client: TestClient,
                                                        world: World) -> None:
    blank = "id,name,org\n" + "\n" * sheets.MAX_LINES + "u-b-01,空行,linyin-c1\n"
    assert "lines" in refused(client, world, blank.encode(), CSV)
    wide = "id,name,org\nu-b-01,宽," + "," * sheets.MAX_FIELDS + "\n"
    assert "fields" in refused(client, world, wide.encode(), CSV)


def test_the_reader_stops_at_its_checkpoint() -> None:
    text = "id,name,org\n" + "".join(f"u-{i},单位{i},linyin-c1\n" for i in range(10_000))
    calls: list[int] = []

    def checkpoint() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise WorkStopped("stop", "request_ended")

    with pytest.raises(WorkStopped):
        sheets.read_table(text.encode(), "units", source="units.csv", checkpoint=checkpoint)
    assert len(calls) == 3  # stopped after ~3 × CHECK_EVERY lines, not 10,000


def test_offloaded_work_stops_when_the_client_leaves() -> None:
    started, stopped = threading.Event(), threading.Event()

    def work(*, checkpoint: Checkpoint) -> None:
        started.set()
        for _ in range(2_000):
            try:
                checkpoint()
            except WorkStopped:
                stopped.set()
                raise
            threading.Event().wait(0.01)

    async def leave() -> dict[str, Any]:
        # the client goes away once the work has begun
        while not started.is_set():
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    services = SimpleNamespace(stopping=threading.Event())
    request = Request({"type": "http", "app": SimpleNamespace(
        state=SimpleNamespace(services=services))}, leave)

    async def run() -> None:
        await offload(request, work)

    with pytest.raises(WorkStopped) as raised:
        asyncio.run(run())
    assert raised.value.code == "client_left"
    assert stopped.wait(20)
