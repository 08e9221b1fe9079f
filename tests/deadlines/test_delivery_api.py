"""Reminders through the API's subscriptions to a local HTTP receiver: signed, keyed, retried
with backoff, dead-lettered and re-driven; upcoming deadlines listed by scope."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from fastapi.testclient import TestClient

from deadlines.channels import verify_signature
from deadlines.outbox import Deliverer, DeliveryRun
from deadlines.retry import RetryPolicy
from deadlines.sweep import Sweeper
from tests.deadlines.receiver import (  # noqa: F401
    LOCAL,
    Receiver,
    local_receivers,
    receiver_fixture,
)
from tests.deadlines.test_sweep import local, planned_hazard
from tests.support.world import World


def subscribe(client: TestClient, world: World, receiver: Receiver, **extra: Any) -> Any:
    answer = client.post("/subscriptions", headers=world.auth("locality"), json={
        "name": "林荫街道值班群", "channel": "webhook", "org": "linyin",
        "config": {"url": f"{receiver.url}/hooks/paicha"}, "kinds": ["remind"], **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def due_reminder(world: World) -> None:
    """The hazard's first 整改期限 reminder, due 24 July, swept (with the demo's obligations)."""
    planned_hazard(world)
    world.clock.now = local("2023-07-24")
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()


def deliverer(world: World, attempts: int = 12) -> Deliverer:
    return Deliverer(world.services.db, clock=world.clock, rng=random.Random(7),
                     policy=RetryPolicy(max_attempts=attempts), outbound=LOCAL)


def test_a_subscribed_webhook_gets_the_reminder_signed_and_keyed(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    created = subscribe(client, world, receiver)
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["config"]["secret"] == "••••"
    listed = client.get("/subscriptions", headers=world.auth("locality")).json()
    assert [s["id"] for s in listed] == [created["id"]] and listed[0]["secret"] is None
    due_reminder(world)
    run = deliverer(world).deliver()
    assert run.sent >= 2 and run.failed == 0  # the log channel and the webhook
    request = receiver.last  # the webhook takes case reminders only
    assert request.headers["idempotency-key"].endswith(f"->sub{created['id']}")
    assert verify_signature(secret, request.headers["x-paicha-timestamp"], request.body,
                            request.headers["x-paicha-signature"], now=world.clock())
    assert not verify_signature(secret, request.headers["x-paicha-timestamp"],
                                request.body + b" ", request.headers["x-paicha-signature"],
                                now=world.clock())
    body = request.json()
    assert (body["kind"], body["text"], body["roles"]) == (
        "remind", "整改期限：7月31日到期，还有7日", ["principal"])
    deliveries = client.get("/deliveries", params={"subscription": created["id"]},
                            headers=world.auth("locality")).json()["data"]
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 1)]
    assert deliverer(world).deliver().sent == 0  # delivered is delivered


def test_a_receiver_that_fails_twice_gets_it_on_the_third_attempt(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    subscribe(client, world, receiver)
    due_reminder(world)
    receiver.answer(503)
    sender = deliverer(world)
    waits = []
    for _ in range(2):
        sender.deliver()
        [row] = client.get("/deliveries", params={"status": "pending"},
                           headers=world.auth("admin")).json()["data"]
        waits.append(dt.datetime.fromisoformat(row["next_attempt_at"]) - world.clock())
        assert sender.deliver().sent == 0  # not before its time
        world.clock.now = dt.datetime.fromisoformat(row["next_attempt_at"])
    receiver.answer(200, {"ok": True})
    assert sender.deliver().sent == 1
    assert len(receiver.requests) == 3
    assert len({r.headers["idempotency-key"] for r in receiver.requests}) == 1
    assert waits[1] > waits[0]  # backing off
    [row] = client.get("/deliveries", params={"status": "delivered", "subject": None},
                       headers=world.auth("admin")).json()["data"][:1]
    assert row["attempts"] == 3


def test_a_receiver_that_always_fails_ends_in_dead_letter_and_can_be_redriven(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    created = subscribe(client, world, receiver)
    due_reminder(world)
    receiver.answer(500)
    sender = deliverer(world, attempts=3)
    for _ in range(5):
        sender.deliver()
        world.clock.advance(hours=1)
    assert len(receiver.requests) == 3
    [dead] = client.get("/deliveries", params={"status": "dead"},
                        headers=world.auth("locality")).json()["data"]
    assert dead["subscription"] == created["id"] and "500" in dead["last_error"]
    assert client.post("/deliveries/redrive", json={"ids": [dead["id"]]},
                       headers=world.auth("other_street")).json() == {"redriven": 0}
    assert client.post("/deliveries/redrive", json={},
                       headers=world.auth("locality")).json() == {"redriven": 1}
    receiver.answer(200)
    assert sender.deliver().sent == 1


def test_rotating_the_secret_signs_the_next_delivery_with_the_new_one(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    created = subscribe(client, world, receiver)
    rotated = client.post(f"/subscriptions/{created['id']}/rotate-secret",
                          headers=world.auth("locality")).json()
    assert rotated["secret"] != created["secret"]
    due_reminder(world)
    deliverer(world).deliver()
    request = receiver.last
    headers = request.headers
    assert verify_signature(rotated["secret"], headers["x-paicha-timestamp"], request.body,
                            headers["x-paicha-signature"], now=world.clock())
    assert client.delete(f"/subscriptions/{created['id']}",
                         headers=world.auth("other_street")).status_code == 403
    assert client.delete(f"/subscriptions/{created['id']}",
                         headers=world.auth("locality")).status_code == 204


def test_upcoming_deadlines_by_unit_role_and_scope(client: TestClient, world: World) -> None:
    planned_hazard(world)
    mine = client.get("/deadlines", params={"unit": "u-chem-01", "role": "principal"},
                      headers=world.auth("principal")).json()["data"]
    clocks = [(d["kind"], d["due_date"], d["at"]) for d in mine if d["clock"] == "rectification"]
    # a running clock shows once, at the next moment the sweep acts on it: 7 days before
    assert clocks == [("remind", "2023-07-31", "2023-07-24T01:00:00Z")]
    assert [d["at"] for d in mine] == sorted(d["at"] for d in mine)
    theirs = client.get("/deadlines", headers=world.auth("hotel_principal")).json()["data"]
    assert theirs and {d["unit"] for d in theirs} == {"u-hotel-01"}  # its own duties only
    later = client.get("/deadlines", params={"due_from": "2023-08-01", "unit": "u-chem-01"},
                       headers=world.auth("locality")).json()["data"]
    assert later and min(d["due_date"] for d in later) >= "2023-08-01"
    assert [d for d in later if d["clock"] == "rectification"] == []  # due 07-31


def test_a_deliverer_whose_lease_ran_out_sends_nothing_twice(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    subscribe(client, world, receiver)
    due_reminder(world)
    slow = deliverer(world)
    rows, lease = slow._claim()  # then it stalls, past its lease
    world.clock.advance(minutes=11)
    assert deliverer(world).deliver().sent == len(rows)  # another one takes over
    assert len(receiver.requests) == 1
    run = DeliveryRun()
    for row in rows:
        slow._send(row, lease, run)
    assert len(receiver.requests) == 1 and run.sent == 0
    statuses = {d["status"] for d in client.get("/deliveries", headers=world.auth("admin")
                                                ).json()["data"]}
    assert statuses == {"delivered"}


def test_a_unit_that_moves_takes_its_deadlines_along(client: TestClient, world: World) -> None:
    planned_hazard(world)
    moved = client.patch("/units/u-chem-01", json={"org": "jiaotong-c1"},
                         headers=world.auth("admin"))
    assert moved.status_code == 200, moved.text
    old = client.get("/deadlines", params={"unit": "u-chem-01"},
                     headers=world.auth("locality")).json()["data"]
    new = client.get("/deadlines", params={"unit": "u-chem-01"},
                     headers=world.auth("other_street")).json()["data"]
    assert old == [] and new


def test_deleting_a_subscription_cancels_what_waited_for_it(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    created = subscribe(client, world, receiver)
    due_reminder(world)
    assert client.delete(f"/subscriptions/{created['id']}",
                         headers=world.auth("locality")).status_code == 204
    waiting = client.get("/deliveries", params={"subscription": created["id"]},
                         headers=world.auth("locality")).json()["data"]
    assert [(d["status"], d["last_error"]) for d in waiting] == [
        ("cancelled", "the subscription was deleted")]
    deliverer(world).deliver()
    assert receiver.requests == []
