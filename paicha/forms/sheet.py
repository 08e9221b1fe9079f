"""The XLSX writing every form shares: sheets written line by line (paicha.forms.xlsx streams
them into the file), one font that shows Chinese on every cell, thin borders, column widths, A4
fitted to the page width. A ledger of 10 000 cases takes no more memory than one of ten.
Widths and the page setup are set before the first line; merged ranges are recorded as lines
are written and written at the sheet's end. A merged range is written as styled cells over its
whole area so that its borders print.

Fonts: `宋体` (SimSun) with the GB2312 character set and the modern family set, which is how
Chinese Excel and WPS write their default font; an application without 宋体 then picks a
Chinese font of its own instead of boxes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, BinaryIO, Literal

from paicha.cells import neutral
from paicha.forms.xlsx import FONT_NAME, StreamBook

__all__ = ["FONT_NAME", "Sheet", "Spec", "Style", "new_workbook", "safe_title", "save"]

WIDE = 120  # total column width (characters) above which a sheet prints landscape
LINE_HEIGHT = 15.0  # points per line of 11pt text

Style = Literal["title", "head", "head_right", "th", "td", "center", "note", "box"]
Spec = tuple[Any, Style] | tuple[Any, Style, int]

def new_workbook(out: BinaryIO) -> StreamBook:
    """A workbook written into `out` as its sheets are."""
    return StreamBook(out)


def save(workbook: StreamBook) -> None:
    """Finish the workbook (the parts that list its sheets)."""
    workbook.close()


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
    """A sheet of a paper form, written top to bottom."""

    def __init__(self, workbook: StreamBook, title: str, widths: Sequence[float], *,
                 repeat_rows: str | None = None) -> None:
        self.widths = list(widths)
        self.stream = workbook.create_sheet(title, self.widths, landscape=sum(self.widths) > WIDE,
                                            repeat_rows=repeat_rows)

    @property
    def rows(self) -> int:
        return self.stream.rows

    @property
    def width(self) -> int:
        return len(self.widths)

    def line(self, cells: Sequence[Spec], *, height: float | None = None) -> int:
        """Write one line from column A: each cell (value, style) or (value, style, span), a
        span > 1 merged over that many columns (the columns it covers are written as empty
        cells of its style, so the borders print). Text a spreadsheet would run as a formula
        is written as text. Returns the line's row number."""
        row = self.rows + 1
        written: list[tuple[Any, str]] = []
        texts: list[tuple[str, float]] = []
        for spec in cells:
            value, style = spec[0], spec[1]
            span = spec[2] if len(spec) == 3 else 1
            first = len(written) + 1
            if isinstance(value, str):
                texts.append((value, sum(self.widths[first - 1:first - 1 + span])))
            written.append((neutral(value), style))
            written.extend((None, style) for _ in range(span - 1))
            if span > 1:
                self.merge(row, first, row, first + span - 1)
        return self.stream.row(written, height or fit_height(texts))

    def merge(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        if (first_row, first_col) != (last_row, last_col):
            self.stream.merge(first_row, first_col, last_row, last_col)

    def close(self) -> None:
        """Finish the sheet now: nothing of it stays in memory."""
        self.stream.close()


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
