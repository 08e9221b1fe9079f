"""What an operator watches: request ids in headers, problems and log lines; the Prometheus
series after a sweep; `/health` and `/ready` with each of its checks failing; the docs pages
served with their scripts from the package, no CDN."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.services import Services, Settings
from deadlines.outbox import Deliverer
from deadlines.retry import RetryPolicy
from deadlines.scheduler import DeadlineJobs
from paicha import logs
from storage.db import alembic_config
from tests.deadlines.receiver import LOCAL, Receiver, receiver_fixture  # noqa: F401
from tests.deadlines.test_sweep import local, planned_hazard
from tests.support.world import World

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """The process's logging set up as `paicha serve --log-format json` does, into a buffer;
    put back as it was afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level,
             {name: logging.getLogger(name).level for name in logs.NOISY})
    stream = io.StringIO()
    logs.configure("info", "json", stream=stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# -- request ids -------------------------------------------------------------------------------

def test_a_sane_request_id_is_echoed_and_any_other_replaced(client: TestClient) -> None:
    assert client.get("/health", headers={"X-Request-ID": "gw-7f3a:42.b_c"}).headers[
        "X-Request-ID"] == "gw-7f3a:42.b_c"
    for given in ("x" * 65, "two words", "a;b", "<script>", ""):
        answered = client.get("/health", headers={"X-Request-ID": given}).headers
        assert HEX32.fullmatch(answered["X-Request-ID"]), given
    made = {client.get("/health").headers["X-Request-ID"] for _ in range(3)}
    assert len(made) == 3 and all(HEX32.fullmatch(rid) for rid in made)


def test_a_request_id_of_bytes_outside_ascii_or_too_long_is_replaced(client: TestClient) -> None:
    # it goes into log lines and a response header as it is: nothing but the sane set passes
    for given in (b"caf\xc3\xa9", b"\xff\xfe", b"id\x00null", "x" * 8000):
        answered = client.get("/health", headers={"X-Request-ID": given}).headers
        assert HEX32.fullmatch(answered["X-Request-ID"]), given


def test_problem_bodies_carry_the_request_id(client: TestClient, world: World) -> None:
    refused = client.get("/cases", headers={"X-Request-ID": "req-401"})  # the guard's 401
    assert refused.status_code == 401 and refused.json()["request_id"] == "req-401"
    missing = client.get("/cases/nope", headers={**world.auth("admin"),
                                                  "X-Request-ID": "req-404"})
    assert missing.status_code == 404 and missing.json()["request_id"] == "req-404"
    invalid = client.post("/cases", json={"nonsense": 1}, headers=world.auth("principal"))
    assert invalid.status_code == 422
    assert invalid.json()["request_id"] == invalid.headers["X-Request-ID"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Problem"]
    assert "request_id" in schema["properties"]


def test_log_lines_are_json_with_the_request_id(logged: io.StringIO) -> None:
    services = Services.build(Settings(database_url="sqlite:////nonexistent/folder/paicha.db"))
    with TestClient(create_app(services=services)) as unready:
        answer = unready.get("/ready", headers={"X-Request-ID": "probe-1"})
    services.close()
    assert answer.status_code == 503
    [line] = [d for d in _lines(logged) if d.get("action") == "not_ready"]
    assert line["request_id"] == "probe-1" and line["level"] == "WARNING"
    assert line["logger"] == "paicha.readiness" and "error" in line
    assert {"time", "message"} <= set(line)


def test_the_state_machine_library_logs_nothing_on_an_event(world: World) -> None:
    handler_stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("transitions").level)
    try:
        # as a plain INFO setup would: the library's line on every event
        root.setLevel(logging.INFO)
        logging.getLogger("transitions").setLevel(logging.NOTSET)
        plain = logging.StreamHandler(handler_stream)
        root.addHandler(plain)
        planned_hazard(world)
        root.removeHandler(plain)
        assert "Finished processing state" in handler_stream.getvalue()
        stream = io.StringIO()
        logs.configure("info", "json", stream=stream)
        planned_hazard(world)
        assert "Finished processing state" not in stream.getvalue()
        assert not [d for d in _lines(stream) if str(d["logger"]).startswith("transitions")]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("transitions").setLevel(saved[2])


# -- metrics -----------------------------------------------------------------------------------

def _scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(
        "text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples}


def _value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_metrics_after_a_sweep_and_a_delivery_run(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    world.services.settings = dataclasses.replace(world.services.settings, outbound=LOCAL)
    subscribed = client.post("/subscriptions", headers=world.auth("locality"), json={
        "name": "林荫街道值班群", "channel": "webhook", "org": "linyin",
        "config": {"url": f"{receiver.url}/hooks/paicha"}, "kinds": ["remind"]})
    assert subscribed.status_code == 201, subscribed.text
    before = _scrape(client)
    planned_hazard(world)  # opened and planned: the 整改期限 clock runs
    world.clock.now = local("2023-07-24")  # its first reminder due since 09:00
    due = _scrape(client)
    assert due[("paicha_sweep_lag_seconds", ())] >= 600  # due at 09:00, now 09:10
    assert _value(due, "paicha_events_fired_total", campaign="special-action-2023-linyin",
                  case_type="hazard", trigger="plan") == _value(
        before, "paicha_events_fired_total", campaign="special-action-2023-linyin",
        case_type="hazard", trigger="plan") + 1

    DeadlineJobs(world.services.db, world.services.registry, clock=world.clock).sweep()
    swept = _scrape(client)
    assert swept[("paicha_sweep_lag_seconds", ())] == 0
    assert swept[("paicha_timers_claimed_total", ())] > _value(before,
                                                               "paicha_timers_claimed_total")
    pending = swept[("paicha_outbox_depth", (("status", "pending"),))]
    assert pending >= 2  # the log channel's and the subscription's, at least
    assert swept[("paicha_last_sweep_timestamp_seconds", ())] == world.clock().timestamp()

    receiver.answer(500)
    Deliverer(world.services.db, clock=world.clock, policy=RetryPolicy(max_attempts=1),
              outbound=LOCAL).deliver()
    sent = _scrape(client)
    assert sent[("paicha_outbox_depth", (("status", "pending"),))] == 0
    assert sent[("paicha_dead_letters", ())] == sent[("paicha_outbox_depth",
                                                      (("status", "dead"),))] >= 1
    for channel, outcome in (("log", "delivered"), ("webhook", "dead")):
        assert _value(sent, "paicha_deliveries_total", channel=channel, outcome=outcome) > \
            _value(before, "paicha_deliveries_total", channel=channel, outcome=outcome)
    requests = _value(sent, "paicha_http_requests_total", method="POST",
                      route="/subscriptions", status="201")
    assert requests >= 1
    assert _value(sent, "paicha_http_request_duration_seconds_count", method="GET",
                  route="/metrics") >= 3
    assert _value(sent, "paicha_database_up") == 1


def test_request_metrics_use_the_route_template_not_the_path(client: TestClient,
                                                             world: World) -> None:
    for case in ("a1", "b2", "c3"):
        client.get(f"/cases/{case}", headers=world.auth("admin"))
    client.get("/cases/x9")  # the guard's 401, before any route ran
    found = _scrape(client)
    routes = {dict(labels).get("route") for name, labels in found
              if name == "paicha_http_requests_total"}
    assert "/cases/{case_id}" in routes and not any("a1" in str(r) for r in routes)
    assert _value(found, "paicha_http_requests_total", method="GET", route="/cases/{case_id}",
                  status="401") >= 1
    client.get("/no/such/route", headers=world.auth("admin"))
    assert _value(_scrape(client), "paicha_http_requests_total", method="GET",
                  route="unmatched", status="404") >= 1


def test_the_metrics_token_when_one_is_set(client: TestClient, world: World) -> None:
    world.services.settings = dataclasses.replace(world.services.settings,
                                                  metrics_token="scrape-secret")
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    # neither a person's API token nor the secret in another shape opens the metrics
    for sent in (world.auth("admin")["Authorization"], "scrape-secret", "Bearer scrape-secretX",
                 "Bearer scrape-secre", "Basic scrape-secret", "Bearerscrape-secret",
                 "Bearer scrape-secret\u00e9"):
        answer = client.get("/metrics", headers={"Authorization": sent.encode("latin-1")})
        assert answer.status_code == 401, sent
    allowed = client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
    assert allowed.status_code == 200 and "paicha_outbox_depth" in allowed.text
    # the scheme in any case, one or more spaces before the token (RFC 9110 §11.4)
    for sent in ("bearer scrape-secret", "BEARER  scrape-secret"):
        assert client.get("/metrics", headers={"Authorization": sent}).status_code == 200, sent


# -- health and readiness ----------------------------------------------------------------------

def _failed(answer: object) -> list[str]:
    body = answer.json()  # type: ignore[attr-defined]
    return [c["name"] for c in body["checks"] if not c["ok"]]


def test_health_answers_and_ready_follows_the_sweepers_heartbeat(
        client: TestClient, world: World) -> None:
    assert client.get("/health").json()["status"] == "ok"
    unready = client.get("/ready")  # no sweep yet
    assert unready.status_code == 503 and unready.json()["code"] == "not_ready"
    assert _failed(unready) == ["scheduler"]
    DeadlineJobs(world.services.db, world.services.registry, clock=world.clock).sweep()
    ready = client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready" and _failed(ready) == []
    world.clock.advance(seconds=301)  # past PAICHA_READY_SWEEP_SECONDS' default of 300
    stale = client.get("/ready")
    assert stale.status_code == 503 and _failed(stale) == ["scheduler"]
    assert "more than 300 s" in str(stale.json()["checks"])
    world.services.settings = dataclasses.replace(world.services.settings,
                                                  ready_sweep_seconds=0)
    assert client.get("/ready").status_code == 200  # a deployment that asks no scheduler


def test_ready_fails_while_the_migrations_are_behind(client: TestClient, world: World) -> None:
    from alembic import command

    DeadlineJobs(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert client.get("/ready").status_code == 200
    world.services.db.dispose()  # let the downgrade take its locks
    command.downgrade(alembic_config(world.services.db.url), "0009")
    behind = client.get("/ready")
    assert behind.status_code == 503 and _failed(behind) == ["migrations", "scheduler"]
    assert "paicha db upgrade" in str(behind.json()["checks"])


@pytest.mark.parametrize("url", ["sqlite:////nonexistent/folder/paicha.db",
                                 "postgresql+psycopg://paicha@127.0.0.1:1/none"])
def test_ready_fails_when_the_database_does_not_answer(url: str) -> None:
    services = Services.build(Settings(database_url=url))
    try:
        with TestClient(create_app(services=services)) as unreachable:
            assert unreachable.get("/health").status_code == 200  # the process answers
            answer = unreachable.get("/ready")
            metrics = unreachable.get("/metrics")
    finally:
        services.close()
    assert answer.status_code == 503
    assert _failed(answer) == ["database", "migrations", "scheduler"]
    assert "paicha_database_up 0.0" in metrics.text  # the process's own series still served


# -- the docs pages ----------------------------------------------------------------------------

class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_their_scripts_from_this_server(client: TestClient,
                                                            page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200
    parser = _References()
    parser.feed(html.text)
    assert parser.found and all(ref.startswith("/") for ref in parser.found), parser.found
    assert "cdn." not in html.text and "fonts.googleapis" not in html.text
    for ref in parser.found:  # no token needed, like the page
        asset = client.get(ref)
        assert asset.status_code == 200 and len(asset.content) > 500, ref
    assert any(ref.endswith(".js") for ref in parser.found)
    if page == "/docs":  # nor does Swagger UI send the document to validator.swagger.io
        assert '"validatorUrl": null' in html.text
