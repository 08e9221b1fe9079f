"""A delivery is bound to the subscription it was queued for: a street's reminder never reaches
another street's destination — not through a reused subscription id, not after its unit or
org moved — and a moved unit's deliveries move with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from deadlines.sweep import Sweeper
from storage import deliveries
from storage.tables import Delivery
from tests.deadlines.receiver import (  # noqa: F401
    LOCAL,
    Receiver,
    local_receivers,
    receiver_fixture,
)
from tests.deadlines.test_delivery_api import deliverer, due_reminder
from tests.deadlines.test_sweep import local
from tests.support.world import World

delivery_t = Delivery.__table__  # type: ignore[attr-defined]

StartReceiver = Callable[[], Receiver]


@pytest.fixture(name="start_receiver")
def start_receiver_fixture() -> Iterator[StartReceiver]:
    """Starts more receivers (one per street), all stopped after the test."""
    running: list[Receiver] = []

    def start() -> Receiver:
        receiver = Receiver()
        receiver.start()
        running.append(receiver)
        return receiver

    yield start
    for receiver in running:
        receiver.stop()


def subscribe(client: TestClient, world: World, token: str, org: str, receiver: Receiver,
              kinds: list[str] | None = None) -> Any:
    answer = client.post("/subscriptions", headers=world.auth(token), json={
        "name": f"{org}值班群", "channel": "webhook", "org": org,
        "config": {"url": f"{receiver.url}/hooks/{org}"},
        "kinds": ["remind"] if kinds is None else kinds})
    assert answer.status_code == 201, answer.text
    return answer.json()


def listed(client: TestClient, world: World, token: str, **params: Any) -> list[Any]:
    answer = client.get("/deliveries", params=params, headers=world.auth(token))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def case_of_the_reminder(world: World) -> str:
    with world.services.db.read() as conn:
        subject = conn.execute(select(delivery_t.c.subject).where(
            delivery_t.c.kind == "remind", delivery_t.c.subject.not_like("obligation:%"))
        ).scalars().first()
    assert subject is not None
    return str(subject)


def test_a_deleted_streets_dead_letter_never_reaches_the_next_subscription(
    client: TestClient, world: World, receiver: Receiver, start_receiver: StartReceiver,
) -> None:
    """林荫街道's webhook fails for good; the street deletes it; 交通街道 subscribes its own.
    Re-driving 林荫's dead letter must not send 林荫's reminder to 交通's webhook (SQLite gave
    the new subscription the deleted one's id, and the outbox found its destination by id)."""
    linyin = subscribe(client, world, "locality", "linyin", receiver)
    due_reminder(world)
    receiver.answer(500)
    deliverer(world, attempts=1).deliver()
    [dead] = listed(client, world, "locality", status="dead")
    assert dead["subscription"] == linyin["id"]
    assert client.delete(f"/subscriptions/{linyin['id']}",
                         headers=world.auth("locality")).status_code == 204
    jiaotong_receiver = start_receiver()
    jiaotong = subscribe(client, world, "other_street", "jiaotong", jiaotong_receiver)
    assert jiaotong["id"] != linyin["id"]  # a subscription's id is never handed out again
    assert client.post("/deliveries/redrive", json={"ids": [dead["id"]]},
                       headers=world.auth("admin")).json() == {"redriven": 0}
    assert client.post("/deliveries/redrive", json={},
                       headers=world.auth("admin")).json() == {"redriven": 0}
    deliverer(world).deliver()
    assert jiaotong_receiver.requests == []
    assert len(receiver.requests) == 1  # the one failed attempt, before the deletion
    [cancelled] = listed(client, world, "locality", subscription=linyin["id"])
    assert (cancelled["status"], cancelled["last_error"]) == ("cancelled", deliveries.DELETED)
    assert client.delete(f"/subscriptions/{linyin['id']}",
                         headers=world.auth("locality")).status_code == 404
    ids = [s["id"] for s in client.get("/subscriptions", headers=world.auth("admin")).json()]
    assert ids == [jiaotong["id"]]
    # a deleted subscription is kept as a row, and gets nothing more
    world.clock.now = local("2023-07-31")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert len(listed(client, world, "admin", subscription=linyin["id"])) == 1


def test_the_deliverer_sends_only_where_the_delivery_is_bound_and_still_reaches(
    client: TestClient, world: World, receiver: Receiver, start_receiver: StartReceiver,
) -> None:
    """Whatever brought a row there (a race with a deletion, a hand-edited row), the deliverer
    checks the binding just before sending: 林荫's reminder re-pointed at 交通's subscription
    is cancelled, not sent."""
    subscribe(client, world, "locality", "linyin", receiver)
    jiaotong_receiver = start_receiver()
    jiaotong = subscribe(client, world, "other_street", "jiaotong", jiaotong_receiver)
    due_reminder(world)
    with world.services.db.write() as conn:
        moved = conn.execute(update(delivery_t).where(delivery_t.c.channel == "webhook")
                             .values(subscription_id=jiaotong["id"])).rowcount
    assert moved == 1
    run = deliverer(world).deliver()
    assert run.failed == run.dead == 0
    assert jiaotong_receiver.requests == [] and receiver.requests == []
    [row] = listed(client, world, "admin", subscription=jiaotong["id"])
    assert (row["status"], row["last_error"]) == ("cancelled", deliveries.OUT_OF_REACH)


def test_a_redrive_reaches_only_dead_letters_still_bound_where_they_belong(
    client: TestClient, world: World, receiver: Receiver, start_receiver: StartReceiver,
) -> None:
    """The redrive's own check, behind the cancelling done on deletion and moves: 林荫's dead
    letter re-pointed at 交通's subscription stays dead."""
    subscribe(client, world, "locality", "linyin", receiver)
    jiaotong_receiver = start_receiver()
    jiaotong = subscribe(client, world, "other_street", "jiaotong", jiaotong_receiver)
    due_reminder(world)
    receiver.answer(500)
    deliverer(world, attempts=1).deliver()
    with world.services.db.write() as conn:
        conn.execute(update(delivery_t).where(delivery_t.c.status == "dead")
                     .values(subscription_id=jiaotong["id"]))
    assert client.post("/deliveries/redrive", json={},
                       headers=world.auth("admin")).json() == {"redriven": 0}
    deliverer(world).deliver()
    assert jiaotong_receiver.requests == []


def test_a_unit_that_moves_takes_its_deliveries_along(
    client: TestClient, world: World, receiver: Receiver, start_receiver: StartReceiver,
) -> None:
    """The chemical plant moves from 林荫街道 to 交通街道 with a reminder waiting for 林荫's
    webhook and a dead letter of the district's: 交通 now lists and redrives them, 林荫 no
    longer does, and 林荫's webhook gets nothing more about the plant."""
    linyin = subscribe(client, world, "locality", "linyin", receiver)
    district_receiver = start_receiver()
    district = subscribe(client, world, "admin", "dongsheng", district_receiver)
    due_reminder(world)
    case_id = case_of_the_reminder(world)
    receiver.answer(503)  # retried later: pending
    district_receiver.answer(400)  # not retried: dead
    deliverer(world).deliver()
    before = {d["subscription"]: d["status"]
              for d in listed(client, world, "locality", subject=case_id)}
    assert before == {None: "delivered", linyin["id"]: "pending", district["id"]: "dead"}

    moved = client.patch("/units/u-chem-01", json={"org": "jiaotong-c1"},
                         headers=world.auth("admin"))
    assert moved.status_code == 200, moved.text

    assert listed(client, world, "locality", subject=case_id) == []
    after = {d["subscription"]: (d["status"], d["last_error"])
             for d in listed(client, world, "other_street", subject=case_id)}
    assert after == {None: ("delivered", None),
                     linyin["id"]: ("cancelled", deliveries.OUT_OF_REACH),
                     district["id"]: ("dead", "HTTP 400 Bad Request")}
    assert client.post("/deliveries/redrive", json={},
                       headers=world.auth("locality")).json() == {"redriven": 0}
    assert client.post("/deliveries/redrive", json={},
                       headers=world.auth("other_street")).json() == {"redriven": 1}
    receiver.answer(200)
    district_receiver.answer(200)
    world.clock.advance(hours=1)
    deliverer(world).deliver()
    assert len(receiver.requests) == 1  # the 503, before the move
    assert len(district_receiver.requests) == 2

    # what comes after goes to the new street: timers and obligations moved too
    jiaotong_receiver = start_receiver()
    subscribe(client, world, "other_street", "jiaotong", jiaotong_receiver, kinds=[])
    duties = client.get("/obligations", params={"unit": "u-chem-01"},
                        headers=world.auth("other_street")).json()["data"]
    assert duties and client.get("/obligations", params={"unit": "u-chem-01"},
                                 headers=world.auth("locality")).json()["data"] == []
    world.clock.now = local("2023-08-01")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    deliverer(world).deliver()
    about_the_case = [r for r in jiaotong_receiver.requests if r.json()["subject"] == case_id]
    assert about_the_case and len(receiver.requests) == 1


def test_an_org_that_moves_leaves_the_old_streets_subscription_behind(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    """林荫's first community moves under 交通街道: 林荫's webhook no longer reaches its
    units, so what waited for it is cancelled rather than sent to 林荫."""
    linyin = subscribe(client, world, "locality", "linyin", receiver)
    due_reminder(world)
    moved = client.patch("/orgs/linyin-c1", json={"parent": "jiaotong"},
                         headers=world.auth("admin"))
    assert moved.status_code == 200, moved.text
    deliverer(world).deliver()
    assert receiver.requests == []
    [row] = listed(client, world, "admin", subscription=linyin["id"])
    assert (row["status"], row["last_error"]) == ("cancelled", deliveries.OUT_OF_REACH)
