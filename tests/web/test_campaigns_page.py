"""行动 pages: the published campaigns, a campaign's plan (phases with days left, checks, case
types with their lifecycle diagrams, reports, versions), its timeline for chosen units, and the
check of a campaign file with each problem's line; refusals as carefully as answers."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.document import MAX_BYTES
from paicha.files import bundled_dir
from tests.support.world import LINYIN, World
from tests.web.conftest import Person

People = Callable[[str | None], Person]
INVALID = Path(__file__).resolve().parents[1] / "campaigns" / "invalid"
TYPO = INVALID / "030-unknown-role-in-check.yaml"  # `who: principle`, on line 34


def _rows(page: str, attribute: str) -> list[str]:
    return re.findall(rf'<tr {attribute}="([^"]*)"', page)


def test_the_list_shows_every_published_campaign_and_where_it_runs(people: People) -> None:
    page = people("safety_office").get("/ui/campaigns")
    assert page.status_code == 200
    assert {LINYIN, "special-action-2023", "three-year-plan-2024-2026"} <= set(
        _rows(page.text, "data-campaign"))
    row = page.text.split(f'<tr data-campaign="{LINYIN}">')[1].split("</tr>")[0]
    assert "林荫街道关于重大事故隐患专项排查整治2023行动实施方案" in row
    assert "鄂尔多斯市东胜区林荫街道办事处" in row  # its issuer
    assert "2023-05-01 to 2023-12-31" in row
    assert '<span class="badge ok">linyin</span>' in row  # deployed at the street
    assert f'href="/ui/campaigns/{LINYIN}"' in row
    parent = page.text.split('<tr data-campaign="special-action-2023">')[1].split("</tr>")[0]
    assert "not deployed" in parent and "国务院安委会" in parent


def test_a_principal_reads_the_campaigns_but_sees_only_the_deployments_over_its_unit(
        people: People) -> None:
    page = people("hotel_principal").get("/ui/campaigns")  # a unit of the other street
    assert page.status_code == 200
    row = page.text.split(f'<tr data-campaign="{LINYIN}">')[1].split("</tr>")[0]
    assert '<span class="badge ok">linyin</span>' not in row and "not deployed" in row


def test_a_campaigns_page_holds_its_phases_checks_cases_diagram_and_reports(
        people: People, world: World) -> None:
    person = people("principal")
    page = person.get(f"/ui/campaigns/{LINYIN}")
    assert page.status_code == 200
    text = page.text
    assert text.count("<h1>") == 1
    # the phases, with the days left on 2023-06-01 (the world's clock)
    assert _rows(text, "data-phase") == ["mobilize", "self_check", "enforcement", "summary"]
    self_check = text.split('<tr data-phase="self_check">')[1].split("</tr>")[0]
    assert "2023-07-31" in self_check and "60 days left" in self_check
    assert "ended" in text.split('<tr data-phase="mobilize">')[1].split("</tr>")[0]
    # the checks: who does them, and when
    checks = _rows(text, "data-check")
    assert "principal_inspection" in checks and "mobilization_meeting" in checks
    inspection = text.split('<tr data-check="principal_inspection">')[1].split("</tr>")[0]
    assert "企业主要负责人" in inspection and "quarterly" in inspection
    assert "stricter for some" in inspection
    # the hazard's lifecycle: the very text the API's diagram route writes, for mermaid
    diagram = person.client.get(f"/campaigns/{LINYIN}/diagram", params={"case": "hazard"},
                                headers=world.auth("principal"))
    assert diagram.status_code == 200 and diagram.text.startswith("stateDiagram-v2")
    drawn = re.search(r'<section class="case-type" id="case-hazard".*?<pre class="mermaid">'
                      r'(.*?)</pre>', text, re.S)
    assert drawn is not None and html.unescape(drawn.group(1)) == diagram.text
    assert 'data-state="awaiting_acceptance"' in text
    # mermaid and its set-up come from files (no inline script under the page's CSP)
    assert '<script src="/static/mermaid.min.js" defer></script>' in text
    assert '<script src="/static/campaigns.js" defer></script>' in text
    assert re.search(r"<script(?![^>]*\bsrc=)", text) is None
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert re.findall(r'<li data-report="([^"]+)"', text)
    assert f'href="/ui/campaigns/{LINYIN}/raw"' in text


def test_the_diagrams_script_configures_mermaid_strictly(people: People) -> None:
    script = people(None).get("/static/campaigns.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "securityLevel: 'strict'" in script.text and "startOnLoad: true" in script.text


def test_the_versions_of_a_campaign_and_their_yaml(people: People, world: World) -> None:
    person = people("safety_office")
    first = (bundled_dir() / f"{LINYIN}.yaml").read_text(encoding="utf-8")
    second = first.replace("title: 林荫街道关于", "title: 林荫街道（修订）关于", 1)
    assert second != first
    published = person.client.post("/campaigns", content=second.encode(),
                                   headers={**world.auth("admin"),
                                            "Content-Type": "application/yaml"})
    assert published.status_code == 201, published.text
    page = person.get(f"/ui/campaigns/{LINYIN}")
    assert _rows(page.text, "data-version") == ["1", "2"]
    assert "林荫街道（修订）关于" in page.text.split("</h1>")[0]  # the newest version's plan
    assert f'href="/ui/campaigns/{LINYIN}/raw?version=1"' in page.text
    raw = person.get(f"/ui/campaigns/{LINYIN}/raw", params={"version": 1})
    assert raw.status_code == 200 and raw.text == first
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert person.get(f"/ui/campaigns/{LINYIN}/raw").text == second


def test_an_unknown_campaign_is_the_not_found_page(people: People) -> None:
    person = people("safety_office")
    for url in ("/ui/campaigns/no-such-campaign", "/ui/campaigns/no-such-campaign/timeline",
                "/ui/campaigns/no-such-campaign/raw"):
        answer = person.get(url)
        assert answer.status_code == 404, url
        assert "Not found" in answer.text


def test_the_timeline_of_a_principal_is_its_own_units(people: People) -> None:
    page = people("principal").get(f"/ui/campaigns/{LINYIN}/timeline")
    assert page.status_code == 200
    assert re.findall(r'<option value="([^"]+)"', page.text) == ["u-chem-01"]
    assert '<option value="u-chem-01" selected>' in page.text  # its one unit, unasked
    subjects = set(re.findall(r'data-subject="([^"]+)"', page.text))
    assert subjects == {"u-chem-01"}
    dues = re.findall(r'data-due="([^"]+)"', page.text)
    assert dues == sorted(dues) and "2023-07-31" in dues
    assert 'data-check="principal_inspection"' in page.text


def test_the_timeline_of_chosen_units_and_a_window(people: People) -> None:
    person = people("safety_office")
    form = person.get(f"/ui/campaigns/{LINYIN}/timeline")
    options = re.findall(r'<option value="([^"]+)"', form.text)
    assert {"u-chem-01", "u-mall-01", "u-site-01"} <= set(options)
    assert "u-hotel-01" not in options  # another street's unit
    assert "data-subject" not in form.text  # nothing until units are chosen
    page = person.get(f"/ui/campaigns/{LINYIN}/timeline",
                      params={"unit": ["u-chem-01", "u-mall-01"], "start": "2023-07-01",
                              "end": "2023-08-31"})
    assert page.status_code == 200
    assert set(re.findall(r'data-subject="([^"]+)"', page.text)) == {"u-chem-01", "u-mall-01"}
    dues = re.findall(r'data-due="([^"]+)"', page.text)
    assert dues and all("2023-07-01" <= due <= "2023-08-31" for due in dues)
    assert "示例购物广场" in page.text


def test_a_unit_out_of_reach_is_refused_inline_without_its_timeline(people: People) -> None:
    page = people("principal").get(f"/ui/campaigns/{LINYIN}/timeline",
                                   params={"unit": "u-hotel-01"})
    assert page.status_code in (403, 404)  # as the API answered
    assert 'role="alert"' in page.text and 'aria-invalid="true"' in page.text
    assert "data-subject" not in page.text and "示例宾馆" not in page.text
    bad_date = people("safety_office").get(f"/ui/campaigns/{LINYIN}/timeline",
                                           params={"unit": "u-chem-01", "start": "2023-13-01"})
    assert bad_date.status_code == 422 and "data-subject" not in bad_date.text
    too_many = people("safety_office").get(f"/ui/campaigns/{LINYIN}/timeline",
                                           params={"unit": [f"u-{n}" for n in range(21)]})
    assert too_many.status_code == 422 and "At most 20 units" in too_many.text


def _validate(person: Person, name: str, data: bytes) -> str:
    answer = person.client.post("/ui/campaigns/validate", data={"csrf": person.csrf},
                                files={"file": (name, data, "application/yaml")})
    assert answer.status_code == 200, answer.text
    return answer.text


def test_a_typo_in_a_campaign_file_is_shown_on_its_line(people: People, world: World) -> None:
    person = people("principal")  # a unit's person may check a file too
    form = person.get("/ui/campaigns/validate")
    assert form.status_code == 200
    assert 'type="file"' in form.text and 'enctype="multipart/form-data"' in form.text
    data = TYPO.read_bytes()
    api = person.client.post("/campaigns/validate", content=data, headers={
        **world.auth("principal"), "Content-Type": "application/yaml"}).json()
    assert not api["valid"]
    [problem] = [p for p in api["problems"] if p["severity"] == "error"]
    assert problem["line"] == 34  # as the file's own `expect-line` says
    page = _validate(person, TYPO.name, data)
    assert 'id="invalid"' in page and 'id="valid"' not in page
    row = page.split('<tr data-line="34" data-severity="error">')[1].split("</tr>")[0]
    assert "unknown role &#39;principle&#39;" in row
    assert "did you mean &#39;principal&#39;?" in row
    assert "$.checks[0].who" in row and ">10<" in row  # its column
    assert "34 |     who: principle" in row  # the line itself, as written


def test_a_pasted_campaign_is_checked_and_kept_in_the_form(people: People) -> None:
    person = people("safety_office")
    text = TYPO.read_text(encoding="utf-8")
    answer = person.post("/ui/campaigns/validate", {"text": text})
    assert answer.status_code == 200
    assert 'data-line="34"' in answer.text
    kept = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', answer.text, re.S)
    assert kept is not None and html.unescape(kept.group(1)).replace("\r\n", "\n") == text


def test_a_valid_campaign_file_is_reported_valid(people: People) -> None:
    data = (bundled_dir() / f"{LINYIN}.yaml").read_bytes()
    page = _validate(people("safety_office"), f"{LINYIN}.yaml", data)
    assert 'id="valid"' in page and "has no errors" in page
    assert 'data-severity="error"' not in page


def test_a_file_that_is_not_a_campaign_or_no_file_at_all(people: People) -> None:
    person = people("safety_office")
    nothing = person.client.post("/ui/campaigns/validate", data={"csrf": person.csrf},
                                 files={"file": ("", b"", "application/octet-stream")})
    assert nothing.status_code == 422 and "Choose a campaign file" in nothing.text
    latin = person.client.post("/ui/campaigns/validate", data={"csrf": person.csrf},
                               files={"file": ("x.yaml", "title: é".encode("latin-1"),
                                               "application/yaml")})
    assert latin.status_code == 422 and 'role="alert"' in latin.text
    assert "UTF-8" in latin.text


def test_an_oversize_upload_is_refused(people: People) -> None:
    person = people("safety_office")
    just_over = b"#" * (MAX_BYTES + 1)  # past the campaign's cap: the page says so itself
    answer = person.client.post("/ui/campaigns/validate", data={"csrf": person.csrf},
                                files={"file": ("big.yaml", just_over, "application/yaml")})
    assert answer.status_code == 413
    assert "too large" in answer.text and 'role="alert"' in answer.text
    assert 'id="result"' not in answer.text
    far_over = b"#" * (3 * MAX_BYTES)  # the request guard refuses it unread
    refused = person.client.post("/ui/campaigns/validate", data={"csrf": person.csrf},
                                 files={"file": ("big.yaml", far_over, "application/yaml")})
    assert refused.status_code == 413 and refused.json()["code"] == "body_too_large"


def test_checking_a_file_wants_the_csrf_token(people: People) -> None:
    person = people("safety_office")
    answer = person.client.post("/ui/campaigns/validate",
                                files={"file": ("x.yaml", TYPO.read_bytes(), "application/yaml")})
    assert answer.status_code == 403
    assert 'data-line="34"' not in answer.text


@pytest.mark.parametrize("url", ["/ui/campaigns", f"/ui/campaigns/{LINYIN}",
                                 f"/ui/campaigns/{LINYIN}/timeline", "/ui/campaigns/validate",
                                 f"/ui/campaigns/{LINYIN}/raw"])
def test_without_a_session_the_pages_send_to_sign_in(people: People, url: str) -> None:
    answer = people(None).get(url, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/ui/login?next=/ui/campaigns")


def test_posting_without_a_session_sends_to_sign_in(people: People) -> None:
    answer = people(None).client.post("/ui/campaigns/validate", data={"text": "paicha: 1"},
                                      follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/login")


@pytest.mark.usefixtures("chinese")
def test_the_pages_speak_chinese(people: People) -> None:
    person = people("safety_office")
    listing = person.get("/ui/campaigns")
    assert "<h1>行动</h1>" in listing.text and "印发单位" in listing.text
    page = person.get(f"/ui/campaigns/{LINYIN}")
    assert "工作阶段" in page.text and "剩余60天" in page.text and "每季度" in page.text
    checked = _validate(person, TYPO.name, TYPO.read_bytes())
    assert "校验未通过" in checked and "修改建议" in checked
