"""A running world for API tests: migrated database, bundled campaigns, the demo data and its
tokens, a fake clock, and an HTTP client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.event_writes import EventWrites
from api.services import Services, Settings, TokenCache, campaign_loader
from engine.access import Principal
from paicha import demo
from paicha.files import bundled_dir
from storage import audit_seal, tokens
from storage.audit_key import ENV_KEY, AuditKey
from storage.bootstrap import prepare
from storage.campaigns import CampaignRegistry
from storage.cases import CaseStore
from storage.db import Database
from tests.support.db import Templates

START = dt.datetime(2023, 6, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


LINYIN = "special-action-2023-linyin"
HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "description": "配电室线路老化", "found_on": "2023-06-01"}


@dataclass
class World:
    services: Services
    clock: FakeClock
    tokens: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def principal(self, name: str) -> Principal:
        """The principal of the demo's token `name`, resolved in the database."""
        with self.services.db.read() as conn:
            found = tokens.resolve(conn, self.tokens[name])
        assert found is not None
        return found

    def open_hazard(self, data: Mapping[str, Any] = HAZARD) -> str:
        """A major hazard of the chemical plant, opened by its principal; its id."""
        with self.services.db.write() as conn:
            stored, _ = self.services.cases.open(
                conn, self.principal("principal"), campaign_id=LINYIN, case_type="hazard",
                unit_id="u-chem-01", data=data, now=self.clock())
        return stored.id


# Built versions never change, and every copy of the template numbers them alike, so each
# test's registry starts from this one's cache (loading the bundled campaigns once, not once
# per test); a fork, because versions a test publishes get ids another test reuses.
_REGISTRY = CampaignRegistry(campaign_loader)


def password(login: str) -> str:
    """The password of a demo person in every world (`paicha serve --demo` prints random
    ones)."""
    return f"{login}-demo-password"


# The audit key of every world: its log is sealed with it, as `paicha serve` leaves a log.
AUDIT_KEY = AuditKey(b"a key for tests, not for a deployment", "tests")


def shell_has_the_worlds_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the commands a test runs against a world's database (`paicha token create`,
    `paicha calendar add` …) that world's audit key, as a deployment gives its key to every
    process that writes: without it they refuse to write to the sealed log."""
    monkeypatch.setenv(ENV_KEY, AUDIT_KEY.secret.decode())


def _build_demo(url: str) -> dict[str, str]:
    db = Database(url, audit_key=AUDIT_KEY)
    try:
        prepare(db, _REGISTRY, bundled_dir(), now=START)
        with db.write() as conn:
            loaded = demo.load(conn, _REGISTRY, now=START, password=password)
            audit_seal.seal(conn, now=START, by="tests")
        assert loaded is not None
        return loaded.tokens
    finally:
        db.dispose()


def world_on(url: str, tokens: dict[str, str]) -> World:
    clock = FakeClock()
    db = Database(url, audit_key=AUDIT_KEY)
    registry = _REGISTRY.fork()
    cases = CaseStore(registry)
    services = Services(Settings(database_url=url, token_cache_seconds=0), db, registry,
                        cases, TokenCache(db, 0, clock), clock, EventWrites(db, cases, clock))
    return World(services, clock, tokens)


@pytest.fixture
def world(backend: str, templates: Templates, tmp_path: Path) -> Iterator[World]:
    """The demo world on a fresh copy of a database where it was loaded once per session."""
    template = templates.derive(backend, "demo", _build_demo)
    tokens = templates.extras[(backend, "demo")]
    assert isinstance(tokens, dict)
    for url in templates.copy(template, tmp_path):
        built = world_on(url, tokens)
        yield built
        built.services.close()


@pytest.fixture
def services(world: World) -> Services:
    return world.services


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(services=world.services)) as test_client:
        yield test_client


def obligations(client: TestClient, world: World, **params: Any) -> list[dict[str, Any]]:
    """Every obligation the admin sees with these filters, following the cursor."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = client.get("/obligations", headers=world.auth("admin"), params={
            "limit": 500, **params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        rows.extend(answer.json()["data"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return rows
