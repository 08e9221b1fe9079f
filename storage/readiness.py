"""Is a database fit for a command: a URL paicha can open, a server that answers, and the
schema at the newest migration. Commands check first, so that a database never set up (or one
an older paicha migrated) gets one sentence with the fix instead of a traceback halfway through.

A serving process asks the same of its own database on every `/ready` (`ready`), and whether
some sweeper finished a sweep lately (storage.heartbeat).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from engine.errors import PaichaError
from storage.db import Database, alembic_config, normalize_url

log = logging.getLogger("paicha.readiness")

UPGRADE_HINT = "run `paicha db upgrade` (or `paicha serve`, which upgrades it first)"


class DatabaseNotReady(PaichaError):
    """The database cannot serve this command as it is; the message says why and the fix."""

    code = "database_not_ready"


def shown(url: str) -> str:
    """The URL as it may be printed: without its password."""
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


def _parsed(url: str) -> URL:
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        raise DatabaseNotReady(
            f"{url!r} is not a database URL; write sqlite:///paicha.db (a file) or "
            "postgresql+psycopg://user@host/db") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise DatabaseNotReady(f"{url}: use a file for SQLite (an in-memory database is one "
                               "per connection); try sqlite:///paicha.db")
    return parsed


@contextmanager
def _connected(url: str) -> Iterator[Connection]:
    """A connection to the database at `url`, or DatabaseNotReady saying why there is none."""
    parsed = _parsed(url)
    try:
        engine = create_engine(parsed, poolclass=NullPool)
    except ImportError as exc:
        extra = (" (pip install 'paicha[postgres]')"
                 if parsed.get_backend_name() == "postgresql" else "")
        raise DatabaseNotReady(f"the driver for {shown(url)} is not installed: {exc}"
                               f"{extra}") from None
    try:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else exc
            where = (" (is its folder there, and may paicha write in it?)"
                     if parsed.get_backend_name() == "sqlite" else "")
            raise DatabaseNotReady(f"cannot open the database {shown(url)}: {reason}"
                                   f"{where}") from None
        with conn:
            yield conn
    finally:
        engine.dispose()


@cache
def _scripts() -> tuple[frozenset[str], frozenset[str]]:
    """This paicha's migration revisions, and the newest (read once: they ship with it)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return (frozenset(s.revision for s in scripts.walk_revisions()),
            frozenset(scripts.get_heads()))


def _current_on(conn: Connection, url: str) -> set[str]:
    """The revisions the database is at; DatabaseNotReady for a database a newer paicha has
    migrated (a revision the scripts do not know)."""
    from alembic.runtime.migration import MigrationContext

    current = set(MigrationContext.configure(conn).get_current_heads())
    known, _ = _scripts()
    unknown = sorted(current - known)
    if unknown:
        raise DatabaseNotReady(
            f"the database {shown(url)} is at revision {unknown[0]}, which this paicha "
            "does not know: a newer paicha has migrated it; run that version")
    return current


def schema_behind(conn: Connection, url: str) -> str | None:
    """Why the database on `conn` is not at this paicha's newest migration, with the fix; None
    when it is (`check_current`, and `/ready`)."""
    try:
        current = _current_on(conn, url)
    except DatabaseNotReady as exc:
        return str(exc)
    _, heads = _scripts()
    if current == heads:
        return None
    if not current:
        return f"the database {shown(url)} is not set up: {UPGRADE_HINT}"
    return (f"the database {shown(url)} is at revision {', '.join(sorted(current))}, this "
            f"paicha needs {', '.join(sorted(heads))}: {UPGRADE_HINT}")


def check_upgradable(url: str) -> None:
    """Refuse a database `paicha db upgrade` (and `serve`, `scheduler`) cannot bring to this
    paicha's schema: a URL it cannot open (unreadable, its driver missing, the server or the
    SQLite file's folder not there), or a database a newer paicha has migrated. A missing
    SQLite file is fine: the upgrade creates it."""
    with _connected(url) as conn:
        _current_on(conn, url)


def check_current(url: str) -> None:
    """Refuse a database that is not at the newest migration, saying to upgrade it. A SQLite
    file that does not exist is reported, not created (a mistyped path would otherwise leave an
    empty database behind)."""
    parsed = _parsed(url)
    if parsed.get_backend_name() == "sqlite" and not Path(str(parsed.database)).exists():
        raise DatabaseNotReady(f"there is no database at {Path(str(parsed.database)).resolve()}"
                               f": {UPGRADE_HINT}, "
                               "or pass --database (or set $PAICHA_DATABASE_URL) for another")
    with _connected(url) as conn:
        reason = schema_behind(conn, url)
    if reason is not None:
        raise DatabaseNotReady(reason)


@dataclass(frozen=True)
class Check:
    """One of `/ready`'s checks: database, migrations, scheduler."""

    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def ready(db: Database, *, now: dt.datetime, sweep_seconds: float) -> list[Check]:
    """May this process serve: its database answers, its schema is this paicha's newest, and
    a sweeper finished a sweep within `sweep_seconds` of `now` (0: not asked, for a deployment
    that runs no scheduler). A check that cannot be made for want of an earlier one fails
    with that reason."""
    from storage import heartbeat  # the tables: not for every command that imports this

    try:
        with db.read() as conn:
            conn.execute(text("SELECT 1"))
            behind = schema_behind(conn, db.url)
            beat = heartbeat.last(conn) if behind is None and sweep_seconds > 0 else None
    except Exception as exc:  # any driver's refusal: the detail stays in the log
        log.warning("readiness: the database does not answer",
                    extra={"action": "not_ready", "error": repr(exc)})
        return [Check("database", False, "the database does not answer (the log says why)"),
                Check("migrations", False, "not checked: no database"),
                Check("scheduler", False, "not checked: no database")]
    checks = [Check("database", True, f"{db.dialect} answers"),
              Check("migrations", behind is None, behind or "at the newest migration")]
    if sweep_seconds <= 0:
        checks.append(Check("scheduler", True, "not checked (PAICHA_READY_SWEEP_SECONDS=0)"))
    elif behind is not None:
        checks.append(Check("scheduler", False, "not checked: the migrations are behind"))
    elif beat is None:
        checks.append(Check("scheduler", False, "no sweeper has finished a sweep yet (is "
                                                "`paicha scheduler` or `paicha serve` "
                                                "without --no-scheduler running?)"))
    else:
        age = (now - beat.swept_at).total_seconds()
        fresh = age <= sweep_seconds
        checks.append(Check("scheduler", fresh, f"last sweep {age:.0f} s ago by "
                            f"{beat.swept_by}" + ("" if fresh else
                                                  f", more than {sweep_seconds:g} s")))
    return checks
