"""What an office sees on the demo, on SQLite and PostgreSQL: 交通街道 subscribes its WeCom group
(a local robot), the demo hotel's hazard comes up for its reminder, and the group reads the
enterprise and the deadline's date in Chinese, while /metrics shows the outbox emptying."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from deadlines.outbox import Deliverer
from deadlines.scheduler import DeadlineJobs
from paicha.demo import DEMO_CAMPAIGN
from tests.deadlines.receiver import LOCAL, Receiver, receiver_fixture  # noqa: F401
from tests.deadlines.test_sweep import PLAN, local
from tests.support.world import World

HAZARD = {"source": "self_inspection", "grade": "major", "industry": "culture_tourism",
          "description": "宾馆疏散通道堵塞", "found_on": "2023-06-01"}


def outbox_pending(client: TestClient) -> float:
    text = client.get("/metrics").text
    return next(sample.value for family in text_string_to_metric_families(text)
                for sample in family.samples
                if sample.name == "paicha_outbox_depth" and sample.labels == {"status": "pending"})


def test_the_demo_groups_robot_reads_the_enterprise_and_the_date(
        client: TestClient, world: World, receiver: Receiver) -> None:
    world.services.settings = dataclasses.replace(world.services.settings, outbound=LOCAL)
    r = client.post("/subscriptions", headers=world.auth("other_street"), json={
        "name": "交通街道安委办值班群", "channel": "wecom", "org": "jiaotong",
        "config": {"key": "demo-robot", "base_url": f"{receiver.url}/cgi-bin/webhook/send"},
        "kinds": ["remind"]})
    assert r.status_code == 201, r.text
    r = client.post("/cases", headers=world.auth("hotel_principal"), json={
        "campaign": DEMO_CAMPAIGN, "type": "hazard", "unit": "u-hotel-01", "data": HAZARD})
    assert r.status_code == 201, r.text
    r = client.post(f"/cases/{r.json()['id']}/events", headers=world.auth("hotel_principal"),
                    json={"trigger": "plan", "data": PLAN})
    assert r.status_code == 200, r.text

    world.clock.now = local("2023-07-24")  # 整改期限 2023-07-31: the 7-day reminder is due
    DeadlineJobs(world.services.db, world.services.registry, clock=world.clock).sweep()
    assert outbox_pending(client) >= 1
    receiver.answer(200, {"errcode": 0, "errmsg": "ok"})
    Deliverer(world.services.db, clock=world.clock, outbound=LOCAL).deliver()
    assert outbox_pending(client) == 0

    robot = [req for req in receiver.requests if req.path == "/cgi-bin/webhook/send"]
    assert len(robot) == 1, [req.path for req in receiver.requests]
    content = robot[0].json()["markdown"]["content"]
    assert "示例宾馆" in content and "交通街道" in content, content
    assert "7月31日到期" in content and "宾馆疏散通道堵塞" in content, content
    assert "u-hotel-01" not in content  # names, not ids
