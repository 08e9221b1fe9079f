"""Spreadsheet cells that a spreadsheet would run as a formula ("CSV injection").

Excel, WPS and LibreOffice run a cell whose text starts with `=`, `+`, `-` or `@` (or a tab or
carriage return before one) as a formula when a CSV or XLSX file is opened: `=HYPERLINK(…)`
sends data elsewhere, `=cmd|' /C calc'!A0` asks to start a program. paicha keeps such text out
of the record at the door and out of every file it writes:

- imports (the API's CSV/XLSX import and the CLI's units/orgs files) refuse a cell that looks
  like a formula, with its row and column, rather than store it;
- exports (CSV) write such text with a leading apostrophe, which a spreadsheet shows as text.

A plain number (`-5`, `+3.2`, `1e3`) is no formula and stays as it is in both directions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from engine import texts

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")



def formula_hint() -> str:
    """What to do about a formula cell, in the current language."""
    return texts.t("cli.cell.formula.hint")


def formula_like(text: str) -> bool:
    """Would a spreadsheet run this cell text as a formula?"""
    return text.startswith(FORMULA_STARTS) and _NUMBER.fullmatch(text) is None


def formula_problem(text: str) -> str | None:
    """Why an imported cell is refused, or None when it may be stored."""
    if not formula_like(text):
        return None
    shown = text if len(text) <= 30 else text[:30] + "…"
    return texts.t("cli.cell.formula", text=shown, first=text[0])


def neutral(value: Any) -> Any:
    """A cell as written to a file: formula-like text behind an apostrophe; anything else
    (numbers, dates, plain text) as it is."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def neutral_row(values: Iterable[Any]) -> list[Any]:
    """A row of cells, each made `neutral`."""
    return [neutral(value) for value in values]
