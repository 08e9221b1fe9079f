"""Reports (调度表) as the engine sees them: which figures a form asks for, the period a date
falls in, the figures laid out as the form, and the manual figures an org enters checked by
type. Counting is storage's (storage.reports runs it as SQL aggregates); nothing here reads a
case.

A figure's place in a form is its `key`: the row's id for a row of one value, `row.1`, `row.2`
… for the values of a row of several (`行政处罚（次，万元）`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from engine import texts
from engine.dates import Period, period_containing, periods
from engine.errors import InputInvalid
from engine.model import Campaign, Figure, Measure, Recurrence, Report, Row

Value = int | float | str | bool | None


@dataclass(frozen=True)
class Slot:
    """One figure of a form, at its place."""

    key: str
    row: Row
    figure: Figure
    section: str


def slots(form: Report) -> list[Slot]:
    """Every figure of the form in the form's order."""
    found = []
    for section in form.sections:
        for row in section.rows:
            for key, figure in zip(figure_keys(row), row.values, strict=True):
                found.append(Slot(key, row, figure, section.id))
    return found


def figure_keys(row: Row) -> tuple[str, ...]:
    """The keys of a row's figures: its id for one, `id.1`, `id.2` … for several."""
    count = len(row.values)
    return (row.id,) if count == 1 else tuple(f"{row.id}.{i}" for i in range(1, count + 1))


def measured(form: Report) -> list[tuple[str, Measure]]:
    """The computed figures of a form, by key."""
    return [(s.key, s.figure.measure) for s in slots(form) if s.figure.measure is not None]


# -- periods ------------------------------------------------------------------------------
# A report's period is a calendar period of engine.dates, labelled as the obligations of its
# reporting check are (2023-05, 2024Q2, 2024H1, 2024), so a submission finds its obligation.

_EXAMPLES = {"month": "2023-05", "quarter": "2024Q2", "half_year": "2024H1", "year": "2024"}


def period_of(kind: Recurrence, day: dt.date) -> Period:
    """The reporting period of `kind` that `day` falls in."""
    return period_containing(kind, day)


def parse_period(kind: Recurrence, label: str) -> Period:
    """The period a label names, or InputInvalid saying how to write one."""
    problem = InputInvalid(texts.t("semantics.figures.bad_period", label=label,
                                   kind=texts.t(f"semantics.recurrence.{kind}"),
                                   example=_EXAMPLES.get(kind, "2023-05")), code="bad_period")
    if len(label) < 4 or not label[:4].isdigit():
        raise problem
    year = int(label[:4])
    if not 1900 < year < 2200:
        raise problem
    for found in periods(kind, dt.date(year, 1, 1), dt.date(year, 12, 31)):
        if found.label == label:
            return found
    raise problem


# -- manual figures -----------------------------------------------------------------------


def manual_value(slot: Slot, value: Any) -> Value:
    """A manual figure as entered, checked against its type; InputInvalid names the figure."""
    kind = slot.figure.manual
    where = texts.t("semantics.figures.named", key=slot.key, name=slot.figure.name)
    if value is None:
        return None
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputInvalid(texts.t("semantics.figures.integer", where=where, value=value),
                               code="bad_figure")
        return value
    if kind == "number":
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value) or value < 0):
            raise InputInvalid(texts.t("semantics.figures.number", where=where, value=value),
                               code="bad_figure")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InputInvalid(texts.t("semantics.figures.boolean", where=where, value=value),
                               code="bad_figure")
        return value
    if not isinstance(value, str) or len(value) > 4000:
        raise InputInvalid(texts.t("semantics.figures.text", where=where, limit=4000),
                           code="bad_figure")
    return value


def manual_values(form: Report, entered: Mapping[str, Any]) -> dict[str, Value]:
    """The manual figures of a submission by key: each checked, unknown or computed keys
    refused (a computed figure comes from the record, never from the submitter)."""
    by_key = {s.key: s for s in slots(form)}
    found: dict[str, Value] = {}
    for key, value in entered.items():
        slot = by_key.get(key)
        if slot is None:
            manual = [s.key for s in by_key.values() if s.figure.manual]
            raise InputInvalid(texts.t("semantics.figures.unknown", form=form.name, key=key,
                                       manual=texts.listed(manual)
                                       or texts.t("semantics.report.none")),
                               code="unknown_figure")
        if slot.figure.manual is None:
            raise InputInvalid(texts.t("semantics.figures.computed", key=key,
                                       name=slot.figure.name), code="computed_figure")
        found[key] = manual_value(slot, value)
    return found


def add_values(a: Value, b: Value) -> Value:
    """Two orgs' figures added (the roll-up of manual figures): numbers add, `true` wins,
    text is not added (the parent writes its own)."""
    if a is None:
        return b if not isinstance(b, str) else None
    if b is None:
        return a if not isinstance(a, str) else None
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) or bool(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a + b
    return None


# -- the form filled in ---------------------------------------------------------------------


@dataclass(frozen=True)
class FilledRow:
    id: str
    number: int  # the item's number in its section on the form (1, 2, …)
    name: str
    unit: str | None
    figures: tuple[Figure, ...]
    keys: tuple[str, ...]
    values: tuple[Value, ...]


@dataclass(frozen=True)
class FilledSection:
    id: str
    name: str
    rows: tuple[FilledRow, ...]


@dataclass(frozen=True)
class FilledForm:
    """A form with its figures: what every export (JSON, CSV, XLSX) and the API render."""

    campaign_id: str
    campaign_title: str
    report_id: str
    title: str
    org_id: str
    org_name: str
    as_of: dt.date
    period: Period
    layout: Literal["list", "pairs"]
    sections: tuple[FilledSection, ...]
    notes: tuple[str, ...]


def fill(campaign: Campaign, form: Report, values: Mapping[str, Value], *, org_id: str,
         org_name: str, as_of: dt.date) -> FilledForm:
    """The form laid out with `values` (by key; a missing key is an empty figure)."""
    sections = []
    for section in form.sections:
        rows = []
        # the paper forms number the items of each section from 1
        for number, row in enumerate(section.rows, start=1):
            figures, keys = row.values, figure_keys(row)
            rows.append(FilledRow(row.id, number, row.name, row.unit, figures, keys,
                                  tuple(values.get(k) for k in keys)))
        sections.append(FilledSection(section.id, section.name, tuple(rows)))
    return FilledForm(campaign.id, campaign.title, form.id, form.name, org_id, org_name, as_of,
                      period_of(form.period, as_of), form.layout, tuple(sections), form.notes)
