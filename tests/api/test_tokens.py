"""Tokens over HTTP: a revoked token is refused at once by the process that revoked it, an
expired one is refused with a clear message, and no cached answer outlives either."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.event_writes import EventWrites
from api.services import Services, Settings, TokenCache, token_cache_seconds
from engine.errors import InputInvalid
from storage import tokens
from storage.cases import CaseStore
from tests.support.world import World

# long enough that only the revocation itself, never the cache lapsing, can explain a refusal
LONG_CACHE = 3600.0


@pytest.fixture
def cached_client(world: World) -> Iterator[TestClient]:
    """An app over the world's database whose token cache keeps answers for an hour."""
    db, clock = world.services.db, world.clock
    cases = CaseStore(world.services.registry)
    services = Services(Settings(database_url=db.url, token_cache_seconds=LONG_CACHE), db,
                        world.services.registry, cases, TokenCache(db, LONG_CACHE, clock),
                        clock, EventWrites(db, cases, clock))
    with TestClient(create_app(services=services)) as client:
        yield client
    services.events.close()


def _issue(world: World, name: str, *, expires_at: dt.datetime | None = None) -> tuple[int, str]:
    with world.services.db.write() as conn:
        issued = tokens.create(conn, name=name, roles=["locality"], scope_kind="org",
                               scope_id="linyin", now=world.clock(), expires_at=expires_at)
    return issued.id, issued.secret


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.usefixtures("chinese")  # the Chinese a person reads by default
def test_a_revoked_token_is_refused_at_once_on_the_revoking_app(cached_client: TestClient,
                                                                world: World) -> None:
    token_id, secret = _issue(world, "离职网格员")
    assert cached_client.get("/units", headers=_bearer(secret)).status_code == 200  # cached
    revoked = cached_client.delete(f"/tokens/{token_id}", headers=world.auth("admin"))
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["state"], revoked.json()["id"]) == ("revoked", token_id)
    refused = cached_client.get("/units", headers=_bearer(secret))
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "unauthenticated"
    assert f"令牌{token_id}已于" in refused.json()["detail"]
    assert "撤销" in refused.json()["detail"]
    # a cached refusal speaks the language of each caller who meets it
    english = cached_client.get("/units", headers=_bearer(secret) | {"Accept-Language": "en"})
    assert f"the bearer token {token_id} was revoked at" in english.json()["detail"]
    again = cached_client.delete(f"/tokens/{token_id}", headers=world.auth("admin"))
    assert (again.status_code, again.json()["code"]) == (404, "not_found")
    assert "该令牌已撤销" in again.json()["detail"]


def test_only_an_admin_revokes_and_lists_tokens(client: TestClient, world: World) -> None:
    token_id, secret = _issue(world, "某社区")
    for who in ("safety_office", "locality", "regulator", "principal"):
        answer = client.delete(f"/tokens/{token_id}", headers=world.auth(who))
        assert (answer.status_code, answer.json()["code"]) == (403, "forbidden"), who
        assert client.get("/tokens", headers=world.auth(who)).status_code == 403
    assert client.get("/units", headers=_bearer(secret)).status_code == 200
    assert client.delete("/tokens/999999", headers=world.auth("admin")).status_code == 404


def test_tokens_list_by_pages_without_secrets(client: TestClient, world: World) -> None:
    later = world.clock() + dt.timedelta(days=90)
    token_id, secret = _issue(world, "有期限的令牌", expires_at=later)
    seen: list[dict[str, object]] = []
    cursor = None
    while True:
        page = client.get("/tokens", params={"limit": 4, **({"cursor": cursor} if cursor
                                                           else {})},
                          headers=world.auth("admin"))
        assert page.status_code == 200, page.text
        seen.extend(page.json()["data"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    ids = [t["id"] for t in seen]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) and token_id in ids
    mine = next(t for t in seen if t["id"] == token_id)
    assert (mine["state"], mine["expires_at"]) == ("active", later.isoformat().replace(
        "+00:00", "Z"))
    assert secret not in page.text and tokens.digest(secret) not in page.text


@pytest.mark.usefixtures("chinese")  # the Chinese a person reads by default
def test_an_expired_token_is_refused_even_from_the_cache(cached_client: TestClient,
                                                         world: World) -> None:
    _, secret = _issue(world, "临时令牌", expires_at=world.clock() + dt.timedelta(hours=12))
    assert cached_client.get("/units", headers=_bearer(secret)).status_code == 200  # cached
    world.clock.advance(hours=11, minutes=59)
    assert cached_client.get("/units", headers=_bearer(secret)).status_code == 200
    world.clock.advance(minutes=1)
    refused = cached_client.get("/units", headers=_bearer(secret))
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == "unauthenticated"
    assert "过期" in refused.json()["detail"]
    english = cached_client.get("/units", headers=_bearer(secret) | {"Accept-Language": "en"})
    assert "expired at" in english.json()["detail"]
    assert refused.headers["www-authenticate"] == "Bearer"


def test_an_expiry_in_the_past_is_refused(world: World) -> None:
    with pytest.raises(InputInvalid, match="in the future"):
        _issue(world, "过期的", expires_at=world.clock() - dt.timedelta(seconds=1))


def test_the_cache_does_not_keep_an_answer_that_raced_a_revocation(world: World) -> None:
    token_id, secret = _issue(world, "竞态")
    cache = TokenCache(world.services.db, LONG_CACHE, world.clock)

    class Revoking:
        """A database whose read revokes the token through `forget` meanwhile, as a
        DELETE /tokens/{id} in another thread would after this lookup read the row."""

        def read(self) -> object:
            cache.forget()
            return world.services.db.read()

    cache.db = Revoking()  # type: ignore[assignment]
    assert cache.resolve(secret).principal is not None  # read before the revocation
    assert cache.cached(secret) is None  # and not kept: the next request reads again
    cache.db = world.services.db
    with world.services.db.write() as conn:
        tokens.revoke(conn, token_id, now=world.clock(), by="test")
    assert cache.resolve(secret).principal is None


@pytest.mark.parametrize("value", ["-1", "301", "nan", "ten", "inf"])
def test_the_cache_setting_is_bounded(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAICHA_TOKEN_CACHE_SECONDS", value)
    with pytest.raises(ValueError, match="PAICHA_TOKEN_CACHE_SECONDS"):
        token_cache_seconds()


def test_the_cache_setting_defaults_to_ten_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAICHA_TOKEN_CACHE_SECONDS", raising=False)
    assert token_cache_seconds() == 10
    monkeypatch.setenv("PAICHA_TOKEN_CACHE_SECONDS", "0")
    assert token_cache_seconds() == 0
