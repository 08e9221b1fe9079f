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

from engine import texts
from engine.errors import PaichaError
from storage.db import Database, alembic_config, normalize_url

log = logging.getLogger("paicha.readiness")



def upgrade_hint() -> str:
    """How to bring a database to this paicha's schema, in the current language."""
    return texts.t("errors.db.upgrade_hint")


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
        raise DatabaseNotReady(texts.t("errors.db.not_url", url=url)) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise DatabaseNotReady(texts.t("errors.db.sqlite_memory", url=url))
    return parsed


@contextmanager
def _connected(url: str) -> Iterator[Connection]:
    """A connection to the database at `url`, or DatabaseNotReady saying why there is none."""
    parsed = _parsed(url)
    try:
        engine = create_engine(parsed, poolclass=NullPool)
    except ImportError as exc:
        extra = (texts.t("errors.db.no_driver.postgres")
                 if parsed.get_backend_name() == "postgresql" else "")
        raise DatabaseNotReady(texts.t("errors.db.no_driver", url=shown(url), error=exc,
                                       extra=extra)) from None
    try:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else exc
            where = (texts.t("errors.db.cannot_open.sqlite")
                     if parsed.get_backend_name() == "sqlite" else "")
            raise DatabaseNotReady(texts.t("errors.db.cannot_open", url=shown(url),
                                           reason=reason, where=where)) from None
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
        raise DatabaseNotReady(texts.t("errors.db.newer", url=shown(url), revision=unknown[0]))
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
        return texts.t("errors.db.not_set_up", url=shown(url), hint=upgrade_hint())
    return texts.t("errors.db.behind", url=shown(url), current=", ".join(sorted(current)),
                   heads=", ".join(sorted(heads)), hint=upgrade_hint())


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
        raise DatabaseNotReady(texts.t("errors.db.missing",
                                       path=Path(str(parsed.database)).resolve(),
                                       hint=upgrade_hint()))
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
        return [Check("database", False, texts.t("errors.ready.no_answer")),
                Check("migrations", False, texts.t("errors.ready.no_database")),
                Check("scheduler", False, texts.t("errors.ready.no_database"))]
    checks = [Check("database", True, texts.t("errors.ready.answers", dialect=db.dialect)),
              Check("migrations", behind is None, behind or texts.t("errors.ready.newest"))]
    if sweep_seconds <= 0:
        checks.append(Check("scheduler", True, texts.t("errors.ready.not_asked")))
    elif behind is not None:
        checks.append(Check("scheduler", False, texts.t("errors.ready.behind")))
    elif beat is None:
        checks.append(Check("scheduler", False, texts.t("errors.ready.no_sweep")))
    else:
        age = (now - beat.swept_at).total_seconds()
        fresh = age <= sweep_seconds
        checks.append(Check("scheduler", fresh, texts.t(
            "errors.ready.last_sweep", age=f"{age:.0f}", by=beat.swept_by,
            stale="" if fresh else texts.t("errors.ready.stale",
                                          seconds=f"{sweep_seconds:g}"))))
    return checks
