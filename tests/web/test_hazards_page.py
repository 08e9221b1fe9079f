"""The hazard screens: a major hazard walked from 登记 to 销号 with forms only, each form built
from what its trigger takes; refusals inline; another unit's hazard not shown."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.support.world import HAZARD, LINYIN, World
from tests.web.conftest import Person

PLAN = {"goals_and_tasks": "更换报警装置并联网", "measures": "停用储罐区，更换并校验报警装置",
        "funds_and_materials": "企业自筹12万元", "responsible": "设备部",
        "deadline": "2023-07-31", "safety_measures": "停用期间专人巡检，备足应急物资"}


def _triggers(page: str) -> list[str]:
    return re.findall(r'data-trigger="([a-z_]+)"', page)


def _version(page: str, trigger: str) -> str:
    form = page.split(f'data-trigger="{trigger}"', 1)[1]
    found = re.search(r'name="version" value="(\d+)"', form)
    assert found is not None
    return found.group(1)


def _fire(person: Person, case_id: str, trigger: str, **data: str) -> str:
    page = person.get(f"/ui/hazards/{case_id}")
    assert trigger in _triggers(page.text), (person.login, _triggers(page.text))
    answer = person.post(f"/ui/hazards/{case_id}/events", {
        "trigger": trigger, "version": _version(page.text, trigger), **data},
        follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return person.get(answer.headers["location"]).text


def test_a_major_hazard_from_register_to_closure_by_forms(
        people: Callable[[str | None], Person], world: World) -> None:
    principal = people("principal")
    form = principal.get(f"/ui/hazards/new?campaign={LINYIN}")
    assert form.status_code == 200
    # the required fields of the case type, typed: a date picker, a select with its labels
    assert 'name="found_on"' in form.text and 'type="date"' in form.text
    assert '<option value="major">' in form.text
    made = principal.post("/ui/hazards/new", {"campaign": LINYIN, **HAZARD},
                          follow_redirects=False)
    assert made.status_code == 303, made.text
    case_id = made.headers["location"].split("/")[-1].split("?")[0]
    page = principal.get(made.headers["location"]).text
    assert HAZARD["description"] in page
    assert _triggers(page) == ["plan"]  # fix_now is for general hazards only
    page = _fire(principal, case_id, "plan", **PLAN)
    page = _fire(principal, case_id, "submit", rectified_on="2023-06-20",
                 rectification_result="已更换并校验")
    # the chain in order: the acceptance team gives its opinion, then each level signs
    page = _fire(people("acceptance_team"), case_id, "accept", acceptance_opinion="同意")
    for signer in ("locality", "regulator", "government"):
        page = _fire(people(signer), case_id, "accept")
    assert "closed" not in _triggers(page) and not _triggers(page)
    office = people("safety_office")
    closed = office.get("/ui/hazards?state=closed")
    assert f"/ui/hazards/{case_id}" in closed.text
    with world.services.db.read() as conn:
        history = world.services.cases.history(conn, world.principal("admin"), case_id)
    # each person is on record under their own id, with their name
    assert {e["actor"] for e in history} >= {"user:2"}
    assert all(e["actor"].startswith("user:") for e in history)


def test_a_form_refused_shows_why_beside_the_fields(
        people: Callable[[str | None], Person], world: World) -> None:
    case_id = world.open_hazard()
    principal = people("principal")
    page = principal.get(f"/ui/hazards/{case_id}").text
    answer = principal.post(f"/ui/hazards/{case_id}/events", {
        "trigger": "plan", "version": _version(page, "plan"),
        **{**PLAN, "deadline": "not a date"}})
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.text
    assert 'value="not a date"' in answer.text  # what was typed is kept


def test_another_units_hazard_is_not_shown(people: Callable[[str | None], Person],
                                           world: World) -> None:
    case_id = world.open_hazard()
    other = people("hotel_principal")
    answer = other.get(f"/ui/hazards/{case_id}")
    assert answer.status_code == 403
    assert HAZARD["description"] not in answer.text
    fired = other.post(f"/ui/hazards/{case_id}/events", {"trigger": "plan", **PLAN})
    assert fired.status_code == 403
    assert HAZARD["description"] not in fired.text


def test_a_form_without_its_csrf_token_is_refused(
        people: Callable[[str | None], Person], world: World) -> None:
    case_id = world.open_hazard()
    principal = people("principal")
    answer = principal.client.post(f"/ui/hazards/{case_id}/events",
                                   data={"trigger": "plan", **PLAN})
    assert answer.status_code == 403
    page = principal.get(f"/ui/hazards/{case_id}").text
    assert "plan" in _triggers(page)  # nothing happened


def test_the_list_filters_and_pages(people: Callable[[str | None], Person],
                                    world: World) -> None:
    for _ in range(3):
        world.open_hazard()
    world.open_hazard({**HAZARD, "grade": "general", "description": "一般隐患"})
    office = people("safety_office")
    major = office.get("/ui/hazards?grade=major")
    assert major.status_code == 200
    assert major.text.count('href="/ui/hazards/') - major.text.count('/ui/hazards/new') == 3
    general = office.get("/ui/hazards?grade=general")
    assert "一般隐患" in general.text
    bad = office.get("/ui/hazards?due_from=yesterday")
    assert bad.status_code == 422 and "due_from" in bad.text


@pytest.mark.usefixtures("chinese")
def test_the_pages_speak_chinese(people: Callable[[str | None], Person], world: World) -> None:
    case_id = world.open_hazard()
    page = people("principal").get(f"/ui/hazards/{case_id}").text
    assert "制定治理方案" in page and "治理的时限和要求" in page and "处理记录" in page


def test_a_step_starts_with_what_the_hazard_holds(people: Callable[[str | None], Person],
                                                  world: World) -> None:
    case_id = world.open_hazard()
    _fire(people("principal"), case_id, "plan", **PLAN)
    page = people("regulator").get(f"/ui/hazards/{case_id}").text
    supervise = page.split('data-trigger="supervise"', 1)[1].split("</form>", 1)[0]
    # the deadline on record is offered to change, the 督办文书 is asked for
    assert 'name="deadline" type="date" value="2023-07-31"' in supervise
    assert re.search(r'name="supervision_document"[^>]*required', supervise)


def test_hostile_forms_change_nothing(people: Callable[[str | None], Person],
                                      world: World) -> None:
    case_id = world.open_hazard()
    principal = people("principal")
    before = principal.get(f"/ui/hazards/{case_id}").text
    # a trigger nobody offered, a version that is no number: refused, nothing moves
    unknown = principal.post(f"/ui/hazards/{case_id}/events",
                             {"trigger": "close_everything", "version": "1; DROP"})
    assert unknown.status_code in (409, 422)
    stale = principal.post(f"/ui/hazards/{case_id}/events",
                           {"trigger": "plan", "version": "99", **PLAN})
    assert stale.status_code == 409
    assert _triggers(principal.get(f"/ui/hazards/{case_id}").text) == _triggers(before)
    # a principal's form names its own unit whatever it sends
    made = principal.post("/ui/hazards/new", {"campaign": LINYIN, "unit": "u-hotel-01",
                                              **HAZARD}, follow_redirects=False)
    assert made.status_code == 303
    opened = made.headers["location"].split("/")[-1].split("?")[0]
    with world.services.db.read() as conn:
        stored = world.services.cases.get(conn, world.principal("admin"), opened)
    assert stored.unit_id == "u-chem-01"
    # an office cannot register for a unit outside its subtree
    other = people("community").post("/ui/hazards/new", {"campaign": LINYIN,
                                                        "unit": "u-hotel-01", **HAZARD})
    assert other.status_code == 403
    assert "示例宾馆" not in other.text  # the other unit's name does not leak
