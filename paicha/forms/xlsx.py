"""An XLSX file written as a stream: each sheet's XML goes into the zip as its lines are
written, and nothing of a finished sheet stays in memory but its name.

Why not openpyxl here (it reads every spreadsheet paicha imports): its write-only mode streams
the rows of a sheet, but a workbook keeps every finished sheet's objects until it is saved, and
a 整改台账 is a sheet per hazard — 10 000 sheets took 250 MB and minutes to style, where this
writer takes the same memory for 10 as for 10 000 (bench.report, "ledger"). The XML is the
Office Open XML SpreadsheetML the forms need and nothing else: inline strings, a fixed style
table (the forms' eight styles, 宋体 throughout), merged ranges, column widths, row heights,
A4 fitted to the page width, and rows repeated on each printed page.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Sequence
from typing import IO, Any, BinaryIO
from xml.sax.saxutils import escape, quoteattr

from paicha.sheets import column_letter

FONT_NAME = "宋体"  # with the GB2312 character set (134) and the modern family (3)
_FONT = f'<name val="{FONT_NAME}"/><family val="3"/><charset val="134"/>'
_FONTS = ((11, False), (11, True), (16, True))  # size, bold
# The forms' styles: font, horizontal, vertical, wrapped, thin border; `cellXfs` index 1…
_XF: dict[str, tuple[int, str, str, bool, bool]] = {
    "title": (2, "center", "center", False, False),
    "head": (0, "left", "center", False, False),
    "head_right": (0, "right", "center", False, False),
    "th": (1, "center", "center", True, True),
    "td": (0, "left", "center", True, True),
    "center": (0, "center", "center", True, True),
    "note": (0, "left", "top", True, False),
    "box": (0, "left", "top", True, True),
}
STYLE_IDS = {name: index for index, name in enumerate(_XF, 1)}


def _styles() -> str:
    fonts = "".join(f"<font>{'<b/>' if bold else ''}<sz val=\"{size}\"/>{_FONT}</font>"
                    for size, bold in _FONTS)
    thin = "".join(f'<{side} style="thin"/>' for side in ("left", "right", "top", "bottom"))
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
    for font, horizontal, vertical, wrap, border in _XF.values():
        wrapped = ' wrapText="1"' if wrap else ""
        xfs.append(f'<xf numFmtId="0" fontId="{font}" fillId="0" borderId="{int(border)}" '
                   'xfId="0" applyFont="1" applyBorder="1" applyAlignment="1">'
                   f'<alignment horizontal="{horizontal}" vertical="{vertical}"{wrapped}/></xf>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{_MAIN}">'
            f'<fonts count="{len(_FONTS)}">{fonts}</fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
            f"<border>{thin}<diagonal/></border></borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>")


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# characters XML 1.0 cannot hold (a control character in a case's text must not break a file)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _legal(text: str) -> str:
    return _ILLEGAL.sub("", text)


def _cell(ref: str, value: Any, style: int) -> str:
    if value is None or value == "":  # an empty cell keeps its style (borders print)
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, bool):
        return f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()
    text = escape(_legal(str(value)))
    return (f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{text}</t>'
            f"</is></c>")


class StreamSheet:
    """One sheet being written: lines top to bottom, merged ranges, then `close`."""

    def __init__(self, book: StreamBook, stream: IO[bytes], widths: Sequence[float], *,
                 landscape: bool) -> None:
        self.book, self.stream = book, stream
        self.merges: list[str] = []
        self.landscape = landscape
        self.rows = 0
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(widths, 1))
        self._write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
                    f'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
                    f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')

    def _write(self, text: str) -> None:
        self.stream.write(text.encode("utf-8"))

    def row(self, cells: Sequence[tuple[Any, str]], height: float) -> int:
        """Write the next line: (value, style name) per column from A; its row number."""
        self.rows += 1
        r = self.rows
        body = "".join(_cell(f"{column_letter(i)}{r}", value, STYLE_IDS[style])
                       for i, (value, style) in enumerate(cells, 1))
        self._write(f'<row r="{r}" ht="{height}" customHeight="1">{body}</row>')
        return r

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        self.merges.append(f"{column_letter(first_col)}{first_row}:"
                           f"{column_letter(last_col)}{last_row}")

    def close(self) -> None:
        merges = "".join(f'<mergeCell ref="{m}"/>' for m in self.merges)
        tail = f'<mergeCells count="{len(self.merges)}">{merges}</mergeCells>' if merges else ""
        orientation = "landscape" if self.landscape else "portrait"
        self._write(f"</sheetData>{tail}"
                    '<printOptions horizontalCentered="1"/>'
                    '<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" '
                    'footer="0.3"/>'
                    f'<pageSetup paperSize="9" orientation="{orientation}" fitToWidth="1" '
                    'fitToHeight="0"/></worksheet>')
        self.stream.close()
        self.book.open_sheet = None


class StreamBook:
    """A workbook written into `out` as it goes; `close` writes the parts that list the
    sheets. One sheet is open at a time."""

    def __init__(self, out: BinaryIO) -> None:
        self.zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)
        self.titles: list[str] = []
        self.print_titles: dict[int, str] = {}  # sheet index -> rows repeated on each page
        self.open_sheet: StreamSheet | None = None

    def create_sheet(self, title: str, widths: Sequence[float], *, landscape: bool = False,
                     repeat_rows: str | None = None) -> StreamSheet:
        if self.open_sheet is not None:
            self.open_sheet.close()
        self.titles.append(title)
        index = len(self.titles)
        if repeat_rows:
            self.print_titles[index - 1] = repeat_rows
        stream = self.zip.open(_entry(f"xl/worksheets/sheet{index}.xml"), "w",
                               force_zip64=True)
        self.open_sheet = StreamSheet(self, stream, widths, landscape=landscape)
        return self.open_sheet

    def close(self) -> None:
        if self.open_sheet is not None:
            self.open_sheet.close()
        count = len(self.titles)
        sheets = "".join(f"<sheet name={quoteattr(_legal(t))} sheetId=\"{i}\" r:id=\"rId{i}\"/>"
                         for i, t in enumerate(self.titles, 1))
        names = "".join(
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
            f"{escape(_quoted(_legal(self.titles[i])))}!{_rows(rows)}</definedName>"
            for i, rows in self.print_titles.items())
        defined = f"<definedNames>{names}</definedNames>" if names else ""
        self.zip.writestr(_entry("xl/workbook.xml"), (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets>{defined}'
            "</workbook>"))
        rels = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                       f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, count + 1))
        self.zip.writestr(_entry("xl/_rels/workbook.xml.rels"), (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG}">{rels}<Relationship Id="rId{count + 1}" '
            f'Type="{_REL}/styles" Target="styles.xml"/></Relationships>'))
        self.zip.writestr(_entry("xl/styles.xml"), _styles())
        self.zip.writestr(_entry("_rels/.rels"), (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                            f'ContentType="{_SHEET_TYPE}"/>' for i in range(1, count + 1))
        self.zip.writestr(_entry("[Content_Types].xml"), (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"))
        self.zip.close()


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry dated 1980-01-01: the same form gives the same bytes, whenever written."""
    entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _rows(rows: str) -> str:
    """`1:4` -> `$1:$4` (a print-titles reference)."""
    first, _, last = rows.partition(":")
    return f"${first}:${last or first}"
