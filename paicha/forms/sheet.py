"""The XLSX writing every form shares: write-only sheets written line by line, one font that
shows Chinese on every written cell, thin borders, column widths, A4 fitted to the page width.

Sheets are openpyxl write-only sheets (`Workbook(write_only=True)`): each line goes to a
temporary file as it is written, so a ledger of 10 000 cases takes no more memory than one of
ten. Styles, widths and the page setup are set before the first line; merged ranges are
recorded as lines are written (openpyxl writes them at the sheet's end). A merged range is
written as styled cells over its whole area so that its borders print.

Fonts: `宋体` (SimSun) with the GB2312 character set and the modern family set, which is how
Chinese Excel and WPS write their default font; an application without 宋体 then picks a
Chinese font of its own instead of boxes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, BinaryIO, Literal

# no type stubs are installed for openpyxl (pyproject pins none)
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Border, Font, Side  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from paicha.cells import neutral

FONT_NAME = "宋体"
FONT_CHARSET = 134  # GB2312: without 宋体 an application substitutes a Chinese font
FONT_FAMILY = 3
A4 = "9"  # the paper size code of A4 in the XLSX page setup
WIDE = 120  # total column width (characters) above which a sheet prints landscape
LINE_HEIGHT = 15.0  # points per line of 11pt text

Style = Literal["title", "head", "head_right", "th", "td", "center", "note", "box"]
Spec = tuple[Any, Style] | tuple[Any, Style, int]

_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_NONE = Border()


def _font(size: float = 11, bold: bool = False) -> Font:
    return Font(name=FONT_NAME, charset=FONT_CHARSET, family=FONT_FAMILY, size=size, bold=bold)


_STYLES: dict[str, tuple[Font, Alignment, Border]] = {
    "title": (_font(16, bold=True), Alignment(horizontal="center", vertical="center"), _NONE),
    "head": (_font(), Alignment(horizontal="left", vertical="center"), _NONE),
    "head_right": (_font(), Alignment(horizontal="right", vertical="center"), _NONE),
    "th": (_font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True),
           _BORDER),
    "td": (_font(), Alignment(horizontal="left", vertical="center", wrap_text=True), _BORDER),
    "center": (_font(), Alignment(horizontal="center", vertical="center", wrap_text=True),
               _BORDER),
    "note": (_font(), Alignment(horizontal="left", vertical="top", wrap_text=True), _NONE),
    "box": (_font(), Alignment(horizontal="left", vertical="top", wrap_text=True), _BORDER),
}


def new_workbook() -> Any:
    """A write-only workbook (no default sheet)."""
    return Workbook(write_only=True)


def save(workbook: Any, out: BinaryIO) -> None:
    """Write the workbook to a binary file object."""
    workbook.save(out)


def safe_title(text: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in `taken`."""
    base = "".join("_" if c in "[]:*?/\\" else c for c in text).strip("'") or "Sheet"
    title, n = base[:31], 1
    while title.lower() in taken:
        n += 1
        suffix = f"~{n}"
        title = base[:31 - len(suffix)] + suffix
    taken.add(title.lower())
    return title


class Sheet:
    """A write-only sheet of a paper form, written top to bottom."""

    def __init__(self, workbook: Any, title: str, widths: Sequence[float], *,
                 repeat_rows: str | None = None) -> None:
        self.ws = workbook.create_sheet(title)
        self.widths = list(widths)
        self.rows = 0
        for index, width in enumerate(self.widths, 1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        setup = self.ws.page_setup
        setup.paperSize = A4
        setup.orientation = "landscape" if sum(self.widths) > WIDE else "portrait"
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.print_options.horizontalCentered = True
        margins = self.ws.page_margins
        margins.left = margins.right = 0.5
        margins.top = margins.bottom = 0.6
        if repeat_rows:
            self.ws.print_title_rows = repeat_rows

    @property
    def width(self) -> int:
        return len(self.widths)

    def cell(self, value: Any, style: Style = "td") -> Any:
        """A styled cell; text a spreadsheet would run as a formula is written as text."""
        cell = WriteOnlyCell(self.ws, value=neutral(value))
        font, alignment, border = _STYLES[style]
        cell.font, cell.alignment, cell.border = font, alignment, border
        return cell

    def line(self, cells: Sequence[Spec], *, height: float | None = None) -> int:
        """Write one line from column A: each cell (value, style) or (value, style, span), a
        span > 1 merged over that many columns (the columns it covers are written as empty
        cells of its style, so the borders print). Returns the line's row number."""
        self.rows += 1
        row = self.rows
        written: list[Any] = []
        texts: list[tuple[str, float]] = []
        for spec in cells:
            value, style = spec[0], spec[1]
            span = spec[2] if len(spec) == 3 else 1
            first = len(written) + 1
            if isinstance(value, str):
                texts.append((value, sum(self.widths[first - 1:first - 1 + span])))
            written.append(self.cell(value, style))
            written.extend(self.cell(None, style) for _ in range(span - 1))
            if span > 1:
                self.merge(row, first, row, first + span - 1)
        self.ws.row_dimensions[row].height = height or fit_height(texts)
        self.ws.append(written)  # written out now: the row's height is not needed any more
        del self.ws.row_dimensions[row]
        return row

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        if (first_row, first_col) != (last_row, last_col):
            self.ws.merged_cells.add(f"{get_column_letter(first_col)}{first_row}:"
                                     f"{get_column_letter(last_col)}{last_row}")

    def close(self) -> None:
        """Finish the sheet now (its temporary file is closed; the workbook keeps it)."""
        self.ws.close()


def text_width(text: str) -> float:
    """Columns a text takes: a Chinese character about two, others one."""
    return sum(2.0 if ord(c) > 0x2E7F else 1.0 for c in text)


def fit_height(texts: Sequence[tuple[str, float]], minimum: int = 1) -> float:
    """A line's height for wrapped texts in cells of the given widths (Excel does not grow a
    row for wrapped text it did not write itself)."""
    lines = minimum
    for text, width in texts:
        room = max(width - 1.0, 1.0)
        here = sum(max(1, math.ceil(text_width(part) / room)) for part in text.split("\n"))
        lines = max(lines, here)
    return max(LINE_HEIGHT * lines + 4, 20.0)
