"""Databases for storage tests: each test gets its own, migrated, on SQLite and on PostgreSQL.

PostgreSQL runs when PAICHA_TEST_POSTGRES_URL points at a server where the user may create
databases; each test gets a database copied from a migrated template, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage.db import normalize_url, upgrade

PG_ENV = "PAICHA_TEST_POSTGRES_URL"
PG_HINT = (f"PostgreSQL storage tests need {PG_ENV}, e.g. "
           f"{PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run sets it)")


def postgres_url() -> str | None:
    url = os.environ.get(PG_ENV)
    return normalize_url(url) if url else None


def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


class Templates:
    """Migrated templates made once per session: a SQLite file and a PostgreSQL database, and
    any further templates built from them (`derive`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._pg: str | None = None
        self._derived: dict[tuple[str, str], str] = {}
        self.extras: dict[tuple[str, str], object] = {}
        self._pg_made: list[str] = []

    def derive(self, backend: str, name: str, build: Callable[[str], object]) -> str:
        """A template `name` made once by `build(url)` from a fresh database; its URL."""
        key = (backend, name)
        if key not in self._derived:
            if backend == "sqlite":
                path = self.folder / f"{name}.db"
                shutil.copy(self.sqlite(), path)
                url = f"sqlite:///{path}"
            else:
                base = postgres_url()
                if base is None:
                    pytest.skip(PG_HINT)
                db_name = f"paicha_tpl_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
                _admin(base, f'DROP DATABASE IF EXISTS "{db_name}"')
                _admin(base, f'CREATE DATABASE "{db_name}" TEMPLATE "{self.postgres(base)}"')
                self._pg_made.append(db_name)
                url = make_url(base).set(database=db_name).render_as_string(
                    hide_password=False)
            self.extras[key] = build(url)
            self._derived[key] = url
        return self._derived[key]

    def copy(self, template_url: str, tmp_path: Path) -> Iterator[str]:
        """A fresh database copied from a template made by `derive`."""
        if template_url.startswith("sqlite"):
            path = tmp_path / "paicha.db"
            shutil.copy(template_url.removeprefix("sqlite:///"), path)
            yield f"sqlite:///{path}"
            return
        base = postgres_url()
        assert base is not None
        template = make_url(template_url).database
        name = f"paicha_t_{uuid.uuid4().hex[:12]}"
        _admin(base, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield make_url(base).set(database=name).render_as_string(hide_password=False)
        finally:
            _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = self.folder / "template.db"
            upgrade(f"sqlite:///{path}")
            self._sqlite = path
        return self._sqlite

    def postgres(self, base: str) -> str:
        if self._pg is None:
            name = f"paicha_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
            _admin(base, f'DROP DATABASE IF EXISTS "{name}"')
            _admin(base, f'CREATE DATABASE "{name}"')
            upgrade(make_url(base).set(database=name).render_as_string(hide_password=False))
            self._pg = name
        return self._pg

    def close(self, base: str | None) -> None:
        if not base:
            return
        for name in [*self._pg_made, *([self._pg] if self._pg else [])]:
            _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.close(postgres_url())


def fresh_database(backend: str, templates: Templates, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of `backend` for one test; its URL."""
    if backend == "sqlite":
        yield from templates.copy(f"sqlite:///{templates.sqlite()}", tmp_path)
        return
    base = postgres_url()
    if base is None:
        pytest.skip(PG_HINT)
    template = make_url(base).set(database=templates.postgres(base))
    yield from templates.copy(template.render_as_string(hide_password=False), tmp_path)


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, templates: Templates,
                 tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(request.param, templates, tmp_path)
