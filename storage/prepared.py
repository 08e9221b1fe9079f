"""Hot statements, run on SQLite's driver directly.

A statement of the event path costs SQLAlchemy Core about 0.1 ms of Python each time it runs
(execution context, events, result set-up): more than SQLite takes to run it. A `Prepared`
statement is written once as Core, compiled once per dialect, and on SQLite bound through the
column types' own processors (so it stores exactly what Core would store) and handed to the
driver's cursor. On any other database it runs through Core as usual: PostgreSQL's server does
the work there, and its driver's type adaptation is better left to SQLAlchemy.
"""

from __future__ import annotations

import operator
import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Table, exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase

Processor = Callable[[Any], Any] | None
Statement = Select[Any] | UpdateBase


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the parameters, in the order of the SQL's placeholders
    defaults: Mapping[str, Any]  # values bound in the statement itself (`status == 'pending'`)
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]]  # the parameters in that order
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]  # positions with a type processor
    row: Any  # a namedtuple class of the result columns, or None
    results: tuple[Processor, ...]


@dataclass(frozen=True)
class Bound:
    """SQL and its rows, bound for the driver's executemany (storage.event_batch)."""

    sql: str
    rows: list[list[Any]]

    def run(self, driver: Any) -> int:
        if not self.rows:
            return 0
        try:
            return int(driver.executemany(self.sql, self.rows).rowcount)
        except sqlite3.Error as error:
            raise _as_sqlalchemy(self.sql, self.rows, error) from error


class Prepared:
    """One Core statement, compiled once for SQLite and run there on the driver's cursor.

    `columns` names the columns of an `insert(table)` without values (all of them otherwise).
    """

    def __init__(self, statement: Statement, *, columns: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.columns = list(columns) if columns is not None else None
        self._sqlite: _Compiled | None = None
        self._lock = threading.Lock()

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._sqlite
        if found is None:
            with self._lock:
                found = self._sqlite = self._sqlite or _compile(self.statement, dialect,
                                                                self.columns)
        return found

    def _bind(self, compiled: _Compiled, params: Mapping[str, Any]) -> list[Any]:
        if compiled.defaults:
            params = {**compiled.defaults, **params}
        values = list(compiled.values(params))
        for position, process in compiled.processed:
            value = values[position]
            if value is not None:
                values[position] = process(value)
        return values

    def rowcount(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE; the rows it matched."""
        if conn.dialect.name != "sqlite":
            return int(conn.execute(self.statement, dict(params)).rowcount)
        compiled = self._compiled(conn.dialect)
        return int(_execute(conn, compiled.sql, self._bind(compiled, params)).rowcount)

    def many(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        """Run the statement once per row (the driver's executemany); the rows it matched."""
        if conn.dialect.name != "sqlite":
            batch = [dict(r) for r in rows]
            return int(conn.execute(self.statement, batch).rowcount) if batch else 0
        return self.bound(conn.dialect, rows).run(_driver(conn))

    def bound(self, dialect: Dialect, rows: Iterable[Mapping[str, Any]]) -> Bound:
        """The statement with `rows` bound for SQLite's driver, to run later (elsewhere)."""
        compiled = self._compiled(dialect)
        return Bound(compiled.sql, [self._bind(compiled, r) for r in rows])

    def one_or_none(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """Run a SELECT; its one row (attributes by column name) or None."""
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, dict(params)).one_or_none()
        compiled = self._compiled(conn.dialect)
        rows = _execute(conn, compiled.sql, self._bind(compiled, params)).fetchmany(2)
        if not rows:
            return None
        if len(rows) > 1:
            raise RuntimeError(f"more than one row for {compiled.sql!r}")
        return compiled.row._make(
            raw if process is None or raw is None else process(raw)
            for raw, process in zip(rows[0], compiled.results, strict=True))


class InsertNew:
    """INSERT of whole rows (every one of `columns`), leaving alone any whose `key` is stored
    already; counts what went in. SQLite runs it on the driver (a `Prepared`), whose
    executemany rowcount counts it; PostgreSQL through Core with RETURNING, since psycopg's
    executemany rowcount is -1."""

    def __init__(self, table: Table, *, key: str, columns: Sequence[str]) -> None:
        self._sqlite = Prepared(sqlite_insert(table).on_conflict_do_nothing(index_elements=[key]),
                                columns=columns)
        self._returning = (pg_insert(table).on_conflict_do_nothing(index_elements=[key])
                           .returning(table.c.id))

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        if not rows:
            return 0
        if conn.dialect.name == "sqlite":
            return self._sqlite.many(conn, rows)
        return len(conn.execute(self._returning, [dict(r) for r in rows]).all())


def _execute(conn: Connection, sql: str, values: list[Any]) -> Any:
    try:
        return _driver(conn).execute(sql, values)
    except sqlite3.Error as error:
        raise _as_sqlalchemy(sql, values, error) from error


def _as_sqlalchemy(sql: str, values: Any, error: sqlite3.Error) -> Exception:
    """The error as Core would raise it (IntegrityError, OperationalError …), so that callers
    and the API's error mapping see one kind whichever path ran the statement."""
    return exc.DBAPIError.instance(sql, values, error, sqlite3.Error)


def _row_type(names: list[str]) -> Any:
    return namedtuple("Row", names)


def _driver(conn: Connection) -> Any:
    # The driver's connection, inside the transaction the Connection began (BEGIN IMMEDIATE).
    return conn.connection.driver_connection


def _compile(statement: Statement, dialect: Dialect, columns: list[str] | None) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=columns)
    assert isinstance(compiled, SQLCompiler) and compiled.positional, "SQLite binds by position"
    names = tuple(compiled.positiontup or ())
    binds = {name: compiled.binds[name] for name in names}
    defaults = {name: bind.value for name, bind in binds.items() if not bind.required}
    by_name = {name: bind.type.dialect_impl(dialect).bind_processor(dialect)
               for name, bind in binds.items()}
    processed = tuple((i, p) for i, name in enumerate(names)  # a name may be bound twice
                      if (p := by_name[name]) is not None)
    getter = operator.itemgetter(*names) if len(names) > 1 else _one(names)
    row_type: Any = None
    results: tuple[Processor, ...] = ()
    if isinstance(statement, Select):
        selected = list(statement.selected_columns)
        row_type = _row_type([str(c.key) for c in selected])
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                        for c in selected)
    return _Compiled(compiled.string, names, defaults, getter, processed, row_type, results)


def _one(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    # itemgetter of one name returns the value, not a 1-tuple
    return lambda params: tuple(params[name] for name in names)
