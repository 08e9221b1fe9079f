"""Stored cases as the ledgers print them: a case row (with its unit's name and industry) as a
`LedgerCase`, its enum values and state as their labels, its signatures with role names and
local dates."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from engine.dates import local_date
from engine.model import Campaign, CaseType
from paicha.cells import neutral_row
from paicha.forms.ledgers import (
    HAZARD_LIST_FIELDS,
    WORK_LEDGER_FIELDS,
    Labels,
    LedgerCase,
    LedgerUnit,
    Signature,
    Sources,
    cell_text,
)
from paicha.forms.rectification import RECTIFICATION_FIELDS


def ledger_case(campaign: Campaign, row: Any, unit_name: str | None,
                industry: str | None) -> LedgerCase:
    """A stored case as the ledgers print it."""
    case_type = campaign.cases.get(row.type)
    grade_field = case_type.fields.get("grade") if case_type else None
    grade = row.data.get("grade")
    grade_label = grade_field.labels.get(grade, grade) if grade_field and grade else grade
    state = case_type.states.get(row.state) if case_type else None
    roles = campaign.roles
    signatures = tuple(
        Signature(s["role"], roles[s["role"]].name if s["role"] in roles else s["role"],
                  s.get("name") or s.get("actor") or "",
                  dt.datetime.fromisoformat(s["at"]).astimezone(ZoneInfo(campaign.timezone)),
                  _opinion(case_type, s))
        for s in row.signatures or [])
    return LedgerCase(
        row.id, row.type,
        LedgerUnit(unit_name or row.unit_id, None,
                   campaign.industries.get(industry, industry) if industry else None),
        grade_label, state.name if state else row.state,
        local_date(row.opened_at, campaign.timezone), dict(row.data), signatures)


def _opinion(case_type: CaseType | None, signature: Mapping[str, Any]) -> str | None:
    """The 意见 a signature's box shows: the first text field its step declares as the
    signer's own (`signature:` of the campaign), else the case's `acceptance_opinion` the
    signer sent."""
    data = signature.get("data") or {}
    step = signature.get("step")
    transition = next((t for t in case_type.transitions
                       if t.id == signature.get("transition")), None) if case_type else None
    if transition is not None and isinstance(step, int) and 0 <= step < len(transition.chain):
        for name, declared in transition.chain[step].fields.items():
            if declared.type == "string" and isinstance(data.get(name), str):
                return str(data[name])
    opinion = data.get("acceptance_opinion")
    return opinion if isinstance(opinion, str) else None


def ledger_fields(ledger: str) -> Sources:
    """The columns (cell -> case fields) of a ledger's rows."""
    return {"work_ledger": WORK_LEDGER_FIELDS, "inspection_list": HAZARD_LIST_FIELDS,
            "rectification_ledger": RECTIFICATION_FIELDS}[ledger]


def ledger_rows(cases: Iterable[LedgerCase], ledger: str,
                labels: Labels | None = None) -> Iterator[dict[str, str]]:
    """Each case as a line of the ledger (column -> text), for CSV and JSON."""
    fields = ledger_fields(ledger)
    for case in cases:
        yield {"id": case.id, **{column: cell_text(case, sources, labels)
                                 for column, sources in fields.items()}}


def ledger_csv(cases: Iterable[LedgerCase], ledger: str, out: TextIO,
               labels: Labels | None = None) -> int:
    """The ledger's lines as CSV (with a BOM, so a spreadsheet reads the Chinese); the number
    of cases. Formula-like text is written as text (paicha.cells)."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["id", *ledger_fields(ledger)])
    count = 0
    for row in ledger_rows(cases, ledger, labels):
        writer.writerow(neutral_row(row.values()))
        count += 1
    return count
