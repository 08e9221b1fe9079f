"""The demo's own campaign (paicha/demo.py): the national 2023 shape on dates around the day
the demo starts, so that `paicha serve --demo` opens cases in a campaign that runs, any day."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.checks import obligations_for
from engine.dates import Deadlines, local_date
from engine.orgs import Org, Unit
from paicha import demo
from paicha.files import bundled_dir, loader_for
from storage.obligations import obligation_t
from tests.support.world import HAZARD, START, World


@pytest.mark.parametrize("today", [dt.date(2023, 6, 1), dt.date(2026, 2, 28),
                                   dt.date(2026, 12, 31)])
def test_the_demo_campaign_runs_from_the_day_it_is_made(today: dt.date) -> None:
    parent = bundled_dir() / "special-action-2023.yaml"
    campaign = loader_for([parent]).load(demo.campaign_text(today), "demo.yaml").campaign
    assert campaign.id == demo.DEMO_CAMPAIGN and "演示" in campaign.title
    assert campaign.period_start == today.replace(day=1) <= today <= campaign.period_end
    # a year: to the day before the same first of the month next year
    assert campaign.period_end + dt.timedelta(days=1) == dt.date(today.year + 1, today.month, 1)
    assert [p.due for p in campaign.phases] == sorted(p.due for p in campaign.phases)
    assert {c.id for c in campaign.checks} >= {"principal_inspection", "dispatch_report"}
    # every duty of a street and a unit falls due from the demo's first day on (a yearly one
    # at its calendar year's end): no date of the national 2023 plan is left behind
    deadlines = Deadlines.for_campaign(campaign)
    dues = [o.due for subject in (Org("s", "街道", "street"), Unit("u", "厂", "s", "mining"))
            for o in obligations_for(campaign, subject, deadlines)]
    assert dues and min(dues) >= campaign.period_start
    assert max(dues) <= dt.date(campaign.period_end.year + 1, 1, 10)


def test_the_demo_street_opens_cases_in_its_running_campaign(client: TestClient,
                                                            world: World) -> None:
    r = client.post("/cases", headers=world.auth("hotel_principal"), json={
        "campaign": demo.DEMO_CAMPAIGN, "unit": "u-hotel-01",
        "data": {**HAZARD, "industry": "fire_safety"}})
    assert r.status_code == 201, r.text


def test_the_demo_campaign_is_dated_again_once_it_ended(world: World) -> None:
    later = START + dt.timedelta(days=3 * 365)
    with world.services.db.write() as conn:
        registry = world.services.registry
        assert not demo.publish_campaign(conn, registry, now=START)  # runs: left as it is
        assert demo.publish_campaign(conn, registry, now=later)  # ended: a new version
        campaign = registry.newest(conn, demo.DEMO_CAMPAIGN).loaded.campaign
        assert campaign.period_start <= local_date(later, "Asia/Shanghai") <= campaign.period_end
        assert not demo.publish_campaign(conn, registry, now=later)  # once
        # 交通街道 owes the new year's duties
        dues = conn.execute(select(obligation_t.c.due).where(
            obligation_t.c.campaign_id == demo.DEMO_CAMPAIGN,
            obligation_t.c.subject_id == "u-hotel-01")).scalars().all()
        assert max(dues) > campaign.period_start
