"""A case is opened under a campaign that runs: after its end, only one recorded late — found
on a day of the campaign's period (`found_on`, or the case's own 发现日期). The demo world's
林荫街道 plan runs 2023-05-01 to 2023-12-31."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.world import HAZARD, LINYIN, World


def _open(client: TestClient, world: World, data: dict[str, Any], **extra: Any) -> Any:
    return client.post("/cases", headers=world.auth("principal"), json={
        "campaign": LINYIN, "unit": "u-chem-01", "data": data, **extra})


def _after_the_end(world: World) -> None:
    world.clock.advance(days=218)  # 2024-01-05 (START is 2023-06-01)


def test_opening_a_case_after_the_campaign_ended_is_refused(client: TestClient,
                                                            world: World) -> None:
    _after_the_end(world)
    r = _open(client, world, {**HAZARD, "found_on": "2024-01-04"})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert (body["code"], body["campaign"], body["ended"], body["found_on"]) == (
        "campaign_ended", LINYIN, "2023-12-31", "2024-01-04")
    assert "give `found_on`" in body["detail"]


def test_a_case_found_during_the_campaign_is_recorded_late(client: TestClient,
                                                           world: World) -> None:
    _after_the_end(world)
    # its own 发现日期 lies in the period
    assert _open(client, world, {**HAZARD, "found_on": "2023-12-20"}).status_code == 201
    # or the request says when it was found, which fills the case's 发现日期
    data = {k: v for k, v in HAZARD.items() if k != "found_on"}
    r = _open(client, world, data, found_on="2023-12-28")
    assert r.status_code == 201, r.text
    assert r.json()["data"]["found_on"] == "2023-12-28"


def test_found_on_is_a_day_of_the_campaign_not_the_future(client: TestClient,
                                                          world: World) -> None:
    _after_the_end(world)
    data = {k: v for k, v in HAZARD.items() if k != "found_on"}
    future = _open(client, world, data, found_on="2024-02-01")
    assert (future.status_code, future.json()["code"]) == (422, "bad_found_on")
    assert "in the future" in future.json()["detail"]
    early = _open(client, world, data, found_on="2023-04-30")
    assert (early.status_code, early.json()["code"]) == (422, "bad_found_on")
    assert "before campaign" in early.json()["detail"]
    both = _open(client, world, {**HAZARD, "found_on": "2023-12-01"}, found_on="2023-12-02")
    assert (both.status_code, both.json()["code"]) == (422, "bad_found_on")


def test_while_the_campaign_runs_nothing_changes(client: TestClient, world: World) -> None:
    assert _open(client, world, HAZARD).status_code == 201


def test_the_refusal_is_in_the_openapi_document(client: TestClient) -> None:
    responses = client.get("/openapi.json").json()["paths"]["/cases"]["post"]["responses"]
    assert "campaign_ended" in responses["409"]["description"]
    example = responses["409"]["content"]["application/problem+json"]["example"]
    assert example["code"] == "campaign_ended"


def test_a_found_on_that_is_not_a_day_is_refused(client: TestClient, world: World) -> None:
    _after_the_end(world)
    data = {k: v for k, v in HAZARD.items() if k != "found_on"}
    for hostile in ("yesterday", "2023-12-20junk", "2023-13-01", 20231220, True, [], {}):
        r = _open(client, world, data, found_on=hostile)
        assert r.status_code == 422, (hostile, r.text)
    # the case's own 发现日期 is read as a day of the period only when it is one
    r = _open(client, world, {**HAZARD, "found_on": "2023-12-20junk"})
    assert r.status_code == 422, r.text
    assert client.get("/cases", headers=world.auth("admin")).json()["data"] == []


def test_found_on_is_checked_while_the_campaign_runs_too(client: TestClient,
                                                         world: World) -> None:
    data = {k: v for k, v in HAZARD.items() if k != "found_on"}
    future = _open(client, world, data, found_on="2023-06-02")  # today is 2023-06-01
    assert (future.status_code, future.json()["code"]) == (422, "bad_found_on")
    early = _open(client, world, data, found_on="2023-04-30")
    assert (early.status_code, early.json()["code"]) == (422, "bad_found_on")
    r = _open(client, world, data, found_on="2023-06-01")
    assert r.status_code == 201, r.text
    assert r.json()["data"]["found_on"] == "2023-06-01"
