"""Digests: a subscription's messages held, and sent as one message grouped by kind and due date
at its local times on working days only (调休 Sundays included, holidays not); each item in
exactly one digest, one arriving after a digest in the next, nothing lost across a restart;
the settings checked when a subscription is made or changed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from deadlines.channels._render import markdown
from deadlines.channels.base import Message
from deadlines.digests import (
    PART_ITEMS,
    DigestSettings,
    delivery_problems,
    digest_wording,
    last_slot,
    next_slot,
)
from deadlines.outbox import Deliverer
from deadlines.sweep import Sweeper
from engine.workdays import StatutoryCalendar
from storage.subjects import org_row
from storage.tables import Delivery
from storage.tables import Timer as TimerRow
from tests.deadlines.receiver import (  # noqa: F401
    LOCAL,
    Receiver,
    local_receivers,
    receiver_fixture,
)
from tests.deadlines.test_delivery_api import due_reminder
from tests.deadlines.test_sweep import local
from tests.support.world import World

delivery_t = Delivery.__table__  # type: ignore[attr-defined]
timer_t = TimerRow.__table__  # type: ignore[attr-defined]

CALENDAR = StatutoryCalendar()
AT_NINE = DigestSettings((dt.time(9, 0),))


def shanghai(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{text}+08:00").astimezone(dt.UTC)


# When a digest goes out (pure)

@pytest.mark.parametrize(("now", "last", "following"), [
    # a Tuesday: that morning's; before nine, Monday's
    ("2023-06-20T10:00", "2023-06-20T09:00", "2023-06-21T09:00"),
    ("2023-06-20T08:59", "2023-06-19T09:00", "2023-06-20T09:00"),
    # 端午 2023: Thursday 22 to Saturday 24 off, Sunday 25 a working day (调休)
    ("2023-06-22T10:00", "2023-06-21T09:00", "2023-06-25T09:00"),
    ("2023-06-25T09:00", "2023-06-25T09:00", "2023-06-26T09:00"),
    # a Saturday, then 国庆 2023 (29 September to 6 October; Saturday 7 and Sunday 8 work)
    ("2023-07-29T12:00", "2023-07-28T09:00", "2023-07-31T09:00"),
    ("2023-10-03T09:30", "2023-09-28T09:00", "2023-10-07T09:00"),
])
def test_a_digest_goes_out_at_its_time_on_working_days_only(now: str, last: str,
                                                            following: str) -> None:
    assert last_slot(AT_NINE, shanghai(now), CALENDAR) == shanghai(last)
    assert next_slot(AT_NINE, shanghai(now), CALENDAR) == shanghai(following)


def test_a_digest_may_go_out_several_times_a_day_and_on_every_day() -> None:
    twice = DigestSettings((dt.time(9, 0), dt.time(15, 30)))
    assert last_slot(twice, shanghai("2023-06-20T16:00"), CALENDAR) == shanghai(
        "2023-06-20T15:30")
    assert next_slot(twice, shanghai("2023-06-20T09:00"), CALENDAR) == shanghai(
        "2023-06-20T15:30")
    daily = DigestSettings((dt.time(9, 0),), days="every")
    assert last_slot(daily, shanghai("2023-06-24T10:00"), CALENDAR) == shanghai(
        "2023-06-24T09:00")
    urumqi = DigestSettings((dt.time(9, 0),), timezone="Asia/Urumqi")  # UTC+6
    assert last_slot(urumqi, shanghai("2023-06-20T11:30"), CALENDAR) == shanghai(
        "2023-06-20T11:00")


def test_bad_settings_are_refused_naming_the_field() -> None:
    assert delivery_problems({}) == []
    assert delivery_problems({"mode": "digest"}) == []
    problems = dict(delivery_problems({"mode": "digest", "at": ["9:00", "24:00", "09:00",
                                                                 "09:00"],
                                       "timezone": "Asia/Beijing", "days": "weekdays"}))
    assert set(problems) == {"at[0]", "at[1]", "at", "timezone", "days"}
    assert "HH:MM" in problems["at[0]"] and "Asia/Beijing" in problems["timezone"]
    assert dict(delivery_problems({"at": ["09:00"]})) == {
        "at": 'applies to "mode": "digest" only'}
    assert dict(delivery_problems({"mode": "weekly"}))["mode"].startswith("must be")
    every_hour_and_one = [f"{h:02d}:00" for h in range(24)] + ["12:30"]
    for times in (every_hour_and_one, [], "09:00", [9]):
        assert set(dict(delivery_problems({"mode": "digest", "at": times}))) & {"at", "at[0]"}


def test_the_wording_groups_items_by_kind_and_due_date(chinese: None) -> None:
    items = [
        {"kind": "remind", "due_date": "2023-07-31", "title": "到期提醒：重大事故隐患",
         "text": "整改期限：7月31日到期，还有7日"},
        {"kind": "check_reminder", "due_date": "2023-07-28", "title": "规定动作提醒",
         "text": "月度自查：7月28日到期，还有4日"},
        {"kind": "remind", "due_date": "2023-07-31", "title": "到期提醒：一般事故隐患",
         "text": "整改期限：7月31日到期，还有7日"},
        {"kind": "phase_due", "due_date": None, "title": "阶段截止", "text": "集中整治阶段截止"},
    ]
    title, text = digest_wording(items, dt.date(2023, 7, 24), part=1, parts=1)
    assert title == "待办汇总：4项"
    assert text.split("\n") == [
        "**规定动作提醒·7月28日到期**（1项）",
        "- 月度自查：7月28日到期，还有4日",
        "",
        "**到期提醒·7月31日到期**（2项）",
        "- 重大事故隐患：整改期限：7月31日到期，还有7日",
        "- 一般事故隐患：整改期限：7月31日到期，还有7日",
        "",
        "**阶段截止**（1项）",
        "- 集中整治阶段截止",
    ]
    assert digest_wording(items, dt.date(2023, 7, 24), part=2, parts=3)[0] == "待办汇总：4项（2/3）"


# Through the API, the sweep and the deliverer

def subscribe(client: TestClient, world: World, receiver: Receiver, **delivery: Any) -> Any:
    answer = client.post("/subscriptions", headers=world.auth("locality"), json={
        "name": "林荫街道值班群", "channel": "webhook", "org": "linyin",
        "config": {"url": f"{receiver.url}/hooks/paicha"},
        "delivery": {"mode": "digest", **delivery}})
    assert answer.status_code == 201, answer.text
    return answer.json()


def deliverer(world: World) -> Deliverer:
    return Deliverer(world.services.db, clock=world.clock, outbound=LOCAL,
                     calendars=world.services.registry.calendars)


def rows_of(world: World, subscription: int) -> list[Any]:
    with world.services.db.read() as conn:
        return list(conn.execute(select(delivery_t).where(
            delivery_t.c.subscription_id == subscription).order_by(delivery_t.c.id)).all())


def test_a_digest_sends_one_recipients_items_in_one_message_grouped_by_kind_and_date(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    created = subscribe(client, world, receiver, at=["09:00"])
    assert created["delivery"] == {"mode": "digest", "at": ["09:00"]}
    due_reminder(world)  # Monday 24 July 2023, 09:10: the hazard's reminder and the duties'
    held = rows_of(world, created["id"])
    assert len(held) > 1 and {r.status for r in held} == {"held"}
    kinds = {(r.message["kind"], r.message["due_date"]) for r in held}
    assert len(kinds) > 1  # more than one group

    run = deliverer(world).deliver()
    assert run.digests == 1
    body = receiver.last.json()  # one message for all of them
    assert body["kind"] == "digest" and body["title"] == f"待办汇总：{len(held)}项"
    assert set(body["extra"]["items"]) == {r.key for r in held}
    headings = [line for line in body["text"].split("\n") if line.startswith("**")]
    assert len(headings) == len(kinds)
    assert "整改期限：7月31日到期，还有7日" in body["text"]
    after = rows_of(world, created["id"])
    [digest] = [r for r in after if r.kind == "digest"]
    assert digest.status == "delivered" and digest.key.startswith(
        f"digest:sub{created['id']}@2023-07-24T01:00Z")
    assert {(r.status, r.digest_id) for r in after if r.kind != "digest"} == {
        ("digested", digest.id)}
    listed = client.get("/deliveries", params={"status": "digested"},
                        headers=world.auth("locality")).json()["data"]
    assert {d["digest_id"] for d in listed} == {digest.id}
    assert deliverer(world).deliver().sent == 0  # sent once


def phase_timer(world: World, due: dt.datetime, n: int) -> None:
    """A phase deadline of 林荫街道 due at `due` (it needs no case)."""
    with world.services.db.write() as conn:
        conn.execute(insert(timer_t).values(
            key=f"phase:extra/p{n}/{due.date()}", subject=f"phase:extra/p{n}", clock_id="",
            kind="phase_due", campaign_id="extra", org_path=org_row(conn, "linyin").path,
            unit_id=None, roles=["safety_office"], due_date=due.date(), due_at=due,
            status="pending", attempts=0, payload={"name": f"补充阶段{n}", "phase": f"p{n}",
                                                   "due": due.date().isoformat()}))


def test_an_item_after_the_digest_waits_for_the_next_working_days_and_survives_a_restart(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    created = subscribe(client, world, receiver)  # 09:00 on working days by default
    due_reminder(world)
    assert deliverer(world).deliver().digests == 1
    first = len(receiver.requests)
    # queued after the 09:00 digest was built: Tuesday's
    phase_timer(world, world.clock.advance(minutes=5), 1)
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert deliverer(world).deliver().digests == 0
    [waiting] = [r for r in rows_of(world, created["id"]) if r.status == "held"]
    # the process restarts (a new deliverer: nothing kept but the database) before Tuesday 9:00
    world.clock.now = local("2023-07-25", 8, 59)
    assert deliverer(world).deliver().digests == 0
    world.clock.now = local("2023-07-25", 9, 0)
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    later = deliverer(world)
    assert later.deliver().digests == 1
    assert len(receiver.requests) == first + 1
    body = receiver.requests[-1].json()
    assert waiting.key in body["extra"]["items"] and "补充阶段1" in body["text"]
    items = [r for r in rows_of(world, created["id"]) if r.kind != "digest"]
    digests = {r.id for r in rows_of(world, created["id"]) if r.kind == "digest"}
    # each item in exactly one digest that was sent
    assert {r.status for r in items} == {"digested"} and {r.digest_id for r in items} == digests


def test_no_digest_on_a_rest_day_the_next_working_days_takes_it(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    created = subscribe(client, world, receiver, at=["10:00"])
    world.clock.now = local("2023-07-29", 9, 0)  # a Saturday
    phase_timer(world, world.clock(), 1)
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    for hour in (10, 18):
        world.clock.now = local("2023-07-29", hour, 0)
        assert deliverer(world).deliver().digests == 0
        world.clock.now = local("2023-07-30", hour, 0)  # Sunday
        assert deliverer(world).deliver().digests == 0
    assert not receiver.requests
    assert client.get("/subscriptions", headers=world.auth("locality")).json()[0][
        "next_digest_at"] == "2023-07-31T02:00:00Z"
    world.clock.now = local("2023-07-31", 10, 0)  # Monday
    # the digest waits for the sweep to handle what was due by its time
    assert deliverer(world).deliver().digests == 0
    Sweeper(world.services.db, world.services.registry, clock=world.clock).sweep()
    parts = deliverer(world).deliver().digests
    rows = rows_of(world, created["id"])
    items = [r for r in rows if r.kind != "digest"]
    assert {r.status for r in rows} == {"digested", "delivered"}
    # two months of the demo's duties and the Saturday's item: in parts a robot takes
    assert parts == len(receiver.requests) >= -(-len(items) // PART_ITEMS) > 1
    bodies = [r.json() for r in receiver.requests]
    assert [b["title"] for b in bodies] == [
        f"待办汇总：{b['extra']['count']}项（{n}/{parts}）" for n, b in enumerate(bodies, 1)]
    assert sorted(k for b in bodies for k in b["extra"]["items"]) == sorted(
        r.key for r in items)  # each item in exactly one part
    assert sum("补充阶段1" in b["text"] for b in bodies) == 1


def test_the_settings_are_checked_and_leaving_digest_mode_sends_what_waited(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    base = {"name": "群", "channel": "webhook", "org": "linyin",
            "config": {"url": f"{receiver.url}/hook"}}
    for delivery, code, words in [
        ({"mode": "digest", "at": ["25:00"]}, "request_invalid", "body.delivery.at"),
        ({"mode": "digest", "timezone": "Mars/Olympus"}, "delivery_invalid", "Mars/Olympus"),
        ({"mode": "digest", "at": ["09:00", "09:00"]}, "delivery_invalid", "names a time twice"),
        ({"at": ["09:00"]}, "delivery_invalid", 'delivery.at: applies to "mode": "digest"'),
        ({"mode": "weekly"}, "request_invalid", "body.delivery.mode"),
        ({"mode": "digest", "at": [f"{h:02d}:00" for h in range(24)] + ["12:30"]},
         "request_invalid", "body.delivery.at"),
    ]:
        answer = client.post("/subscriptions", headers=world.auth("locality"),
                             json={**base, "delivery": delivery})
        assert answer.status_code == 422, (delivery, answer.text)
        assert answer.json()["code"] == code
        assert words in str(answer.json().get("detail")) + answer.text
    for limit in ({"messages": 0}, {"messages": 20, "seconds": 0}, {"per": 3},
                  {"messages": 1001}, {"messages": 20, "seconds": 86_401},
                  {"messages": 10**30}):
        answer = client.post("/subscriptions", headers=world.auth("locality"),
                             json={**base, "rate_limit": limit})
        assert answer.status_code == 422, (limit, answer.text)

    created = subscribe(client, world, receiver, at=["17:00"])
    due_reminder(world)
    held = [r for r in rows_of(world, created["id"]) if r.status == "held"]
    assert held
    changed = client.patch(f"/subscriptions/{created['id']}", headers=world.auth("locality"),
                           json={"delivery": {"mode": "immediate"},
                                 "rate_limit": {"messages": 5, "seconds": 60}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["delivery"] == {} and changed.json()["next_digest_at"] is None
    assert changed.json()["rate_limit"] == {"messages": 5, "seconds": 60}
    assert client.patch(f"/subscriptions/{created['id']}", headers=world.auth("other_street"),
                        json={"rate_limit": None}).status_code in (403, 404)
    run = deliverer(world).deliver()
    assert run.digests == 0 and len(receiver.requests) == min(5, len(held))
    assert run.delayed == max(0, len(held) - 5)
    if len(held) > 5:
        rows = client.get("/deliveries", params={"subscription": created["id"],
                                                 "status": "pending"},
                          headers=world.auth("locality")).json()["data"]
        assert all(r["rate_limited_count"] == 1 and r["delayed_until"] for r in rows)


def test_a_digest_reads_as_its_grouped_items_without_an_id_line() -> None:
    """A digest names no single case or unit: the robot shows its title and its groups, not
    the 对象/行动 lines of a message about one thing (`digest:sub…`, a campaign id)."""
    _, text = digest_wording([{"kind": "remind", "due_date": "2023-07-31",
                               "title": "到期提醒：重大事故隐患",
                               "text": "整改期限：7月31日到期，还有7日"}],
                             dt.date(2023, 7, 24), part=1, parts=1)
    message = Message("digest:sub7:2023-07-24T09:00", "digest", "待办汇总：1项", text,
                      "special-action-2023-linyin", "digest:sub7", ("locality",), None, False,
                      dt.datetime(2023, 7, 24, 1, 0, tzinfo=dt.UTC))
    shown = markdown(message)
    assert shown.startswith("**待办汇总：1项**") and "整改期限：7月31日到期" in shown, shown
    assert "对象" not in shown and "digest:sub7" not in shown and "行动" not in shown, shown
