"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime stored as UTC; SQLite keeps no zone, so it is added back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def text(value: dt.datetime | None) -> str | None:
            # The text SQLAlchemy's SQLite DATETIME stores, written at once: the event path
            # binds a dozen instants, and the generic chain took 3x as long.
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("datetimes must be timezone-aware")
            v = value.astimezone(dt.UTC)
            return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
                    f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}")

        return text

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def instant(value: str | None) -> dt.datetime | None:
            if value is None:
                return None
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)

        return instant

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def json_type() -> TypeEngine[Any]:
    """JSON, as JSONB on PostgreSQL (indexable, compact)."""
    return JSON().with_variant(JSONB(), "postgresql")


def bytewise_text(length: int) -> TypeEngine[Any]:
    """Text compared byte-wise on every database, so that the values starting with a prefix
    are one range of its index (PostgreSQL's default collation may ignore punctuation)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def path_type() -> TypeEngine[Any]:
    """An org path: a subtree is a key range."""
    return bytewise_text(2000)
