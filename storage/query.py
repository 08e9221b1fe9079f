"""Query pieces shared by the repositories: org-subtree ranges, JSON list membership, cursors."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, exists, func, literal, select, text, true
from sqlalchemy.sql.elements import ColumnElement

from engine.access import Principal
from engine.errors import InputInvalid


def prefix_condition(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as an index range: paths end in '/', and '0' follows it."""
    if not prefix.endswith("/"):
        raise ValueError("org paths end with '/'")
    condition: ColumnElement[bool] = (column >= prefix) & (column < prefix[:-1] + "0")
    return condition


def reach(principal: Principal, path: Any, unit: Any = None) -> ColumnElement[bool]:
    """Rows the principal reaches: everything for admin; its subtree by `path` for an org
    token; for a unit token its unit by `unit`, or, for rows with no unit column, its unit's
    org by `path`."""
    if principal.admin:
        return true()
    if principal.scope_kind == "unit":
        mine: ColumnElement[bool] = (unit == principal.scope_id if unit is not None
                                     else path == (principal.unit_org_path or "\0"))
        return mine
    return prefix_condition(path, principal.scope_path or "\0")


def ancestor_paths(path: str) -> list[str]:
    """The paths of an org and every org above it: `/a/b/` -> [`/a/`, `/a/b/`]."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "".join(f"{p}/" for p in parts[:n]) for n in range(1, len(parts) + 1)]


def list_contains(conn: Connection, column: Any, value: str) -> ColumnElement[bool]:
    """A JSON list column holds `value` (jsonb containment on PostgreSQL, json_each on SQLite)."""
    if conn.dialect.name == "postgresql":
        condition: ColumnElement[bool] = column.op("@>")(func.jsonb_build_array(literal(value)))
        return condition
    each = func.json_each(column).table_valued("value")
    return exists(select(text("1")).select_from(each).where(each.c.value == value))


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise InputInvalid("the cursor is not one this API gave out; start again without it",
                           code="bad_cursor") from exc
    if not isinstance(values, list) or len(values) != size or not all(
            _plain(v) for v in values):
        raise InputInvalid("the cursor is not one this API gave out; start again without it",
                           code="bad_cursor")
    return values


def cursor_instant(value: Any) -> dt.datetime:
    """An instant out of a cursor: aware, or the cursor is refused."""
    try:
        instant = dt.datetime.fromisoformat(str(value))
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise InputInvalid("the cursor is not one this API gave out; start again without it",
                           code="bad_cursor")
    return instant


def _plain(value: Any) -> bool:
    # what this API puts in cursors: ids, ISO dates and instants, row ids that fit a column
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 < value < 2**31
    return isinstance(value, str) and len(value) <= 200 and "\0" not in value
