"""Bad input gets a 4xx with a stable code, never a 5xx: cursors, nulls, races on one id."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from fastapi.testclient import TestClient

from tests.support.world import World


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_forged_cursors_are_refused(client: TestClient, world: World) -> None:
    for path, values in (("/cases", ["2023-01-01T00:00:00", "x"]),
                         ("/cases", ["not a time", "x"]),
                         ("/deadlines", ["2023-01-01T00:00:00", 1]),
                         ("/obligations", ["2023-01-01", 10**30])):
        answer = client.get(path, params={"cursor": _cursor(values)},
                            headers=world.auth("admin"))
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["code"] == "bad_cursor"


def test_required_fields_cannot_be_nulled(client: TestClient, world: World) -> None:
    for path, body in (("/orgs/linyin-c2", {"name": None}), ("/orgs/linyin-c2", {"level": None}),
                       ("/units/u-mall-01", {"name": None})):
        answer = client.patch(path, json=body, headers=world.auth("admin"))
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "request_invalid"


def test_creating_one_id_from_many_threads_gives_one_201_and_409s(client: TestClient,
                                                                  world: World) -> None:
    barrier = threading.Barrier(6)
    codes: list[int] = []

    def create() -> None:
        barrier.wait()
        codes.append(client.post("/orgs", headers=world.auth("admin"), json={
            "id": "linyin-c5", "name": "第五社区", "level": "community",
            "parent": "linyin"}).status_code)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [201, 409, 409, 409, 409, 409]


def test_numbers_that_json_has_not_are_refused(client: TestClient, world: World) -> None:
    # Python's JSON parser takes NaN and Infinity; a case must not (PostgreSQL refuses them,
    # and a value stored as something else would break its audit hash).
    case_id = world.open_hazard()
    headers = {**world.auth("principal"), "Content-Type": "application/json"}
    for path, body in ((f"/cases/{case_id}/events",
                        '{"trigger": "plan", "data": {"funds_amount": NaN}}'),
                       (f"/cases/{case_id}/events",
                        '{"trigger": "plan", "data": {"extra": [1, {"x": -Infinity}]}}'),
                       ("/cases", '{"campaign": "special-action-2023-linyin", "unit": '
                                  '"u-chem-01", "data": {"funds_amount": Infinity}}')):
        answer = client.post(path, content=body, headers=headers)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["code"] == "request_invalid"
        assert "finite" in answer.text
    assert client.get(f"/cases/{case_id}", headers=world.auth("principal")).json()["version"] == 1


def test_the_caller_is_checked_before_the_body(client: TestClient, world: World) -> None:
    # a request without a token learns nothing about what a valid body looks like
    answer = client.post("/cases/anything/events", content=b'{"trigger": ""}',
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 401, answer.text
    bad = client.post("/cases/anything/events", content=b'{"trigger": ""',
                      headers={**world.auth("principal"), "Content-Type": "application/json"})
    assert bad.status_code == 422 and bad.json()["code"] == "request_invalid", bad.text
    assert bad.json()["problems"][0]["location"].startswith("body")
