"""The database: an engine for a URL, write transactions that take the lock up front, and the
Alembic upgrade.

SQLite is the embedded default: a file in WAL mode, so readers never wait for the writer, with
`BEGIN IMMEDIATE` for writes so that two writers queue on the lock instead of one failing when
it upgrades a read lock. PostgreSQL is used when the URL says so.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

from engine import texts
from storage.audit_key import AuditKey

AUDIT_KEY_OPTION = "paicha_audit_key"  # storage.audit.key_of reads it

DEFAULT_URL = "sqlite:///paicha.db"
_WRITE = "paicha_write"


def json_text(value: Any) -> str:
    """JSON columns' text: orjson, five times faster than the standard library on the event
    path's values; the standard library where orjson declines (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, ensure_ascii=False)


# orjson reads an integer beyond 64 bits as a float: text with such a run of digits is read by
# the standard library, as is anything orjson refuses (NaN written by another program …)
_LONG_DIGITS = re.compile(r"\d{19}")


def json_value(text: str | bytes) -> Any:
    """A JSON column's value: orjson where it reads exactly what the standard library does."""
    if not _LONG_DIGITS.search(text if isinstance(text, str) else text.decode()):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def write_options() -> dict[str, Any]:
    """Execution options of a connection whose transactions write (they BEGIN IMMEDIATE)."""
    return {_WRITE: True}


def database_url() -> str:
    """The deployment's database: $PAICHA_DATABASE_URL, else the SQLite file `paicha.db`."""
    return os.environ.get("PAICHA_DATABASE_URL") or DEFAULT_URL


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as well, meaning the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Database:
    """One engine and its transaction helpers."""

    def __init__(self, url: str, *, echo: bool = False, audit_key: AuditKey | None = None
                 ) -> None:
        self.url = normalize_url(url)
        self.dialect = self.url.split(":", 1)[0].split("+", 1)[0]
        self.audit_key = audit_key
        kwargs: dict[str, Any] = {"echo": echo, "json_serializer": json_text,
                                  "json_deserializer": json_value}
        if audit_key is not None:  # every connection carries it: audit entries are signed
            kwargs["execution_options"] = {AUDIT_KEY_OPTION: audit_key}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if ":memory:" in self.url or self.url in ("sqlite://", "sqlite:///"):
                raise ValueError(texts.t("errors.db.sqlite_memory_file"))
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that will write: committed on success, rolled back on any error."""
        with self.engine.connect().execution_options(**write_options()) as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's `begin` event emit BEGIN itself, so writes can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def migrations_dir() -> Path:
    """Alembic's scripts, package data of `storage` (storage/migrations), found through the
    import system so that an installed paicha finds its own copy wherever it runs from."""
    found = importlib.resources.files("storage") / "migrations"
    if not isinstance(found, Path):  # a zipped install; pip always unpacks a wheel
        raise RuntimeError(f"the migrations are not files on disk ({found}); install paicha "
                           "with pip")
    return found


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (the newest by default)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(normalize_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rev: str | None = MigrationContext.configure(conn).get_current_revision()
            return rev
    finally:
        engine.dispose()
