"""Subscriptions through the API: a destination on this machine or its network is refused
unless the deployment allows it, a receiver's reply never comes back through the outbox, and
a token that may read subscriptions but not manage them sees no credentials in their URLs."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from deadlines.outbound import ALLOW_ENV, OutboundPolicy
from deadlines.outbox import Deliverer
from storage.tables import Subscription
from tests.deadlines.receiver import LOCAL, Receiver, receiver_fixture  # noqa: F401
from tests.deadlines.test_delivery_api import deliverer, due_reminder
from tests.support.world import World

subscription_t = Subscription.__table__  # type: ignore[attr-defined]


def allow(world: World, policy: OutboundPolicy) -> None:
    world.services.settings = dataclasses.replace(world.services.settings, outbound=policy)


def create(client: TestClient, world: World, channel: str, config: dict[str, Any],
           token: str = "locality") -> Any:
    return client.post("/subscriptions", headers=world.auth(token), json={
        "name": "林荫街道值班群", "channel": channel, "org": "linyin", "config": config})


@pytest.mark.parametrize(("channel", "config"), [
    ("webhook", {"url": "http://127.0.0.1:8080/hook"}),
    ("webhook", {"url": "http://localhost/hook"}),
    ("webhook", {"url": "http://169.254.169.254/latest/meta-data/"}),
    ("webhook", {"url": "http://[::ffff:169.254.169.254]/latest/meta-data/"}),
    ("webhook", {"url": "http://10.0.0.8/hook"}),
    ("webhook", {"url": "http://100.64.0.1/hook"}),
    ("webhook", {"url": "http://0x7f000001/hook"}),
    ("webhook", {"url": "http://2130706433/hook"}),
    ("webhook", {"url": "http://0177.0.0.1/hook"}),
    ("webhook", {"url": "http://127.1/hook"}),
    ("webhook", {"url": "http://[::1]/hook"}),
    ("webhook", {"url": "https://hooks.example.org:99999/hook"}),
    ("webhook", {"url": "https://paicha:pw@hooks.example.org/hook"}),
    ("webhook", {"url": "file:///etc/passwd"}),
    ("wecom", {"key": "k-1", "base_url": "http://192.168.1.20/cgi-bin/webhook/send"}),
    ("dingtalk", {"access_token": "t-1", "base_url": "http://172.17.0.1/robot/send"}),
    ("email", {"host": "127.0.0.1", "port": 25, "security": "none",
               "from_address": "paicha@b.cn", "to": ["c@d.cn"]}),
    ("email", {"host": "0x7f000001", "from_address": "paicha@b.cn", "to": ["c@d.cn"]}),
])
def test_a_destination_on_this_machine_or_its_network_is_refused(
    client: TestClient, world: World, channel: str, config: dict[str, Any],
) -> None:
    answer = create(client, world, channel, config)
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "channel_config_invalid"
    assert client.get("/subscriptions", headers=world.auth("locality")).json() == []


def test_the_deployments_allow_list_lets_its_own_robot_host_through(
    client: TestClient, world: World,
) -> None:
    config = {"key": "k-1", "base_url": "http://10.20.0.5:8080/cgi-bin/webhook/send"}
    refused = create(client, world, "wecom", config)
    assert refused.status_code == 422 and ALLOW_ENV in refused.json()["detail"]
    allow(world, OutboundPolicy.from_env({ALLOW_ENV: "10.20.0.0/16"}))
    assert create(client, world, "wecom", config).status_code == 201


def test_a_receivers_reply_never_comes_back_through_the_outbox(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    """A private page answering with an error would otherwise be read back in GET /deliveries
    (the first 300 characters of it): the outbox as a window into the office's network."""
    allow(world, LOCAL)
    assert create(client, world, "webhook", {"url": f"{receiver.url}/admin"}).status_code == 201
    page = b"<html>intranet-only: db_password=hunter2-internal</html>"
    receiver.answer(500, page, headers={"Content-Type": "text/html"})
    due_reminder(world)
    deliverer(world, attempts=1).deliver()
    answer = client.get("/deliveries", params={"status": "dead"},
                        headers=world.auth("locality"))
    assert {d["last_error"] for d in answer.json()["data"]} == {"HTTP 500 Internal Server Error"}
    assert "intranet-only" not in answer.text and "hunter2" not in answer.text


def test_a_robots_errmsg_is_not_kept(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    allow(world, LOCAL)
    created = create(client, world, "wecom", {"key": "k-1", "base_url": f"{receiver.url}/x"})
    assert created.status_code == 201
    receiver.answer(200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [internal]"})
    due_reminder(world)
    deliverer(world).deliver()
    answer = client.get("/deliveries", params={"status": "dead"},
                        headers=world.auth("locality"))
    assert {d["last_error"] for d in answer.json()["data"]} == {
        "errcode 93000: invalid webhook key: the robot was removed or the key is wrong"}
    assert "[internal]" not in answer.text


def test_a_subscription_stored_before_the_check_is_refused_when_sent(
    client: TestClient, world: World, receiver: Receiver,
) -> None:
    """A webhook to 127.0.0.1 made before this release (here: written to the table) gets
    nothing: the deliverer builds its channel with the same policy, and it ends as a dead
    letter saying why."""
    with world.services.db.write() as conn:
        conn.execute(insert(subscription_t).values(
            name="旧订阅", channel="webhook", org_id="linyin", org_path="/dongsheng/linyin/",
            config={"url": f"{receiver.url}/hook", "secret": "whsec-0123456789abcdef"},
            kinds=["remind"], roles=[], created_by="before", created_at=world.clock()))
    due_reminder(world)
    Deliverer(world.services.db, clock=world.clock).deliver()  # public addresses only
    assert receiver.requests == []
    [dead] = client.get("/deliveries", params={"status": "dead"},
                        headers=world.auth("locality")).json()["data"]
    assert dead["last_error"].startswith("channel unusable: webhook channel config invalid: "
                                         "url: 127.0.0.1 is a loopback address")


def test_urls_are_masked_for_tokens_that_may_read_but_not_manage_subscriptions(
    client: TestClient, world: World,
) -> None:
    url = "https://hooks.example.org/services/T024/B0G7/XkQ9token?sig=abc123&team=linyin"
    made = create(client, world, "webhook", {"url": url})
    assert made.status_code == 201 and made.json()["config"]["url"] == url
    with world.services.db.write() as conn:  # one made before credentials were refused
        conn.execute(insert(subscription_t).values(
            name="旧订阅", channel="webhook", org_id="linyin", org_path="/dongsheng/linyin/",
            config={"url": "https://paicha:pw-4821@hooks.example.org/old?key=k-77",
                    "secret": "whsec-0123456789abcdef"},
            kinds=[], roles=[], created_by="before", created_at=world.clock()))
    reader = client.get("/subscriptions", headers=world.auth("government")).json()
    manager = client.get("/subscriptions", headers=world.auth("locality")).json()
    assert [s["config"]["url"] for s in reader] == [
        "https://hooks.example.org/••••?sig=••••&team=••••",
        "https://••••@hooks.example.org/••••?key=••••"]
    assert [s["config"]["url"] for s in manager] == [
        url, "https://••••@hooks.example.org/old?key=k-77"]
    assert {s["config"]["secret"] for s in reader + manager} == {"••••"}
    for shown in (reader, manager):
        text = repr(shown)
        assert "pw-4821" not in text and "whsec" not in text


def test_a_deleted_subscription_keeps_no_secret(client: TestClient, world: World) -> None:
    made = create(client, world, "webhook", {"url": "https://hooks.example.org/x?token=t-9"})
    secret = made.json()["secret"]
    assert client.delete(f"/subscriptions/{made.json()['id']}",
                         headers=world.auth("locality")).status_code == 204
    with world.services.db.read() as conn:
        [row] = conn.execute(select(subscription_t)).all()
    assert row.deleted_at is not None
    assert secret not in repr(row.config) and "t-9" not in repr(row.config)
