"""A report's conditions in SQL: the case-filter language of campaigns (engine.conditions) as
expressions over a snapshot of cases, the same on SQLite (JSON text) and PostgreSQL (JSONB).

Each operator means what engine.conditions means by it, missing fields included (`ne` and
`not_in` hold for a case without the field; comparisons hold only between values of one
kind), so that a count in SQL and a check of one case in the engine never disagree.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    String,
    and_,
    case,
    cast,
    false,
    literal,
    not_,
    or_,
    true,
    type_coerce,
)
from sqlalchemy import func as sql
from sqlalchemy.dialects.postgresql import JSONB

from engine.dates import end_of_day
from engine.values import parse_date


@dataclass(frozen=True)
class Snapshot:
    """The columns of a case as it was at `at` (storage.reports builds the rows): `since` is
    the instant that version began."""

    type: Any
    state: Any
    final: Any
    data: Any
    next_due: Any
    opened_at: Any
    since: Any
    dialect: str
    as_of: dt.date
    timezone: str


def condition(snap: Snapshot, where: Mapping[str, Any] | None, *, hints: bool = True
              ) -> ColumnElement[bool]:
    """`where` (a campaign's case filter) as a boolean SQL expression over `snap`; on SQLite
    led by tests on the data's text that every case it holds passes (`_hints`), unless
    `hints` is false (the row's JSON is parsed already: SQLite keeps the parse for the row)."""
    if not where:
        return true()
    parts = [*(_hints(snap, where) if hints else []), _condition(snap, where)]
    return and_(*parts) if len(parts) > 1 else parts[0]


def _condition(snap: Snapshot, where: Mapping[str, Any] | None) -> ColumnElement[bool]:
    if not where:
        return true()
    parts = [_key(snap, key, operand) for key, operand in where.items()]
    return and_(*parts) if len(parts) > 1 else parts[0]


# Keys of the filter language that are not case fields (no JSON is read for them, but `all`
# may hold some).
NOT_FIELDS = frozenset({"all", "any", "not", "state", "open", "overdue", "reported_before",
                         "reported_after", "closed_before", "closed_after"})
# Text that every JSON writer writes as it is (RFC 8259 requires escaping only '"', '\\' and
# control characters; some writers escape '/' too, and HTML-safe ones '<', '>' and '&').
_VERBATIM = re.compile(r"[A-Za-z0-9 _.:;,+=!?@#$^*()\[\]{}|~'-]*")


def _hints(snap: Snapshot, where: Mapping[str, Any]) -> list[ColumnElement[bool]]:
    """On SQLite, for each field the filter requires to equal one of a few values: the data's
    text holds one of them as a JSON token (`"major"`, `true`). No case the filter holds fails
    these, and they rule out most others without parsing the JSON: json_extract parses a
    case's whole data (SQLite 3.40, a few µs), a LIKE scans the text ~5x faster, and SQLite's
    AND stops at the first false term. Only for values written alike by every JSON writer
    (booleans, plain ASCII text); `%` and `_` in a pattern only let more through."""
    if snap.dialect == "postgresql":
        return []
    hints: list[ColumnElement[bool]] = []
    for key, operand in where.items():
        if key == "all":
            for part in operand:
                hints.extend(_hints(snap, part))
            continue
        if key in NOT_FIELDS:
            continue
        if isinstance(operand, Mapping):
            if len(operand) != 1 or next(iter(operand)) not in ("eq", "in"):
                continue
            operand = next(iter(operand.values()))
        values = operand if isinstance(operand, list) else [operand]
        tokens = [_token(v) for v in values]
        if values and None not in tokens:
            hints.append(or_(*(snap.data.op("LIKE")(f"%{t}%") for t in tokens)))
    return hints


def _token(arg: Any) -> str | None:
    if isinstance(arg, bool):
        return "true" if arg else "false"
    if isinstance(arg, str) and _VERBATIM.fullmatch(arg):
        return f'"{arg}"'
    return None


def _key(snap: Snapshot, key: str, operand: Any) -> ColumnElement[bool]:
    if key == "all":
        return and_(true(), *(_condition(snap, part) for part in operand))
    if key == "any":
        return or_(false(), *(_condition(snap, part) for part in operand))
    if key == "not":
        return not_(_condition(snap, operand))
    if key == "state":
        return _column_test(snap.state, operand)
    if key == "open":
        return not_(snap.final) if operand else _is_true(snap.final)
    if key == "overdue":
        late = and_(not_(snap.final), snap.next_due.is_not(None), snap.next_due < snap.as_of)
        return late if operand else not_(late)
    if key in ("reported_before", "reported_after", "closed_before", "closed_after"):
        day = operand if isinstance(operand, dt.date) else parse_date(operand)
        assert day is not None  # validated with the campaign
        start = end_of_day(day - dt.timedelta(days=1), snap.timezone)
        if key == "reported_before":
            return snap.opened_at < start  # type: ignore[no-any-return]
        if key == "reported_after":
            return snap.opened_at >= start  # type: ignore[no-any-return]
        # a case's final version began when it was closed (a final state has no way out)
        moment = snap.since < start if key == "closed_before" else snap.since >= start
        return and_(_is_true(snap.final), moment)
    return _field_test(snap, key, operand)


def _is_true(column: Any) -> ColumnElement[bool]:
    return column == true()  # type: ignore[no-any-return]


def _column_test(column: Any, operand: Any) -> ColumnElement[bool]:
    if isinstance(operand, Mapping):
        tests = []
        for op, arg in operand.items():
            if op == "eq":
                tests.append(column == arg)
            elif op == "ne":
                tests.append(column != arg)
            elif op == "in":
                tests.append(column.in_(list(arg)))
            elif op == "not_in":
                tests.append(column.not_in(list(arg)))
            else:
                raise ValueError(f"operator {op!r} does not apply to the state")
        return and_(*tests)
    if isinstance(operand, list):
        return column.in_(operand)  # type: ignore[no-any-return]
    return column == operand  # type: ignore[no-any-return]


# -- case fields (JSON) ---------------------------------------------------------------------


def _field_test(snap: Snapshot, name: str, operand: Any) -> ColumnElement[bool]:
    if isinstance(operand, Mapping):
        return and_(*(_op(snap, name, op, arg) for op, arg in operand.items()))
    if isinstance(operand, list):
        return _op(snap, name, "in", operand)
    return _op(snap, name, "eq", operand)


def _path(name: str) -> str:
    return '$."' + name.replace('"', '\\"') + '"'


def value(snap: Snapshot, name: str) -> Any:
    """The field as SQL compares it: the JSON value on PostgreSQL, the extracted one on SQLite."""
    if snap.dialect == "postgresql":
        return snap.data.op("->")(literal(name))
    return sql.json_extract(snap.data, _path(name))


def _json(snap: Snapshot, scalar: Any) -> Any:
    if snap.dialect == "postgresql":
        return cast(literal(json.dumps(scalar, ensure_ascii=False)), JSONB)
    return int(scalar) if isinstance(scalar, bool) else scalar


def number(snap: Snapshot, name: str) -> Any:
    """The field where it holds a number, else NULL (a sum skips it)."""
    if snap.dialect == "postgresql":
        return case((sql.jsonb_typeof(value(snap, name)) == "number",
                     cast(type_coerce(snap.data.op("->>")(literal(name)), String), Numeric)))
    return case((sql.json_type(snap.data, _path(name)).in_(("integer", "real")),
                 sql.json_extract(snap.data, _path(name))))


def _text(snap: Snapshot, name: str) -> Any:
    """The field where it holds text (compared code point by code point, as Python does)."""
    if snap.dialect == "postgresql":
        return case((sql.jsonb_typeof(value(snap, name)) == "string",
                     type_coerce(snap.data.op("->>")(literal(name)), String).collate("C")))
    return case((sql.json_type(snap.data, _path(name)) == "text",
                 sql.json_extract(snap.data, _path(name))))


def _op(snap: Snapshot, name: str, op: str, arg: Any) -> ColumnElement[bool]:
    field = value(snap, name)
    if isinstance(arg, dt.date):  # an unquoted date in YAML: case data holds ISO text
        arg = arg.isoformat()
    if op == "eq":
        return field.is_(None) if arg is None else field == _json(snap, arg)  # type: ignore[no-any-return]
    if op == "ne":
        return field.is_distinct_from(_json(snap, arg))  # type: ignore[no-any-return]
    if op in ("in", "not_in"):
        values = [_json(snap, a) for a in (arg if isinstance(arg, list) else [arg])]
        inside = field.in_(values) if values else false()
        return inside if op == "in" else or_(field.is_(None), not_(inside))
    if op == "present":
        if snap.dialect == "postgresql":
            empty = [cast(literal(t), JSONB) for t in ("null", '""', "[]")]
            there = sql.coalesce(field, cast(literal("null"), JSONB)).not_in(empty)
        else:
            there = sql.coalesce(field, "").not_in(("", "[]"))
        return there if arg else not_(there)
    compare = {"lt": "__lt__", "lte": "__le__", "gt": "__gt__", "gte": "__ge__"}[op]
    if isinstance(arg, bool) or not isinstance(arg, int | float | str):
        return false()
    side = _text(snap, name) if isinstance(arg, str) else number(snap, name)
    return getattr(side, compare)(arg)  # type: ignore[no-any-return]
