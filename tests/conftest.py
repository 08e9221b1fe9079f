"""Fixtures shared by the storage, API and deadline tests."""

from tests.support.db import backend, database_url, templates  # noqa: F401
from tests.support.world import client, services, world  # noqa: F401
