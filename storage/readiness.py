"""Is a database fit for a command: a URL paicha can open, a server that answers, and the
schema at the newest migration. Commands check first, so that a database never set up (or one
an older paicha migrated) gets one sentence with the fix instead of a traceback halfway through.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from engine.errors import PaichaError
from storage.db import alembic_config, normalize_url

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


def _revisions(url: str) -> tuple[set[str], Any]:
    """The revisions the database is at, and this paicha's migration scripts; DatabaseNotReady
    for a database a newer paicha has migrated (a revision the scripts do not know)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    with _connected(url) as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    scripts = ScriptDirectory.from_config(alembic_config(url))
    for revision in sorted(current):
        try:
            scripts.get_revision(revision)
        except CommandError:
            raise DatabaseNotReady(
                f"the database {shown(url)} is at revision {revision}, which this paicha "
                "does not know: a newer paicha has migrated it; run that version") from None
    return current, scripts


def check_upgradable(url: str) -> None:
    """Refuse a database `paicha db upgrade` (and `serve`, `scheduler`) cannot bring to this
    paicha's schema: a URL it cannot open (unreadable, its driver missing, the server or the
    SQLite file's folder not there), or a database a newer paicha has migrated. A missing
    SQLite file is fine: the upgrade creates it."""
    _revisions(url)


def check_current(url: str) -> None:
    """Refuse a database that is not at the newest migration, saying to upgrade it. A SQLite
    file that does not exist is reported, not created (a mistyped path would otherwise leave an
    empty database behind)."""
    parsed = _parsed(url)
    if parsed.get_backend_name() == "sqlite" and not Path(str(parsed.database)).exists():
        raise DatabaseNotReady(f"there is no database at {Path(str(parsed.database)).resolve()}"
                               f": {UPGRADE_HINT}, "
                               "or pass --database (or set $PAICHA_DATABASE_URL) for another")
    current, scripts = _revisions(url)
    heads = set(scripts.get_heads())
    if current == heads:
        return
    if not current:
        raise DatabaseNotReady(f"the database {shown(url)} is not set up: {UPGRADE_HINT}")
    raise DatabaseNotReady(
        f"the database {shown(url)} is at revision {', '.join(sorted(current))}, this paicha "
        f"needs {', '.join(sorted(heads))}: {UPGRADE_HINT}")
