"""Tables of orgs or units read from CSV or XLSX bytes, with every cell's position.

Headers may be the English column ids or the Chinese names people put on their 台账; both are
mapped once here (`HEADERS`). Problems are dicts located by line (the row number in the sheet),
column number and, for XLSX, the cell address, so that the person who fixes the file finds it.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from engine import texts
from engine.errors import InputInvalid
from engine.schema import did_you_mean
from engine.subject_rows import Progress, no_checkpoint, no_progress
from paicha import archive
from paicha.cells import formula_hint, formula_problem

Kind = Literal["units", "orgs"]

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
# Lines read, blank ones included: openpyxl makes up the blank rows between two distant row
# numbers, and a file of blank lines is no cheaper to read than one of rows.
MAX_LINES = 2 * MAX_ROWS
MAX_COLUMNS = 200  # a header wider than this is not a table of orgs or units
MAX_FIELDS = archive.MAX_CELLS_IN_ROW  # fields on one CSV line
HEADER_SEARCH = 10  # title rows (东胜区生产经营单位台账) may sit above the header
CHECK_EVERY = 256  # lines between two calls of the reader's checkpoint

UNIT_COLUMNS = ("id", "name", "org", "industry", "tags")
ORG_COLUMNS = ("id", "name", "level", "parent")
REQUIRED: dict[Kind, tuple[str, ...]] = {"units": ("id", "name", "org"),
                                         "orgs": ("id", "name", "level")}
TAG_SEPARATORS = (";", "；")

# column id -> the headers that mean it; English ids match case-insensitively
HEADERS: dict[Kind, dict[str, tuple[str, ...]]] = {
    "units": {
        "id": ("id", "单位编号", "统一社会信用代码", "社会信用代码", "信用代码", "单位代码"),
        "name": ("name", "单位名称", "企业名称", "名称"),
        "org": ("org", "所属组织", "所属社区", "所属村", "所属街道", "所属乡镇", "属地"),
        "industry": ("industry", "行业领域", "行业", "行业类别"),
        "tags": ("tags", "标签"),
    },
    "orgs": {
        "id": ("id", "组织编号", "编号", "组织代码"),
        "name": ("name", "名称", "组织名称"),
        "level": ("level", "层级", "级别"),
        "parent": ("parent", "上级", "上级组织", "上级编号", "上级组织编号"),
    },
}

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
t = texts.t
_REMARK = re.compile(r"[（(][^（()）]*[)）]$")  # 单位名称（必填）


class TableTooLarge(InputInvalid):
    """A file beyond the import limits; nothing of it is read further."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="import_too_large")


def header_key(text: str) -> str:
    """A header as compared: no spaces, no required-marker '*', no trailing remark."""
    key = "".join(text.split()).strip("*＊")
    return _REMARK.sub("", key).casefold()


def column_of(kind: Kind, header: str) -> str | None:
    """The column id a header means, or None for a column the import ignores."""
    key = header_key(header)
    for column, names in HEADERS[kind].items():
        if key in (name.casefold() for name in names):
            return column
    return None


def split_tags(text: str) -> list[str]:
    """Tags written `a;b` or `a；b`, stripped, empty ones dropped, in their order."""
    for separator in TAG_SEPARATORS[1:]:
        text = text.replace(separator, TAG_SEPARATORS[0])
    return [tag for tag in (t.strip() for t in text.split(TAG_SEPARATORS[0])) if tag]


def formula_cells(values: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(column, why) for each cell of a row a spreadsheet would run as a formula, each tag of
    the tags cell included: refused by every import (the API's and the CLI's), never stored."""
    for column, value in values.items():
        parts = [value, *split_tags(value)] if column == "tags" else [value]
        reason = next((r for r in map(formula_problem, parts) if r), None)
        if reason is not None:
            yield column, reason


def column_letter(number: int) -> str:
    """Spreadsheet column letters of a 1-based column number (1 -> A, 27 -> AA)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class Layout:
    """Where each column id sits in a sheet, and how its header was written."""

    columns: Mapping[str, int]  # column id -> 1-based column number
    headers: Mapping[str, str]
    letters: bool  # XLSX: report cell addresses too
    width: int  # fields in the header line: a CSV row with more has lost its quotes


@dataclass(frozen=True)
class Row:
    """One record: the values of the columns the file has (stripped), at its line."""

    line: int
    values: Mapping[str, str]
    layout: Layout

    @property
    def tags(self) -> list[str] | None:
        """The tags cell split into tags; None when the sheet has no tags column."""
        return split_tags(self.values["tags"]) if "tags" in self.values else None

    def at(self, column: str | None) -> dict[str, Any]:
        """The location of a column of this row, for a problem."""
        number = self.layout.columns.get(column) if column else None
        where: dict[str, Any] = {"line": self.line, "column": number, "field": column}
        if column is not None and column in self.layout.headers:
            where["header"] = self.layout.headers[column]
        if number is not None and self.layout.letters:
            where["cell"] = f"{column_letter(number)}{self.line}"
        return where


@dataclass
class Sheet:
    """The rows of one file, and the problems found while reading it."""

    source: str
    kind: Kind
    rows: list[Row] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, line: int, message: str, hint: str = "", *, column: int | None = None,
                name: str | None = None) -> None:
        self.problems.append({"line": line, "column": column, "field": name,
                              "message": message, "hint": hint})


def read_table(data: bytes, kind: Kind, *, source: str, charset: str | None = None,
               sheet: str | None = None, checkpoint: Callable[[], None] = no_checkpoint,
               progress: Progress = no_progress) -> Sheet:
    """The orgs or units table in `data` (CSV or XLSX, told apart by content); raises
    TableTooLarge past the limits, and otherwise reports every problem on the Sheet.
    `checkpoint` is called every few hundred lines; it may raise to stop the read. `progress`
    is told the lines read as often."""
    if len(data) > MAX_BYTES:
        raise TableTooLarge(t("cli.sheet.too_many_bytes", source=source, size=len(data),
                              most=MAX_BYTES // (1024 * 1024)))
    table = Sheet(source, kind)
    if data.startswith(XLS_MAGIC):
        table.problem(1, t("cli.sheet.xls"), t("cli.sheet.xls.hint"))
        return table
    if data.startswith(XLSX_MAGIC):
        try:
            archive.inspect(data, checkpoint)
        except archive.Refused as refused:
            if refused.too_large:
                raise TableTooLarge(f"{source}: {refused}") from None
            table.problem(1, str(refused), t("cli.sheet.save_again"))
            return table
        records, letters = _xlsx_records(table, data, sheet), True
    else:
        text = _decode(table, data, charset)
        if text is None:
            return table
        _csv_bounds(source, text)
        records, letters = _csv_records(table, text), False
    _fill(table, _bounded(source, records, checkpoint, progress), letters=letters)
    return table


def _bounded(source: str, records: Iterable[tuple[int, list[str]]],
             checkpoint: Callable[[], None], progress: Progress
             ) -> Iterator[tuple[int, list[str]]]:
    """The records, blank ones counted, refused past MAX_LINES; the checkpoint called as
    they go."""
    for read, record in enumerate(records, start=1):
        if read > MAX_LINES:
            raise TableTooLarge(t("cli.sheet.too_many_read", source=source, lines=MAX_LINES,
                                  rows=MAX_ROWS))
        if read % CHECK_EVERY == 0:
            checkpoint()
            progress("读取", read, None)
        yield record


def _csv_bounds(source: str, text: str) -> None:
    """Lines and fields counted on the text before the CSV reader makes a list of them."""
    lines = max(text.count("\n"), text.count("\r"))
    if lines > MAX_LINES:
        raise TableTooLarge(t("cli.sheet.too_many_lines", source=source, lines=lines,
                              most=MAX_LINES))
    if text.count(",") > MAX_FIELDS:  # only then can a line hold that many
        for number, line in enumerate(text.splitlines(), start=1):
            if line.count(",") >= MAX_FIELDS:
                raise TableTooLarge(t("cli.sheet.too_many_fields", line=number, source=source,
                                      most=MAX_FIELDS))


def _decode(table: Sheet, data: bytes, charset: str | None) -> str | None:
    encoding = "utf-8-sig"
    if charset:
        name = charset.strip().strip('"').lower()
        # GB2312 and GBK are subsets of GB18030; decoding as the superset loses nothing.
        encoding = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "gbk": "gb18030",
                    "gb2312": "gb18030", "cp936": "gb18030"}.get(name, name)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
    except (UnicodeError, LookupError):  # no such codec, or one that is not text (base64 …)
        table.problem(1, t("cli.sheet.unknown_charset", charset=charset),
                      t("cli.sheet.unknown_charset.hint"))
        return None
    if charset:
        table.problem(line, t("cli.sheet.not_charset", charset=charset),
                      t("cli.sheet.not_charset.hint"))
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        table.problem(1, t("cli.sheet.utf16"), t("cli.sheet.utf16.hint"))
    elif _is_gb18030(data):
        table.problem(line, t("cli.sheet.gbk"), t("cli.sheet.gbk.hint"))
    else:
        table.problem(line, t("cli.sheet.not_utf8"), t("cli.sheet.not_utf8.hint"))
    return None


def _is_gb18030(data: bytes) -> bool:
    try:
        data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


def _csv_records(table: Sheet, text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for record in reader:
            yield line, record
            line = reader.line_num + 1
    except csv.Error as exc:
        table.problem(line, t("cli.sheet.bad_csv", error=exc), t("cli.sheet.bad_csv.hint"))


def _xlsx_records(table: Sheet, data: bytes, name: str | None
                  ) -> Iterator[tuple[int, list[str]]]:
    # no type stubs are installed for openpyxl (pyproject pins none)
    from openpyxl import load_workbook  # type: ignore[import-untyped]
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet  # type: ignore[import-untyped]

    # openpyxl raises all kinds of errors (zip, XML, KeyError) on damaged files; any of them
    # means the same to the user, so they are translated here, at the boundary.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no default style" and the like: harmless
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        table.problem(1, t("cli.sheet.bad_xlsx"), t("cli.sheet.save_again"))
        return
    try:
        if name is None:
            sheets = [s for s in book.worksheets if isinstance(s, ReadOnlyWorksheet)]
            if not sheets:
                table.problem(1, t("cli.sheet.no_worksheet"))
                return
            ws = sheets[0]
        elif name in book.sheetnames and isinstance(book[name], ReadOnlyWorksheet):
            ws = book[name]
        else:
            table.problem(1, t("cli.sheet.no_sheet", name=name),
                          did_you_mean(name, book.sheetnames))
            return
        ws.reset_dimensions()  # some writers store a wrong size; read what is there
        try:
            for line, cells in enumerate(ws.iter_rows(max_col=MAX_COLUMNS, values_only=True),
                                         start=1):
                if cells.count(None) == len(cells):  # a blank row (openpyxl makes up many)
                    yield line, []
                else:
                    yield line, [_cell_text(value) for value in cells]
        except Exception:
            table.problem(1, t("cli.sheet.damaged"), t("cli.sheet.save_again"))
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a numeric id typed into Excel comes back as 1001.0
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _fill(table: Sheet, records: Iterable[tuple[int, list[str]]], *, letters: bool) -> None:
    """Find the header, then collect the non-empty rows under it."""
    kind = table.kind
    records = iter(records)
    layout: Layout | None = None
    first: tuple[int, list[str]] | None = None
    for searched, (line, cells) in enumerate(_filled(records)):
        first = first or (line, cells)
        if set(REQUIRED[kind]) <= {column_of(kind, cell) for cell in cells}:
            layout = _layout(table, line, cells, letters)
            break
        if searched + 1 >= HEADER_SEARCH:
            break
    if layout is None:
        if first is None and not table.problems:  # an unreadable file is not "empty" too
            table.problem(1, t("cli.sheet.empty"),
                          t("cli.sheet.empty.hint", columns=",".join(_columns(kind))))
        elif first is not None:
            _layout(table, *first, letters)  # to report the missing columns
        return
    for line, cells in _filled(records):
        if len(table.rows) >= MAX_ROWS:
            raise TableTooLarge(t("cli.sheet.too_many_rows", source=table.source,
                                  most=MAX_ROWS))
        if not letters and any(cell.strip() for cell in cells[layout.width:]):
            table.problem(line, t("cli.sheet.too_wide", fields=len(cells), width=layout.width),
                          t("cli.sheet.too_wide.hint"))
            continue
        values = {column: cells[number - 1].strip() if number <= len(cells) else ""
                  for column, number in layout.columns.items()}
        row = Row(line, values, layout)
        formulas = [{**row.at(column), "message": reason, "hint": formula_hint()}
                    for column, reason in formula_cells(values)]
        if formulas:  # reported where they are (line, column, cell), and the row not used
            table.problems.extend(formulas)
            continue
        table.rows.append(row)


def _filled(records: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    return ((line, cells) for line, cells in records if any(cell.strip() for cell in cells))


def _columns(kind: Kind) -> tuple[str, ...]:
    return UNIT_COLUMNS if kind == "units" else ORG_COLUMNS


def _layout(table: Sheet, line: int, cells: list[str], letters: bool) -> Layout:
    """The header's columns; a missing required column or a doubled one is a problem."""
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    unknown = [cell.strip() for cell in cells if cell.strip() and column_of(table.kind, cell)
               is None]

    def where(number: int) -> str:
        return (t("cli.sheet.column", letter=column_letter(number)) if letters
                else t("cli.sheet.field", number=number))

    for number, cell in enumerate(cells, start=1):
        column = column_of(table.kind, cell)
        if column is None:
            continue
        if column in columns:
            table.problem(line, t("cli.sheet.twice", first=where(columns[column]),
                                  first_header=headers[column], second=where(number),
                                  second_header=cell.strip(), column=column),
                          t("cli.sheet.twice.hint"), column=number, name=column)
            continue
        columns[column] = number
        headers[column] = cell.strip()
    for number, cell in enumerate(cells, start=1):
        # other columns (序号, 联系人 …) are ignored, but not a misspelt column id: a units
        # file with `industy` would otherwise keep every stored industry without a word
        close = difflib.get_close_matches(cell.strip().casefold(), _columns(table.kind), n=1,
                                          cutoff=0.8)
        if close and column_of(table.kind, cell) is None and close[0] not in columns:
            table.problem(line, t("cli.sheet.unknown_column", header=cell.strip()),
                          did_you_mean(cell.strip().casefold(), close), column=number,
                          name=close[0])
    for column in REQUIRED[table.kind]:
        if column not in columns:
            names = t("cli.sheet.or").join(repr(n) for n in HEADERS[table.kind][column][:3])
            # a header close to the column's id is named; else the headers that would do
            if difflib.get_close_matches(column, sorted(set(unknown)), n=1, cutoff=0.6):
                hint = did_you_mean(column, unknown)
            else:
                hint = t("cli.sheet.name_a_column", names=names)
            table.problem(line, t("cli.sheet.missing_column", column=column), hint, name=column)
    return Layout(columns, headers, letters, len(cells))
