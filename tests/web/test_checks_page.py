"""The 检查任务 pages: my obligations with the API's filters and pages, one obligation, and
completing it through the form generated from its evidence schema; and the form fields'
values read back from a post (web.forms)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.support.world import World
from tests.web.conftest import Person
from web.forms import Field, field_errors, fields_of, values_from_form

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
    assert re.search(r'<input type="date" id="f-evidence.inspected_at" name="evidence.'
                     r'inspected_at" required', form.text)
    assert '<label for="f-evidence.record">检查记录（存档备查）' in form.text
    assert 'type="number" id="f-evidence.hazards_found"' in form.text
    done = principal.post(f"/ui/checks/{JUNE}", {
        "evidence.inspected_at": "2023-06-01", "evidence.record": "配电室、仓库逐一检查",
        "evidence.hazards_found": "2"}, follow_redirects=False)
    assert done.status_code == 303
    page = principal.get(done.headers["location"])
    assert 'data-status="done"' in page.text and "The completion is recorded" in page.text
    assert "配电室、仓库逐一检查" in page.text and 'name="evidence.record"' not in page.text
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
        "evidence.inspected_at": "2023-06-01", "evidence.record": "",
        "evidence.hazards_found": "-1"})
    assert refused.status_code == 422
    field = re.search(r'<input type="number" id="f-evidence.hazards_found"[^>]*>', refused.text)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0) and 'value="-1"' in field.group(0)
    assert 'aria-describedby="f-evidence.hazards_found-error"' in field.group(0)
    assert re.search(r'id="f-evidence.hazards_found-error">[^<]*minimum', refused.text)
    assert re.search(r'id="f-evidence.record-error">[^<]*required', refused.text)
    assert 'value="2023-06-01"' in refused.text  # what was typed stays
    # a number that does not parse reaches the API as typed, which names it
    typed = principal.post(f"/ui/checks/{JUNE}", {
        "evidence.inspected_at": "2023-06-01", "evidence.record": "记录",
        "evidence.hazards_found": "two"})
    assert typed.status_code == 422
    assert re.search(r'id="f-evidence.hazards_found-error">[^<]*integer', typed.text)
    assert client.get(f"/obligations/{JUNE}", headers=world.auth("principal")
                      ).json()["status"] == "open"


def test_another_units_obligation_is_not_shown(people: People, client: TestClient,
                                               world: World) -> None:
    hotel = people("hotel_principal")
    page = hotel.get(f"/ui/checks/{JUNE}")
    assert page.status_code in (403, 404)
    assert "u-chem-01" not in page.text and "主要负责人带队检查" not in page.text
    posted = hotel.post(f"/ui/checks/{JUNE}", {"evidence.inspected_at": "2023-06-01",
                                               "evidence.record": "x"})
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
        "evidence.inspected_at": "2023-06-01", "evidence.record": "x"})
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
    assert "填报完成情况" in page.text and 'title="必填"' in page.text


# -- the form fields read back (web.forms) ---------------------------------------------------

SCHEMA = {"type": "object", "required": ["on", "count"], "properties": {
    "on": {"type": "string", "format": "date", "title": "日期"},
    "count": {"type": "integer", "minimum": 0},
    "amount": {"type": "number"},
    "passed": {"type": "boolean", "title": "合格"},
    "grade": {"enum": ["general", "major"], "labels": {"major": "重大事故隐患"}},
    "level": {"enum": [1, 2]},
    "at": {"type": "string", "format": "date-time"},
    "note": {"type": "string"}}}


def test_posted_strings_become_the_schemas_types() -> None:
    fields = fields_of(SCHEMA, prefix="e.")
    assert [f.input for f in fields][:2] == ["e.on", "e.count"]
    assert [f.title for f in fields][:2] == ["日期", "count"]
    assert [f.required for f in fields][:3] == [True, True, False]
    posted = {"e.on": "2023-06-01", "e.count": " 3 ", "e.amount": "12.5", "e.passed": "true",
              "e.grade": "major", "e.level": "2", "e.at": "2023-06-01T09:30", "e.note": ""}
    assert values_from_form(posted, fields) == {
        "on": "2023-06-01", "count": 3, "amount": 12.5, "passed": True, "grade": "major",
        "level": 2, "at": "2023-06-01T09:30:00+08:00"}
    # an unticked box is false; what does not parse is passed on for the API to name
    assert values_from_form({"e.count": "3.5", "e.amount": "nan", "e.level": "9"}, fields) == {
        "count": 3.5, "amount": "nan", "passed": False, "level": "9"}
    assert values_from_form({"e.amount": "7"}, fields)["amount"] == 7
    assert fields_of(None) == [] and fields_of({"type": "object"}) == []


def test_problems_are_matched_to_their_fields() -> None:
    fields = [Field("penalties.1", {"type": "integer"}, "次", False, "figure.penalties.1"),
              Field("record", {"type": "string"}, "记录", True, "evidence.record")]
    by_field, rest = field_errors([
        {"path": "$.record", "message": "missing"},
        {"location": "body.figures.penalties.1", "message": "negative"},
        {"location": "body", "message": "unreadable"}], [f.key for f in fields])
    assert by_field == {"record": ["missing"], "penalties.1": ["negative"]}
    assert rest == ["unreadable"]


def test_each_kind_of_field_has_its_input() -> None:
    from web.render import environment

    template = environment.from_string(
        '{% from "_fields.html" import field %}'
        "{% for f in fields %}{{ field(f.input, f.schema, f.title, values.get(f.key),"
        " f.required, errors.get(f.key)) }}{% endfor %}")
    fields = fields_of(SCHEMA, prefix="e.")
    page = template.render(fields=fields, errors={"grade": ["not one of the grades"]},
                           values={"grade": "major", "passed": True, "level": 2,
                                   "note": '<b>"x"</b>', "at": "2023-06-01T09:30"})
    assert '<select id="f-e.grade" name="e.grade" aria-describedby="f-e.grade-error" ' \
           'aria-invalid="true">' in page
    assert '<option value="major" selected>重大事故隐患</option>' in page
    assert '<option value="general">general</option>' in page
    assert '<option value="2" selected>2</option>' in page
    assert re.search(r'<input type="checkbox" id="f-e.passed" name="e.passed" value="true" '
                     r'checked> 合格</label>', page)
    assert '<input type="datetime-local" id="f-e.at" name="e.at" value="2023-06-01T09:30">' \
        in page
    assert 'value="&lt;b&gt;&#34;x&#34;&lt;/b&gt;"' in page  # what was typed is text
    assert '<p class="field-error" id="f-e.grade-error">not one of the grades</p>' in page
    assert page.count('<label for="f-e.') == len(fields)
