"""Bad input gets a 4xx with a stable code, never a 5xx nor a silent success: forged cursors,
NUL and other text no database stores, unknown body keys and query parameters, methods a path
does not take, malformed bodies (and the token checked before any of them), races on one id."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from storage.subjects import case_t, delivery_t, org_t, unit_t
from tests.support.world import LINYIN, World


def _cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _raw_cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _refused(answer: httpx.Response, code: str = "request_invalid") -> dict[str, Any]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, answer.text
    return body


# -- cursors ---------------------------------------------------------------------------------

INSTANT = "2023-06-01T01:00:00+00:00"
# Forgeries that fit no list: not base64url, not JSON, not a list, too long.
ANY_LIST = ["!!!!", "%%", _raw_cursor(b"not json"), _raw_cursor(b"\xff\xfe"),
            _cursor({"a": 1}), _cursor("x"), _cursor(None), "A" * 600,
            _raw_cursor(b"[" * 300 + b"]" * 300), ""]
# Per list, its sort keys: what each part of a genuine cursor is, and forgeries of each part.
INSTANTS = ["2023-06-01T01:00:00",  # no zone
            "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",  # out of the calendar
            "not a time", 1685581200, None, ["x"]]
KEYS = [1, 10**30, None, "", "a\x00b", "\ud800", "x" * 300, ["x"], {"k": 1}]
ROW_IDS = ["x", "12", " 1", 10**30, 2**31, 0, -1, 1.5, True, None]
DATES = ["2023-13-01", "20230601", "2023-06-01T00:00:00", 20230601, None]
LISTS: dict[str, list[list[Any]]] = {
    "/cases": ([[i, "0123abcd"] for i in INSTANTS] + [[INSTANT, k] for k in KEYS]
               + [[INSTANT], [INSTANT, "a", "b"]]),
    "/deadlines": ([[i, 1] for i in INSTANTS] + [[INSTANT, r] for r in ROW_IDS]
                   + [[INSTANT]]),
    "/obligations": ([[d, 1] for d in DATES] + [["2023-06-01", r] for r in ROW_IDS]
                     + [["2023-06-01", 1, 2]]),
    "/deliveries": [[r] for r in ROW_IDS] + [[1, 2]],
    "/orgs": [[k] for k in KEYS] + [["a", "b"]],
    "/units": [[k] for k in KEYS] + [[]],
}


@pytest.mark.parametrize("path", sorted(LISTS))
def test_a_cursor_not_given_out_is_bad_cursor_on_every_list(
        client: TestClient, world: World, path: str) -> None:
    admin = world.auth("admin")
    forged = [*ANY_LIST, *(_cursor(values) for values in LISTS[path])]
    for cursor in forged:
        answer = client.get(path, params={"cursor": cursor, "limit": 1}, headers=admin)
        assert answer.status_code == 422, (path, cursor, answer.text)
        assert answer.json()["code"] == "bad_cursor", (path, cursor, answer.text)


@pytest.mark.parametrize("path", ["/cases", "/deadlines", "/obligations", "/orgs", "/units"])
def test_the_cursors_given_out_still_page(client: TestClient, world: World, path: str) -> None:
    world.open_hazard()
    world.open_hazard()
    admin = world.auth("admin")
    first = client.get(path, params={"limit": 1}, headers=admin).json()
    assert first["next_cursor"] is not None
    second = client.get(path, params={"limit": 1, "cursor": first["next_cursor"]},
                        headers=admin)
    assert second.status_code == 200, second.text
    assert second.json()["data"] and second.json()["data"] != first["data"]


def test_the_deliveries_cursor_pages_too(client: TestClient, world: World) -> None:
    ids = _dead_letters(world, 3)
    admin = world.auth("admin")
    first = client.get("/deliveries", params={"limit": 2}, headers=admin).json()
    rest = client.get("/deliveries", params={"limit": 2, "cursor": first["next_cursor"]},
                      headers=admin).json()
    assert [d["id"] for d in first["data"] + rest["data"]] == sorted(ids, reverse=True)


# -- text no database stores -----------------------------------------------------------------

def _count(world: World, table: Any) -> int:
    with world.services.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_nul_in_a_path_query_parameter_or_header_is_refused_on_either_database(
        client: TestClient, world: World) -> None:
    case_id = world.open_hazard()
    admin, principal = world.auth("admin"), world.auth("principal")
    for method, url, where in (
            ("GET", "/cases/a%00b", "path"),
            ("GET", "/orgs/linyin%00", "path"),
            ("GET", f"/campaigns/{LINYIN}%00/timeline?org=linyin", "path"),
            ("GET", "/cases?campaign=%00", "query.campaign"),
            ("GET", "/cases?field=grade:%00", "query.field"),
            ("GET", "/cases?field=%00:major", "query.field"),
            ("GET", "/cases?cursor=%00", "query.cursor"),
            ("GET", "/deadlines?org=link%00", "query.org"),
            ("GET", "/deliveries?subject=%00", "query.subject"),
            ("GET", "/orgs?parent=%00", "query.parent"),
            ("GET", "/units?tag=a%00", "query.tag"),
            ("GET", "/obligations?check=%00", "query.check")):
        body = _refused(client.request(method, url, headers=admin))
        assert body["problems"] == [{"location": where, "message": body["problems"][0]
                                     ["message"]}], url
        assert "NUL" in body["detail"], url
    # the event route (read by hand, batched) refuses it before it reaches a batch
    body = _refused(client.post(f"/cases/{case_id}%00/events", headers=principal,
                                json={"trigger": "plan", "data": {}}))
    assert body["problems"][0]["location"] == "path"
    # a header that reaches a query: the idempotency key of a create
    before = _count(world, case_t)
    body = _refused(client.post("/cases", headers={**principal, "Idempotency-Key": "k\x00"},
                                json={"campaign": LINYIN, "unit": "u-chem-01", "data": {}}))
    assert body["problems"][0]["location"] == "header.idempotency-key"
    assert _count(world, case_t) == before


def test_nul_and_lone_surrogates_in_a_body_are_refused_on_either_database(
        client: TestClient, world: World) -> None:
    admin = {**world.auth("admin"), "Content-Type": "application/json"}
    principal = {**world.auth("principal"), "Content-Type": "application/json"}
    orgs, units, cases = _count(world, org_t), _count(world, unit_t), _count(world, case_t)
    hazard = ('"source": "self_inspection", "grade": "major", "industry": '
              '"hazardous_chemicals", "found_on": "2023-06-01"')
    for path, headers, raw, where, says in (
            ("/orgs", admin, '{"id": "c9", "name": "a\\u0000b", "level": "community", '
                             '"parent": "linyin"}', "body.name", "NUL"),
            ("/units", admin, '{"id": "u9", "name": "x", "org": "linyin-c1", '
                              '"tags": ["ok", "b\\u0000"]}', "body.tags", "NUL"),
            ("/cases", principal, f'{{"campaign": "{LINYIN}", "unit": "u-chem-01", "data": '
                                  f'{{{hazard}, "description": "\\u0000"}}}}', "body.data",
             "$.description: text holds a NUL"),
            ("/cases", principal, f'{{"campaign": "{LINYIN}", "unit": "u-chem-01", "data": '
                                  f'{{{hazard}, "description": "\\ud800"}}}}', "body.data",
             "$.description: text holds a lone surrogate"),
            ("/cases", principal, f'{{"campaign": "{LINYIN}", "unit": "u-chem-01", "data": '
                                  f'{{{hazard}, "a\\u0000": "x"}}}}', "body.data",
             "a key holds a NUL")):
        body = _refused(client.post(path, content=raw.encode(), headers=headers))
        assert [p["location"] for p in body["problems"]] == [where], body
        assert says in body["problems"][0]["message"], body
    assert (_count(world, org_t), _count(world, unit_t), _count(world, case_t)) == (
        orgs, units, cases)


def test_field_filters_take_only_field_names(client: TestClient, world: World) -> None:
    world.open_hazard()
    admin = world.auth("admin")
    for item in ("$.grade:major", "grade']:x", "Grade:major", "a-b:x", "a" * 65 + ":x",
                 "0grade:x", "grade", ":major"):
        _refused(client.get("/cases", params={"field": item}, headers=admin), "bad_filter")
    found = client.get("/cases", params={"field": "grade:major"}, headers=admin)
    assert found.status_code == 200 and len(found.json()["data"]) == 1, found.text


# -- unknown keys and parameters -------------------------------------------------------------

def _dead_letters(world: World, count: int) -> list[int]:
    now = world.clock()
    with world.services.db.write() as conn:
        return [conn.execute(insert(delivery_t).values(
            key=f"dead-{n}", channel="log", kind="remind", subject=f"case-{n}", message={},
            org_path="/dongsheng/linyin/", status="dead", attempts=12,
            next_attempt_at=now, created_at=now).returning(delivery_t.c.id)).scalar_one()
            for n in range(count)]


def _statuses(world: World) -> list[str]:
    with world.services.db.read() as conn:
        return list(conn.execute(select(delivery_t.c.status).order_by(delivery_t.c.id))
                    .scalars())


def test_redrive_with_a_misspelt_key_redrives_nothing(client: TestClient, world: World) -> None:
    ids = _dead_letters(world, 3)
    locality = world.auth("locality")
    body = _refused(client.post("/deliveries/redrive", json={"id": [ids[0]]}, headers=locality))
    assert [p["location"] for p in body["problems"]] == ["body.id"]
    assert "did you mean 'ids'" in body["problems"][0]["message"]
    # the ids in the query, the body empty: also refused, not "every dead letter"
    body = _refused(client.post("/deliveries/redrive", params={"ids": ids[0]}, json={},
                                headers=locality))
    assert [p["location"] for p in body["problems"]] == ["query.ids"]
    assert _statuses(world) == ["dead", "dead", "dead"]
    # what the route does take still works
    done = client.post("/deliveries/redrive", json={"ids": [ids[0]]}, headers=locality)
    assert done.json() == {"redriven": 1}
    assert _statuses(world) == ["pending", "dead", "dead"]


def test_unknown_keys_are_refused_on_every_request_model(client: TestClient,
                                                         world: World) -> None:
    case_id = world.open_hazard()
    admin, principal = world.auth("admin"), world.auth("principal")
    with world.services.db.read() as conn:
        obligation = client.get("/obligations", params={"unit": "u-chem-01", "limit": 1},
                                headers=principal).json()["data"][0]["id"]
        versions = {r.id: r.version for r in conn.execute(select(org_t))}
    for method, path, headers, body, key in (
            ("POST", "/orgs", admin, {"id": "c9", "name": "x", "level": "community",
                                      "parent": "linyin", "colour": "red"}, "colour"),
            ("PATCH", "/orgs/linyin-c2", admin, {"nmae": "改名"}, "nmae"),
            ("POST", "/units", admin, {"id": "u9", "name": "x", "org": "linyin-c1",
                                       "parent": "linyin"}, "parent"),
            ("PATCH", "/units/u-mall-01", admin, {"tag": ["x"]}, "tag"),
            ("POST", "/cases", principal, {"campaign": LINYIN, "unit": "u-chem-01",
                                           "state": "closed"}, "state"),
            ("POST", f"/cases/{case_id}/events", principal,
             {"trigger": "plan", "dta": {}}, "dta"),
            ("POST", f"/obligations/{obligation}/completions", principal,
             {"evidence": {}, "late": False}, "late"),
            ("POST", "/subscriptions", admin, {"name": "x", "channel": "log", "org": "linyin",
                                               "secret": "mine"}, "secret"),
            ("POST", f"/campaigns/{LINYIN}/deployments", admin,
             {"org": "linyin", "force": True}, "force")):
        answer = client.request(method, path, json=body, headers=headers)
        problems = _refused(answer)["problems"]
        assert [p["location"] for p in problems] == [f"body.{key}"], (path, problems)
        assert problems[0]["message"].startswith("unknown key"), problems
    assert client.get(f"/cases/{case_id}", headers=principal).json()["version"] == 1
    with world.services.db.read() as conn:
        assert {r.id: r.version for r in conn.execute(select(org_t))} == versions


def test_unknown_and_repeated_query_parameters_are_refused(client: TestClient,
                                                           world: World) -> None:
    admin = world.auth("admin")
    body = _refused(client.get("/cases", params={"stat": "closed"}, headers=admin))
    assert body["problems"] == [{"location": "query.stat",
                                 "message": "unknown query parameter; did you mean 'state'?"}]
    body = _refused(client.get("/orgs?parent=linyin&parent=jiaotong", headers=admin))
    assert body["problems"] == [{"location": "query.parent",
                                 "message": "given 2 times; give it once"}]
    _refused(client.get("/health?x=1"))
    # a list parameter may repeat
    many = client.get("/cases?field=grade:major&field=source:self_inspection", headers=admin)
    assert many.status_code == 200, many.text


# -- methods ---------------------------------------------------------------------------------

def test_a_method_a_path_does_not_take_is_405_with_every_method_it_takes(
        client: TestClient, world: World) -> None:
    admin = world.auth("admin")
    for method, path, allow in (("DELETE", "/cases", "GET, POST"),
                                ("PUT", "/orgs/linyin", "GET, PATCH"),
                                ("GET", "/deliveries/redrive", "POST"),
                                ("DELETE", "/subscriptions", "GET, POST"),
                                ("PUT", "/subscriptions/1", "DELETE, PATCH"),
                                ("PUT", "/campaigns/x/deployments", "GET, POST"),
                                ("OPTIONS", "/orgs/import", "POST"),
                                ("POST", "/openapi.json", "GET, HEAD")):
        answer = client.request(method, path, headers=admin)
        assert answer.status_code == 405, (method, path, answer.text)
        assert answer.headers["allow"] == allow, (method, path)
        assert answer.json()["code"] == "method_not_allowed"
        assert answer.headers["content-type"] == "application/problem+json"


# -- malformed bodies ------------------------------------------------------------------------

JSON = "application/json"
MALFORMED: dict[str, tuple[bytes, str | None, str]] = {
    # name: (body, Content-Type, what the one problem at `body` says)
    "not JSON": (b'{"name": ', JSON, "the body is not JSON"),
    "not UTF-8": (b'{"name": "\xff"}', JSON, "the body is not JSON"),
    "plain text": (b'{"name": "x"}', "text/plain", "the body must be JSON"),
    "a form": (b"name=x", "application/x-www-form-urlencoded", "the body must be JSON"),
    "no content type": (b'{"name": "x"}', None, "the body must be JSON"),
    "empty": (b"", JSON, "the body is empty"),
}
BODY_ROUTES = [("POST", "/orgs"), ("PATCH", "/orgs/linyin-c2"), ("POST", "/units"),
               ("POST", "/cases"), ("POST", "/cases/{case}/events"),
               ("POST", "/deliveries/redrive"), ("POST", "/subscriptions"),
               ("POST", "/obligations/1/completions"),
               ("POST", f"/campaigns/{LINYIN}/deployments")]


def _send(client: TestClient, method: str, path: str, body: bytes, content_type: str | None,
          token: dict[str, str]) -> httpx.Response:
    headers = {**token, **({"Content-Type": content_type} if content_type else {})}
    return client.request(method, path, content=body, headers=headers)


def test_every_malformed_body_is_one_422_on_every_route(client: TestClient,
                                                         world: World) -> None:
    case_id = world.open_hazard()
    admin = world.auth("admin")
    for method, template in BODY_ROUTES:
        path = template.format(case=case_id)
        for name, (body, content_type, says) in MALFORMED.items():
            answer = _send(client, method, path, body, content_type, admin)
            problems = _refused(answer)["problems"]
            assert [p["location"] for p in problems] == ["body"], (path, name, problems)
            assert problems[0]["message"].startswith(says), (path, name, problems)
        # a JSON body of the wrong shape: the same code, located at what is wrong
        for wrong in (b"[1]", b'"x"', b"null"):
            _refused(_send(client, method, path, wrong, JSON, admin))


def test_no_valid_token_is_401_before_anything_about_the_body(client: TestClient,
                                                              world: World) -> None:
    case_id = world.open_hazard()
    for token in ({}, {"Authorization": "Bearer pch_not-a-token"}, {"Authorization": "Basic x"}):
        for method, template in BODY_ROUTES:
            path = template.format(case=case_id)
            bodies = [*MALFORMED.values(), (b"[1]", JSON, ""), (b'{"x": 1}', JSON, "")]
            for body, content_type, _ in bodies:
                answer = _send(client, method, path, body, content_type, token)
                assert answer.status_code == 401, (path, body, token, answer.text)
                assert answer.json()["code"] == "unauthenticated"
        # and before anything about a query or a path
        for url in ("/cases?stat=x", "/cases?limit=0", "/cases/%00", "/orgs?cursor=forged"):
            assert client.get(url, headers=token).status_code == 401, (url, token)


def test_an_empty_campaign_is_a_malformed_body_too(client: TestClient, world: World) -> None:
    for path in ("/campaigns/validate", "/campaigns"):
        answer = client.post(path, content=b"", headers={**world.auth("admin"),
                                                         "Content-Type": "application/yaml"})
        assert _refused(answer)["problems"] == [
            {"location": "body", "message": "the body is empty: send the campaign as YAML text"}]


# -- earlier guarantees ----------------------------------------------------------------------

def test_required_fields_cannot_be_nulled(client: TestClient, world: World) -> None:
    for path, body in (("/orgs/linyin-c2", {"name": None}), ("/orgs/linyin-c2", {"level": None}),
                       ("/units/u-mall-01", {"name": None}), ("/units/u-mall-01", {"tags": None})):
        answer = client.patch(path, json=body, headers=world.auth("admin"))
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "request_invalid"


def test_dates_in_queries_are_dates(client: TestClient, world: World) -> None:
    # pydantic alone reads "0" as 1970-01-01 (a Unix time)
    admin = world.auth("admin")
    for path in ("/cases", "/deadlines", "/obligations"):
        for value in ("0", "1685581200", "2023-6-1"):
            _refused(client.get(path, params={"due_to": value}, headers=admin))
        assert client.get(path, params={"due_to": "2023-06-30"},
                          headers=admin).status_code == 200


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


def test_instants_in_cursors_are_compared_in_utc(client: TestClient, world: World) -> None:
    # a genuine cursor's instant written in another zone is the same instant
    world.open_hazard()
    world.clock.advance(hours=1)
    world.open_hazard()
    admin = world.auth("admin")
    first = client.get("/cases", params={"limit": 1}, headers=admin).json()
    at, last = json.loads(base64.urlsafe_b64decode(first["next_cursor"] + "=="))
    shifted = dt.datetime.fromisoformat(at).astimezone(dt.timezone(dt.timedelta(hours=8)))
    again = client.get("/cases", params={"limit": 1, "cursor": _cursor(
        [shifted.isoformat(), last])}, headers=admin)
    assert again.status_code == 200, again.text
    assert again.json()["data"] == client.get("/cases", params={
        "limit": 1, "cursor": first["next_cursor"]}, headers=admin).json()["data"]
