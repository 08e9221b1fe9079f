"""The 调度表 page: the API's figures for the same org and date, the link down to each child,
who has not submitted, filing through the form, the XLSX downloads, and who may not see it."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api.exports import XLSX
from tests.support.world import LINYIN, World
from tests.web.conftest import Person

People = Callable[[str | None], Person]
DISPATCH = f"/campaigns/{LINYIN}/reports/dispatch"
FIGURE = re.compile(r'data-key="([^"]+)" data-value=\'([^\']*)\'')


def page_figures(text: str) -> dict[str, Any]:
    """The figures a page shows, by key, as the values its cells carry."""
    return {key: json.loads(html.unescape(value)) for key, value in FIGURE.findall(text)}


def api_figures(client: TestClient, world: World, **params: str) -> dict[str, Any]:
    answer = client.get(DISPATCH, headers=world.auth("safety_office"), params=params)
    assert answer.status_code == 200, answer.text
    return {f["key"]: f["value"] for row in answer.json()["rows"] for f in row["figures"]}


def not_submitted(text: str) -> list[str]:
    found = re.search(r'<ul aria-labelledby="h-not-submitted"[^>]*>(.*?)</ul>', text, re.S)
    return re.findall(r'data-child="([^"]+)"', found.group(1)) if found else []


def test_the_page_shows_the_figures_the_api_gives_for_the_org_and_date(
        people: People, client: TestClient, world: World) -> None:
    world.open_hazard()  # a major hazard the chemical plant found itself, on 2023-06-01
    office = people("safety_office")
    today = office.get("/ui/reports")
    assert today.status_code == 200
    shown = page_figures(today.text)
    assert shown == api_figures(client, world, org="linyin", as_of="2023-06-01")
    assert shown["self_found"] == 1 and "penalties.2" in shown
    # the day before, the hazard was not found yet: the page follows the date asked for
    before = office.get(f"/ui/reports?campaign={LINYIN}&report=dispatch&as_of=2023-05-31")
    assert page_figures(before.text) == api_figures(client, world, org="linyin",
                                                    as_of="2023-05-31")
    assert page_figures(before.text)["self_found"] == 0
    assert 'value="2023-05-31"' in before.text


def test_another_campaigns_report_is_chosen_from_those_deployed(
        people: People, client: TestClient, world: World) -> None:
    plan = "three-year-plan-2024-2026"
    office = people("safety_office")
    page = office.get(f"/ui/reports?campaign={plan}&report=work_summary")
    assert page.status_code == 200
    assert f'<option value="{plan}" selected>' in page.text
    answer = client.get(f"/campaigns/{plan}/reports/work_summary",
                        headers=world.auth("safety_office"), params={"org": "linyin"})
    assert page_figures(page.text) == {f["key"]: f["value"] for row in answer.json()["rows"]
                                       for f in row["figures"]}
    # a campaign not deployed at or above the org is not offered
    assert office.get("/ui/reports?campaign=special-action-2023-chongming").status_code == 404


def test_a_setup_account_sees_the_report_where_the_campaign_runs(
        people: People, client: TestClient, world: World) -> None:
    world.open_hazard()
    page = people("admin").get(f"/ui/reports?campaign={LINYIN}")
    assert page.status_code == 200 and "Org: 林荫街道 ·" in page.text
    assert page_figures(page.text) == api_figures(client, world, org="linyin",
                                                  as_of="2023-06-01")


def test_each_child_links_down_to_its_own_report(
        people: People, client: TestClient, world: World) -> None:
    world.open_hazard()
    office = people("safety_office")
    page = office.get("/ui/reports")
    link = re.search(r'<tr data-child="linyin-c1">.*?href="([^"]+)"', page.text, re.S)
    assert link is not None
    child = office.get(html.unescape(link.group(1)))
    assert child.status_code == 200
    assert "林荫街道第一社区" in child.text and 'name="org" value="linyin-c1"' in child.text
    assert page_figures(child.text) == api_figures(client, world, org="linyin-c1",
                                                   as_of="2023-06-01")
    assert page_figures(child.text)["self_found"] == 1
    # from the child's page, back up to the street's
    assert 'href="/ui/reports?campaign=' in child.text


def test_the_children_who_have_not_submitted_are_listed(
        people: People, client: TestClient, world: World) -> None:
    office = people("safety_office")
    assert not_submitted(office.get("/ui/reports").text) == ["linyin-c1", "linyin-c2"]
    filed = client.post(f"{DISPATCH}/submissions", headers=world.auth("community"),
                        params={"org": "linyin-c1"}, json={"period": "2023-06"})
    assert filed.status_code == 201, filed.text
    page = office.get("/ui/reports")
    assert not_submitted(page.text) == ["linyin-c2"]
    assert re.search(r'<tr data-child="linyin-c1">.*?data-status="submitted"', page.text, re.S)
    # past the due date the one left is missing, not merely not yet
    world.clock.advance(days=30)
    # a new session (the first has expired), for the June report
    late = people("safety_office").get("/ui/reports?as_of=2023-06-30")
    assert not_submitted(late.text) == ["linyin-c2"]
    assert re.search(r'<tr data-child="linyin-c2">.*?data-status="missing"', late.text, re.S)


def test_a_report_filed_through_the_form_is_the_apis(
        people: People, client: TestClient, world: World) -> None:
    community = people("community")
    form = community.get("/ui/reports")
    assert 'name="penalties.2"' in form.text and 'type="checkbox"' in form.text
    sent = community.post("/ui/reports/submissions", {
        "campaign": LINYIN, "report": "dispatch", "org": "linyin-c1", "as_of": "2023-06-01",
        "period": "2023-06", "penalties.1": "3", "penalties.2": "12.5",
        "media_column": "true", "accountability": ""}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    after = community.get(sent.headers["location"])
    assert "The report is submitted" in after.text and "data-submission=" in after.text
    listed = client.get(f"{DISPATCH}/submissions", headers=world.auth("community"),
                        params={"org": "linyin-c1", "period": "2023-06"}).json()
    assert len(listed) == 1
    # typed as the form's figures are, the empty one left out
    assert listed[0]["manual"] == {"penalties.1": 3, "penalties.2": 12.5, "media_column": True}
    # the duty it fills is done
    duty = client.get("/obligations/14", headers=world.auth("community")).json()
    assert duty["status"] == "done"
    assert page_figures(after.text)["penalties.2"] == 12.5


def test_a_figure_the_api_refuses_is_shown_beside_the_form(people: People,
                                                           client: TestClient,
                                                           world: World) -> None:
    community = people("community")
    refused = community.post("/ui/reports/submissions", {
        "campaign": LINYIN, "report": "dispatch", "org": "linyin-c1", "as_of": "2023-06-01",
        "period": "2023-06", "penalties.1": "-2"})
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text and "penalties.1" in refused.text
    assert 'name="penalties.1"' in refused.text and 'value="-2"' in refused.text
    assert client.get(f"{DISPATCH}/submissions", headers=world.auth("community"),
                      params={"org": "linyin-c1"}).json() == []
    # one the person may not file (the street's needs the locality's role) is refused too
    office = people("safety_office")
    forbidden = office.post("/ui/reports/submissions", {
        "campaign": LINYIN, "report": "dispatch", "org": "linyin", "period": "2023-06"})
    assert forbidden.status_code == 403 and 'role="alert"' in forbidden.text


def test_the_report_and_the_ledgers_download_as_the_apis_xlsx(people: People,
                                                              world: World) -> None:
    world.open_hazard()
    office = people("safety_office")
    page = office.get("/ui/reports")
    link = re.search(r'href="(/ui/reports/download\?[^"]+)"', page.text)
    assert link is not None
    answer = office.get(html.unescape(link.group(1)))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in answer.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    cells = [str(c) for row in book.worksheets[0].iter_rows(values_only=True) for c in row if c]
    assert any("调度表" in c for c in cells)
    ledger = re.search(r'href="(/ui/reports/ledgers/rectification_ledger\?[^"]+)"', page.text)
    assert ledger is not None
    sheet = office.get(html.unescape(ledger.group(1)))
    assert sheet.status_code == 200 and sheet.headers["content-type"] == XLSX
    assert openpyxl.load_workbook(io.BytesIO(sheet.content)).worksheets
    assert office.get("/ui/reports/ledgers/no_such_ledger").status_code == 404


def test_a_principal_has_no_reports(people: People) -> None:
    principal = people("principal")
    assert 'href="/ui/reports"' not in principal.get("/ui/").text
    refused = principal.get("/ui/reports")
    assert refused.status_code == 403 and "<h1>Not allowed</h1>" in refused.text
    assert principal.get("/ui/reports/download").status_code == 403
    assert principal.post("/ui/reports/submissions", {"campaign": LINYIN}).status_code == 403
    assert 'href="/ui/reports"' in people("safety_office").get("/ui/").text


def test_an_org_out_of_scope_is_refused_without_its_report(people: People) -> None:
    office = people("safety_office")
    other = office.get(f"/ui/reports?campaign={LINYIN}&org=jiaotong")
    assert other.status_code == 403
    assert "jiaotong" not in other.text and "data-key=" not in other.text
    assert office.get(f"/ui/reports/download?campaign={LINYIN}&org=jiaotong"
                      ).status_code == 403


def test_a_bad_date_is_named_on_the_page(people: People) -> None:
    office = people("safety_office")
    bad = office.get(f"/ui/reports?campaign={LINYIN}&as_of=2023-02-30")
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and 'role="alert"' in bad.text


def test_filing_wants_the_csrf_token_and_a_session(people: People, client: TestClient,
                                                   world: World) -> None:
    community = people("community")
    refused = community.client.post("/ui/reports/submissions", data={
        "campaign": LINYIN, "report": "dispatch", "org": "linyin-c1", "period": "2023-06"})
    assert refused.status_code == 403
    assert client.get(f"{DISPATCH}/submissions", headers=world.auth("community"),
                      params={"org": "linyin-c1"}).json() == []
    nobody = people(None).get("/ui/reports", follow_redirects=False)
    assert nobody.status_code == 303 and nobody.headers["location"].startswith("/ui/login")


@pytest.mark.usefixtures("chinese")
def test_the_page_speaks_chinese(people: People) -> None:
    page = people("safety_office").get("/ui/reports")
    assert "下级报送情况" in page.text and "未报送单位" in page.text
    assert "报送本期调度表（2023-06）" in page.text and "尚未报送" in page.text


def test_the_page_opens_on_a_campaign_that_runs_today(people: Callable[[str | None], Person],
                                                      world: World) -> None:
    world.clock.now = dt.datetime(2024, 6, 3, 1, 0, tzinfo=dt.UTC)  # Linyin's 2023 plan ended
    page = people("safety_office").get("/ui/reports")
    assert page.status_code == 200
    assert '<option value="three-year-plan-2024-2026" selected>' in page.text
    assert '<option value="special-action-2023-linyin">' in page.text  # still offered
