"""The authorization matrix: every demo token against every route, inside and outside its scope.

A cell is "allowed" when the answer is neither 401 nor 403 (it may still be 409 or 422 for the
request itself); a denied cell must be 403 with the stated code. Lists are checked for what they
show, since a list answers 200 to everyone but must hold only what the token reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paicha.demo import TOKENS
from storage import tokens
from tests.support.world import World

CAMPAIGN = "special-action-2023-linyin"
HAZARD = {"source": "self_inspection", "grade": "major", "industry": "hazardous_chemicals",
          "description": "配电室线路老化", "found_on": "2023-06-01"}

EVERYONE = frozenset(TOKENS)
LINYIN_OFFICIALS = frozenset({"locality", "acceptance_team", "government", "safety_office"})
ABOVE_LINYIN = LINYIN_OFFICIALS | {"admin", "regulator"}  # reach all of 林荫街道
REACH_CHEM = ABOVE_LINYIN | {"community", "principal"}  # reach unit u-chem-01 (in linyin-c1)
ORG_TOKENS = EVERYONE - {"principal", "hotel_principal"}
# who keeps the register of orgs and units (engine.authority.SUBJECT_ROLES) of 林荫街道: the
# street's safety office and locality; 交通街道's hold the roles but not the subtree
REGISTER_LINYIN = frozenset({"admin", "locality", "safety_office"})
# who runs campaigns in 林荫街道 (engine.authority.CAMPAIGN_ROLES): its safety office
CAMPAIGN_OFFICE_LINYIN = frozenset({"admin", "safety_office"})
CALENDAR_2027 = (Path(__file__).resolve().parents[1] / "data" / "calendars" / "2027-test.yaml"
                 ).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    allowed: frozenset[str]
    body: Callable[[str], Any] | None = None  # token name -> JSON body
    denied_code: str | None = None  # the code every denied cell carries
    raw: str | None = None  # a non-JSON body (YAML)
    raw_csv: str | None = None
    params: dict[str, str] = field(default_factory=dict)


def _unique(prefix: str) -> Callable[[str], dict[str, Any]]:
    # only the keys of the body: an unknown key is refused (422) before any scope check
    where = ({"level": "community", "parent": "linyin-c1"} if prefix == "org"
             else {"org": "linyin-c1"})
    return lambda who: {"id": f"{prefix}-{who}", "name": f"{prefix} {who}", **where}


ROUTES = [
    # reports: an org's report, filings and targets for those who reach the org; filing for
    # those who hold the reporting duty's role there (the community's: `community`)
    Route("report of linyin", "GET", f"/campaigns/{CAMPAIGN}/reports/dispatch", ABOVE_LINYIN,
          params={"org": "linyin", "as_of": "2023-06-30"}, denied_code="out_of_scope"),
    Route("file a report", "POST", f"/campaigns/{CAMPAIGN}/reports/dispatch/submissions",
          frozenset({"admin", "community"}), params={"org": "linyin-c1"},
          body=lambda who: {"period": "2023-06", "figures": {"assisted_orgs": 1}}),
    Route("filings of a community", "GET",
          f"/campaigns/{CAMPAIGN}/reports/dispatch/submissions", ABOVE_LINYIN | {"community"},
          params={"org": "linyin-c1"}, denied_code="out_of_scope"),
    Route("targets of linyin", "GET", "/campaigns/three-year-plan-2024-2026/targets",
          ABOVE_LINYIN, params={"org": "linyin", "as_of": "2024-06-30"},
          denied_code="out_of_scope"),
    Route("ledger of linyin", "GET", f"/campaigns/{CAMPAIGN}/ledgers/work_ledger", ABOVE_LINYIN,
          params={"org": "linyin", "format": "json"}, denied_code="out_of_scope"),
    Route("a case's ledger", "GET", "/cases/{case}/ledger", REACH_CHEM,
          denied_code="out_of_scope"),
    Route("list campaigns", "GET", "/campaigns", EVERYONE),
    Route("read campaign", "GET", f"/campaigns/{CAMPAIGN}", EVERYONE),
    Route("raw campaign", "GET", f"/campaigns/{CAMPAIGN}/raw", EVERYONE),
    Route("resolved campaign", "GET", f"/campaigns/{CAMPAIGN}/resolved", EVERYONE),
    Route("campaign versions", "GET", f"/campaigns/{CAMPAIGN}/versions", EVERYONE),
    Route("campaign version diff", "GET", f"/campaigns/{CAMPAIGN}/versions/diff", EVERYONE,
          params={"from": "1"}),
    Route("diagram", "GET", f"/campaigns/{CAMPAIGN}/diagram", EVERYONE),
    Route("validate", "POST", "/campaigns/validate", EVERYONE, raw="paicha: 1\nid: x\n"),
    Route("publish", "POST", "/campaigns", frozenset({"admin", "safety_office", "other_street"}),
          raw="paicha: 1\nid: x\n", denied_code="forbidden"),
    Route("timeline of linyin", "GET", f"/campaigns/{CAMPAIGN}/timeline", ABOVE_LINYIN,
          params={"org": "linyin", "limit": "5"}, denied_code="out_of_scope"),
    Route("timeline of a unit", "GET", f"/campaigns/{CAMPAIGN}/timeline", REACH_CHEM,
          params={"unit": "u-chem-01", "limit": "5"}, denied_code="out_of_scope"),
    # the first allowed cell deploys, the next gets 409 (allowed, the request's own fault)
    Route("deploy", "POST", "/campaigns/three-year-plan-2024-2026/deployments",
          CAMPAIGN_OFFICE_LINYIN, body=lambda who: {"org": "linyin-c2"}),
    # the first allowed cell undeploys, the next gets 404
    Route("undeploy", "DELETE", "/campaigns/three-year-plan-2024-2026/deployments/linyin",
          CAMPAIGN_OFFICE_LINYIN),
    Route("create org", "POST", "/orgs", REGISTER_LINYIN, body=_unique("org")),
    Route("read org", "GET", "/orgs/linyin-c1", REACH_CHEM, denied_code="out_of_scope"),
    Route("update org", "PATCH", "/orgs/linyin-c2", REGISTER_LINYIN,
          body=lambda who: {"name": f"第二社区（{who}）"}),
    Route("create unit", "POST", "/units", REGISTER_LINYIN, body=_unique("unit")),
    Route("read unit", "GET", "/units/u-chem-01", REACH_CHEM, denied_code="out_of_scope"),
    Route("update unit", "PATCH", "/units/u-chem-01", REGISTER_LINYIN,
          body=lambda who: {"tags": ["major_hazard_source"], "name": f"示例化工（{who}）"}),
    Route("open case", "POST", "/cases", REACH_CHEM,
          body=lambda who: {"campaign": CAMPAIGN, "unit": "u-chem-01", "data": HAZARD},
          denied_code="out_of_scope"),
    Route("read case", "GET", "/cases/{case}", REACH_CHEM, denied_code="out_of_scope"),
    Route("case triggers", "GET", "/cases/{case}/triggers", REACH_CHEM,
          denied_code="out_of_scope"),
    Route("case history", "GET", "/cases/{case}/history", REACH_CHEM,
          denied_code="out_of_scope"),
    # 报送有关部门: the community or the street, for major hazards
    Route("fire refer", "POST", "/cases/{case}/events", frozenset({"community", "locality"}),
          body=lambda who: {"trigger": "refer", "data": {"referred_to": "应急管理局",
                                                          "referred_on": "2023-06-02"}}),
    Route("audit verify", "GET", "/audit/verify", frozenset({"admin"}),
          denied_code="forbidden"),
    Route("list tokens", "GET", "/tokens", frozenset({"admin"}), denied_code="forbidden"),
    Route("revoke token", "DELETE", "/tokens/{token}", frozenset({"admin"}),
          denied_code="forbidden"),
    # lists answer everyone, holding only what the token reaches (checked further down)
    Route("list cases", "GET", "/cases", EVERYONE),
    Route("list units", "GET", "/units", EVERYONE),
    Route("list orgs", "GET", "/orgs", EVERYONE),
    Route("deployments", "GET", f"/campaigns/{CAMPAIGN}/deployments", EVERYONE),
    Route("list obligations", "GET", "/obligations", EVERYONE),
    Route("read obligation", "GET", "/obligations/{obligation}", REACH_CHEM,
          denied_code="out_of_scope"),
    Route("obligation completions", "GET", "/obligations/{obligation}/completions",
          REACH_CHEM, denied_code="out_of_scope"),
    # 主要负责人带队检查: the principal's own duty, nobody else's
    Route("complete obligation", "POST", "/obligations/{obligation}/completions",
          frozenset({"principal"}), body=lambda who: {"evidence": {
              "inspected_at": "2023-06-10", "record": "带队检查记录"}}),
    Route("upcoming deadlines", "GET", "/deadlines", EVERYONE),
    Route("deliveries", "GET", "/deliveries", ORG_TOKENS, denied_code="forbidden"),
    Route("redrive", "POST", "/deliveries/redrive", ORG_TOKENS, body=lambda who: {},
          denied_code="forbidden"),
    Route("list subscriptions", "GET", "/subscriptions", ORG_TOKENS, denied_code="forbidden"),
    # only the offices that run the campaign send its reminders somewhere new
    Route("subscribe", "POST", "/subscriptions",
          frozenset({"admin", "locality", "safety_office"}), body=lambda who: {
              "name": f"{who}的值班群", "channel": "log", "org": "linyin"}),
    Route("rotate secret", "POST", "/subscriptions/{subscription}/rotate-secret",
          frozenset({"admin", "locality", "safety_office"})),
    Route("change subscription", "PATCH", "/subscriptions/{subscription}",
          frozenset({"admin", "locality", "safety_office"}),
          body=lambda who: {"rate_limit": {"messages": 10, "seconds": 60}}),
    # the register's keepers only; rows outside the token's subtree are refused row by row
    # (422), not the whole call
    Route("import orgs", "POST", "/orgs/import", REGISTER_LINYIN | {"other_street"},
          raw_csv="id,name,level,parent\nlinyin-c9,林荫街道第九社区,community,linyin\n",
          denied_code="forbidden"),
    Route("import units", "POST", "/units/import", REGISTER_LINYIN | {"other_street"},
          raw_csv="id,name,org,industry,tags\nu-imp-01,示例导入单位,linyin-c1,other,\n",
          denied_code="forbidden"),
    # the statutory calendar: anyone reads it; a year of it is the administrator's to add
    Route("read calendar", "GET", "/calendar", EVERYONE),
    Route("add calendar year", "PUT", "/calendar/2027", frozenset({"admin"}),
          raw=CALENDAR_2027, denied_code="forbidden"),
]

# DELETE /subscriptions/{id} is covered in tests/deadlines/test_delivery_api.py: the first
# allowed token would delete the record every later cell needs. The public routes need no token
# (tests/api/test_schema_route.py for the schema).
EXEMPT = {("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics"),
          ("GET", "/schema/campaign.json"),
          ("DELETE", "/subscriptions/{subscription_id}")}


def _open_case(client: TestClient, world: World) -> str:
    opened = client.post("/cases", headers=world.auth("principal"), json={
        "campaign": CAMPAIGN, "unit": "u-chem-01", "data": HAZARD})
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def _call(client: TestClient, route: Route, ids: dict[str, str], headers: dict[str, str],
          who: str) -> Any:
    path = route.path
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    if route.raw_csv is not None:
        return client.request(route.method, path, content=route.raw_csv.encode(),
                              headers={**headers, "Content-Type": "text/csv"})
    if route.raw is not None:
        return client.request(route.method, path, content=route.raw, params=route.params,
                              headers={**headers, "Content-Type": "application/yaml"})
    body = route.body(who) if route.body else None
    return client.request(route.method, path, json=body, params=route.params, headers=headers)


def _records(client: TestClient, world: World) -> dict[str, str]:
    """A case, an obligation, a subscription of 林荫街道 and a spare token for the routes that
    need one."""
    duties = client.get("/obligations", params={"unit": "u-chem-01", "check":
                                                "principal_inspection", "status": "open"},
                        headers=world.auth("admin")).json()["data"]
    subscription = client.post("/subscriptions", headers=world.auth("admin"), json={
        "name": "林荫街道值班群", "channel": "webhook", "org": "linyin",
        "config": {"url": "https://hooks.example.org/paicha"}})
    assert subscription.status_code == 201, subscription.text
    with world.services.db.write() as conn:
        spare = tokens.create(conn, name="spare", roles=["community"], scope_kind="org",
                              scope_id="linyin-c2", now=world.clock())
    return {"case": _open_case(client, world), "obligation": str(duties[0]["id"]),
            "subscription": str(subscription.json()["id"]), "token": str(spare.id)}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_each_token_on_each_route(route: Route, client: TestClient, world: World) -> None:
    ids = _records(client, world)
    cells: dict[str, tuple[int, str | None]] = {}
    for who in sorted(TOKENS):
        answer = _call(client, route, ids, world.auth(who), who)
        code = answer.json().get("code") if answer.status_code >= 400 else None
        cells[who] = (answer.status_code, code)
    allowed = {who for who, (status, _) in cells.items() if status not in (401, 403)}
    assert allowed == route.allowed, cells
    denied = {who: cell for who, cell in cells.items() if who not in route.allowed}
    assert all(status == 403 for status, _ in denied.values()), denied
    if route.denied_code:
        assert {code for _, code in denied.values()} <= {route.denied_code}, denied
    assert all(status < 500 for status, _ in cells.values()), cells


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_no_token_or_a_bad_one_is_401(route: Route, client: TestClient, world: World) -> None:
    for headers in ({}, {"Authorization": "Bearer pch_not-a-token"},
                    {"Authorization": "Basic dXNlcjpwYXNz"}):
        answer = _call(client, route, {"case": "any", "obligation": "1",
                                       "subscription": "1", "token": "1"}, headers, "nobody")
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.json()["code"] == "unauthenticated"
        assert answer.headers["www-authenticate"] == "Bearer"


def test_the_health_check_and_docs_need_no_token(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_firing_outside_scope_is_out_of_scope_inside_wrong_role(client: TestClient,
                                                                world: World) -> None:
    case_id = _open_case(client, world)
    body = {"trigger": "refer", "data": {"referred_to": "应急管理局",
                                         "referred_on": "2023-06-02"}}
    codes = {who: client.post(f"/cases/{case_id}/events", json=body,
                              headers=world.auth(who)).json().get("code")
             for who in TOKENS if who not in ("community", "locality")}
    assert codes == {
        "admin": "role_not_allowed", "principal": "role_not_allowed",
        "acceptance_team": "role_not_allowed", "government": "role_not_allowed",
        "safety_office": "role_not_allowed", "regulator": "role_not_allowed",
        "hotel_principal": "out_of_scope", "other_street": "out_of_scope"}


def _ids(client: TestClient, world: World, who: str, path: str) -> set[str]:
    answer = client.get(path, params={"limit": 500}, headers=world.auth(who))
    assert answer.status_code == 200, answer.text
    return {item["id"] for item in answer.json()["data"]}


def test_lists_hold_only_what_the_token_reaches(client: TestClient, world: World) -> None:
    chem_case = _open_case(client, world)
    hotel = client.post("/cases", headers=world.auth("hotel_principal"), json={
        "campaign": "demo-special-action", "unit": "u-hotel-01",
        "data": {**HAZARD, "industry": "fire_safety"}})
    assert hotel.status_code == 201, hotel.text
    hotel_case = hotel.json()["id"]
    expected_cases = {"admin": {chem_case, hotel_case}, "regulator": {chem_case, hotel_case},
                      "principal": {chem_case}, "community": {chem_case},
                      "locality": {chem_case}, "hotel_principal": {hotel_case},
                      "other_street": {hotel_case}}
    for who, cases in expected_cases.items():
        assert _ids(client, world, who, "/cases") == cases, who
    linyin_units = {"u-chem-01", "u-mall-01", "u-site-01"}
    assert _ids(client, world, "locality", "/units") == linyin_units
    assert _ids(client, world, "community", "/units") == {"u-chem-01", "u-site-01"}
    assert _ids(client, world, "principal", "/units") == {"u-chem-01"}
    assert _ids(client, world, "other_street", "/units") == {"u-hotel-01"}
    assert _ids(client, world, "regulator", "/units") == linyin_units | {"u-hotel-01"}
    assert _ids(client, world, "community", "/orgs") == {"linyin-c1"}
    assert _ids(client, world, "principal", "/orgs") == {"dongsheng", "linyin", "linyin-c1"}
    assert _ids(client, world, "other_street", "/orgs") == {"jiaotong", "jiaotong-c1"}


def test_the_matrix_covers_every_operation(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    templates = {name: f"{{{name}}}" for name in ("case", "obligation", "subscription",
                                                   "token")}
    covered = set()
    for route in ROUTES:
        path = route.path.replace(CAMPAIGN, "{campaign_id}").replace(
            "three-year-plan-2024-2026", "{campaign_id}")
        for name, template in templates.items():
            path = path.replace(template, "{" + f"{name}_id" + "}")
        path = path.replace("/deployments/linyin", "/deployments/{org_id}")
        path = path.replace("/orgs/linyin-c1", "/orgs/{org_id}").replace(
            "/orgs/linyin-c2", "/orgs/{org_id}").replace("/units/u-chem-01", "/units/{unit_id}"
            ).replace("/calendar/2027", "/calendar/{year}").replace(
            "/reports/dispatch", "/reports/{report_id}").replace(
            "/ledgers/work_ledger", "/ledgers/{ledger}")
        covered.add((route.method, path))
    assert operations - covered - EXEMPT == set()


def test_deployments_show_only_where_they_concern_the_token(client: TestClient,
                                                           world: World) -> None:
    def orgs(who: str, campaign: str) -> list[str]:
        return [d["org"] for d in client.get(f"/campaigns/{campaign}/deployments",
                                             headers=world.auth(who)).json()]

    assert orgs("principal", "demo-special-action") == []  # it runs in 交通街道 only
    assert orgs("principal", CAMPAIGN) == ["linyin"]
    assert orgs("regulator", "demo-special-action") == ["jiaotong"]  # below the district
    assert orgs("admin", "three-year-plan-2024-2026") == ["linyin"]


def test_an_underscore_in_an_org_id_is_no_wildcard(client: TestClient, world: World) -> None:
    made = client.post("/orgs", headers=world.auth("admin"), json={
        "id": "linyin_c1", "name": "相似编号的社区", "level": "community", "parent": "linyin"})
    assert made.status_code == 201
    assert "linyin_c1" not in _ids(client, world, "principal", "/orgs")


def test_only_the_register_keepers_create_and_change_orgs_and_units(client: TestClient,
                                                                    world: World) -> None:
    """A grid worker, a department or an acceptance team reaching a subtree may read it, not
    rewrite it: a unit moved out of a street leaves its duties and its cases' reminders."""
    attempts = [
        ("community", "POST", "/units", {"id": "u-grid-01", "name": "网格员登记的单位",
                                         "org": "linyin-c1", "industry": "commerce"}),
        ("community", "PATCH", "/units/u-chem-01", {"org": "linyin-c2"}),
        ("community", "POST", "/orgs", {"id": "linyin-c1-g1", "name": "第一网格",
                                        "level": "community", "parent": "linyin-c1"}),
        ("regulator", "PATCH", "/orgs/linyin", {"parent": "jiaotong"}),
        ("regulator", "POST", "/orgs", {"id": "dongsheng-x", "name": "某街道", "level": "street",
                                        "parent": "dongsheng"}),
        ("acceptance_team", "PATCH", "/orgs/linyin-c2", {"name": "改名的社区"}),
        ("government", "PATCH", "/units/u-mall-01", {"tags": []}),
        ("principal", "PATCH", "/units/u-chem-01", {"industry": "other"}),
    ]
    for who, method, path, body in attempts:
        answer = client.request(method, path, json=body, headers=world.auth(who))
        assert answer.status_code == 403, (who, path, answer.text)
        problem = answer.json()
        assert problem["code"] == "forbidden", (who, path, problem)
        assert problem["required_roles"] == ["locality", "safety_office"]
    imported = client.post("/units/import", content=(
        "id,name,org,industry,tags\nu-imp-02,网格员导入,linyin-c1,other,\n").encode(),
        headers={**world.auth("community"), "Content-Type": "text/csv"})
    assert (imported.status_code, imported.json()["code"]) == (403, "forbidden")
    unit = client.get("/units/u-chem-01", headers=world.auth("admin")).json()
    assert (unit["org"], unit["industry"]) == ("linyin-c1", "hazardous_chemicals")
    assert client.get("/orgs/linyin", headers=world.auth("admin")).json()["parent"] == (
        "dongsheng")
    # the street's locality keeps its register, and only its own
    made = client.post("/units", headers=world.auth("locality"), json={
        "id": "u-grid-01", "name": "街道登记的单位", "org": "linyin-c1", "industry": "commerce"})
    assert made.status_code == 201, made.text
    outside = client.post("/units", headers=world.auth("locality"), json={
        "id": "u-grid-02", "name": "别的街道的单位", "org": "jiaotong-c1"})
    assert (outside.status_code, outside.json()["code"]) == (403, "out_of_scope")
