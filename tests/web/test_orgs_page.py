"""单位与组织 on the screens: the tree opened a level at a time, an org's and a unit's pages
within the person's scope, and import from a spreadsheet, checked first and then imported."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.app import create_app
from tests.support.world import World
from tests.web.conftest import Person

People = Callable[[str | None], Person]

UNITS = ("id,name,org,industry,tags\n"
         "u-ktv-01,示例歌舞厅,linyin-c1,,\n"
         "u-gas-01,示例加油站,linyin-c2,,\n")
BAD_UNITS = ("id,name,org,industry,tags\n"
             "u-ktv-01,示例歌舞厅,linyin-c1,,\n"
             "u-lost-01,无处可去,nowhere,,\n")


def upload(person: Person, kind: str, text: str, mode: str) -> Response:
    return person.client.post(f"/ui/{kind}/import", data={"csrf": person.csrf, "mode": mode},
                              files={"file": (f"{kind}.csv", text.encode(), "text/csv")})


def unit_ids(world: World) -> list[str]:
    with TestClient(create_app(services=world.services)) as api:
        found = api.get("/units", params={"org": "linyin", "limit": 1000},
                        headers=world.auth("admin"))
    assert found.status_code == 200, found.text
    return [unit["id"] for unit in found.json()["data"]]


def test_the_tree_shows_the_streets_communities_and_opens_a_level_at_a_time(
        people: People) -> None:
    person = people("safety_office")
    page = person.get("/ui/orgs")
    assert page.status_code == 200, page.text
    assert "林荫街道" in page.text
    for community in ("林荫街道第一社区", "林荫街道第二社区"):
        assert community in page.text
    assert "交通街道" not in page.text  # another street: outside the office's scope
    assert 'hx-get="/ui/orgs/linyin-c1/children"' in page.text
    fragment = person.get("/ui/orgs/linyin/children")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "林荫街道第二社区" in fragment.text
    # no deeper level in the demo: the fragment says so
    assert "No sub-orgs" in person.get("/ui/orgs/linyin-c1/children").text


def test_the_admin_tree_starts_at_the_district(people: People) -> None:
    page = people("admin").get("/ui/orgs")
    assert page.status_code == 200
    assert "东胜区" in page.text and "交通街道" in page.text and "林荫街道" in page.text
    found = people("admin").get("/ui/orgs?go=jiaotong-c1", follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == "/ui/orgs/jiaotong-c1"


def test_an_org_page_lists_its_children_units_and_deployments(people: People) -> None:
    page = people("safety_office").get("/ui/orgs/linyin")
    assert page.status_code == 200, page.text
    assert page.text.count("<h1>") == 1
    assert 'href="/ui/orgs/linyin-c2"' in page.text
    for unit in ("u-chem-01", "u-mall-01", "u-site-01"):
        assert f'href="/ui/units/{unit}"' in page.text
    assert "示例宾馆" not in page.text
    assert 'href="/ui/campaigns/special-action-2023-linyin"' in page.text
    # the district above is outside the office's scope: named by its id, not linked
    assert "<dd>dongsheng</dd>" in page.text and 'href="/ui/orgs/dongsheng"' not in page.text
    assert 'href="/ui/orgs/dongsheng"' in people("admin").get("/ui/orgs/linyin").text


def test_org_lists_page_by_cursor(people: People, world: World) -> None:
    person = people("admin")
    first = person.get("/ui/orgs/linyin")
    assert 'rel="next"' not in first.text  # three units: one page
    with TestClient(create_app(services=world.services)) as api:
        for n in range(51):
            made = api.post("/units", json={"id": f"u-shop-{n:02}", "name": f"商铺{n:02}",
                                            "org": "linyin-c2"}, headers=world.auth("admin"))
            assert made.status_code == 201, made.text
    first = person.get("/ui/orgs/linyin")
    more = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert more is not None
    second = person.get(more.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert "u-shop-50" in second.text and "u-chem-01" not in second.text


def test_someone_out_of_scope_gets_the_refusal_page(people: People) -> None:
    answer = people("other_street").get("/ui/orgs/linyin")
    assert answer.status_code == 403
    assert "林荫街道第一社区" not in answer.text


def test_a_unit_page_shows_its_open_hazards_and_duties(people: People, world: World) -> None:
    hazard = world.open_hazard()
    page = people("safety_office").get("/ui/units/u-chem-01")
    assert page.status_code == 200, page.text
    assert "示例化工有限公司" in page.text
    assert f'href="/ui/hazards/{hazard}"' in page.text and "配电室线路老化" in page.text
    assert 'href="/ui/checks/' in page.text
    assert 'href="/ui/orgs/linyin-c1"' in page.text
    # the principal of the plant sees its own page
    own = people("principal").get("/ui/units/u-chem-01")
    assert own.status_code == 200 and hazard in own.text


def test_a_principal_cannot_open_another_units_page(people: People) -> None:
    answer = people("principal").get("/ui/units/u-hotel-01")
    assert answer.status_code == 403
    assert "示例宾馆" not in answer.text and "jiaotong" not in answer.text
    # and the tree takes a principal to its own unit
    tree = people("principal").get("/ui/orgs", follow_redirects=False)
    assert tree.status_code == 303 and tree.headers["location"] == "/ui/units/u-chem-01"


def test_import_checks_first_lists_every_bad_row_and_writes_nothing(
        people: People, world: World) -> None:
    person = people("safety_office")
    form = person.get("/ui/units/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    checked = upload(person, "units", BAD_UNITS, "check")
    assert checked.status_code == 422, checked.text
    rows = re.findall(r'<td data-label="Line" class="num">(\d+)</td>', checked.text)
    assert rows == ["3"]
    assert "nowhere" in checked.text
    assert "u-ktv-01" not in unit_ids(world)
    # the same mistakes, imported without a check: refused alike, nothing written
    assert upload(person, "units", BAD_UNITS, "import").status_code == 422
    assert "u-ktv-01" not in unit_ids(world)


def test_a_checked_file_is_imported_with_the_confirming_button(
        people: People, world: World) -> None:
    person = people("safety_office")
    checked = upload(person, "units", UNITS, "check")
    assert checked.status_code == 200, checked.text
    assert "would add 2, update 0 and leave 0 unchanged" in checked.text
    assert "u-ktv-01" not in unit_ids(world)
    carried = dict(re.findall(r'<input type="hidden" name="(content|file_name|media)" '
                              r'value="([^"]*)"', checked.text))
    assert set(carried) == {"content", "file_name", "media"}
    done = person.post("/ui/units/import", {"mode": "import", **carried})
    assert done.status_code == 200, done.text
    assert "Added 2, updated 0, 0 unchanged" in done.text
    assert {"u-ktv-01", "u-gas-01"} <= set(unit_ids(world))


def test_orgs_import_and_who_may(people: People, world: World) -> None:
    orgs = "id,name,level,parent\nlinyin-c3,林荫街道第三社区,community,linyin\n"
    done = upload(people("locality"), "orgs", orgs, "import")
    assert done.status_code == 200, done.text
    assert "林荫街道第三社区" in people("safety_office").get("/ui/orgs").text
    # a community's grid worker reads the register but does not change it: the API's refusal
    refused = upload(people("community"), "orgs", orgs, "check")
    assert refused.status_code == 403
    assert "locality" in refused.text and "safety_office" in refused.text
    refused = upload(people("principal"), "units", UNITS, "import")
    assert refused.status_code == 403
    assert "u-ktv-01" not in unit_ids(world)


def test_an_import_without_the_csrf_token_is_refused(people: People, world: World) -> None:
    person = people("admin")
    answer = person.client.post("/ui/units/import", data={"mode": "import"},
                                files={"file": ("units.csv", UNITS.encode(), "text/csv")})
    assert answer.status_code == 403
    assert "u-ktv-01" not in unit_ids(world)
    assert people(None).get("/ui/orgs", follow_redirects=False).status_code == 303


@pytest.mark.usefixtures("chinese")
def test_the_pages_speak_chinese(people: People) -> None:
    person = people("safety_office")
    assert "单位与组织" in person.get("/ui/orgs").text
    page = person.get("/ui/units/u-chem-01")
    assert "未销号的隐患" in page.text and "危险化学品" in page.text
    assert "导入生产经营单位" in person.get("/ui/units/import").text
