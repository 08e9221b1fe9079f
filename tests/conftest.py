"""Fixtures shared by the storage, API and deadline tests.

The suite speaks English where a test names no language: its assertions on what people read
are written against the English catalogue, the ids and placeholders of which tests/unit/
test_texts.py holds the Chinese one to. Tests of the Chinese default name it (`texts.use`,
`Accept-Language: zh`, `PAICHA_LANG=zh`)."""

import os

import pytest

from engine import texts
from tests.support.db import backend, database_url, templates  # noqa: F401
from tests.support.world import client, services, world  # noqa: F401

SUITE_LANGUAGE = "en"


def pytest_configure(config: pytest.Config) -> None:
    # the commands the tests start in their own processes speak it too
    os.environ["PAICHA_LANG"] = SUITE_LANGUAGE
    texts.set_default(SUITE_LANGUAGE)


@pytest.fixture(autouse=True)
def _suite_language() -> None:
    """A test that changed the default (a `paicha serve --lang`) leaves it as it found it."""
    texts.set_default(SUITE_LANGUAGE)


@pytest.fixture
def chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    """The product's default, Chinese, for a test of what people read by default: for the
    requests and commands of this process and those it starts."""
    monkeypatch.setenv("PAICHA_LANG", "zh")
    texts.set_default("zh")
