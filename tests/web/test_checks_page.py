"""The 检查任务 pages: my obligations with the API's filters and pages, one obligation, and
completing it through the form generated from its evidence schema; and a refusal's
problems matched to the fields they are about (web.forms)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.support.world import World
from tests.web.conftest import Person
from web.forms import field_errors

People = Callable[[str | None], Person]
ROW = re.compile(r'<tr data-obligation="(\d+)">.*?data-status="(\w+)"', re.S)
# the chemical plant's principal inspections of May (missed) and June (open)
MAY, JUNE = 35, 36


def listed(text: str) -> dict[int, str]:
    return {int(i): status for i, status in ROW.findall(text)}


def test_a_principal_sees_their_open_obligations(people: People, client: TestClient,
                                                 world: World) -> None:
    principal = people("principal")
    page = principal.get("/ui/checks")
    assert page.status_code == 200
    shown = listed(page.text)
    assert shown[JUNE] == "open" and MAY not in shown
    assert set(shown.values()) == {"open"}
    api = client.get("/obligations", headers=world.auth("principal"),
                     params={"status": "open", "limit": 50}).json()
    assert list(shown) == [o["id"] for o in api["data"]]
    missed = listed(principal.get("/ui/checks?status=missed").text)
    assert missed[MAY] == "missed" and JUNE not in missed
    june = listed(principal.get("/ui/checks?status=open&due_from=2023-06-30&due_to=2023-06-30"
                                ).text)
    assert JUNE in june and all(i != MAY for i in june)


def test_the_list_pages_with_the_apis_cursor(people: People, client: TestClient,
                                             world: World) -> None:
    principal = people("principal")
    first = principal.get("/ui/checks?status=")
    link = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert link is not None  # the plant has more than a page of duties over the campaigns
    second = principal.get(link.group(1).replace("&amp;", "&"))
    api = client.get("/obligations", headers=world.auth("principal"), params={"limit": 50})
    following = client.get("/obligations", headers=world.auth("principal"), params={
        "limit": 50, "cursor": api.json()["next_cursor"]})
    assert list(listed(second.text)) == [o["id"] for o in following.json()["data"]]
    assert not set(listed(first.text)) & set(listed(second.text))


def test_a_principal_completes_an_obligation_with_its_evidence(
        people: People, client: TestClient, world: World) -> None:
    principal = people("principal")
    form = principal.get(f"/ui/checks/{JUNE}")
    assert form.status_code == 200
    # the evidence schema as fields: a date input, a required text, a number
    assert re.search(r'<input id="f-inspected_at" name="inspected_at" type="date"[^>]* required',
                     form.text)
    assert '<label for="f-record">检查记录（存档备查）' in form.text
    assert re.search(r'<input id="f-hazards_found" name="hazards_found" type="number"',
                     form.text)
    done = principal.post(f"/ui/checks/{JUNE}", {
        "inspected_at": "2023-06-01", "record": "配电室、仓库逐一检查",
        "hazards_found": "2"}, follow_redirects=False)
    assert done.status_code == 303
    page = principal.get(done.headers["location"])
    assert 'data-status="done"' in page.text and "The completion is recorded" in page.text
    assert "配电室、仓库逐一检查" in page.text and 'name="record"' not in page.text
    read = client.get(f"/obligations/{JUNE}", headers=world.auth("principal")).json()
    assert read["status"] == "done"
    evidence = client.get(f"/obligations/{JUNE}/completions",
                          headers=world.auth("principal")).json()[0]["evidence"]
    assert evidence == {"inspected_at": "2023-06-01", "record": "配电室、仓库逐一检查",
                        "hazards_found": 2}
    assert listed(principal.get("/ui/checks?status=done").text)[JUNE] == "done"


def test_bad_evidence_is_named_beside_its_field(people: People, client: TestClient,
                                                world: World) -> None:
    principal = people("principal")
    refused = principal.post(f"/ui/checks/{JUNE}", {
        "inspected_at": "2023-06-01", "record": "",
        "hazards_found": "-1"})
    assert refused.status_code == 422
    field = re.search(r'<input id="f-hazards_found"[^>]*>', refused.text)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0) and 'value="-1"' in field.group(0)
    assert 'aria-describedby="f-hazards_found-error"' in field.group(0)
    assert re.search(r'id="f-hazards_found-error">[^<]*minimum', refused.text)
    assert re.search(r'id="f-record-error">[^<]*required', refused.text)
    assert 'value="2023-06-01"' in refused.text  # what was typed stays
    # a number that does not parse reaches the API as typed, which names it
    typed = principal.post(f"/ui/checks/{JUNE}", {
        "inspected_at": "2023-06-01", "record": "记录",
        "hazards_found": "two"})
    assert typed.status_code == 422
    assert re.search(r'id="f-hazards_found-error">[^<]*integer', typed.text)
    assert client.get(f"/obligations/{JUNE}", headers=world.auth("principal")
                      ).json()["status"] == "open"


def test_another_units_obligation_is_not_shown(people: People, client: TestClient,
                                               world: World) -> None:
    hotel = people("hotel_principal")
    page = hotel.get(f"/ui/checks/{JUNE}")
    assert page.status_code in (403, 404)
    assert "u-chem-01" not in page.text and "主要负责人带队检查" not in page.text
    posted = hotel.post(f"/ui/checks/{JUNE}", {"inspected_at": "2023-06-01",
                                               "record": "x"})
    assert posted.status_code in (403, 404) and "u-chem-01" not in posted.text
    assert client.get(f"/obligations/{JUNE}", headers=world.auth("principal")
                      ).json()["done"] == 0
    assert JUNE not in listed(hotel.get("/ui/checks?status=").text)
    assert hotel.get("/ui/checks/99999999").status_code == 404
    assert hotel.get("/ui/checks/not-a-number").status_code == 404


def test_completing_wants_the_csrf_token_and_a_session(people: People, client: TestClient,
                                                       world: World) -> None:
    principal = people("principal")
    refused = principal.client.post(f"/ui/checks/{JUNE}", data={
        "inspected_at": "2023-06-01", "record": "x"})
    assert refused.status_code == 403
    assert client.get(f"/obligations/{JUNE}", headers=world.auth("principal")
                      ).json()["done"] == 0
    nobody = people(None).get(f"/ui/checks/{JUNE}", follow_redirects=False)
    assert nobody.status_code == 303 and nobody.headers["location"].startswith("/ui/login")


def test_a_reporting_duty_leads_to_its_report(people: People, client: TestClient,
                                              world: World) -> None:
    community = people("community")
    duties = client.get("/obligations", headers=world.auth("community"),
                        params={"check": "community_dispatch_report", "limit": 1}).json()
    duty = duties["data"][0]
    page = community.get(f"/ui/checks/{duty['id']}")
    assert page.status_code == 200
    assert "report=dispatch" in page.text and 'action="/ui/checks/' not in page.text


@pytest.mark.usefixtures("chinese")
def test_the_pages_speak_chinese(people: People) -> None:
    principal = people("principal")
    assert "检查任务" in principal.get("/ui/checks").text
    page = principal.get(f"/ui/checks/{JUNE}")
    assert "填报完成情况" in page.text and "必填" in page.text


# -- a refusal's problems beside their fields (web.forms) ----------------------------------

def test_problems_are_matched_to_their_fields() -> None:
    by_field = field_errors({"problems": [
        {"path": "$.record", "message": "missing"},
        {"location": "body.figures.penalties.1", "message": "negative"},
        {"location": "body", "message": "unreadable"}]}, ["penalties.1", "1", "record"])
    assert by_field == {"record": "missing", "penalties.1": "negative"}
