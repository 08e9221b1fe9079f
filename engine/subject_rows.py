"""The rows of an orgs or units table checked on their own, before any database is asked: ids,
names, the campaigns' words (engine.vocabulary), tags. Every import checks its rows here — the
API's (`POST /orgs/import`), `paicha import`, and the `--units`/`--orgs` files of `timeline` and
`simulate` — so that one file means the same everywhere.

A table is anything shaped like `paicha.sheets.Sheet` (the core reads no files); a problem is a
dict located by the row (`Row.at`: line, column, field, header, and for XLSX the cell).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine import texts
from engine.errors import InputInvalid
from engine.vocabulary import Kind, Vocabulary

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
ID_RULE = "1–64 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"
MAX_NAME, MAX_TERM, MAX_TAGS = 200, 64, 50
CHECK_EVERY = 256  # rows between two calls of the checkpoint and the progress

Progress = Callable[[str, int, int | None], None]  # (stage, done, total if known)


def id_rule() -> str:
    """ID_RULE as people read it, in the current language (ID_RULE itself stays English for
    the API's schema)."""
    return texts.t("errors.id_rule")


def use_id_rule() -> str:
    """The hint of an id that is not usable."""
    return texts.t("errors.row.use_id_rule", rule=id_rule())


class Row(Protocol):
    @property
    def line(self) -> int: ...
    @property
    def values(self) -> Mapping[str, str]: ...
    @property
    def tags(self) -> list[str] | None: ...  # None when the sheet has no tags column
    def at(self, column: str | None) -> dict[str, Any]: ...


class Sheet(Protocol):
    @property
    def source(self) -> str: ...
    @property
    def rows(self) -> Sequence[Row]: ...
    @property
    def problems(self) -> Sequence[Mapping[str, Any]]: ...


def no_checkpoint() -> None:
    """The checkpoint of an import nobody stops."""


def no_progress(stage: str, done: int, total: int | None) -> None:
    """The progress of an import nobody watches."""


@dataclass
class Report:
    """The problems of one sheet: those met while reading it, then those of its rows."""

    source: str
    items: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, sheet: Sheet) -> Report:
        return cls(sheet.source, [dict(p) for p in sheet.problems])

    def add(self, row: Row, column: str | None, message: str, hint: str = "") -> None:
        self.items.append({**row.at(column), "message": message, "hint": hint})

    def sorted(self) -> list[dict[str, Any]]:
        return sorted(self.items, key=lambda p: (p.get("line") or 0, p.get("column") or 0))

    def raise_any(self) -> None:
        """InputInvalid (import_invalid) listing every problem, when there is any."""
        if self.items:
            raise InputInvalid(texts.t("errors.import.problems", count=len(self.items),
                                       source=self.source),
                               problems=self.sorted(), code="import_invalid")


@dataclass(frozen=True)
class Checked:
    """A row that passed: its id, and the values to store (ids for the campaigns' words; a
    column the file lacks is absent, so that stored records keep that value)."""

    row: Row
    id: str
    values: dict[str, Any]


def _identities(sheet: Sheet, report: Report, checkpoint: Callable[[], None],
                progress: Progress) -> Iterator[Row]:
    """The rows with a usable, unique id and a name; the others are reported."""
    seen: dict[str, int] = {}
    total = len(sheet.rows)
    for number, row in enumerate(sheet.rows):
        if number % CHECK_EVERY == 0:
            checkpoint()
            progress("检查", number, total)
        before = len(report.items)
        key, name = row.values["id"], row.values["name"]
        if not ID_PATTERN.match(key):
            report.add(row, "id", texts.t("errors.row.bad_id", id=key) if key else
                       texts.t("errors.row.empty", column="id"), use_id_rule())
        elif key in seen:
            report.add(row, "id", texts.t("errors.row.duplicate_id", id=key, line=seen[key]),
                       texts.t("errors.row.duplicate_id.hint"))
        else:
            seen[key] = row.line
        for column, value in row.values.items():
            # PostgreSQL refuses NUL in text; no other control character belongs in a name
            if any(unicodedata.category(char) == "Cc" for char in value):
                report.add(row, column, texts.t("errors.row.control_character"),
                           texts.t("errors.row.control_character.hint"))
        if not name:
            report.add(row, "name", texts.t("errors.row.empty", column="name"))
        elif len(name) > MAX_NAME:
            report.add(row, "name", texts.t("errors.row.too_long", column="name", max=MAX_NAME))
        if len(report.items) == before:
            yield row
    progress("检查", total, total)


def _word(report: Report, vocabulary: Vocabulary, row: Row, column: str, kind: Kind,
          value: str) -> str | None:
    """The id of one word of a row, or None (reported at the row's cell)."""
    if len(value) > MAX_TERM:
        report.add(row, column, texts.t("errors.row.too_long", column=column, max=MAX_TERM))
        return None
    found = vocabulary.lookup(kind, value)
    if found.id is None:
        report.add(row, column, found.message, found.hint)
    return found.id


def check_orgs(sheet: Sheet, report: Report, vocabulary: Vocabulary, *,
               checkpoint: Callable[[], None] = no_checkpoint,
               progress: Progress = no_progress) -> dict[str, Checked]:
    """The orgs of the sheet that pass on their own (values name, level, and parent when the
    file has that column), by id; the problems of the others go to `report`."""
    checked: dict[str, Checked] = {}
    for row in _identities(sheet, report, checkpoint, progress):
        level = row.values.get("level", "")
        ok = True
        if not level:
            report.add(row, "level", texts.t("errors.row.empty", column="level"),
                       vocabulary.hint("level", ""))
            ok = False
        else:
            level = _word(report, vocabulary, row, "level", "level", level) or ""
            ok = bool(level)
        values: dict[str, Any] = {"name": row.values["name"], "level": level}
        if "parent" in row.values:
            parent = row.values["parent"]
            if parent and not ID_PATTERN.match(parent):
                report.add(row, "parent", texts.t("errors.row.bad_parent_id", id=parent),
                           use_id_rule())
                ok = False
            values["parent"] = parent or None
        if ok:
            checked[row.values["id"]] = Checked(row, row.values["id"], values)
    return checked


def check_units(sheet: Sheet, report: Report, vocabulary: Vocabulary, *,
                checkpoint: Callable[[], None] = no_checkpoint,
                progress: Progress = no_progress) -> dict[str, Checked]:
    """The units of the sheet that pass on their own (values name, org, and industry and tags
    when the file has those columns, as ids), by id; the others go to `report`."""
    checked: dict[str, Checked] = {}
    for row in _identities(sheet, report, checkpoint, progress):
        org = row.values.get("org", "")
        ok = True
        if not org:
            report.add(row, "org", texts.t("errors.row.empty", column="org"),
                       texts.t("errors.row.empty_org.hint"))
            ok = False
        elif len(org) > MAX_TERM:
            report.add(row, "org", texts.t("errors.row.too_long", column="org", max=MAX_TERM))
            ok = False
        values: dict[str, Any] = {"name": row.values["name"], "org": org}
        if "industry" in row.values:
            written = row.values["industry"]
            industry = (_word(report, vocabulary, row, "industry", "industry", written)
                        if written else None)
            ok = ok and (industry is not None or not written)
            values["industry"] = industry
        if row.tags is not None:
            tags: list[str] = []
            for written in row.tags:
                tag = _word(report, vocabulary, row, "tags", "tag", written)
                if tag is None:
                    ok = False
                elif tag not in tags:
                    tags.append(tag)
            if len(tags) > MAX_TAGS:
                report.add(row, "tags", texts.t("errors.row.too_many_tags", count=len(tags),
                                                max=MAX_TAGS))
                ok = False
            values["tags"] = sorted(tags)
        if ok:
            checked[row.values["id"]] = Checked(row, row.values["id"], values)
    return checked
