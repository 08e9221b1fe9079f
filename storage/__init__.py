"""Storage: SQLModel tables, Alembic migrations and the repositories the API and sweep use."""
