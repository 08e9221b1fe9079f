"""Units and orgs from CSV files, checked against a campaign's vocabularies.

units.csv: `id,name,org,industry,tags` (tags separated by `;`); orgs.csv: `id,name,level,parent`;
the Chinese headers the API import accepts (paicha.sheets.HEADERS) work here too. Industries, tags
and levels may be written as ids or as the campaign's Chinese names. Every bad row is reported at
once, located by file, line and column like a campaign problem.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from engine.errors import PaichaError, Problem
from engine.model import Campaign
from engine.orgs import Org, Unit
from engine.schema import did_you_mean
from paicha.cells import FORMULA_HINT
from paicha.files import display_name
from paicha.sheets import (
    ORG_COLUMNS,
    UNIT_COLUMNS,
    Kind,
    column_of,
    formula_cells,
    split_tags,
)


class SubjectsInvalid(PaichaError):
    """A units or orgs file has bad rows; carries every problem found."""

    code = "subjects_invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = sorted(problems)
        first = f": {self.problems[0]}" if self.problems else ""
        super().__init__(f"{len(self.problems)} problem(s) in the units/orgs files{first}")


def read_text(path: Path) -> str:
    """A CSV file's text (UTF-8, with or without BOM), or SubjectsInvalid saying why not."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problem = Problem(str(path), 1, 1, "$", "no such file")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        problem = Problem(
            str(path), line, 1, "$", "not UTF-8 text", "in Excel choose 'CSV UTF-8' when saving"
        )
    raise SubjectsInvalid([problem])


def _field_starts(line: str) -> list[int]:
    """1-based character column where each field of a raw CSV line starts."""
    starts, quoted = [1], False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            starts.append(index + 2)
    return starts


class _Table:
    """The rows of one CSV file with their positions, and the problems found in it."""

    def __init__(self, text: str, source: str, kind: Kind) -> None:
        self.source = source
        self.kind: Kind = kind
        self.columns: Sequence[str] = UNIT_COLUMNS if kind == "units" else ORG_COLUMNS
        self.problems: list[Problem] = []
        self._header: list[str] = []
        self._lines = text.splitlines()
        self._text = text

    def problem(
        self, line: int, column: str, message: str, hint: str = "", *, at_text: str = ""
    ) -> None:
        """Record a problem in a column of a line; `at_text` points at a word inside the field."""
        number = self._header.index(column) if column in self._header else 0
        raw = self._lines[line - 1] if line <= len(self._lines) else ""
        starts = _field_starts(raw)
        at = starts[number] if number < len(starts) else 1
        if at_text and (found := raw.find(at_text, at - 1)) >= 0:
            at = found + 1
        self.problems.append(Problem(self.source, line, at, column, message, hint))

    def _formulas(self, line: int, row: dict[str, str]) -> bool:
        """Report each cell a spreadsheet would run as a formula (paicha.cells), as the API
        import does; True when the row has any."""
        found = False
        for column, reason in formula_cells(row):
            self.problem(line, column, reason, FORMULA_HINT)
            found = True
        return found

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(line, row) for each record, once the header is known to hold every column."""
        expected = ",".join(self.columns)
        if not self._text.strip():
            self.problems.append(
                Problem(self.source, 1, 1, "$", "empty file", f"the first line must be {expected}")
            )
            return
        reader = csv.reader(io.StringIO(self._text))
        self._header = [column_of(self.kind, h) or h.strip() for h in next(reader)]
        extra = [h for h in self._header if h not in self.columns]
        missing = [c for c in self.columns if c not in self._header]
        for column in missing:
            hint = did_you_mean(column, extra) if extra else f"the first line must be {expected}"
            self.problem(1, "header", f"missing column {column!r}", hint)
        for column in {h for h in self._header if self._header.count(h) > 1}:
            self.problem(1, column, f"column {column!r} appears twice", "keep one of them")
        if missing:
            return
        line = reader.line_num + 1
        for record in reader:
            if any(value.strip() for value in record):
                if len(record) != len(self._header):
                    self.problem(
                        line,
                        "$",
                        f"{len(record)} field(s), but the header has {len(self._header)}",
                        "quote values that contain commas",
                    )
                else:
                    row = {h: v.strip() for h, v in zip(self._header, record, strict=True)}
                    if not self._formulas(line, row):
                        yield line, row
            line = reader.line_num + 1


def _term(
    table: _Table, line: int, column: str, value: str, vocabulary: dict[str, str], what: str
) -> str | None:
    """A vocabulary id for a value written as an id or a Chinese name, or None (reported)."""
    if not vocabulary or value in vocabulary:
        return value
    by_name = {name: key for key, name in vocabulary.items()}
    if value in by_name:
        return by_name[value]
    hint = did_you_mean(value, [*vocabulary, *by_name])
    if not hint.startswith("did you mean"):
        hint = f"the campaign declares: {', '.join(sorted(vocabulary))}"
    table.problem(line, column, f"unknown {what} {value!r}", hint, at_text=value)
    return None


def _identity(table: _Table, line: int, row: dict[str, str], seen: dict[str, int]) -> bool:
    ok = True
    if not row["id"]:
        table.problem(line, "id", "empty id", "give every row a unique id")
        ok = False
    elif row["id"] in seen:
        table.problem(line, "id", f"duplicate id {row['id']!r} (first on line {seen[row['id']]})")
        ok = False
    else:
        seen[row["id"]] = line
    if not row["name"]:
        table.problem(line, "name", "empty name")
        ok = False
    return ok


def parse_orgs(text: str, source: str, campaign: Campaign) -> list[Org]:
    """Orgs from orgs.csv text; raises SubjectsInvalid with every bad row."""
    table = _Table(text, source, "orgs")
    orgs: list[tuple[int, Org]] = []
    seen: dict[str, int] = {}
    for line, row in table.rows():
        ok = _identity(table, line, row, seen)
        level = None
        if not row["level"]:
            table.problem(line, "level", "empty level", did_you_mean("", campaign.org_levels))
        else:
            level = _term(table, line, "level", row["level"], campaign.org_levels, "org level")
        if ok and level is not None:
            orgs.append((line, Org(row["id"], row["name"], level, row["parent"] or None)))
    for line, org in orgs:
        if org.parent is not None and org.parent not in seen:
            table.problem(
                line, "parent", f"unknown parent org {org.parent!r}", did_you_mean(org.parent, seen)
            )
    if table.problems:
        raise SubjectsInvalid(table.problems)
    return [org for _, org in orgs]


def parse_units(
    text: str, source: str, campaign: Campaign, orgs: Sequence[Org] | None = None
) -> list[Unit]:
    """Units from units.csv text; with `orgs`, each unit's org must be one of them."""
    table = _Table(text, source, "units")
    org_ids = None if orgs is None else {org.id for org in orgs}
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for line, row in table.rows():
        ok = _identity(table, line, row, seen)
        if not row["org"]:
            table.problem(line, "org", "empty org", "name the org (社区/村, 街道 …) of the unit")
            ok = False
        elif org_ids is not None and row["org"] not in org_ids:
            table.problem(
                line, "org", f"unknown org {row['org']!r}", did_you_mean(row["org"], org_ids)
            )
            ok = False
        industry = None
        if row["industry"]:
            industry = _term(
                table, line, "industry", row["industry"], campaign.industries, "industry"
            )
            ok = ok and industry is not None
        tags = set()
        for value in split_tags(row["tags"]):
            tag = _term(table, line, "tags", value, campaign.tags, "tag")
            if tag is None:
                ok = False
            else:
                tags.add(tag)
        if ok:
            units.append(Unit(row["id"], row["name"], row["org"], industry, frozenset(tags)))
    if table.problems:
        raise SubjectsInvalid(table.problems)
    return units


def load_subjects(
    campaign: Campaign, units_path: Path | None, orgs_path: Path | None
) -> tuple[list[Org] | None, list[Unit]]:
    """Orgs (None when no file was given) and units for a command; every problem of both files
    at once as SubjectsInvalid."""
    problems: list[Problem] = []
    orgs: list[Org] | None = None
    units: list[Unit] = []
    if orgs_path is not None:
        try:
            orgs = parse_orgs(read_text(orgs_path), display_name(orgs_path), campaign)
        except SubjectsInvalid as exc:
            problems.extend(exc.problems)
    if units_path is not None:
        try:
            units = parse_units(read_text(units_path), display_name(units_path), campaign, orgs)
        except SubjectsInvalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise SubjectsInvalid(problems)
    return orgs, units
