"""A campaign deployed at a district and at one of its streets arms the phase deadlines once per
deployment, and a recipient reached by both gets one notice per phase and moment."""

from __future__ import annotations

import dataclasses
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import select

from deadlines.sweep import Sweeper
from storage.tables import Delivery, Timer
from tests.deadlines.receiver import LOCAL
from tests.support.world import World

NATIONAL = "special-action-2023"
delivery_t = Delivery.__table__  # type: ignore[attr-defined]
timer_t = Timer.__table__  # type: ignore[attr-defined]


def test_a_phase_deadline_reaches_a_recipient_once(client: TestClient, world: World) -> None:
    world.services.settings = dataclasses.replace(world.services.settings, outbound=LOCAL)
    for org in ("dongsheng", "linyin"):  # the street inside the district's deployment
        made = client.post(f"/campaigns/{NATIONAL}/deployments", json={"org": org},
                           headers=world.auth("admin"))
        assert made.status_code == 201, made.text
    subscribed = client.post("/subscriptions", headers=world.auth("admin"), json={
        "name": "东胜区安委办", "channel": "webhook", "org": "dongsheng",
        "config": {"url": "http://127.0.0.1:9/hook"}, "kinds": ["phase_due"]})
    assert subscribed.status_code == 201, subscribed.text
    with world.services.db.read() as conn:
        armed = conn.execute(select(timer_t.c.key, timer_t.c.due_at).where(
            timer_t.c.kind == "phase_due", timer_t.c.campaign_id == NATIONAL)
            .order_by(timer_t.c.due_at)).all()
    first = armed[0].due_at
    both = [t.key for t in armed if t.due_at == first]
    assert len(both) == 2  # one per deployment, as each org's own deadline

    world.clock.now = first
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    with world.services.db.read() as conn:
        fired = conn.execute(select(timer_t.c.status).where(timer_t.c.key.in_(both))).all()
        sent = conn.execute(select(delivery_t.c.subscription_id, delivery_t.c.subject).where(
            delivery_t.c.kind == "phase_due", delivery_t.c.campaign_id == NATIONAL)).all()
    assert {row.status for row in fired} != {"pending"}  # both deployments' timers fired
    # the district's group and the log: each told once of each phase due at that moment
    counts = Counter((row.subscription_id, row.subject) for row in sent)
    assert counts and set(counts.values()) == {1}
    assert {row.subscription_id for row in sent} == {None, subscribed.json()["id"]}
