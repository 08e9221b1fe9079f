"""工作台: what is overdue for me (hazards past their deadline, duties missed in the campaigns
that run), what falls due within two weeks, and the phases with the days left."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.support.world import LINYIN, World
from tests.web.conftest import Person

PLAN = {"goals_and_tasks": "更换", "measures": "更换", "funds_and_materials": "自筹",
        "responsible": "设备部", "deadline": "2023-06-05", "safety_measures": "巡检"}


def test_the_desk_shows_what_is_overdue_and_due_and_the_phases(
        people: Callable[[str | None], Person], world: World) -> None:
    case_id = world.open_hazard()
    with world.services.db.write() as conn:
        world.services.cases.fire(conn, world.principal("principal"), case_id, trigger="plan",
                                  data=PLAN, expected_version=None, now=world.clock())
    world.clock.now = dt.datetime(2023, 6, 8, 1, 0, tzinfo=dt.UTC)
    desk = people("principal").get("/ui/")
    assert desk.status_code == 200
    overdue = desk.text.split('id="h-overdue"', 1)[1].split("</section>", 1)[0]
    assert f"/ui/hazards/{case_id}" in overdue and "2023-06-05" in overdue
    # a phase of the Linyin plan ahead, with its days left
    phases = desk.text.split('id="h-phases"', 1)[1].split("</section>", 1)[0]
    assert "days left" in phases
    # the hotel in another street sees nothing of the plant's hazard
    assert case_id not in people("hotel_principal").get("/ui/").text


def test_duties_missed_in_an_ended_campaign_are_not_todays_work(
        people: Callable[[str | None], Person], world: World, client: TestClient) -> None:
    def missed_on_the_desk() -> set[str]:
        page = people("safety_office").get("/ui/").text
        overdue = page.split('id="h-overdue"', 1)[1].split("</section>", 1)[0]
        campaigns = set()
        for duty in re.findall(r'href="/ui/checks/(\d+)"', overdue):
            answer = client.get(f"/obligations/{duty}", headers=world.auth("admin"))
            campaigns.add(answer.json()["campaign"])
        return campaigns

    world.clock.now = dt.datetime(2023, 7, 10, 1, 0, tzinfo=dt.UTC)
    assert missed_on_the_desk() == {LINYIN}
    world.clock.now = dt.datetime(2024, 3, 4, 1, 0, tzinfo=dt.UTC)  # Linyin's 2023 plan ended
    assert missed_on_the_desk() == {"three-year-plan-2024-2026"}
