"""The migrations build exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables)
from storage.db import current_revision


def test_the_migrated_schema_matches_the_models(database_url: str) -> None:
    assert current_revision(database_url) is not None
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert differences == [], "run alembic revision --autogenerate: models and migrations differ"
