"""The units and orgs files of `paicha timeline` and `paicha simulate`, read without a database.

They are read by the one importer: the reader of paicha.sheets (CSV or XLSX, the Chinese headers,
UTF-8 with or without BOM, no formula cells) and the row checks of engine.subject_rows with the
campaign's vocabulary (industries, tags and levels by id or Chinese name), so a file that
`paicha import` or `POST /units/import` takes means the same here. On top, a unit's org must be
one of the orgs file (when one is given) and an org's parent one of the same file. Every bad
row is reported at once, located by file, line and column (the column's number, as a
spreadsheet counts them) like a campaign problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine import texts
from engine.errors import PaichaError, Problem
from engine.model import Campaign
from engine.orgs import Org, Unit
from engine.schema import did_you_mean
from engine.subject_rows import Progress, Report, check_orgs, check_units, no_progress
from engine.vocabulary import Vocabulary
from paicha.files import display_name
from paicha.sheets import Kind, Sheet, TableTooLarge, read_table


class SubjectsInvalid(PaichaError):
    """A units or orgs file has bad rows; carries every problem found."""

    code = "subjects_invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = sorted(problems)
        count = len(self.problems)
        super().__init__(texts.t("cli.subjects.invalid", count=count, first=self.problems[0])
                         if self.problems else texts.t("cli.subjects.invalid.none", count=count))


def read_text(path: Path) -> str:
    """A text file's text (UTF-8, with or without BOM), or SubjectsInvalid saying why not."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problem = Problem(str(path), 1, 1, "$", texts.t("cli.subjects.no_file"))
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        problem = Problem(str(path), line, 1, "$", texts.t("cli.sheet.not_utf8"),
                          texts.t("cli.sheet.not_utf8.hint"))
    raise SubjectsInvalid([problem])


def as_problem(source: str, found: Mapping[str, Any]) -> Problem:
    """An import problem (line, column, field …) as a command prints it: file:line:column,
    then the field, with its cell in an XLSX file (`industry (D3)`)."""
    where = found.get("field") or "$"
    if found.get("cell"):
        where = f"{where} ({found['cell']})"
    return Problem(source, found.get("line") or 1, found.get("column") or 1, where,
                   found["message"], found.get("hint") or "")


def read_bytes(path: Path) -> bytes:
    """A file's bytes, or SubjectsInvalid saying why they cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SubjectsInvalid([Problem(str(path), 1, 1, "$", texts.t("cli.subjects.no_file"))]
                              ) from None
    except OSError as exc:
        raise SubjectsInvalid([Problem(str(path), 1, 1, "$", exc.strerror or str(exc))]) from None


def read_sheet(path: Path, kind: Kind, *, sheet: str | None = None, charset: str | None = None,
               data: bytes | None = None, progress: Progress = no_progress) -> Sheet:
    """The table in a CSV or XLSX file (`data`: its bytes, read already); SubjectsInvalid when
    the file is missing or too large (the problems of its rows stay on the Sheet)."""
    source = display_name(path)
    data = read_bytes(path) if data is None else data
    try:
        return read_table(data, kind, source=source, charset=charset, sheet=sheet,
                          progress=progress)
    except TableTooLarge as exc:
        raise SubjectsInvalid([Problem(source, 1, 1, "$", str(exc))]) from None


def _failed(report: Report) -> SubjectsInvalid:
    return SubjectsInvalid(as_problem(report.source, p) for p in report.items)


def parse_orgs(sheet: Sheet, vocabulary: Vocabulary) -> list[Org]:
    """The orgs of a table; SubjectsInvalid with every bad row."""
    report = Report.of(sheet)
    checked = check_orgs(sheet, report, vocabulary)
    in_file = {row.values["id"] for row in sheet.rows}
    for found in checked.values():
        parent = found.values.get("parent")
        if parent is not None and parent not in in_file:
            report.add(found.row, "parent", texts.t("cli.subjects.unknown_parent", org=parent),
                       did_you_mean(parent, in_file))
    if report.items:
        raise _failed(report)
    return [Org(key, found.values["name"], found.values["level"], found.values.get("parent"))
            for key, found in checked.items()]


def parse_units(sheet: Sheet, vocabulary: Vocabulary,
                orgs: Sequence[Org] | None = None) -> list[Unit]:
    """The units of a table; with `orgs`, each unit's org must be one of them."""
    report = Report.of(sheet)
    checked = check_units(sheet, report, vocabulary)
    org_ids = None if orgs is None else {org.id for org in orgs}
    for row in sheet.rows:  # a row bad for another reason too: every problem at once
        org = row.values.get("org", "")
        if org and org_ids is not None and org not in org_ids:
            report.add(row, "org", texts.t("cli.subjects.unknown_org", org=org),
                       did_you_mean(org, org_ids))
    if report.items:
        raise _failed(report)
    return [Unit(key, found.values["name"], found.values["org"], found.values.get("industry"),
                 frozenset(found.values.get("tags", ()))) for key, found in checked.items()]


def load_subjects(
    campaign: Campaign, units_path: Path | None, orgs_path: Path | None
) -> tuple[list[Org] | None, list[Unit]]:
    """Orgs (None when no file was given) and units for a command, their words checked against
    the campaign's; every problem of both files at once as SubjectsInvalid."""
    vocabulary = Vocabulary.of([campaign])
    problems: list[Problem] = []
    orgs: list[Org] | None = None
    units: list[Unit] = []
    if orgs_path is not None:
        try:
            orgs = parse_orgs(read_sheet(orgs_path, "orgs"), vocabulary)
        except SubjectsInvalid as exc:
            problems.extend(exc.problems)
    if units_path is not None:
        try:
            units = parse_units(read_sheet(units_path, "units"), vocabulary, orgs)
        except SubjectsInvalid as exc:
            problems.extend(exc.problems)
    if problems:
        raise SubjectsInvalid(problems)
    return orgs, units
