"""Reports counted by the database: every computed figure of a form for an org's subtree at a
date, and the same figures for each of the org's children, in one pass per kind of figure.

The cases are counted as they were at the end of the `as_of` day (local time): the case row where
it has not changed since, else its version then valid in `case_history`. Nothing is loaded into
Python but the grouped sums. Figures are cumulative from the campaign's start unless a figure
says `within: period`, which counts only cases registered (obligations due) in the period.

Whose a case is: `attribute: unit` (块, the default) files it under its unit's org, `finder` (条)
under the org whose member registered it (`found_by_path`). The rows of each attribution and
case type are one query (none when the campaign has no case of the type); obligations
(`count_checks`) are one query.

What it costs (bench.report: the national dispatch form over 1M hazards): reading every case
of a large subtree once. So each branch of the snapshot works out the figures' values itself
(the grouping then sorts a path and a few numbers, not each case's data), the terms every
figure of a query shares go into its WHERE (`grade: major` leaves out nine hazards in ten
before any figure is tested), and on SQLite a field's JSON is parsed only after a LIKE on the
text found the value there (storage.report_sql).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)

from engine.dates import Period, end_of_day
from engine.model import Measure
from engine.reports import Value
from storage.query import prefix_condition
from storage.report_sql import NOT_FIELDS, Snapshot, condition, number
from storage.tables import Case, CaseHistory, Obligation, Unit

case_t = Case.__table__  # type: ignore[attr-defined]
history_t = CaseHistory.__table__  # type: ignore[attr-defined]
obligation_t = Obligation.__table__  # type: ignore[attr-defined]
unit_t = Unit.__table__  # type: ignore[attr-defined]

OWN = "."  # the key of the org's own units among its children's


@dataclass
class Figures:
    """Computed figures by key: of the org's subtree (`total`), and by child org path (the org's
    own units, directly under it, under its own path)."""

    total: dict[str, Value] = field(default_factory=dict)
    by_child: dict[str, dict[str, Value]] = field(default_factory=dict)


@dataclass(frozen=True)
class Scope:
    campaign_id: str
    org_path: str
    as_of: dt.date
    timezone: str
    period: Period


def compute(conn: Connection, scope: Scope, measures: Iterable[tuple[str, Measure]],
            *, children: bool = True) -> Figures:
    """The figures of `measures` (key, measure) for the org at `scope.org_path` and, when
    `children`, for each child's subtree."""
    figures = Figures()
    by_attribute: dict[str, list[tuple[str, Measure]]] = defaultdict(list)
    checks: list[tuple[str, Measure]] = []
    for key, measure in measures:
        if measure.kind == "count_checks":
            checks.append((key, measure))
        else:
            by_attribute[measure.attribute].append((key, measure))
            figures.total[key] = 0
    for attribute, group in by_attribute.items():
        _cases(conn, scope, attribute, group, children, figures)
    for mine in figures.by_child.values():  # a child without cases of a measure's type
        for key, measure in (m for group in by_attribute.values() for m in group):
            mine.setdefault(key, None if measure.kind == "sum" else 0)
    if checks:
        _checks(conn, scope, checks, children, figures)
    return figures


def _child_key(dialect: str, path: Any, depth: int) -> Any:
    """The path of the child of the org (its path `depth` characters long) that `path` lies
    under; the org's own path for what lies directly under it."""
    rest = func.substr(path, depth + 1)
    slash = func.strpos(rest, "/") if dialect == "postgresql" else func.instr(rest, "/")
    return func.substr(path, 1, depth + slash)


def _scan_whole(conn: Connection, scope: Scope, column: Any) -> Any:
    """The path column as the subtree's range is tested on it: on SQLite, kept off its index
    (`path || ''`) when the subtree holds more than a fifth of the units — reading most of the
    table through the path index fetches each row at random (SQLite, without STAT4, cannot
    tell a large range from a small one); PostgreSQL's planner decides with its histograms."""
    if conn.dialect.name != "sqlite":
        return column
    o = unit_t.c.org_path
    units = conn.execute(select(func.count(), func.count(case(
        (prefix_condition(o, scope.org_path), literal(1)))))).one()
    return column.concat("") if units[1] * 5 > units[0] else column


def _values(scope: Scope, dialect: str, table: Any, since: Any, period_start: dt.datetime,
            measures: list[tuple[str, Measure]], shared: dict[str, Any]) -> list[Any]:
    """Each measure's value of one row of `table` (a case row or an older version): 1 (or the
    unit, or the summed field) where the case counts for it, NULL where not. The row has
    passed the `shared` terms already."""
    c = table.c
    snap = Snapshot(c.type, c.state, c.final, c.data, c.next_due, c.opened_at, since, dialect,
                    scope.as_of, scope.timezone)
    # the shared terms test a field: the row's JSON was parsed for them, and text tests
    # ahead of each measure's own would cost more than they spare
    parsed = any(key not in NOT_FIELDS for key in shared)
    values: list[Any] = []
    for index, (_key, measure) in enumerate(measures):
        rest = {k: v for k, v in (measure.where or {}).items() if k not in shared}
        test = condition(snap, rest, hints=not parsed)
        if measure.within == "period":
            test = and_(c.opened_at >= period_start, test)
        if measure.kind == "count":
            value = literal(1)
        elif measure.kind == "count_units":
            value = c.unit_id
        else:
            assert measure.field is not None
            value = number(snap, measure.field)
        values.append(case((test, value)).label(f"m{index}"))
    return values


def _snapshot(conn: Connection, scope: Scope, attribute: str, case_type: str,
              measures: list[tuple[str, Measure]]) -> Any:
    """The cases of one type of the campaign in the subtree, each as it was at the end of
    `as_of` (the case row where it has not changed since, else its version then valid), as
    their path and each measure's value. The values are worked out in each branch, so that
    what the grouping sorts is a path and a few numbers, not the cases' data."""
    dialect = conn.dialect.name
    at = end_of_day(scope.as_of, scope.timezone)
    period_start = end_of_day(scope.period.first - dt.timedelta(days=1), scope.timezone)
    path_of = "found_by_path" if attribute == "finder" else "org_path"
    shared = _shared(measures)

    def every(table: Any, since: Any) -> Any:
        c = table.c
        return condition(Snapshot(c.type, c.state, c.final, c.data, c.next_due, c.opened_at,
                                  since, dialect, scope.as_of, scope.timezone), shared)

    now = select(case_t.c[path_of].label("path"),
                 *_values(scope, dialect, case_t, case_t.c.updated_at, period_start, measures,
                          shared)
                 ).where(case_t.c.campaign_id == scope.campaign_id,
                         case_t.c.type == case_type,
                         prefix_condition(_scan_whole(conn, scope, case_t.c[path_of]),
                                          scope.org_path),
                         case_t.c.updated_at < at,
                         every(case_t, case_t.c.updated_at))
    then = select(history_t.c[path_of].label("path"),
                  *_values(scope, dialect, history_t, history_t.c.valid_from, period_start,
                           measures, shared)
                  ).where(history_t.c.campaign_id == scope.campaign_id,
                          history_t.c.valid_to >= at, history_t.c.valid_from < at,
                          history_t.c.type == case_type,
                          prefix_condition(history_t.c[path_of], scope.org_path),
                          every(history_t, history_t.c.valid_from))
    return union_all(now, then).subquery("snapshot")


def _shared(measures: list[tuple[str, Measure]]) -> dict[str, Any]:
    """The terms of the filter that every measure's filter has (`grade: major` in each row of
    the dispatch form): a case failing them counts for none, so the query leaves it out
    before working out any measure (most hazards are general)."""
    wheres = [m.where or {} for _k, m in measures]
    first = wheres[0]
    return {key: operand for key, operand in first.items()
            if all(key in w and w[key] == operand for w in wheres[1:])}


def _cases(conn: Connection, scope: Scope, attribute: str,
           measures: list[tuple[str, Measure]], children: bool, figures: Figures) -> None:
    """One query per case type: a case of one type counts for no measure of another, so each
    case is tested only against the measures of its type."""
    by_type: dict[str, list[tuple[str, Measure]]] = defaultdict(list)
    for key, measure in measures:
        assert measure.case is not None
        by_type[measure.case].append((key, measure))
    for case_type, group in by_type.items():
        # none of the type in the campaign (an index seek): none in its history either
        if conn.execute(select(literal(1)).where(
                case_t.c.campaign_id == scope.campaign_id,
                case_t.c.type == case_type).limit(1)).first() is not None:
            _count(conn, scope, attribute, case_type, group, children, figures)


def _count(conn: Connection, scope: Scope, attribute: str, case_type: str,
           measures: list[tuple[str, Measure]], children: bool, figures: Figures) -> None:
    rows = _snapshot(conn, scope, attribute, case_type, measures)
    aggregates: list[Any] = []
    for index, (_key, measure) in enumerate(measures):
        value = rows.c[f"m{index}"]
        if measure.kind == "count":
            aggregates.append(func.count(value))
        elif measure.kind == "count_units":
            aggregates.append(func.count(func.distinct(value)))
        else:
            aggregates.append(func.sum(value))
    if children:
        child = _child_key(conn.dialect.name, rows.c.path, len(scope.org_path)).label("child")
        query = select(child, *aggregates).group_by(child)
    else:
        query = select(literal(OWN).label("child"), *aggregates)
    for row in conn.execute(query):
        values = [_plain(v) for v in row[1:]]
        if children:
            mine = figures.by_child.setdefault(str(row[0]), {})
        for (key, _measure), found in zip(measures, values, strict=True):
            if children:
                mine[key] = found
            figures.total[key] = _add(figures.total.get(key), found)


def _checks(conn: Connection, scope: Scope, measures: list[tuple[str, Measure]],
            children: bool, figures: Figures) -> None:
    """Obligations done / missed / due at the end of `as_of`: done when completed by then,
    missed when past due and not done by then, due when not done and due later in the
    period (`all`: every obligation due up to the period's end)."""
    dialect = conn.dialect.name
    at = end_of_day(scope.as_of, scope.timezone)
    o = obligation_t.c
    done = and_(o.completed_at.is_not(None), o.completed_at < at)
    not_done = or_(o.completed_at.is_(None), o.completed_at >= at)
    tests = {
        "done": done,
        "missed": and_(not_done, o.due < scope.as_of),
        "due": and_(not_done, o.due >= scope.as_of, o.due <= scope.period.last),
        "all": o.due <= scope.period.last,
    }
    aggregates: list[Any] = []
    for _key, measure in measures:
        test = and_(o.check_id == measure.check, tests.get(measure.status, tests["all"]))
        if measure.within == "period":
            test = and_(test, o.due >= scope.period.first)
        aggregates.append(func.count(case((test, literal(1)))))
    ids = sorted({m.check for _k, m in measures if m.check})
    where = (o.campaign_id == scope.campaign_id, o.check_id.in_(ids),
             prefix_condition(o.org_path, scope.org_path))
    if children:
        child = _child_key(dialect, o.org_path, len(scope.org_path)).label("child")
        query = select(child, *aggregates).where(*where).group_by(child)
    else:
        query = select(literal(OWN).label("child"), *aggregates).where(*where)
    for key, _measure in measures:
        figures.total[key] = 0
    for row in conn.execute(query):
        for (key, _measure), found in zip(measures, row[1:], strict=True):
            found = _plain(found)
            if children:
                figures.by_child.setdefault(str(row[0]), {})[key] = found
            figures.total[key] = _add(figures.total.get(key), found)


def _plain(found: Any) -> Value:
    if isinstance(found, Decimal):
        found = float(found)
    if isinstance(found, float) and found.is_integer():
        return int(found)
    return found  # type: ignore[no-any-return]


def _add(a: Value, b: Value) -> Value:
    if a is None:
        return b
    if b is None:
        return a
    total = a + b  # type: ignore[operator]
    return _plain(total)


def children_of(figures: Figures, paths: Mapping[str, str], org_path: str,
                keys: Iterable[str]) -> dict[str, dict[str, Value]]:
    """Figures by child org id (`paths`: child path -> id), every child present (zeros where
    nothing was counted), and the org's own units under OWN."""
    keys = list(keys)
    found: dict[str, dict[str, Value]] = {}
    for path, org_id in paths.items():
        counted = figures.by_child.get(path, {})
        found[org_id] = {k: counted.get(k, 0) for k in keys}
    counted = figures.by_child.get(org_path, {})
    found[OWN] = {k: counted.get(k, 0) for k in keys}
    return found
