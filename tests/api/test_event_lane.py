"""The event route served in front of the framework (api.event_lane) answers every request
exactly as the framework's route does: the same status, headers that matter and problem body,
for successes and for each kind of refusal; and only POST /cases/{id}/events takes the lane."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import event_lane
from api.app import create_app
from tests.support.world import World

PLAN = {"goals_and_tasks": "更换", "measures": "停用", "funds_and_materials": "自筹",
        "responsible": "设备部", "deadline": "2023-07-15", "safety_measures": "巡检"}


@pytest.mark.parametrize(("method", "path", "case_id"), [
    ("POST", "/cases/abc/events", "abc"),
    ("GET", "/cases/abc/events", None),
    ("POST", "/cases//events", None),
    ("POST", "/cases/a/b/events", None),
    ("POST", "/cases/abc/events/", None),
    ("POST", "/cases/abc", None),
    ("POST", "/casesabc/events", None),
])
def test_only_the_event_route_takes_the_lane(method: str, path: str,
                                             case_id: str | None) -> None:
    assert event_lane.case_of({"method": method, "path": path}) == case_id


def _requests(world: World, case_id: str) -> list[tuple[str, dict[str, str], Any]]:
    principal, team = world.auth("principal"), world.auth("acceptance_team")
    return [
        ("plan", principal, {"trigger": "plan", "data": PLAN}),
        ("no token", {}, {"trigger": "submit", "data": {}}),
        ("a stranger's token", {"Authorization": "Bearer pch_nobody"}, {"trigger": "x"}),
        ("wrong state", principal, {"trigger": "accept", "data": {}}),
        ("wrong role", team, {"trigger": "submit", "data": {}}),
        ("stale version", principal, {"trigger": "submit", "data": {}, "version": 1}),
        ("unknown body key", principal, {"trigger": "submit", "dta": {}}),
        ("not JSON", principal, b"{trigger"),
        ("empty body", principal, b""),
        ("field not settable", principal, {"trigger": "submit", "data": {"grade": "general"}}),
        ("missing fields", principal, {"trigger": "submit", "data": {}}),
        ("no such case", principal, {"trigger": "submit", "data": {}}),
    ]


def _answers(world: World, client: TestClient, case_id: str) -> Iterator[tuple[str, Any]]:
    for number, (name, given, body) in enumerate(_requests(world, case_id)):
        target = "nonexistent" if name == "no such case" else case_id
        # the same id both ways: the bodies carry it (request_id)
        headers = {**given, "X-Request-ID": f"lane-{number}"}
        if isinstance(body, bytes):
            response = client.post(f"/cases/{target}/events", content=body,
                                   headers={**headers, "Content-Type": "application/json"})
        else:
            response = client.post(f"/cases/{target}/events", json=body, headers=headers)
        yield name, (response.status_code, response.headers.get("content-type"),
                     response.headers.get("www-authenticate"), response.json())


def test_the_lane_answers_as_the_framework_route_does(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    laned = world.open_hazard()
    framed = world.open_hazard()
    with TestClient(create_app(services=world.services)) as client:
        through_lane = dict(_answers(world, client, laned))
    monkeypatch.setattr(event_lane, "case_of", lambda scope: None)  # the lane stands aside
    with TestClient(create_app(services=world.services)) as client:
        through_framework = dict(_answers(world, client, framed))

    def same(answer: Any, case_id: str) -> Any:
        text = repr(answer).replace(case_id, "<case>")
        return text

    assert through_lane["plan"][0] == 200
    statuses = {name: answer[0] for name, answer in through_lane.items()}
    assert statuses == {"plan": 200, "no token": 401, "a stranger's token": 401,
                        "wrong state": 409, "wrong role": 403, "stale version": 409,
                        "unknown body key": 422, "not JSON": 422, "empty body": 422,
                        "field not settable": 422, "missing fields": 422,
                        "no such case": 404}
    for name in through_lane:
        assert same(through_lane[name], laned) == same(through_framework[name], framed), name
