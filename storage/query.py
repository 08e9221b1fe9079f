"""Query pieces shared by the repositories: org-subtree ranges, JSON list membership, cursors."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, exists, func, literal, or_, select, text, true
from sqlalchemy.sql.elements import ColumnElement

from engine import texts
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


# A cursor is the JSON list of the last row's sort keys, base64url without padding. Anything
# else sent as a cursor was not given out here: it is refused (422 `bad_cursor`) before it
# reaches a query, whatever it holds (text that is not base64 or JSON, a number no column
# holds, an instant a zone pushes out of the calendar, a string where an id was).
MAX_CURSOR = 512  # the longest cursor this API gives out is well under this
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"  # base64url
_B64URL = re.compile(CURSOR_PATTERN)


class BadCursor(InputInvalid):
    """A cursor this API did not give out."""

    def __init__(self) -> None:
        super().__init__(texts.t("errors.bad_cursor"), code="bad_cursor")


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The `size` values of a cursor given out by `encode_cursor`; each still to be read with
    `cursor_instant`, `cursor_date`, `cursor_row_id` or `cursor_key`."""
    if len(cursor) > MAX_CURSOR or not _B64URL.match(cursor):
        raise BadCursor()
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError) as exc:  # binascii.Error and UnicodeError included
        raise BadCursor() from exc
    if not isinstance(values, list) or len(values) != size:
        raise BadCursor()
    return values


def cursor_instant(value: Any) -> dt.datetime:
    """An instant out of a cursor: ISO text with a zone, in UTC, or the cursor is refused."""
    if not isinstance(value, str) or len(value) > 40:
        raise BadCursor()
    try:
        instant = dt.datetime.fromisoformat(value)
        if instant.tzinfo is None:
            raise BadCursor()
        # a zone can push an instant at the calendar's ends out of it (0001-01-01T00:00+14:00)
        return instant.astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise BadCursor() from exc


def cursor_date(value: Any) -> dt.date:
    """A calendar date out of a cursor (YYYY-MM-DD), or the cursor is refused."""
    if not isinstance(value, str) or len(value) != 10:
        raise BadCursor()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadCursor() from exc


def cursor_row_id(value: Any) -> int:
    """A row id out of a cursor: a JSON integer a database integer column holds."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise BadCursor()
    return value


def cursor_key(value: Any) -> str:
    """A text key out of a cursor (a case, org or unit id): text the databases can compare."""
    if (not isinstance(value, str) or not 0 < len(value) <= 200
            or not value.isprintable()):
        raise BadCursor()
    return value


def after_key(cursor: str | None) -> str | None:
    """The id a page continues after, out of a cursor of lists ordered by id (orgs, units)."""
    return cursor_key(decode_cursor(cursor, 1)[0]) if cursor is not None else None


@dataclass(frozen=True)
class Days:
    """"Today" for each campaign, in its own time zone: whether a deadline has passed (a
    case overdue, a duty missed) is judged by the day where the campaign runs, so a list that
    spans campaigns in several zones asks each its own day. `default` is the day of a
    campaign not named (one published after the days were taken)."""

    default: dt.date
    by_campaign: Mapping[str, dt.date] = field(default_factory=dict)

    def of(self, campaign_id: str) -> dt.date:
        return self.by_campaign.get(campaign_id, self.default)

    def before(self, day: ColumnElement[Any], campaign: ColumnElement[Any]
               ) -> ColumnElement[bool]:
        """`day` lies before its campaign's today: one comparison per distinct today (the
        campaigns of one zone share theirs), so the common case is a single one."""
        groups: dict[dt.date, list[str]] = {}
        for campaign_id, today in self.by_campaign.items():
            if today != self.default:
                groups.setdefault(today, []).append(campaign_id)
        if not groups:
            return day < self.default
        others = [c for ids in groups.values() for c in ids]
        return or_(and_(campaign.not_in(others), day < self.default),
                   *(and_(campaign.in_(sorted(ids)), day < today)
                     for today, ids in groups.items()))


def as_days(today: dt.date | Days) -> Days:
    """A plain date is the same day for every campaign (commands and seeders that ask for
    one)."""
    return today if isinstance(today, Days) else Days(today)
