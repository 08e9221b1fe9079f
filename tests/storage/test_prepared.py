"""Prepared statements store and read exactly what SQLAlchemy Core would: the event path runs on
SQLite's driver directly, and every other reader (the API's lists, the sweep, the audit check)
still goes through Core."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import bindparam, delete, insert, select, text, update

from storage.db import Database
from storage.prepared import Prepared
from storage.tables import Timer

timer_t = Timer.__table__  # type: ignore[attr-defined]
AT = dt.datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
COLUMNS = ("key", "subject", "clock_id", "kind", "campaign_id", "org_path", "unit_id", "roles",
           "due_date", "due_at", "status", "attempts", "payload")


def _row(key: str) -> dict[str, object]:
    return {"key": key, "subject": "case-1", "clock_id": "rectification", "kind": "remind",
            "campaign_id": "linyin", "org_path": "/d/s/", "unit_id": None,
            "roles": ["principal", "safety_office"], "due_date": dt.date(2024, 3, 29),
            "due_at": AT, "status": "pending", "attempts": 0,
            "payload": {"label": "-7d", "备注": "整改期限", "n": 1.5}}


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def _stored(db: Database, key: str) -> tuple[object, ...]:
    # the columns as the database holds them, beside the id
    names = ", ".join(c for c in COLUMNS if c != "key")
    with db.read() as conn:
        return tuple(conn.execute(text(f"SELECT {names} FROM timer WHERE key = :k"),
                                  {"k": key}).one())


def test_insert_stores_what_core_stores(db: Database) -> None:
    with db.write() as conn:
        conn.execute(insert(timer_t), [_row("core")])
        Prepared(insert(timer_t), columns=COLUMNS).many(conn, [_row("prepared")])
    assert _stored(db, "prepared") == _stored(db, "core")


def test_select_reads_what_core_reads(db: Database) -> None:
    statement = select(timer_t).where(timer_t.c.key == bindparam("b_key"))
    with db.write() as conn:
        conn.execute(insert(timer_t), [_row("one")])
    with db.read() as conn:
        core = conn.execute(statement, {"b_key": "one"}).one()
        prepared = Prepared(statement).one_or_none(conn, {"b_key": "one"})
        missing = Prepared(statement).one_or_none(conn, {"b_key": "none"})
    assert prepared._asdict() == core._asdict()
    assert prepared.due_at == AT and prepared.payload["备注"] == "整改期限"
    assert missing is None


def test_update_counts_rows_and_keeps_bound_literals(db: Database) -> None:
    # `status == 'pending'` is bound inside the statement, not by the caller
    cancel = Prepared(update(timer_t)
                      .where(timer_t.c.subject == bindparam("b_subject"),
                             timer_t.c.status == "pending")
                      .values(status="cancelled"))
    with db.write() as conn:
        conn.execute(insert(timer_t), [_row("a"), _row("b")])
        assert cancel.rowcount(conn, {"b_subject": "case-1"}) == 2
        assert cancel.rowcount(conn, {"b_subject": "case-1"}) == 0
        conn.execute(delete(timer_t))


def test_instants_store_as_sqlalchemy_stores_them_on_sqlite() -> None:
    # UTCDateTime writes SQLite's DATETIME text itself (the event path binds a dozen): it must
    # be SQLAlchemy's own text, so that comparisons in SQL and older rows agree.
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.types import DateTime

    from storage.types import UTCDateTime

    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect)
    stock = DateTime().dialect_impl(dialect).bind_processor(dialect)
    read = ours.result_processor(dialect, None)
    for moment in (AT, dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                   dt.datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=dt.UTC)):
        text_ = ours.bind_processor(dialect)(moment)
        assert text_ == stock(moment.astimezone(dt.UTC).replace(tzinfo=None))
        assert read(text_) == moment
    with pytest.raises(ValueError, match="timezone-aware"):
        ours.bind_processor(dialect)(dt.datetime(2024, 1, 1))


def test_json_text_keeps_every_value() -> None:
    import json

    from storage.db import json_text

    for value in ({"备注": "整改", "n": 1.5, "big": 10**30, "neg": -(2**63)}, [1, None, True]):
        assert json.loads(json_text(value)) == value


@pytest.mark.parametrize("text", [
    '{"备注": "整改", "n": 1.5, "e": 1e-7, "i": -9223372036854775808}',
    '{"big": 1000000000000000000000000000000, "as_text": "12345678901234567890"}',
    '[1.00000000000000000001, 123456789012345678]',
    '{"nan": NaN, "inf": Infinity}',  # not written by paicha; still read as before
    '"\\ud800"', '1e400', '{"a": 1, "a": 2}', '[]',
])
def test_json_value_reads_what_the_standard_library_reads(text: str) -> None:
    import json
    import math

    from storage.db import json_value

    read, expected = json_value(text), json.loads(text)
    assert repr(read) == repr(expected)  # the same types too: an int stays an int
    if isinstance(expected, dict) and "nan" in expected:
        assert math.isnan(read["nan"])


def test_database_errors_come_as_core_raises_them(db: Database) -> None:
    # the API maps sqlalchemy.exc.IntegrityError to 409; the driver's own error would be a 500
    from sqlalchemy import exc

    inserting = Prepared(insert(timer_t), columns=COLUMNS)
    with db.write() as conn:
        inserting.many(conn, [_row("twice")])
        with pytest.raises(exc.IntegrityError):
            inserting.many(conn, [_row("twice")])
        conn.rollback()
