"""The request guard (api.guard) and work off the event loop (api.offload): the token before
the body, body caps while streaming, the time budget, work that stops, an event loop that goes
on answering (issue 11, findings 5, 7 and 12)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from api.app import JSON_BODY_BYTES, create_app
from api.offload import Checkpoint, WorkStopped, offload
from api.services import Services
from engine import document
from tests.support.world import World

HANG_GUARD = 20.0  # seconds; only for a test that would otherwise hang on a regression


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body of `total` bytes sent without a Content-Length (chunked)."""
    sent = 0
    while sent < total:
        part = min(size, total - sent)
        sent += part
        yield b"a" * part


def test_no_token_is_401_before_the_body_is_read(client: TestClient, world: World) -> None:
    # FastAPI parsed this body (a 422) before it asked for the token
    answer = client.post("/orgs", content=b'{"id": "x", "name": ',
                         headers={"Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated"), answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    # a bad token the same, and an unknown route too: nothing is learnt without a token
    for path in ("/orgs", "/no/such/route"):
        answer = client.post(path, content=b"[", headers={"Authorization": "Bearer nope"})
        assert answer.status_code == 401, answer.text
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200


def test_the_token_is_resolved_once(client: TestClient, world: World,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = world.open_hazard()
    tokens = world.services.tokens
    calls: list[str] = []
    resolve = tokens.resolve

    def counted(secret: str) -> Any:
        calls.append(secret)
        return resolve(secret)

    monkeypatch.setattr(tokens, "resolve", counted)
    answer = client.post(f"/cases/{case_id}/events", headers=world.auth("principal"),
                         json={"trigger": "plan", "data": {}})
    assert answer.status_code in (200, 422), answer.text
    assert client.get("/orgs", headers=world.auth("admin")).status_code == 200
    assert len(calls) == 2  # one per request: the guard's, reused by the route


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_bodies_past_their_route_cap_are_413(client: TestClient, world: World,
                                             framing: str) -> None:
    def body(size: int) -> Any:
        return b"a" * size if framing == "content-length" else _chunks(size)

    admin = world.auth("admin")
    for path, media, cap, code in (
            ("/orgs", "application/json", JSON_BODY_BYTES, "body_too_large"),
            ("/campaigns/validate", "application/yaml", document.MAX_BYTES, "body_too_large"),
            ("/campaigns", "application/yaml", document.MAX_BYTES, "body_too_large"),
            ("/units/import", "text/csv", 20 * 1024 * 1024 + 64 * 1024, "import_too_large")):
        answer = client.post(path, content=body(cap + 1),
                             headers={**admin, "Content-Type": media})
        assert (answer.status_code, answer.json()["code"]) == (413, code), (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["limit_bytes"] == cap
    # a JSON body just under its cap is read (and then found wanting, as JSON)
    answer = client.post("/orgs", content=body(JSON_BODY_BYTES),
                         headers={**admin, "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text


def _with(world: World, **settings: Any) -> Services:
    """The world's services under other settings, with a stop flag of their own."""
    return dataclasses.replace(
        world.services, settings=dataclasses.replace(world.services.settings, **settings),
        stopping=threading.Event())


@pytest.mark.usefixtures("chinese")  # the Chinese a person reads by default
def test_a_request_past_its_time_budget_is_503(world: World) -> None:
    services = _with(world, request_seconds=0.2)
    app = create_app(services=services)
    released = threading.Event()
    stopped = threading.Event()

    @app.get("/slow/loop")
    async def slow_on_the_loop() -> Any:
        await asyncio.wait_for(asyncio.Event().wait(), HANG_GUARD)  # only the budget ends it

    @app.get("/slow/thread")
    def slow_on_a_thread() -> Any:
        released.wait(HANG_GUARD)  # runs on to its end: Python cannot stop a thread

    def work(*, checkpoint: Checkpoint) -> None:
        for _ in range(int(HANG_GUARD * 100)):
            try:
                checkpoint()
            except WorkStopped:
                stopped.set()
                raise
            time.sleep(0.01)

    @app.get("/slow/offloaded")
    async def slow_offloaded(request: Request) -> Any:
        return await offload(request, work)

    admin = world.auth("admin")
    with TestClient(app) as client:
        for path in ("/slow/loop", "/slow/thread", "/slow/offloaded"):
            answer = client.get(path, headers=admin)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["code"] == "time_budget_exceeded"
            assert "超过0.2秒的处理时限" in answer.json()["detail"]
        english = client.get("/slow/loop", headers=admin | {"Accept-Language": "en"})
        assert "its budget of 0.2 s" in english.json()["detail"]
        released.set()
        # the offloaded work stopped at its next checkpoint instead of running on
        assert stopped.wait(HANG_GUARD)
        assert client.get("/health").status_code == 200


def test_offloaded_work_stops_when_the_server_stops(world: World) -> None:
    services = _with(world)
    app = create_app(services=services)
    started = threading.Event()
    stopped = threading.Event()

    def work(*, checkpoint: Checkpoint) -> None:
        started.set()
        for _ in range(int(HANG_GUARD * 100)):
            try:
                checkpoint()
            except WorkStopped:
                stopped.set()
                raise
            time.sleep(0.01)

    @app.get("/long")
    async def long(request: Request) -> Any:
        return await offload(request, work)

    answers: list[Any] = []
    with TestClient(app) as client:
        asking = threading.Thread(target=lambda: answers.append(
            client.get("/long", headers=world.auth("admin"))))
        asking.start()
        assert started.wait(HANG_GUARD)
        services.stopping.set()  # what `paicha serve` does on SIGTERM
        asking.join(HANG_GUARD)
    assert stopped.is_set()
    assert (answers[0].status_code, answers[0].json()["code"]) == (503, "server_stopping")


@pytest.mark.parametrize("route", ["/campaigns/validate", "/campaigns"])
def test_the_event_loop_answers_while_a_campaign_is_checked(
        client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch, route: str) -> None:
    entered, release, waited_out = threading.Event(), threading.Event(), threading.Event()
    registry = world.services.registry
    method = "check" if route.endswith("validate") else "publish"
    original = getattr(registry, method)

    def blocking(*args: Any, **kwargs: Any) -> Any:
        # the checking of a large campaign, made to last until /health has answered
        entered.set()
        if not release.wait(HANG_GUARD):
            waited_out.set()
        return original(*args, **kwargs)

    monkeypatch.setattr(registry, method, blocking)
    text = (world.services.settings.campaigns_dir / "special-action-2023.yaml").read_text()
    answers: list[Any] = []
    checking = threading.Thread(target=lambda: answers.append(client.post(
        route, content=text.encode(), headers={**world.auth("admin"),
                                               "Content-Type": "application/yaml"})))
    checking.start()
    try:
        assert entered.wait(HANG_GUARD)
        health = client.get("/health")
    finally:
        release.set()
        checking.join(HANG_GUARD)
    assert health.status_code == 200
    assert not waited_out.is_set(), "/health waited for the campaign's check"
    assert answers[0].status_code in (200, 201), answers[0].text


def test_a_100000_digit_integer_is_a_problem_with_its_line(client: TestClient,
                                                           world: World) -> None:
    text = ("paicha: 1\nid: big-numbers\ntitle: 大数\n"
            f"period: {{start: 2023-05-01, end: {'9' * 100_000}}}\n")
    headers = {**world.auth("admin"), "Content-Type": "application/yaml"}
    answer = client.post("/campaigns/validate", content=text.encode(), headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["valid"] is False
    [problem] = answer.json()["problems"]
    assert (problem["line"], problem["path"]) == (4, "$.period.end"), problem
    assert "100,000 characters" in problem["message"]
    answer = client.post("/campaigns", content=text.encode(), headers=headers)
    assert (answer.status_code, answer.json()["code"]) == (422, "campaign_invalid"), answer.text
