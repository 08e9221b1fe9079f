"""Reports over HTTP: an org's 调度表 with its children, submissions that complete the reporting
duty, the paper form as XLSX and CSV, ledgers, targets — and the refusals."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
from fastapi.testclient import TestClient

from tests.storage.test_reports import story
from tests.support.world import LINYIN, World

PLAN = "three-year-plan-2024-2026"
REPORT = f"/campaigns/{LINYIN}/reports/dispatch"


def get(client: TestClient, world: World, token: str, path: str = REPORT, **params: Any) -> Any:
    return client.get(path, params=params, headers=world.auth(token))


def submit(client: TestClient, world: World, token: str, org: str | None = None,
           **body: Any) -> Any:
    return client.post(f"{REPORT}/submissions", json=body, headers=world.auth(token),
                       params={"org": org} if org else None)


def test_a_street_reads_its_report_with_each_community(client: TestClient,
                                                       world: World) -> None:
    story(world)
    world.clock.now = dt.datetime(2023, 7, 3, 2, tzinfo=dt.UTC)
    r = get(client, world, "locality", org="linyin", as_of="2023-06-30")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["org"]["id"], body["period"], body["as_of"]) == ("linyin", "2023-06",
                                                                  "2023-06-30")
    assert body["figures"]["self_found"] == 2 and body["figures"]["dept_found"] == 1
    first = body["rows"][0]
    assert (first["id"], first["number"], first["figures"][0]["value"]) == ("self_found", 1, 2)
    children = {c["org"]["id"]: c for c in body["children"]}
    assert set(children) == {"linyin-c1", "linyin-c2"}
    assert children["linyin-c1"]["figures"]["self_found"] == 2
    assert children["linyin-c2"]["figures"]["dept_found"] == 1
    # the 2023-06 reporting duty was due 06-28; nobody submitted by today (07-03)
    assert {c["status"] for c in children.values()} == {"missing"}
    # the same street in July: the site's hazard was re-graded general on 07-05
    assert get(client, world, "locality", org="linyin",
               as_of="2023-07-31").json()["figures"]["self_found"] == 1


def test_reports_are_scoped(client: TestClient, world: World) -> None:
    # another street's token, a community's token above its org, a unit's token
    assert get(client, world, "other_street", org="linyin").status_code == 403
    assert get(client, world, "community", org="linyin").status_code == 403
    r = get(client, world, "principal")
    assert r.status_code == 422 and r.json()["code"] == "org_required"
    assert get(client, world, "principal", org="linyin-c1").status_code == 403
    assert get(client, world, "locality", org="nowhere").status_code == 404
    r = client.get(f"/campaigns/{LINYIN}/reports/nonesuch", params={"org": "linyin"},
                   headers=world.auth("locality"))
    assert r.status_code == 404


def test_a_submission_completes_the_duty_and_a_resubmission_keeps_both(
        client: TestClient, world: World) -> None:
    world.clock.now = dt.datetime(2023, 6, 20, 2, tzinfo=dt.UTC)
    first = submit(client, world, "community", period="2023-06",
                   figures={"assisted_orgs": 2, "penalties.1": 3, "penalties.2": 12.5})
    assert first.status_code == 201, first.text
    assert first.json()["late"] is False and first.json()["replaces"] is None
    assert first.json()["figures"]["self_found"] == 0  # computed, frozen with the manual ones
    duty = client.get("/obligations", params={"check": "community_dispatch_report",
                                              "due_from": "2023-06-01", "due_to": "2023-06-30"},
                      headers=world.auth("community")).json()["data"][0]
    assert duty["status"] == "done"
    world.clock.now = dt.datetime(2023, 7, 3, 2, tzinfo=dt.UTC)  # after the 28th
    again = submit(client, world, "community", period="2023-06",
                   figures={"assisted_orgs": 4})
    assert again.status_code == 201, again.text
    assert again.json()["late"] is True and again.json()["replaces"] == first.json()["id"]
    listed = client.get(f"{REPORT}/submissions", params={"period": "2023-06"},
                        headers=world.auth("locality")).json()
    assert [s["id"] for s in listed] == [again.json()["id"], first.json()["id"]]
    # the street sees the community's latest figures, and adds them up in its own
    street = get(client, world, "locality", org="linyin", as_of="2023-06-30").json()
    c1 = next(c for c in street["children"] if c["org"]["id"] == "linyin-c1")
    assert c1["status"] == "late" and c1["submitted"]["manual"] == {"assisted_orgs": 4}
    assert street["figures"]["assisted_orgs"] == 4
    # the children's filed figures added up, beside the live ones (第二社区 filed nothing)
    assert street["children_submitted"]["assisted_orgs"] == 4
    assert street["children_submitted"]["self_found"] == 0


def test_a_submission_late_from_the_start_is_marked_late(client: TestClient,
                                                         world: World) -> None:
    world.clock.now = dt.datetime(2023, 7, 3, 2, tzinfo=dt.UTC)
    late = submit(client, world, "community", period="2023-06", figures={})
    assert late.status_code == 201 and late.json()["late"] is True
    duty = client.get("/obligations", params={"check": "community_dispatch_report",
                                              "due_from": "2023-06-01", "due_to": "2023-06-30"},
                      headers=world.auth("community")).json()["data"][0]
    assert duty["status"] == "done"


def test_submission_refusals(client: TestClient, world: World) -> None:
    cases = [
        ({"period": "2023-06", "figures": {"self_found": 99}}, 422, "computed_figure"),
        ({"period": "2023-06", "figures": {"nonesuch": 1}}, 422, "unknown_figure"),
        ({"period": "2023-06", "figures": {"assisted_orgs": -1}}, 422, "bad_figure"),
        ({"period": "2023-06", "figures": {"assisted_orgs": "3"}}, 422, "bad_figure"),
        ({"period": "2023-06", "figures": {"media_column": 1}}, 422, "bad_figure"),
        ({"period": "2023-13", "figures": {}}, 422, "bad_period"),
        ({"period": "2023Q2", "figures": {}}, 422, "bad_period"),
        ({"period": "2023-09", "figures": {}}, 422, "period_not_begun"),
    ]
    for body, status, code in cases:
        r = submit(client, world, "community", **body)
        assert (r.status_code, r.json().get("code")) == (status, code), (body, r.text)
    # a unit's token files no org's report; another street's token does not reach this one
    r = submit(client, world, "principal", period="2023-06", figures={}, org="linyin-c1")
    assert r.status_code == 403
    r = submit(client, world, "other_street", period="2023-06", figures={}, org="linyin-c1")
    assert r.status_code == 403
    # the street's locality holds no `community` role, which the community's duty needs
    r = submit(client, world, "locality", period="2023-06", figures={}, org="linyin-c1")
    assert r.status_code == 403 and r.json()["required_roles"] == ["community"]
    assert client.get(f"{REPORT}/submissions", headers=world.auth("locality")).json() == []


def test_a_reporting_duty_is_not_completed_without_the_report(client: TestClient,
                                                              world: World) -> None:
    duty = client.get("/obligations", params={"check": "community_dispatch_report"},
                      headers=world.auth("community")).json()["data"][0]
    r = client.post(f"/obligations/{duty['id']}/completions", json={"evidence": {}},
                    headers=world.auth("community"))
    assert r.status_code == 409 and r.json()["code"] == "report_required"


def test_the_report_as_the_paper_form(client: TestClient, world: World) -> None:
    story(world)
    r = get(client, world, "locality", org="linyin", as_of="2023-06-30", format="xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    assert sheet.cell(1, 1).value == "东胜区林荫街道重大事故隐患专项排查整治行动进展情况调度表"
    assert book.sheetnames[1] == "下级报送情况"
    csv = get(client, world, "locality", org="linyin", as_of="2023-06-30", format="csv")
    assert csv.content.startswith("\ufeff".encode()) and "self_found" not in csv.text
    assert "企业自查发现的重大事故隐患（个）" in csv.text


def test_ledgers(client: TestClient, world: World) -> None:
    ids = story(world)
    r = client.get(f"/cases/{ids['closed']}/ledger", headers=world.auth("principal"))
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "更换线路" in texts and "临时隔离" in texts  # two of the six parts
    assert any("demo government" in t for t in texts)  # the last signature in its box
    # the mall's hazard is not the plant principal's
    assert client.get(f"/cases/{ids['department']}/ledger",
                      headers=world.auth("principal")).status_code == 403
    r = client.get(f"/campaigns/{LINYIN}/ledgers/inspection_list",
                   params={"org": "linyin", "format": "json"}, headers=world.auth("locality"))
    assert r.status_code == 200, r.text
    # major hazards only: the re-graded one is general now
    assert sorted(row["id"] for row in r.json()["rows"]) == sorted(
        [ids["closed"], ids["department"]])
    r = client.get(f"/campaigns/{LINYIN}/ledgers/work_ledger",
                   params={"org": "linyin", "format": "csv", "from": "2023-06-05",
                           "to": "2023-06-05"}, headers=world.auth("locality"))
    assert r.status_code == 200 and r.text.count(ids["regraded"]) == 1
    assert ids["closed"] not in r.text
    r = client.get(f"/campaigns/{LINYIN}/ledgers/rectification_ledger",
                   params={"org": "linyin"}, headers=world.auth("locality"))
    assert len(openpyxl.load_workbook(io.BytesIO(r.content)).worksheets) == 2
    r = client.get(f"/campaigns/{LINYIN}/ledgers/nonesuch", params={"org": "linyin"},
                   headers=world.auth("locality"))
    assert r.status_code == 422
    r = client.get(f"/campaigns/{LINYIN}/ledgers/work_ledger",
                   params={"org": "linyin", "from": "2023-07-01", "to": "2023-06-01"},
                   headers=world.auth("locality"))
    assert r.status_code == 422 and r.json()["code"] == "bad_range"


def test_targets_have_a_status(client: TestClient, world: World) -> None:
    r = client.get(f"/campaigns/{PLAN}/targets",
                   params={"org": "linyin", "as_of": "2024-12-15"}, headers=world.auth("locality"))
    assert r.status_code == 200, r.text
    stock = next(t for t in r.json() if t["id"] == "stock_cleared")
    assert (stock["value"], stock["goal"], stock["status"]) == (0, "≤ 0", "on_track")


def test_the_api_and_the_command_give_the_same_file(client: TestClient, world: World,
                                                     tmp_path: Any) -> None:
    from paicha.cli import main
    story(world)
    world.clock.now = dt.datetime(2023, 7, 3, 2, tzinfo=dt.UTC)
    r = get(client, world, "locality", org="linyin", as_of="2023-06-30", format="xlsx")
    target = tmp_path / "out.xlsx"
    assert main(["report", LINYIN, "dispatch", "--org", "linyin", "--as-of", "2023-06-30",
                 "--format", "xlsx", "-o", str(target),
                 "--database", world.services.settings.database_url]) == 0
    # the command's "today" is the machine's: the children's status may say so differently
    api = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    cli = openpyxl.load_workbook(target).worksheets[0]
    assert [[c.value for c in row] for row in api.iter_rows()] == [
        [c.value for c in row] for row in cli.iter_rows()]


def test_dates_outside_what_a_campaign_records_are_refused(client: TestClient,
                                                          world: World) -> None:
    # the ends of the calendar: a date a day past them cannot even be computed
    for day in ("9999-12-31", "0001-01-01", "1900-01-01"):
        r = get(client, world, "locality", org="linyin", as_of=day)
        assert (r.status_code, r.json()["code"]) == (422, "bad_date"), day
        r = client.get(f"/campaigns/{PLAN}/targets", params={"org": "linyin", "as_of": day},
                       headers=world.auth("locality"))
        assert (r.status_code, r.json()["code"]) == (422, "bad_date"), day
        r = client.get(f"/campaigns/{LINYIN}/ledgers/work_ledger",
                       params={"org": "linyin", "format": "json", "from": day},
                       headers=world.auth("locality"))
        assert (r.status_code, r.json()["code"]) == (422, "bad_date"), day
    # a period long before the campaign records anything
    r = submit(client, world, "community", period="1901-01", figures={})
    assert (r.status_code, r.json()["code"]) == (422, "bad_date")
